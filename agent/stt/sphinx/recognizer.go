//go:build cgo

package sphinx

import (
	"fmt"
	"sync"

	"github.com/frontdesk/frontdesk/agent"
)

// Recognizer recognises one call's utterances with its own pocketsphinx
// decoder. Begin, Write and End are used by one goroutine at a time;
// Close may come from any goroutine, at any time, and more than once.
type Recognizer struct {
	mu sync.Mutex // serialises Close with the rest; guards everything below

	d        *decoder // nil once closed
	search   agent.Hint
	grammars map[agent.Hint]bool // grammar searches added so far
	inUtt    bool
	partial  string
	last     result // of the last End, for tests
}

var _ agent.Recognizer = (*Recognizer)(nil)

// searchName is the decoder's name for a hint's search.
func searchName(h agent.Hint) string {
	if h == agent.HintFree {
		return "free"
	}
	return string(h)
}

// Begin starts an utterance searched with the free language model
// (HintFree) or the hint's grammar. A grammar is loaded the first time
// its hint is used.
func (r *Recognizer) Begin(hint agent.Hint) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.d == nil {
		return fmt.Errorf("sphinx: begin: %w", ErrClosed)
	}
	if r.inUtt {
		return fmt.Errorf("sphinx: begin: an utterance is already in progress")
	}
	if hint != agent.HintFree && !r.grammars[hint] {
		jsgf, ok := grammars[hint]
		if !ok {
			return fmt.Errorf("sphinx: begin: unknown hint %q", hint)
		}
		if err := r.d.addGrammar(searchName(hint), jsgf); err != nil {
			return fmt.Errorf("sphinx: begin: %w", err)
		}
		r.grammars[hint] = true
	}
	if err := r.d.start(searchName(hint)); err != nil {
		return fmt.Errorf("sphinx: begin: %w", err)
	}
	r.search, r.inUtt, r.partial = hint, true, ""
	return nil
}

// Write decodes 16 kHz PCM16 audio of the current utterance and returns
// the partial hypothesis so far. Partials carry no confidence (0): only
// End computes one.
func (r *Recognizer) Write(pcm []int16) (agent.Transcript, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.d == nil {
		return agent.Transcript{}, fmt.Errorf("sphinx: write: %w", ErrClosed)
	}
	if !r.inUtt {
		return agent.Transcript{}, fmt.Errorf("sphinx: write: no utterance in progress (call Begin)")
	}
	if len(pcm) == 0 {
		return agent.Transcript{Text: r.partial}, nil
	}
	hyp, err := r.d.process(pcm)
	if err != nil {
		return agent.Transcript{}, fmt.Errorf("sphinx: write: %w", err)
	}
	r.partial = hyp
	return agent.Transcript{Text: hyp}, nil
}

// End finishes the utterance and returns the final hypothesis with its
// confidence (see confidence); no speech gives empty text and confidence
// 0.
func (r *Recognizer) End() (agent.Transcript, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.d == nil {
		return agent.Transcript{}, fmt.Errorf("sphinx: end: %w", ErrClosed)
	}
	if !r.inUtt {
		return agent.Transcript{}, fmt.Errorf("sphinx: end: no utterance in progress (call Begin)")
	}
	r.inUtt = false
	res, err := r.d.end(r.search == agent.HintFree)
	if err != nil {
		return agent.Transcript{}, fmt.Errorf("sphinx: end: %w", err)
	}
	r.last = res
	return agent.Transcript{Text: res.text, Confidence: confidence(res, r.search), Final: true}, nil
}

// Close frees the decoder. It is idempotent.
func (r *Recognizer) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.d != nil {
		r.d.free()
		r.d = nil
	}
	return nil
}
