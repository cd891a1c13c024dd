package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/frontdesk/frontdesk/agent"
	"github.com/frontdesk/frontdesk/configs"
	"github.com/frontdesk/frontdesk/media"
	"github.com/frontdesk/frontdesk/media/twilio"
	"github.com/frontdesk/frontdesk/store"
)

// transport is a call's media connection: a Twilio Media Streams session
// today, a WebRTC peer connection next. Everything but Run is safe for
// concurrent use.
type transport interface {
	Run(ctx context.Context) error
	In() <-chan media.In
	Play(pcm []int16)
	Mark(name string)
	Clear()
	OutputRate() int
	Stats() media.Stats
}

// hangUp ends the transport's side of the call (Twilio then hangs up).
func hangUp(tr transport) {
	switch t := tr.(type) {
	case interface{ Close() error }:
		_ = t.Close()
	case interface{ Close() }:
		t.Close()
	}
}

var _ transport = (*twilio.Session)(nil)

// call is one phone call in progress. It owns the goroutines of the call in
// one errgroup: Run returns when the call has ended and all of them stopped.
type call struct {
	// immutable
	id        string
	business  *configs.Business
	transport string
	sid       string // the carrier's call ID (Twilio CallSid)
	started   time.Time
	tr        transport
	log       *slog.Logger
	srv       *Server
	data      *callData // recording, transcript, call record; nil-safe
	live      *liveCall // the call's side of the supervisors' hub (live.go)

	// the agent session, once it runs, for supervisors' whispers
	session atomic.Pointer[agent.Session]

	// owned by Run: the inbound events the agent reads (the transport's,
	// through the recording tap when there is one)
	in <-chan media.In
}

func newCallID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "call_" + hex.EncodeToString(b[:])
}

// newCall registers a call, or returns nil when the server is draining.
func (s *Server) newCall(biz *configs.Business, kind, sid, from string, tr transport) *call {
	c := &call{
		id:        newCallID(),
		business:  biz,
		transport: kind,
		sid:       sid,
		started:   s.now(),
		tr:        tr,
		srv:       s,
	}
	c.log = s.log.With("call_id", c.id, "business", biz.ID, "call_sid", sid)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining.Load() {
		return nil
	}
	s.live[c.id] = c
	s.clusterRegister(c, from)
	s.calls.Add(1)
	s.metrics.activeCalls.Inc()
	c.log.Info("call started", "transport", kind, "from", redactNumber(from))
	rate := tr.OutputRate()
	st := store.TransportTwilio
	if kind == "webrtc" {
		rate, st = media.MaxFrameSamples*50, store.TransportWebRTC // caller audio arrives at 16 kHz
	}
	d, err := s.openCallData(s.callsCtx, CallInfo{ID: c.id, Business: biz, Transport: st, CarrierSID: sid,
		From: from, To: firstNumber(biz), Rate: rate, StartedAt: c.started})
	if err != nil {
		// The call goes on unrecorded rather than not at all.
		c.log.Error("call data: not recorded", "err", err)
	}
	c.data = d
	c.live = s.openLive(c, from, rate)
	d.setLive(c.live)
	return c
}

func firstNumber(biz *configs.Business) string {
	if len(biz.Numbers) > 0 {
		return biz.Numbers[0]
	}
	return ""
}

// Run runs the call until the caller hangs up or ctx ends.
func (c *call) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return c.tr.Run(gctx) })
	c.in = c.tr.In()
	if c.data != nil {
		in := make(chan media.In, 8)
		c.in = in
		g.Go(func() error { c.tapInbound(in); return nil })
	}
	g.Go(func() error { return c.converse(gctx) })
	err := g.Wait()
	c.srv.endCall(c, ctx.Err(), err)
	return err
}

