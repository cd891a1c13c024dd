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
func BenchmarkAgentReplyLatency(b *testing.B) {
	srv, _ := startAgentB(b)
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
}
