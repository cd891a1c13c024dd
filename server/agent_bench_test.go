package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/media/twilio/sim"
)

// BenchmarkAgentReplyLatency holds real calls with the embedded engines and
// reports, over every turn, the time from the end of the caller's speech to
// the first audio of the reply at the caller (through the real pacer and
// simulator). The endpointing silence (400 ms by default) is part of it.
// The server's own per-stage figures (agent.Latency, measured from the end
// of speech as its VAD saw it) are reported as p50 per stage.
func BenchmarkAgentReplyLatency(b *testing.B) {
	srv, log := startAgentB(b)
	lines := speakB(b, "what are your opening hours", "do you take insurance", "where are you located", "how much is a cleaning")
	var lats []time.Duration
	for b.Loop() {
		o := exampleCall(srv)
		o.Turns = lines
		res, err := sim.Call(context.Background(), o)
		if err != nil {
			b.Fatal(err)
		}
		for _, l := range res.ReplyLatency {
			if l < 0 {
				b.Errorf("a turn got no reply")
				continue
			}
			lats = append(lats, l)
		}
	}
	b.ReportMetric(float64(sim.Percentile(lats, 50).Milliseconds()), "p50-ms")
	b.ReportMetric(float64(sim.Percentile(lats, 95).Milliseconds()), "p95-ms")
	b.ReportMetric(float64(len(lats)), "turns")
	var stages [5][]time.Duration
	for _, t := range log.all() {
		if l := t.Latency; t.Speaker == "agent" && l != nil {
			for i, d := range []time.Duration{l.STTFinal, l.FirstToken, l.FirstAudio, l.FirstFrame, l.FirstMark} {
				stages[i] = append(stages[i], d)
			}
		}
	}
	for i, name := range []string{"stt", "token", "audio", "frame", "mark"} {
		b.ReportMetric(float64(sim.Percentile(stages[i], 50).Milliseconds()), name+"-p50-ms")
	}
	b.Logf("at the caller: %v", lats)
	for i, name := range []string{"stt final", "first token", "first audio", "first frame", "first mark"} {
		b.Logf("server %-11s %v", name, stages[i])
	}
}
