package server

import (
	"context"
	"encoding/json"
	"os"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/frontdesk/frontdesk/agent"
	"github.com/frontdesk/frontdesk/live"
	"github.com/frontdesk/frontdesk/media"
	"github.com/frontdesk/frontdesk/store"
)

// WithLiveHub makes the server publish its calls to h instead of a hub of
// its own (a cluster relay builds h with Options.Publish and Remote). The
// server runs h (h.Run) while it serves; nobody else may.
func WithLiveHub(h *live.Hub) Option { return func(s *Server) { s.hub = h } }

// setupLive builds the default hub and registers its metrics.
func (s *Server) setupLive() {
	if s.hub == nil {
		node, _ := os.Hostname()
		s.hub = live.NewHub(live.Options{Node: node})
	}
	s.liveTokens = newLiveTokens(s.cfg.Twilio.AuthToken)
	s.liveCtx, s.liveStop = context.WithCancel(s.callsCtx)
	h := s.hub
	s.metrics.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "frontdesk_live_listeners", Help: "Supervisors listening to live calls on this node.",
		}, func() float64 { return float64(h.Stats().Listeners) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "frontdesk_live_dropped_total", Help: "Items dropped from full listener queues, by kind.",
			ConstLabels: prometheus.Labels{"kind": "audio"},
		}, func() float64 { return float64(h.Stats().DroppedFrames) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "frontdesk_live_dropped_total", Help: "Items dropped from full listener queues, by kind.",
			ConstLabels: prometheus.Labels{"kind": "event"},
		}, func() float64 { return float64(h.Stats().DroppedEvents) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "frontdesk_live_dropped_total", Help: "Items dropped from full listener queues, by kind.",
			ConstLabels: prometheus.Labels{"kind": "publish"},
		}, func() float64 { return float64(h.Stats().DroppedPublish) }),
	)
}

// runHub runs the hub until the returned stop is called; stop closes the
// supervisors' WebSockets (hijacked connections outlive http.Server's
// Shutdown) and waits for the hub.
func (s *Server) runHub() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.hub.Run(ctx)
	}()
	return func() { s.liveStop(); cancel(); <-done }
}

// liveCall is a call's side of the hub: its topic, the aligner that turns
// the recording path's caller and agent audio into frame pairs, and the
// agent's state. Methods are safe for concurrent use and nil-safe.
type liveCall struct {
	topic *live.Topic // immutable

	mu       sync.Mutex
	spf      int     // samples per 20 ms frame; immutable
	caller   []int16 // guarded by mu: the caller frame being filled
	emitted  int64   // guarded by mu: caller samples sent in full frames
	agent    []int16 // guarded by mu: agent audio from position emitted on
	maxAgent int     // immutable: agent audio queued ahead at most (5 s)
	state    string  // guarded by mu
	outcome  string  // guarded by mu: set by a transfer or a supervisor's hang-up
	transfer string  // guarded by mu: where the agent asked to transfer the call
}

func (s *Server) openLive(c *call, from string, rate int) *liveCall {
	t := s.hub.Open(live.Info{ID: c.id, Business: c.business.ID, Transport: c.transport, From: from,
		StartedAt: c.started, Rate: rate})
	spf := media.SamplesPerFrame(rate)
	return &liveCall{topic: t, spf: spf, caller: make([]int16, 0, spf), agent: make([]int16, 0, 5*rate),
		maxAgent: 5 * rate, state: live.StateListening}
}

// callerAudio is the clock: each full 20 ms of caller audio goes out with
// the agent audio placed over the same span, as the stereo recording
// places it.
func (l *liveCall) callerAudio(pcm []int16) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(pcm) > 0 {
		n := min(len(pcm), l.spf-len(l.caller))
		l.caller = append(l.caller, pcm[:n]...)
		pcm = pcm[n:]
		if len(l.caller) == l.spf {
			l.emitLocked()
		}
	}
}

// callerSilence advances the clock over n samples the transport did not
// deliver.
func (l *liveCall) callerSilence(n int) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for n > 0 {
		k := min(n, l.spf-len(l.caller))
		l.caller = append(l.caller, make([]int16, k)...)
		n -= k
		if len(l.caller) == l.spf {
			l.emitLocked()
		}
	}
}

func (l *liveCall) emitLocked() {
	a := l.agent[:min(len(l.agent), l.spf)]
	l.topic.Audio(l.caller, a)
	l.agent = l.agent[:copy(l.agent, l.agent[len(a):])]
	l.caller = l.caller[:0]
	l.emitted += int64(l.spf)
}

