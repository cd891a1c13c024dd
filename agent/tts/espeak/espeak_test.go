//go:build cgo

package espeak

import (
	"context"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/agent/agenttest"
	"github.com/frontdesk/frontdesk/media"
)

func TestConformance(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	agenttest.TestTTS(t, s)
}

func TestVoices(t *testing.T) {
	texts := map[string]string{
		"en-us": "Your appointment is on Tuesday at ten thirty.",
		"es":    "Su cita es el martes a las diez y media.",
		"fr":    "Votre rendez-vous est mardi à dix heures et demie.",
		"de":    "Ihr Termin ist am Dienstag um halb elf.",
	}
	var wg sync.WaitGroup
	for voice, text := range texts {
		s, err := New(Options{Voice: voice})
		if err != nil {
			t.Fatalf("New(%s) = %v", voice, err)
		}
		// In parallel: the process-wide state must be serialised.
		wg.Go(func() {
			var pcm []int16
			err := s.Synthesize(context.Background(), text, func(c []int16) error { pcm = append(pcm, c...); return nil })
			if err != nil {
				t.Errorf("%s: Synthesize = %v", voice, err)
				return
			}
			if d := media.Duration(Rate, len(pcm)); d < time.Second || d > 8*time.Second {
				t.Errorf("%s: %v of audio, want 1–8 s", voice, d)
			}
			if lvl := media.DBFS(media.RMS(pcm)); lvl < -40 {
				t.Errorf("%s: level %.1f dBFS, want speech", voice, lvl)
			}
		})
	}
	wg.Wait()
}

func TestOptions(t *testing.T) {
	for _, o := range []Options{{Voice: "no-such-voice"}, {Speed: 10}, {Speed: 1000}, {Chunk: -time.Second}, {Voice: "a/b"}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) = nil error, want one", o)
		}
	}
	slow, _ := New(Options{Speed: 100})
	fast, _ := New(Options{Speed: 300})
	n := func(s *Synth) int {
		total := 0
		s.Synthesize(context.Background(), "We are open from nine to five.", func(c []int16) error { total += len(c); return nil })
		return total
	}
	if a, b := n(slow), n(fast); a <= b*3/2 {
		t.Errorf("100 wpm gave %d samples, 300 wpm %d: want the slow one much longer", a, b)
	}
}

func BenchmarkSynthesize(b *testing.B) {
	s, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	samples := 0
	cpu := threadCPU()
	for b.Loop() {
		s.Synthesize(context.Background(), "Thank you for calling Bright Smile Dental. How can I help you today?", func(c []int16) error {
			samples += len(c)
			return nil
		})
	}
	b.ReportMetric((threadCPU()-cpu).Seconds()/media.Duration(Rate, samples).Seconds(), "rtf")
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
