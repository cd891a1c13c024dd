package media

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestFrameHelpers(t *testing.T) {
	for _, tc := range []struct{ rate, frame int }{{8000, 160}, {16000, 320}, {24000, 480}, {48000, 960}, {44100, 882}} {
		if got := SamplesPerFrame(tc.rate); got != tc.frame {
			t.Errorf("SamplesPerFrame(%d) = %d, want %d", tc.rate, got, tc.frame)
		}
		if got := Samples(tc.rate, FrameDuration); got != tc.frame {
			t.Errorf("Samples(%d, 20ms) = %d, want %d", tc.rate, got, tc.frame)
		}
		if got := Duration(tc.rate, tc.frame); got != FrameDuration {
			t.Errorf("Duration(%d, %d) = %v, want 20ms", tc.rate, tc.frame, got)
		}
	}
	if got := Samples(384000, 100*time.Hour); got != 384000*360000 {
		t.Errorf("Samples(384000, 100h) = %d: overflow", got)
	}
	if got := Duration(8000, 8000*3600*24); got != 24*time.Hour {
		t.Errorf("Duration of a day at 8 kHz = %v", got)
	}
	if Samples(0, time.Second) != 0 || Samples(8000, -time.Second) != 0 || Duration(0, 10) != 0 {
		t.Error("bad rate or duration: want 0")
	}
}

func TestRMSAndDBFS(t *testing.T) {
	if RMS(nil) != 0 {
		t.Error("RMS(nil) != 0")
	}
	if got := RMS([]int16{-32768, -32768}); got != 32768 {
		t.Errorf("RMS of full negative scale = %v, want 32768", got)
	}
	if got := RMS([]int16{3, -4, 3, -4}); math.Abs(got-math.Sqrt(12.5)) > 1e-12 {
		t.Errorf("RMS = %v, want %v", got, math.Sqrt(12.5))
	}
	s := Sine(8000, 1000, time.Second, 1)
	if got := DBFS(RMS(s)); math.Abs(got-(-3.01)) > 0.01 {
		t.Errorf("full-scale sine: %.3f dBFS, want -3.01", got)
	}
	if got := DBFS(32768); got != 0 {
		t.Errorf("DBFS(32768) = %v, want 0", got)
	}
	if got := DBFS(0); !math.IsInf(got, -1) {
		t.Errorf("DBFS(0) = %v, want -Inf", got)
	}
}

func TestSine(t *testing.T) {
	s := Sine(8000, 1000, 10*time.Millisecond, 0.5)
	if len(s) != 80 {
		t.Fatalf("%d samples, want 80", len(s))
	}
	// 1 kHz at 8 kHz: 0, peak/√2, peak, peak/√2, 0, ...
	want := []int16{0, 11585, 16384, 11585, 0, -11585, -16384, -11585}
	if err := sameSamples(s[:8], want); err != nil {
		t.Error(err)
	}
	if got := slicesMaxAbs(Sine(16000, 440, time.Second, 8000)); got != 8000 {
		t.Errorf("amplitude 8000 (sample units): peak %d, want 8000", got)
	}
	if got := slicesMaxAbs(Sine(16000, 440, time.Second, 1)); got != 32767 {
		t.Errorf("amplitude 1: peak %d, want 32767", got)
	}
	if got := slicesMaxAbs(Sine(16000, 440, 100*time.Millisecond, 1e6)); got != 32768 {
		t.Errorf("amplitude 1e6: peak %d, want saturation", got)
	}
	if Sine(0, 440, time.Second, 1) != nil || Sine(8000, 440, 0, 1) != nil {
		t.Error("bad rate or duration: want nil")
	}
}

func slicesMaxAbs(s []int16) int {
	m := 0
	for _, v := range s {
		m = max(m, abs(int(v)))
	}
	return m
}

func TestMixAndStereo(t *testing.T) {
	got := Mix(nil, []int16{1, 30000, -30000, 5}, []int16{2, 30000, -30000})
	if err := sameSamples(got, []int16{3, 32767, -32768, 5}); err != nil {
		t.Errorf("Mix: %v", err)
	}
	dst := []int16{9}
	if got := Mix(dst, nil, []int16{7}); len(got) != 2 || got[0] != 9 || got[1] != 7 {
		t.Errorf("Mix appends: got %v, want [9 7]", got)
	}

	l, r := []int16{1, 2, 3}, []int16{-1, -2}
	st := Interleave(nil, l, r)
	if err := sameSamples(st, []int16{1, -1, 2, -2, 3, 0}); err != nil {
		t.Errorf("Interleave: %v", err)
	}
	gl, gr := Deinterleave(nil, nil, st)
	if err := sameSamples(gl, l); err != nil {
		t.Errorf("Deinterleave left: %v", err)
	}
	if err := sameSamples(gr, []int16{-1, -2, 0}); err != nil {
		t.Errorf("Deinterleave right: %v", err)
	}
	if err := sameSamples(ToMono(nil, []int16{100, 300, -32768, -32768, 32767, 32767, 1, -2, 99}), []int16{200, -32768, 32767, -1}); err != nil {
		t.Errorf("ToMono: %v", err)
	}
	// Reusing capacity: no allocation per frame for a recorder's tap.
	a, b := Sine(8000, 300, FrameDuration, 0.5), Sine(8000, 700, FrameDuration, 0.5)
	buf := make([]int16, 0, 2*len(a))
	m := make([]int16, 0, len(a))
	ll, rr := make([]int16, 0, len(a)), make([]int16, 0, len(a))
	if n := testing.AllocsPerRun(100, func() {
		buf = Interleave(buf[:0], a, b)
		ll, rr = Deinterleave(ll[:0], rr[:0], buf)
		m = ToMono(m[:0], buf)
		m = Mix(m[:0], a, b)
	}); n != 0 {
		t.Errorf("stereo helpers allocate %.1f times per frame, want 0", n)
	}
}

