package cluster

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/live"
	"github.com/frontdesk/frontdesk/store/redis/redistest"
)

// BenchmarkRelayAudio measures supervisor audio carried from node A to a
// listener on node B through a real Redis: calls on A each publish
// 20 ms frames in real time, one listener per call on B. It reports the
// frames delivered per second, the share lost (dropped by the bounded
// queues) and the delay from the frame's publication on A to its arrival
// at B's listener. b.N counts frames per call.
func BenchmarkRelayAudio(b *testing.B) {
	for _, calls := range []int{1, 50} {
		b.Run(fmt.Sprintf("calls=%d", calls), func(b *testing.B) { benchRelay(b, calls) })
	}
}

func benchRelay(b *testing.B, calls int) {
	addr := redistest.Start(b)
	na := startHubNode(b, addr, "node-a")
	nb := startHubNode(b, addr, "node-b")
	topics := make([]*live.Topic, calls)
	listeners := make([]*live.Listener, calls)
	for i := range calls {
		id := fmt.Sprintf("call_%d", i)
		topics[i] = na.hub.Open(live.Info{ID: id, Business: "clinic", Transport: "twilio", Rate: 8000})
		na.Register(Call{ID: id, Business: "clinic", Transport: "twilio", StartedAt: time.Now()})
	}
	for i := range calls {
		var err error
		deadline := time.Now().Add(20 * time.Second)
		for {
			listeners[i], err = nb.hub.Listen(b.Context(), fmt.Sprintf("call_%d", i), "clinic", live.ListenOptions{})
			if err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond) // the registry write may still be on its way
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	// Each frame carries its index in its first two samples; sent[k] is
	// when frame k left A.
	sent := make([]time.Time, b.N)
	delays := make([]time.Duration, 0, b.N*calls)
	got := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		var f live.Frame
		for got < b.N*calls {
			progressed := false
			for _, l := range listeners {
				for l.NextAudio(&f) {
					k := int(uint16(f.Caller[0])) | int(uint16(f.Caller[1]))<<16
					if k < len(sent) {
						delays = append(delays, time.Since(sent[k]))
					}
					got++
					progressed = true
				}
			}
			if !progressed {
				select {
				case <-listeners[0].Ready():
				case <-time.After(5 * time.Millisecond):
				case <-b.Context().Done():
					return
				}
			}
			if got > 0 && len(sent) > 0 && !sent[len(sent)-1].IsZero() && time.Since(sent[len(sent)-1]) > 5*time.Second {
				return // the rest was dropped
			}
		}
	}()
	b.ReportAllocs()
	b.ResetTimer()
	frame := make([]int16, 160)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	for k := range b.N {
		<-tick.C
		frame[0], frame[1] = int16(uint16(k)), int16(uint16(k>>16))
		sent[k] = time.Now()
		for _, t := range topics {
			t.Audio(frame, nil)
		}
	}
	<-done
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(delays)
	pct := func(p float64) time.Duration {
		if len(delays) == 0 {
			return 0
		}
		return delays[min(len(delays)-1, int(p*float64(len(delays))))]
	}
	b.ReportMetric(float64(got)/elapsed.Seconds(), "frames/s")
	b.ReportMetric(100*float64(b.N*calls-got)/float64(b.N*calls), "%lost")
	b.ReportMetric(float64(pct(0.5).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms")
	for _, t := range topics {
		t.Close("completed")
	}
}
