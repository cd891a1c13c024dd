//go:build cgo

package flite

import (
	"context"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/agent/agenttest"
	"github.com/frontdesk/frontdesk/media"
)

func TestConformance(t *testing.T) {
	for _, v := range []string{"slt", "kal16"} {
		t.Run(v, func(t *testing.T) {
			s, err := New(Options{Voice: v})
			if err != nil {
				t.Fatal(err)
			}
			agenttest.TestTTS(t, s)
		})
	}
}

func TestVoices(t *testing.T) {
	for _, v := range Voices {
		s, err := New(Options{Voice: v, Chunk: 20 * time.Millisecond})
		if err != nil {
			t.Fatalf("New(%s) = %v", v, err)
		}
		if s.Voice() != v {
			t.Errorf("Voice() = %q, want %q", s.Voice(), v)
		}
		var pcm []int16
		chunks := 0
		err = s.Synthesize(context.Background(), "Your appointment is on Tuesday at ten thirty.", func(c []int16) error {
			if len(c) > 320 {
				t.Errorf("%s: chunk of %d samples, want at most 320 (20 ms)", v, len(c))
			}
			pcm = append(pcm, c...)
			chunks++
			return nil
		})
		if err != nil {
			t.Fatalf("%s: Synthesize = %v", v, err)
		}
		if d := media.Duration(Rate, len(pcm)); d < time.Second || d > 6*time.Second {
			t.Errorf("%s: %v of audio, want 1–6 s", v, d)
		}
		if lvl := media.DBFS(media.RMS(pcm)); lvl < -40 {
			t.Errorf("%s: level %.1f dBFS, want speech above -40", v, lvl)
		}
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []Options{{Voice: "hal9000"}, {Chunk: -time.Second}, {Chunk: time.Minute}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) = nil error, want one", o)
		}
	}
}

func TestASCIIText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"It’s “Café Olé” — open…", `It's "Cafe Ole" , open.`},
		{"naïve\u00a0façade", "naive facade"},
		{"日本 ok", " ok"},
	}
	for _, tt := range tests {
		if got := asciiText(tt.in); got != tt.want {
			t.Errorf("asciiText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// Non-ASCII only: nothing to say, no error.
	s, _ := New(Options{})
	if err := s.Synthesize(context.Background(), "日本語", func([]int16) error { t.Error("audio for unsayable text"); return nil }); err != nil {
		t.Errorf("Synthesize(non-ASCII) = %v", err)
	}
}

// BenchmarkSynthesize reports the real-time factor (CPU time ÷ audio time)
// and the wall time to the first chunk of a two-sentence reply.
func BenchmarkSynthesize(b *testing.B) {
	const text = "Thank you for calling Bright Smile Dental. How can I help you today?"
	for _, v := range Voices {
		b.Run(v, func(b *testing.B) {
			s, err := New(Options{Voice: v})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var samples int
			var first time.Duration
			cpu := threadCPU()
			for b.Loop() {
				start := time.Now()
				n := 0
				_ = s.Synthesize(context.Background(), text, func(c []int16) error {
					if n == 0 {
						first += time.Since(start)
					}
					n += len(c)
					return nil
				})
				samples += n
			}
			audio := media.Duration(Rate, samples)
			b.ReportMetric((threadCPU()-cpu).Seconds()/audio.Seconds(), "rtf")
			b.ReportMetric(float64(first.Microseconds())/float64(b.N)/1000, "first-ms")
		})
	}
}

// threadCPU is the CPU time of the calling OS thread: the benchmarks lock
// their goroutine to a thread so that the real-time factor counts the
// synthesiser's CPU, not a busy machine's waiting.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
