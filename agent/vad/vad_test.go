//go:build cgo

package vad

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/agent"
	"github.com/frontdesk/frontdesk/agent/agenttest"
	"github.com/frontdesk/frontdesk/agent/tts/flite"
	"github.com/frontdesk/frontdesk/media"
)

func newVAD(t testing.TB) *VAD {
	t.Helper()
	v, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func TestConformance(t *testing.T) {
	t.Run("VAD", func(t *testing.T) {
		agenttest.TestVAD(t, func() agent.VAD { return newVAD(t) })
	})
	t.Run("Energy", func(t *testing.T) {
		agenttest.TestVAD(t, func() agent.VAD { return NewEnergy(EnergyOptions{}) })
	})
}

// speechTrack is a few receptionist sentences with pauses between them, at
// 16 kHz, scaled so that its speech frames average -20 dBFS.
var speechTrack = sync.OnceValues(func() ([]int16, error) {
	s, err := flite.New(flite.Options{})
	if err != nil {
		return nil, err
	}
	var pcm []int16
	pause := func(d time.Duration) { pcm = append(pcm, make([]int16, media.Samples(16000, d))...) }
	pause(time.Second)
	for _, text := range []string{
		"Thank you for calling Bright Smile Dental.",
		"We are open from nine to five, Monday to Friday.",
		"Would you like to book a cleaning?",
		"Your appointment is on Tuesday at ten thirty.",
	} {
		if err := s.Synthesize(context.Background(), text, func(c []int16) error { pcm = append(pcm, c...); return nil }); err != nil {
			return nil, err
		}
		pause(800 * time.Millisecond)
	}
	// Normalise on the frames within 30 dB of the loudest.
	var sum float64
	n := 0
	peak := math.Inf(-1)
	for i := 0; i+320 <= len(pcm); i += 320 {
		peak = max(peak, Level(pcm[i:i+320]))
	}
	for i := 0; i+320 <= len(pcm); i += 320 {
		if l := Level(pcm[i : i+320]); l > peak-30 {
			sum += math.Pow(10, l/10)
			n++
		}
	}
	g := math.Pow(10, (-20-10*math.Log10(sum/float64(n)))/20)
	for i, v := range pcm {
		pcm[i] = sat(float64(v) * g)
	}
	return pcm, nil
})

// atRate returns the 16 kHz track at rate.
func atRate(t testing.TB, pcm []int16, rate int) []int16 {
	t.Helper()
	if rate == 16000 {
		return pcm
	}
	r, err := media.NewResampler(16000, rate)
	if err != nil {
		t.Fatal(err)
	}
	return r.Process(nil, pcm)
}

// labels marks the 20 ms frames of clean speech that hold speech: within
// 30 dB of the track's speech level (-20 dBFS).
func labels(clean []int16, rate int) []bool {
	frame := rate / 50
	var out []bool
	for i := 0; i+frame <= len(clean); i += frame {
		out = append(out, Level(clean[i:i+frame]) > -50)
	}
	return out
}

func white(n int, rms float64, seed uint64) []int16 {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]int16, n)
	for i := range out {
		out[i] = sat(r.NormFloat64() * rms)
	}
	return out
}

// pink filters white noise to a 1/f spectrum (Paul Kellet's economy
// filter) and scales it to rms.
func pink(n int, rms float64, seed uint64) []int16 {
	r := rand.New(rand.NewPCG(seed, 2))
	buf := make([]float64, n)
	var b0, b1, b2 float64
	var sum float64
	for i := range buf {
		w := r.NormFloat64()
		b0 = 0.99765*b0 + w*0.0990460
		b1 = 0.96300*b1 + w*0.2965164
		b2 = 0.57000*b2 + w*1.0526913
		buf[i] = b0 + b1 + b2 + w*0.1848
		sum += buf[i] * buf[i]
	}
	g := rms / math.Sqrt(sum/float64(n))
	out := make([]int16, n)
	for i, v := range buf {
		out[i] = sat(v * g)
	}
	return out
}

func mix(a, b []int16) []int16 {
	out := make([]int16, len(a))
	for i := range a {
		out[i] = sat(float64(a[i]) + float64(b[i]))
	}
	return out
}

func sat(v float64) int16 {
	return int16(max(math.MinInt16, min(math.MaxInt16, math.Round(v))))
}

// score runs d over audio in 20 ms frames against want and returns the
// fraction of frames right, of speech frames found and of non-speech
// frames called speech.
func score(d agent.VAD, audio []int16, rate int, want []bool) (acc, recall, falseAlarm float64) {
	frame := rate / 50
	var right, sp, hit, non, fa int
	for i, w := range want {
		got := d.Speech(audio[i*frame:(i+1)*frame], rate)
		if got == w {
			right++
		}
		if w {
			sp++
			if got {
				hit++
			}
		} else {
			non++
			if got {
				fa++
			}
		}
	}
	return float64(right) / float64(len(want)), float64(hit) / float64(max(sp, 1)), float64(fa) / float64(max(non, 1))
}

// webrtcOnly is the WebRTC half alone, for comparison.
type webrtcOnly struct{ v *VAD }

func (w webrtcOnly) Speech(frame []int16, rate int) bool {
	w.v.Speech(frame, rate)
	return w.v.lastWebRTC
}