// endCall unregisters c. cut is set when the server ended the call, err
// when the peer broke the protocol.
func (s *Server) endCall(c *call, cut, err error) {
	st := c.tr.Stats()
	outcome := "completed"
	switch {
	case cut != nil:
		outcome = "cut"
	case err != nil:
		outcome = "error"
	}
	s.mu.Lock()
	delete(s.live, c.id)
	s.mu.Unlock()
	s.clusterUnregister(c.id, outcome)
	s.metrics.activeCalls.Dec()
	c.live.close(outcome)
	s.metrics.calls.WithLabelValues(c.transport, outcome).Inc()
	s.metrics.framesDrop.Add(float64(st.FramesDropped))
	storeOutcome := store.Outcome(outcome)
	if err := c.data.Close(context.Background(), storeOutcome); err != nil {
		c.log.Error("call data: close", "err", err)
	}
	c.log.Info("call ended", "outcome", outcome, "duration", s.now().Sub(c.started).Round(time.Millisecond),
		"frames_in", st.FramesIn, "frames_out", st.FramesOut, "frames_lost", st.FramesLost,
		"frames_dropped", st.FramesDropped, "marks_sent", st.MarksSent, "marks_echoed", st.MarksEchoed)
	s.calls.Done()
}

// converse is the call's agent loop. Until the voice agent lands it either
// echoes the caller after a delay or plays the greeting as tones.
func (c *call) converse(ctx context.Context) error {
	switch c.srv.cfg.Agent.Mode {
	case configs.AgentEcho:
		return c.echo()
	case configs.AgentGreeting:
		return c.greet()
	default:
		err := c.receptionist(ctx)
		if errors.Is(err, agent.ErrEndCall) {
			// The agent said goodbye (and it was heard): hang up.
			c.endByAgent() // hangs up, or transfers a call the agent announced it would
			for range c.in {
			}
			return nil
		}
		return err
	}
}

// echo plays the caller's audio back after the configured delay. The delay
// is silence queued ahead of the caller's audio, so the pacer, not a timer
// per frame, keeps the timing: output is the input shifted by the delay.
func (c *call) echo() error {
	rate := c.tr.OutputRate()
	c.tr.Play(make([]int16, media.Samples(rate, c.srv.cfg.Agent.EchoDelay)))
	var rs *media.Resampler
	var buf []int16
	for in := range c.in {
		if in.Kind != media.InAudio {
			continue
		}
		pcm := in.PCM()
		if in.Rate != rate {
			if rs == nil {
				var err error
				if rs, err = media.NewResampler(in.Rate, rate); err != nil {
					return fmt.Errorf("echo: %w", err)
				}
			}
			buf = rs.Process(buf[:0], pcm)
			pcm = buf
		}
		c.tr.Play(pcm)
	}
	return nil
}

// greet plays a short rising tone sequence with a mark after it, then waits
// for the caller to hang up.
func (c *call) greet() error {
	rate := c.tr.OutputRate()
	for _, f := range []float64{523.25, 659.25, 783.99} {
		c.tr.Play(tone(rate, f, 250*time.Millisecond, 0.3))
		c.tr.Play(make([]int16, rate/10))
	}
	c.tr.Mark("greeting")
	for in := range c.in {
		if in.Kind == media.InMark {
			c.log.Debug("mark echoed", "mark", in.Mark)
		}
	}
	return nil
}

// tone is a sine with 10 ms ramps so it starts and stops without clicks.
func tone(rate int, freq float64, d time.Duration, amp float64) []int16 {
	n := int(d.Seconds() * float64(rate))
	ramp := rate / 100
	out := make([]int16, n)
	for i := range out {
		g := amp
		if i < ramp {
			g *= float64(i) / float64(ramp)
		} else if n-i < ramp {
			g *= float64(n-i) / float64(ramp)
		}
		out[i] = int16(g * 32767 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

// redactNumber keeps a phone number's country code and last two digits, so
// logs can tell calls apart without holding the caller's number.
func redactNumber(n string) string {
	if len(n) <= 5 {
		return "***"
	}
	return n[:2] + "***" + n[len(n)-2:]
}
