package agent

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Speculation hides the recogniser's finalisation, the dialogue and the
// first sentence's synthesis inside the endpointing silence. Once the
// caller has been silent for Config.Speculate (half the endpointing
// silence by default) the recogniser's final is taken and, if the agent is
// not speaking, the reply starts with its audio and marks withheld by the
// gate and its tools waiting. When the silence reaches Config.Silence the
// turn is committed: the caller's turn is recorded and the withheld audio
// goes to the transport at once. If the caller speaks again first, the
// reply is dropped unheard and the recogniser decodes the utterance again
// from its start, so the final transcript is the one it would have been
// without speculation.

// spec is a caller turn finalised early, waiting for the endpoint.
type spec struct {
	t     Transcript
	t0    time.Time // the caller's speech ended
	ready time.Time // the final was ready
	reply *reply    // the withheld reply; nil when the transcript is rejected
}

// maxSpecs bounds the speculations of one utterance: each one the caller
// talks through costs a decode of the utterance so far.
const maxSpecs = 3

// speculate finalises the utterance early and starts the withheld reply.
func (s *Session) speculate(ctx context.Context) error {
	u := s.utt
	t0 := s.cfg.Now().Add(-u.silence)
	t, err := s.rec.End()
	if err != nil {
		return fmt.Errorf("agent: recognize: %w", err)
	}
	u.specs++
	sp := &spec{t: t, t0: t0, ready: s.cfg.Now()}
	u.spec = sp
	if !s.accept(t) {
		return nil
	}
	s.stopReply()
	s.gate.hold()
	msgs := append(append([]Message(nil), s.msgs...), Message{Role: RoleUser, Content: cleanText(t)})
	s.launchReply(ctx, msgs, t0, &Latency{STTFinal: sp.ready.Sub(t0)})
	sp.reply = s.reply
	s.reply.held = true
	return nil
}

// resume drops a speculation because the caller went on speaking: the
// withheld reply is cancelled unheard and the recogniser decodes the
// utterance again from its start.
func (s *Session) resume() error {
	u := s.utt
	sp := u.spec
	u.spec = nil
	if sp.reply != nil && s.reply == sp.reply {
		s.stopReply()
		s.reply = nil
	}
	s.gate.drop()
	if err := s.rec.Begin(u.hint); err != nil {
		return fmt.Errorf("agent: recognize: %w", err)
	}
	if len(u.audio) > 0 {
		if _, err := s.rec.Write(u.audio); err != nil {
			return fmt.Errorf("agent: recognize: %w", err)
		}
	}
	return nil
}

// commit makes the withheld reply of a speculation the agent's turn: the
// caller's turn is recorded and the reply's audio released. It reports
// false when the reply is no longer the session's (a key press replaced
// it); the caller then answers the turn the usual way. end reports that
// the call should now end (a reply that was already complete said goodbye).
func (s *Session) commit(ctx context.Context, sp *spec, callerTurn Turn) (ok, end bool) {
	r := sp.reply
	if r == nil || s.reply != r || !r.held {
		return false, false
	}
	s.emitTurn(callerTurn)
	s.msgs = append(s.msgs, Message{Role: RoleUser, Content: cleanText(sp.t)})
	r.held = false
	r.start = s.now
	at := s.cfg.Now()
	r.released = at
	s.gate.release()
	if r.lat.FirstAudio > 0 {
		r.lat.FirstFrame = at.Sub(r.t0)
	}
	if ev := r.doneEv; ev != nil {
		r.doneEv = nil
		end = s.handleEvent(ctx, *ev)
	}
	return true, end
}

// gate sits between the replies and the transport. Open, it passes
// everything through; held, it keeps audio and marks, in order, until
// release sends them on or drop discards them. Safe for concurrent use.
type gate struct {
	out Transport

	mu     sync.Mutex
	held   bool          // guarded by mu
	items  []gated       // guarded by mu
	opened chan struct{} // guarded by mu; closed while open
}

type gated struct {
	pcm  []int16
	mark string
}

func newGate(out Transport) *gate {
	g := &gate{out: out, opened: make(chan struct{})}
	close(g.opened)
	return g
}

func (g *gate) Play(pcm []int16) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.held {
		// The reply reuses its buffer: keep a copy.
		g.items = append(g.items, gated{pcm: append([]int16(nil), pcm...)})
		return
	}
	g.out.Play(pcm)
}

func (g *gate) Mark(name string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.held {
		g.items = append(g.items, gated{mark: name})
		return
	}
	g.out.Mark(name)
}

func (g *gate) Clear() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.items = nil
	g.out.Clear()
}

// hold starts withholding.
func (g *gate) hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.held {
		g.held = true
		g.opened = make(chan struct{})
	}
}

// release sends what was withheld and opens the gate.
func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, it := range g.items {
		if it.pcm != nil {
			g.out.Play(it.pcm)
		} else {
			g.out.Mark(it.mark)
		}
	}
	g.openLocked()
}

// drop discards what was withheld and opens the gate.
func (g *gate) drop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.openLocked()
}

func (g *gate) openLocked() {
	g.items = nil
	if g.held {
		g.held = false
		close(g.opened)
	}
}

// wait returns when the gate is open: a withheld reply runs no tool
// before the caller's turn is committed.
func (g *gate) wait(ctx context.Context) error {
	g.mu.Lock()
	ch := g.opened
	g.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
