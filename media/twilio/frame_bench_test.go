package twilio_test

import (
	"testing"

	"github.com/frontdesk/frontdesk/media"
	"github.com/frontdesk/frontdesk/media/twilio"
)

// The per-frame work of a call, end to end on each side of the socket: what
// the targets (under 1.5 µs, at most one allocation per inbound
// frame) are about.

func inboundMessage() []byte {
	ulaw := make([]byte, twilio.FrameSamples)
	for i := range ulaw {
		ulaw[i] = byte(i * 7)
	}
	return twilio.AppendInboundMedia(nil, "MZ18ad3ab5a668481ce02b83e7395059f0", 42, 41, 820, ulaw)
}

// inbound does what Session does per inbound message: JSON, base64, μ-law.
func inbound(dec *twilio.Decoder, ev *twilio.Event, msg []byte, pcm []int16) error {
	if err := dec.Decode(msg, ev); err != nil {
		return err
	}
	media.DecodeUlaw(pcm, ev.Payload)
	return nil
}

func BenchmarkInboundFrame(b *testing.B) {
	msg := inboundMessage()
	var dec twilio.Decoder
	var ev twilio.Event
	pcm := make([]int16, twilio.FrameSamples)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if err := inbound(&dec, &ev, msg, pcm); err != nil {
			b.Fatal(err)
		}
	}
}

// outbound does what Session does per outbound frame: μ-law, base64, JSON.
func outbound(dst []byte, ulaw []byte, pcm []int16) []byte {
	media.EncodeUlaw(ulaw, pcm)
	return twilio.AppendMedia(dst[:0], "MZ18ad3ab5a668481ce02b83e7395059f0", ulaw)
}

func BenchmarkOutboundFrame(b *testing.B) {
	pcm := media.Sine(twilio.Rate, 440, media.FrameDuration, 0.5)
	ulaw := make([]byte, twilio.FrameSamples)
	dst := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		dst = outbound(dst, ulaw, pcm)
	}
}

func TestFramePathAllocatesNothing(t *testing.T) {
	msg := inboundMessage()
	var dec twilio.Decoder
	var ev twilio.Event
	pcm := make([]int16, twilio.FrameSamples)
	if n := testing.AllocsPerRun(100, func() { _ = inbound(&dec, &ev, msg, pcm) }); n > 0 {
		t.Errorf("inbound frame: %v allocations, want 0", n)
	}
	ulaw := make([]byte, twilio.FrameSamples)
	dst := make([]byte, 0, 512)
	if n := testing.AllocsPerRun(100, func() { dst = outbound(dst, ulaw, pcm) }); n > 0 {
		t.Errorf("outbound frame: %v allocations, want 0", n)
	}
}
