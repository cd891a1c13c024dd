package live

import (
	"fmt"
	"sync"
	"testing"
)

// BenchmarkFanout measures the call's cost of publishing one 20 ms frame
// pair (16 kHz) to N listeners, each drained by its own goroutine as the
// listen WebSocket does (encoding to pcm16 mono 8 kHz is on the listener's
// goroutine, not the call's, and is not in ns/frame).
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("listeners=%d", n), func(b *testing.B) {
			h := NewHub(Options{})
			tp := h.Open(Info{ID: "call_1", Business: "clinic", Rate: 16000})
			var wg sync.WaitGroup
			for range n {
				l, err := h.Listen(b.Context(), "call_1", "clinic", ListenOptions{})
				if err != nil {
					b.Fatal(err)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					var f Frame
					for range l.Ready() {
						for l.NextAudio(&f) {
						}
						for _, ok := l.NextEvent(); ok; _, ok = l.NextEvent() {
						}
						if l.Done() {
							return
						}
					}
				}()
			}
			caller, agent := frame(320, 1), frame(320, 2)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				tp.Audio(caller, agent)
			}
			b.StopTimer()
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(ns, "ns/frame")
			b.ReportMetric(ns/float64(n), "ns/listener-frame")
			b.ReportMetric(100*ns/2e7, "%-of-20ms")
			tp.Close("completed")
			wg.Wait()
			s := h.Stats()
			b.ReportMetric(float64(s.DroppedFrames)/float64(b.N*n), "dropped/frame")
		})
	}
}

// BenchmarkFanoutStalled is the same with listeners that never read: every
// frame takes the drop-oldest path, and no reader contends for the queues.
func BenchmarkFanoutStalled(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("listeners=%d", n), func(b *testing.B) {
			h := NewHub(Options{})
			tp := h.Open(Info{ID: "call_1", Business: "clinic", Rate: 16000})
			defer tp.Close("completed")
			for range n {
				if _, err := h.Listen(b.Context(), "call_1", "clinic", ListenOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			caller, agent := frame(320, 1), frame(320, 2)
			b.ReportAllocs()
			for b.Loop() {
				tp.Audio(caller, agent)
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(ns, "ns/frame")
			b.ReportMetric(ns/float64(n), "ns/listener-frame")
		})
	}
}