// agentAudio places agent audio played now: after the agent's previous
// audio, or at the caller's position.
func (l *liveCall) agentAudio(pcm []int16) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.placeLocked(max(len(l.agent), len(l.caller)), pcm)
}

// agentAudioAt places agent audio at sample position pos (caller samples
// since the start, as recording positions count), or at the first free
// position after it.
func (l *liveCall) agentAudioAt(pos int64, pcm []int16) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	off := max(pos-l.emitted, int64(len(l.agent)), int64(len(l.caller)))
	if off > int64(l.maxAgent) {
		return
	}
	l.placeLocked(int(off), pcm)
}

func (l *liveCall) placeLocked(off int, pcm []int16) {
	if off+len(pcm) > l.maxAgent {
		return // the caller's clock stalled: never grow without bound
	}
	if need := off + len(pcm); need > len(l.agent) {
		old := len(l.agent)
		l.agent = l.agent[:need]
		clear(l.agent[old:])
	}
	copy(l.agent[off:], pcm)
	if l.state != live.StateSpeaking && media.RMS(pcm) > 0 {
		l.setStateLocked(live.StateSpeaking)
	}
}

func (l *liveCall) setState(state string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.setStateLocked(state)
}

func (l *liveCall) setStateLocked(state string) {
	if l.state == state {
		return
	}
	l.state = state
	l.topic.Event(live.Event{Type: live.EventState, State: state})
}

func (l *liveCall) event(e live.Event) {
	if l != nil {
		l.topic.Event(e)
	}
}

func (l *liveCall) turn(t agent.Turn) {
	if l == nil {
		return
	}
	e := live.Event{Type: live.EventFinal, Speaker: t.Speaker, Text: t.Text}
	if t.Speaker == "agent" {
		e.Interrupted = live.Bool(t.Interrupted)
	}
	l.topic.Event(e)
	if t.Speaker == "agent" {
		l.setState(live.StateListening)
	} else if t.Text != "" {
		l.setState(live.StateThinking)
	}
}

func (l *liveCall) toolCall(call agent.ToolCall, res agent.ToolResult) {
	if l == nil {
		return
	}
	e := live.Event{Type: live.EventToolCall, Name: call.Name}
	if json.Valid(call.Arguments) {
		e.Args = call.Arguments
	}
	if json.Valid([]byte(res.Content)) {
		e.Result = json.RawMessage(res.Content)
	} else if b, err := json.Marshal(res.Content); err == nil {
		e.Result = b
	}
	l.topic.Event(e)
}

// setOutcome records how the call ended when something other than the
// caller or the agent ended it; the first one wins.
func (l *liveCall) setOutcome(o string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.outcome == "" {
		l.outcome = o
	}
}

func (l *liveCall) close(outcome string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	if l.outcome != "" {
		outcome = l.outcome
	}
	l.mu.Unlock()
	l.topic.Close(outcome)
}

// liveRoutes lists the supervisors' /v1 routes (docs/supervisors.md) for
// routeTable: role supervisor or owner.
func liveRoutes() []apiRoute {
	sup := store.RoleSupervisor
	return []apiRoute{
		{"POST", "/v1/live/tokens", accessBusiness, sup, (*Server).apiLiveToken},
		{"GET", "/v1/live", accessBusiness, sup, (*Server).apiLiveCalls},
		{"GET", "/v1/calls/{id}/listen", accessBusiness, sup, (*Server).apiListen},
		{"POST", "/v1/calls/{id}/whisper", accessBusiness, sup, (*Server).apiWhisper},
		{"POST", "/v1/calls/{id}/transfer", accessBusiness, sup, (*Server).apiTransfer},
		{"POST", "/v1/calls/{id}/hangup", accessBusiness, sup, (*Server).apiHangup},
	}
}

// agentTransfer records the number the agent is transferring the call to
// (carried out when its announcement has been heard: endByAgent).
func (l *liveCall) agentTransfer(number string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	l.transfer = number
	l.mu.Unlock()
}

func (l *liveCall) pendingTransfer() string {
	if l == nil {
		return ""
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.transfer
}

// setLive gives the call data the call's live side (before audio flows).
func (d *callData) setLive(l *liveCall) {
	if d != nil {
		d.live = l
	}
}

func (d *callData) liveTap() *liveCall {
	if d == nil {
		return nil
	}
	return d.live
}
