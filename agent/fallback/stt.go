package fallback

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/frontdesk/frontdesk/agent"
)

// STT is an agent.STT whose recognizers feed every utterance to a primary
// and a secondary recogniser and take the primary's transcript when it
// comes in time (see the package doc). It is safe for concurrent use if
// both are.
type STT struct {
	primary, secondary agent.STT
	b                  base
}

var _ agent.STT = (*STT)(nil)

// NewSTT returns an STT over primary and secondary.
func NewSTT(primary, secondary agent.STT, opts Options) *STT {
	return &STT{primary: primary, secondary: secondary, b: newBase(KindSTT, opts)}
}

// Stats returns the counts so far (requests are utterances).
func (s *STT) Stats() Stats { return s.b.stats() }

// NewRecognizer returns a recognizer of both. The secondary's recognizer
// must be made; the primary's, if it cannot be, is tried again at the
// next utterance, and the secondary answers meanwhile.
func (s *STT) NewRecognizer(ctx context.Context, vocab agent.Vocabulary) (agent.Recognizer, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("fallback: new recognizer: %w", err)
	}
	sec, err := s.secondary.NewRecognizer(ctx, vocab)
	if err != nil {
		return nil, fmt.Errorf("fallback: secondary recognizer: %w", err)
	}
	r := &recognizer{s: s, ctx: ctx, vocab: vocab, secondary: sec}
	r.primary, r.primaryErr = s.primary.NewRecognizer(ctx, vocab)
	return r, nil
}

// recognizer is used by one goroutine at a time; Close may come from any.
type recognizer struct {
	// immutable
	s         *STT
	ctx       context.Context
	vocab     agent.Vocabulary
	secondary agent.Recognizer

	mu         sync.Mutex
	closed     bool             // guarded by mu
	primary    agent.Recognizer // guarded by mu; nil until made again
	primaryErr error            // guarded by mu: why primary is nil

	// owned by the goroutine using the recognizer
	feeding bool   // the primary hears this utterance
	skip    string // why it does not: a Reason
	failure error  // the primary's error in this utterance
}

var errRecognizerClosed = errors.New("fallback: recognizer closed")

// current returns the primary recognizer, making it if it is missing.
func (r *recognizer) current() (agent.Recognizer, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, errRecognizerClosed
	}
	if r.primary == nil {
		r.primary, r.primaryErr = r.s.primary.NewRecognizer(r.ctx, r.vocab)
	}
	return r.primary, r.primaryErr
}

// drop closes the primary recognizer p (if still current); the next
// utterance makes a new one.
func (r *recognizer) drop(p agent.Recognizer) {
	r.mu.Lock()
	if r.primary == p {
		r.primary, r.primaryErr = nil, nil
	}
	r.mu.Unlock()
	p.Close()
}

func (r *recognizer) Begin(hint agent.Hint) error {
	if r.isClosed() {
		return errRecognizerClosed
	}
	if err := r.secondary.Begin(hint); err != nil {
		return err
	}
	r.s.b.requests.Add(1)
	r.feeding, r.skip, r.failure = false, "", nil
	if r.s.b.cooling() {
		r.skip = ReasonCooldown
		return nil
	}
	p, err := r.current()
	if err == nil {
		err = p.Begin(hint)
		if err != nil {
			r.drop(p)
		}
	}
	if err != nil {
		r.skip, r.failure = ReasonError, err
		return nil
	}
	r.feeding = true
	return nil
}

func (r *recognizer) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

func (r *recognizer) Write(pcm []int16) (agent.Transcript, error) {
	if r.isClosed() {
		return agent.Transcript{}, errRecognizerClosed
	}
	tr, err := r.secondary.Write(pcm)
	if err != nil {
		return tr, err
	}
	if r.feeding {
		r.mu.Lock()
		p := r.primary
		r.mu.Unlock()
		if p == nil {
			r.feeding, r.skip, r.failure = false, ReasonError, errRecognizerClosed
		} else if _, perr := p.Write(pcm); perr != nil {
			r.feeding, r.skip, r.failure = false, ReasonError, perr
			r.drop(p)
		}
	}
	return tr, nil
}

type result struct {
	tr  agent.Transcript
	err error
}

func (r *recognizer) End() (agent.Transcript, error) {
	if r.isClosed() {
		return agent.Transcript{}, errRecognizerClosed
	}
	var ch chan result
	var p agent.Recognizer
	if r.feeding {
		r.mu.Lock()
		p = r.primary
		r.mu.Unlock()
	}
	r.feeding = false
	if p != nil {
		// The primary (a network request) works while the secondary
		// finishes here.
		ch = make(chan result, 1)
		go func() {
			tr, err := p.End()
			ch <- result{tr, err}
		}()
	}
	st, serr := r.secondary.End()
	if ch == nil {
		if r.skip != "" {
			r.s.b.fellBack(r.skip, false, r.failure)
		}
		return st, serr
	}
	var late <-chan time.Time
	if b := r.s.b.opts.Budget; b > 0 {
		t := time.NewTimer(b)
		defer t.Stop()
		late = t.C
	}
	var res result
	select {
	case res = <-ch:
	case <-late:
		// Closing the primary ends its request; wait for it, and make a
		// new one for the next utterance.
		r.drop(p)
		<-ch
		res.err = errBudget
	}
	if res.err == nil {
		return res.tr, nil
	}
	r.s.b.fellBack(reason(res.err), false, res.err)
	return st, serr
}

func (r *recognizer) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	p := r.primary
	r.primary = nil
	r.mu.Unlock()
	if p != nil {
		p.Close()
	}
	return r.secondary.Close()
}
