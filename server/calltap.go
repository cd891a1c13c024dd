package server

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/frontdesk/frontdesk/agent"
	"github.com/frontdesk/frontdesk/live"
	"github.com/frontdesk/frontdesk/media"
	"github.com/frontdesk/frontdesk/transcript"
)

// recorderTap feeds a call's recording and transcript. The transport's
// writer calls sent with each frame as it leaves (what the caller hears,
// when they hear it); the call's inbound loop records caller audio, which
// is the recording's clock. The transport exists before the call's data
// does, so the tap starts empty and attach fills it.
type recorderTap struct {
	d   atomic.Pointer[callData]
	log *slog.Logger
	pcm []int16 // owned by the transport's writer
}

func (t *recorderTap) attach(d *callData) { t.d.Store(d) }

// sent records agent audio as μ-law frames leave.
func (t *recorderTap) sent(ulaw []byte) {
	d := t.d.Load()
	if d == nil {
		return
	}
	if cap(t.pcm) < len(ulaw) {
		t.pcm = make([]int16, len(ulaw))
	}
	pcm := t.pcm[:len(ulaw)]
	media.DecodeUlaw(pcm, ulaw)
	if err := d.AgentAudio(pcm); err != nil {
		t.log.Error("recording stopped: agent audio", "err", err)
	}
}

// tapInbound forwards the transport's inbound events to the call, writing
// caller audio to the recording on the way. It returns when the transport
// closes its channel, and then closes out.
func (c *call) tapInbound(out chan<- media.In) {
	defer close(out)
	for in := range c.tr.In() {
		if in.Kind == media.InDTMF {
			c.live.event(live.Event{Type: live.EventDTMF, Digits: in.Digit})
		}
		switch {
		case in.Kind == media.InAudio:
			if err := c.data.CallerAudio(in.PCM()); err != nil {
				c.log.Error("recording stopped: caller audio", "err", err)
			}
		case in.Kind == media.InDTMF && in.Digit != "" && in.Digit == c.business.OptOutKey:
			// The opt-out key is the caller's, not the dialogue's.
			c.stopRecording()
			continue
		}
		out <- in
	}
}

// optOutPhrases are ways a caller asks not to be recorded, for the
// recogniser's vocabulary: without them it cannot hear "record" at all.
var optOutPhrases = []string{
	"please do not record this call", "don't record this call", "do not record me",
	"please stop recording", "i do not want to be recorded", "no recording please",
}

// optOut reports whether a caller asked not to be recorded.
func optOut(text string) bool {
	t := strings.ToLower(text)
	for _, p := range []string{"don't record", "do not record", "stop recording", "not be recorded", "no recording"} {
		if strings.Contains(t, p) {
			return true
		}
	}
	return false
}

// recordTurn writes a finished agent-session turn to the transcript.
func (c *call) recordTurn(t agent.Turn) {
	sp := transcript.Agent
	conf := 1.0
	if t.Speaker == "caller" {
		sp, conf = transcript.Caller, t.Confidence
	}
	_, err := c.data.Turn(transcript.Turn{
		Speaker: sp, Text: t.Text, StartMS: t.Start.Milliseconds(), EndMS: max(t.End, t.Start).Milliseconds(),
		Interrupted: t.Interrupted, Confidence: conf, Latency: turnLatency(t),
	})
	if err != nil {
		c.log.Error("transcript: turn not written", "err", err)
	}
	if t.Speaker == "caller" && optOut(t.Text) {
		c.stopRecording()
	}
}

// stopRecording honours a caller's opt-out: no more audio is recorded on
// this call, and the transcript says so.
func (c *call) stopRecording() {
	if !c.data.Recording() {
		return
	}
	if err := c.data.StopRecording(context.Background(), "caller asked not to be recorded"); err != nil {
		c.log.Error("recording: opt-out", "err", err)
		return
	}
	c.log.Info("recording stopped at the caller's request")
}
