package recording

import (
	"fmt"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/media"
)

// BenchmarkRecorder measures what recording costs a call: one op is one
// second of a call (50 caller and 50 agent frames of 20 ms) written,
// interleaved, encrypted and flushed to a real file. Every ten minutes of
// audio the recording is closed and a new one created, as calls end.
func BenchmarkRecorder(b *testing.B) {
	for _, rate := range []int{8000, 16000} {
		b.Run(fmt.Sprintf("rate=%d", rate), func(b *testing.B) {
			kr := testKeyring(b)
			dir := b.TempDir()
			caller := media.Sine(rate, 440, media.FrameDuration, 0.3)
			agent := media.Sine(rate, 1000, media.FrameDuration, 0.3)
			var r *Recorder
			calls, secs := 0, 0
			b.ReportAllocs()
			for b.Loop() {
				if secs%600 == 0 {
					if r != nil {
						r.Close()
					}
					var err error
					if r, err = Create(dir, fmt.Sprintf("call%d", calls), Options{Rate: rate, Keyring: kr}); err != nil {
						b.Fatal(err)
					}
					calls++
				}
				for range 50 {
					r.WriteAgent(agent)
					if err := r.WriteCaller(caller); err != nil {
						b.Fatal(err)
					}
				}
				secs++
			}
			if err := r.Close(); err != nil {
				b.Fatal(err)
			}
			perSec := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(perSec, "ns/call-s")
			// How many calls one core could record at once.
			b.ReportMetric(float64(time.Second)/perSec, "calls/core")
		})
	}
}