// TestAccuracy measures frame accuracy on synthetic speech, clean and in
// white and pink noise at 20 dB SNR, at 8 and 16 kHz, for the combination
// and each half, and checks generous bounds on the combination.
func TestAccuracy(t *testing.T) {
	track, err := speechTrack()
	if err != nil {
		t.Fatal(err)
	}
	for _, rate := range []int{8000, 16000} {
		clean := atRate(t, track, rate)
		want := labels(clean, rate)
		noiseRMS := 32768 * math.Pow(10, -40.0/20) // 20 dB under the speech
		conds := []struct {
			name  string
			audio []int16
		}{
			{"clean", clean},
			{"white 20 dB", mix(clean, white(len(clean), noiseRMS, 1))},
			{"pink 20 dB", mix(clean, pink(len(clean), noiseRMS, 2))},
		}
		for _, c := range conds {
			both := newVAD(t)
			acc, rec, fa := score(both, c.audio, rate, want)
			eacc, erec, efa := score(NewEnergy(EnergyOptions{}), c.audio, rate, want)
			wacc, wrec, wfa := score(webrtcOnly{newVAD(t)}, c.audio, rate, want)
			t.Logf("%5d Hz %-11s VAD: %4.1f%% right, %4.1f%% of speech found, %4.1f%% false | energy %4.1f/%4.1f/%4.1f | webrtc %4.1f/%4.1f/%4.1f",
				rate, c.name, 100*acc, 100*rec, 100*fa, 100*eacc, 100*erec, 100*efa, 100*wacc, 100*wrec, 100*wfa)
			if acc < 0.85 || rec < 0.8 || fa > 0.15 {
				t.Errorf("%d Hz %s: %.1f%% right, %.1f%% of speech found, %.1f%% false; want ≥ 85%%, ≥ 80%%, ≤ 15%%",
					rate, c.name, 100*acc, 100*rec, 100*fa)
			}
		}
	}
}

// TestNoiseAndTone checks that noise alone (after the first two seconds)
// and a steady tone (after the gate has tracked it) are mostly not speech.
func TestNoiseAndTone(t *testing.T) {
	for _, rate := range []int{8000, 16000} {
		frame := rate / 50
		rms := 32768 * math.Pow(10, -30.0/20)
		tone := media.Sine(rate, 1000, 6*time.Second, 0.1)
		for _, c := range []struct {
			name  string
			audio []int16
			after time.Duration // adaptation allowed
			max   float64
		}{
			{"white -30 dBFS", white(6*rate, rms, 3), 2 * time.Second, 0.05},
			{"pink -30 dBFS", pink(6*rate, rms, 4), 2 * time.Second, 0.05},
			{"1 kHz tone -23 dBFS", tone, 3 * time.Second, 0.05},
		} {
			v := newVAD(t)
			skip := media.Samples(rate, c.after) / frame
			var early, late, nLate int
			for i := 0; (i+1)*frame <= len(c.audio); i++ {
				sp := v.Speech(c.audio[i*frame:(i+1)*frame], rate)
				switch {
				case i < skip && sp:
					early++
				case i >= skip:
					nLate++
					if sp {
						late++
					}
				}
			}
			frac := float64(late) / float64(nLate)
			t.Logf("%5d Hz %-20s speech in %d of the first %d frames, %.1f%% after %v", rate, c.name, early, skip, 100*frac, c.after)
			if frac > c.max {
				t.Errorf("%d Hz %s: %.1f%% of frames after %v are speech, want at most %.0f%%", rate, c.name, 100*frac, c.after, 100*c.max)
			}
		}
	}
}

func TestFrameSizes(t *testing.T) {
	track, err := speechTrack()
	if err != nil {
		t.Fatal(err)
	}
	for _, rate := range []int{8000, 16000} {
		audio := atRate(t, track, rate)
		for _, ms := range []int{10, 20, 30} {
			v := newVAD(t)
			n := rate * ms / 1000
			sp := 0
			for i := 0; i+n <= len(audio); i += n {
				if v.Speech(audio[i:i+n], rate) {
					sp++
				}
			}
			frac := float64(sp*n) / float64(len(audio))
			if frac < 0.3 || frac > 0.9 {
				t.Errorf("%d Hz, %d ms frames: %.0f%% of the track is speech, want 30–90%%", rate, ms, 100*frac)
			}
		}
	}
}

func TestClose(t *testing.T) {
	v, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	loud := white(320, 8000, 5)
	v.Speech(loud, 16000)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if err := v.Close(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if v.Speech(loud, 16000) {
		t.Error("Speech after Close = true")
	}
	if _, err := New(Options{Mode: 9}); err == nil {
		t.Error("New(mode 9) = nil error")
	}
	for m := ModeQuality; m <= ModeVeryAggressive; m++ {
		v, err := New(Options{Mode: m})
		if err != nil {
			t.Fatalf("New(mode %d) = %v", m, err)
		}
		v.Close()
	}
}

func TestNoAllocs(t *testing.T) {
	v := newVAD(t)
	frame := white(160, 3000, 6)
	if n := testing.AllocsPerRun(100, func() { v.Speech(frame, 8000) }); n != 0 {
		t.Errorf("Speech allocates %.1f times per frame, want 0", n)
	}
}

func BenchmarkSpeech(b *testing.B) {
	for _, rate := range []int{8000, 16000} {
		b.Run(rateName(rate), func(b *testing.B) {
			v := newVAD(b)
			frame := white(rate/50, 3000, 7)
			b.ReportAllocs()
			for b.Loop() {
				v.Speech(frame, rate)
			}
		})
	}
}

func rateName(rate int) string { return map[int]string{8000: "8kHz", 16000: "16kHz"}[rate] }
