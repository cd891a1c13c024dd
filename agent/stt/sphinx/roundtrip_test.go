//go:build cgo

package sphinx

import (
	"context"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/agent"
	"github.com/frontdesk/frontdesk/media"
)

// wordErrors returns the word-level edit distance between ref and hyp
// and the number of reference words.
func wordErrors(ref, hyp string) (errs, n int) {
	r, h := strings.Fields(ref), strings.Fields(hyp)
	prev := make([]int, len(h)+1)
	cur := make([]int, len(h)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(r); i++ {
		cur[0] = i
		for j := 1; j <= len(h); j++ {
			sub := prev[j-1]
			if r[i-1] != h[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(h)], len(r)
}

func TestWordErrors(t *testing.T) {
	tests := []struct {
		ref, hyp string
		errs     int
	}{
		{"a b c", "a b c", 0},
		{"a b c", "a c", 1},
		{"a b c", "a x b c", 1},
		{"a b c", "x y z", 3},
		{"a b c", "", 3},
		{"", "a", 1},
	}
	for _, tt := range tests {
		if got, _ := wordErrors(tt.ref, tt.hyp); got != tt.errs {
			t.Errorf("wordErrors(%q, %q) = %d, want %d", tt.ref, tt.hyp, got, tt.errs)
		}
	}
}

// threadCPU is the CPU time of the calling OS thread.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// roundTrip is the outcome of recognising a set of utterances.
type roundTrip struct {
	errs, words int
	audio, cpu  time.Duration // decoding CPU time (Write and End), one thread
	end         time.Duration // summed wall time of End
	endCPU      time.Duration // summed CPU time of End
	n           int
	confOK      []float64 // confidences of exact results
	bad         []string  // "ref → hyp" of inexact results
}

func (rt roundTrip) wer() float64 { return float64(rt.errs) / float64(max(1, rt.words)) }

// runRoundTrip recognises each text spoken by voice over a phone line, in
// 20 ms writes, with one recognizer.
func runRoundTrip(t testing.TB, r agent.Recognizer, voice string, texts []string) roundTrip {
	t.Helper()
	var rt roundTrip
	runtime.LockOSThread() // so that thread CPU time is the decoder's
	defer runtime.UnlockOSThread()
	for _, text := range texts {
		pcm := speak(t, voice, text)
		cpu0 := threadCPU()
		if err := r.Begin(agent.HintFree); err != nil {
			t.Fatal(err)
		}
		for p := pcm; len(p) > 0; {
			n := min(320, len(p))
			if _, err := r.Write(p[:n]); err != nil {
				t.Fatal(err)
			}
			p = p[n:]
		}
		start, endCPU0 := time.Now(), threadCPU()
		tr, err := r.End()
		rt.end += time.Since(start)
		rt.endCPU += threadCPU() - endCPU0
		rt.cpu += threadCPU() - cpu0
		if err != nil {
			t.Fatal(err)
		}
		e, n := wordErrors(text, tr.Text)
		rt.errs += e
		rt.words += n
		rt.n++
		rt.audio += media.Duration(16000, len(pcm))
		if e == 0 {
			rt.confOK = append(rt.confOK, tr.Confidence)
		} else {
			rt.bad = append(rt.bad, text+" → "+tr.Text)
		}
	}
	return rt
}

// heldOut is the test sentences, normalised, to leave out of the model.
func heldOut(t testing.TB) map[string]bool {
	m := map[string]bool{}
	for _, u := range utterances(t) {
		m[strings.Join(words(u), " ")] = true
	}
	return m
}

// TestRoundTrip synthesises the caller utterances with two flite voices,
// sends them over an 8 kHz μ-law line and recognises them with a model of
// the practice's vocabulary (the test sentences among its phrases), and
// checks a loose word error rate so that a broken pipeline fails. The
// benchmark of the same name reports the numbers, held-out sentences too.
func TestRoundTrip(t *testing.T) {
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	vocab := dentalVocab()
	vocab.Phrases = append(vocab.Phrases, utterances(t)...)
	for _, voice := range []string{"slt", "rms"} {
		t.Run(voice, func(t *testing.T) {
			r, err := e.NewRecognizer(context.Background(), vocab)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			rt := runRoundTrip(t, r, voice, utterances(t))
			t.Logf("%s: WER %.1f%% (%d/%d words), CPU ÷ audio %.3f, End %.0f ms on average",
				voice, 100*rt.wer(), rt.errs, rt.words, rt.cpu.Seconds()/rt.audio.Seconds(),
				float64(rt.end.Milliseconds())/float64(rt.n))
			for _, b := range rt.bad {
				t.Logf("  %s", b)
			}
			if rt.wer() > 0.25 {
				t.Errorf("WER %.1f%%, want under 25%%", 100*rt.wer())
			}
		})
	}
}

// BenchmarkRoundTrip reports word error rate, real-time factor (decoder
// CPU ÷ audio duration) and End latency (wall and CPU) per voice, with the test
// sentences in the vocabulary ("in") and held out of the whole corpus
// ("held"). One iteration recognises all 30 utterances.
func BenchmarkRoundTrip(b *testing.B) {
	for _, held := range []bool{false, true} {
		opts := Options{}
		vocab := dentalVocab()
		name := "in"
		if held {
			opts.holdOut = heldOut(b)
			name = "held"
		} else {
			vocab.Phrases = append(vocab.Phrases, utterances(b)...)
		}
		e, err := New(opts)
		if err != nil {
			b.Fatal(err)
		}
		for _, voice := range []string{"slt", "rms"} {
			b.Run(voice+"/"+name, func(b *testing.B) {
				r, err := e.NewRecognizer(context.Background(), vocab)
				if err != nil {
					b.Fatal(err)
				}
				defer r.Close()
				texts := utterances(b)
				for _, text := range texts {
					speak(b, voice, text) // synthesise outside the timing
				}
				b.ReportAllocs()
				var all roundTrip
				for b.Loop() {
					rt := runRoundTrip(b, r, voice, texts)
					all.errs += rt.errs
					all.words += rt.words
					all.cpu += rt.cpu
					all.audio += rt.audio
					all.end += rt.end
					all.endCPU += rt.endCPU
					all.n += rt.n
				}
				b.ReportMetric(100*all.wer(), "WER%")
				b.ReportMetric(all.cpu.Seconds()/all.audio.Seconds(), "rtf")
				b.ReportMetric(float64(all.end.Microseconds())/float64(all.n)/1000, "end-ms")
				b.ReportMetric(float64(all.endCPU.Microseconds())/float64(all.n)/1000, "end-cpu-ms")
			})
		}
		e.Close()
	}
}