// naiveXCorr is the definition, O(n·maxLag), to check the FFT against.
func naiveXCorr(a, b []int16, maxLag int) (int, float64) {
	ea, eb := energy(a), energy(b)
	if ea == 0 || eb == 0 {
		return 0, 0
	}
	best, bestLag := math.Inf(-1), 0
	for lag := -maxLag; lag <= maxLag; lag++ {
		var s float64
		for i := range a {
			if j := i + lag; j >= 0 && j < len(b) {
				s += float64(a[i]) * float64(b[j])
			}
		}
		c := s / math.Sqrt(ea*eb)
		if c > best+1e-12 || (math.Abs(c-best) <= 1e-12 && abs(lag) < abs(bestLag)) {
			best, bestLag = c, lag
		}
	}
	return bestLag, best
}

func noise(rng *rand.Rand, n, amp int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(rng.IntN(2*amp+1) - amp)
	}
	return s
}

func TestCrossCorrelate(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	x := noise(rng, 2000, 10000)
	for _, lag := range []int{0, 1, 37, -25, 500, -999} {
		var b []int16
		if lag >= 0 {
			b = append(make([]int16, lag), x...)
		} else {
			b = x[-lag:]
		}
		got, c := CrossCorrelate(x, b, 1000)
		if got != lag {
			t.Errorf("delay %d: got lag %d (coeff %.3f)", lag, got, c)
		}
		if lag >= 0 && math.Abs(c-1) > 1e-9 {
			t.Errorf("delay %d: coeff %.12f, want 1", lag, c)
		}
		wl, wc := naiveXCorr(x, b, 1000)
		if wl != got || math.Abs(wc-c) > 1e-9 {
			t.Errorf("delay %d: FFT gives (%d, %.12f), definition (%d, %.12f)", lag, got, c, wl, wc)
		}
	}
	// Random pairs of unrelated lengths against the definition.
	for range 20 {
		a := noise(rng, 1+rng.IntN(300), 1+rng.IntN(30000))
		b := noise(rng, 1+rng.IntN(300), 1+rng.IntN(30000))
		maxLag := rng.IntN(400)
		gl, gc := CrossCorrelate(a, b, maxLag)
		wl, wc := naiveXCorr(a, b, maxLag)
		if gl != wl || math.Abs(gc-wc) > 1e-9 {
			t.Errorf("len %d/%d maxLag %d: got (%d, %.12f), want (%d, %.12f)", len(a), len(b), maxLag, gl, gc, wl, wc)
		}
	}
	if l, c := CrossCorrelate(make([]int16, 100), x, 50); l != 0 || c != 0 {
		t.Errorf("silence: got (%d, %v), want (0, 0)", l, c)
	}
	if l, c := CrossCorrelate(nil, x, 50); l != 0 || c != 0 {
		t.Errorf("empty: got (%d, %v), want (0, 0)", l, c)
	}
	if l, _ := CrossCorrelate(x, x, -5); l != 0 {
		t.Errorf("negative maxLag: lag %d, want 0", l)
	}
	// Inverted copy: the best positive match is poor, the coefficient says so.
	inv := make([]int16, len(x))
	for i, v := range x {
		inv[i] = -v
	}
	if _, c := CrossCorrelate(x, inv, 10); c > 0.2 {
		t.Errorf("inverted copy: coeff %.3f, want near 0 or below", c)
	}
}

// TestCrossCorrelateThroughPhoneLine: the use the end-to-end tests have for
// it — find where speech-like audio landed after resampling, G.711 and a
// delay, over seconds of 8 kHz audio with a lag window of 2 s.
func TestCrossCorrelateThroughPhoneLine(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const rate = 16000
	src := noise(rng, 3*rate, 6000)
	// Amplitude-modulate so it is not stationary, like speech.
	for i := range src {
		src[i] = int16(float64(src[i]) * (0.6 + 0.4*math.Sin(2*math.Pi*3*float64(i)/rate)))
	}
	down, _ := NewResampler(rate, 8000)
	phone := down.Process(nil, src)
	ulaw := make([]byte, len(phone))
	EncodeUlaw(ulaw, phone)
	DecodeUlaw(phone, ulaw)
	const delay = 8000*1 + 234 // 1.03 s
	got := append(noise(rng, delay, 300), phone...)
	ref, _ := NewResampler(rate, 8000)
	want := ref.Process(nil, src) // the same filter delay on both sides
	lag, c := CrossCorrelate(want, got, 2*8000)
	if lag != delay {
		t.Errorf("lag %d, want %d", lag, delay)
	}
	if c < 0.95 {
		t.Errorf("coeff %.3f, want ≥ 0.95 (G.711 plus a little noise)", c)
	}
	t.Logf("lag %d, coeff %.4f", lag, c)
}

func BenchmarkCrossCorrelate3s2s(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	a := noise(rng, 3*8000, 8000)
	c := append(make([]int16, 8000), a...)
	b.ReportAllocs()
	for b.Loop() {
		CrossCorrelate(a, c, 2*8000)
	}
}
