package server

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/frontdesk/frontdesk/media"
)

// rtcTap records a WebRTC call's agent audio as the session's pacer writes
// it to the track: what the caller hears, where they hear it. It is the
// WebRTC side of recorderTap.sent. The session's clock and the caller's
// stream start together when the connection is up and both keep real
// time, so each frame goes at its slot's position (callData.AgentAudioAt)
// rather than "now": the jitter between the two streams must not stretch
// the agent's side. A PCMU session sends 8 kHz while the recording runs at
// the caller's 16 kHz; the tap resamples.
type rtcTap struct {
	log *slog.Logger
	// set by attach, before the session runs; then owned by the pacer
	d    *callData
	rate int              // the recording's
	rs   *media.Resampler // nil when the session sends at the recording's rate
	buf  []int16
}

func newRTCTap(log *slog.Logger) *rtcTap { return &rtcTap{log: log} }

// attach starts recording the agent's audio, sent at rate, into d. It must
// be called before the session runs.
func (t *rtcTap) attach(d *callData, rate int) error {
	if d == nil {
		return nil // the call is not recorded
	}
	if rate != d.rate {
		rs, err := media.NewResampler(rate, d.rate)
		if err != nil {
			return fmt.Errorf("server: webrtc recording tap: %w", err)
		}
		t.rs = rs
		t.buf = make([]int16, 0, rs.MaxOutput(media.SamplesPerFrame(rate)))
	}
	t.d, t.rate = d, d.rate
	return nil
}

// sent is the session's SessionOptions.Sent: one frame at the session's
// output rate, at its place on the call's clock. It allocates nothing.
func (t *rtcTap) sent(pcm []int16, at time.Duration) {
	if t.d == nil {
		return
	}
	if t.rs != nil {
		t.buf = t.rs.Process(t.buf[:0], pcm)
		pcm = t.buf
	}
	if err := t.d.AgentAudioAt(int64(media.Samples(t.rate, at)), pcm); err != nil {
		t.log.Error("recording stopped: agent audio", "err", err)
	}
}
