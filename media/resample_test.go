package media

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

var resamplePairs = [][2]int{
	{8000, 16000}, {16000, 8000}, {48000, 16000}, {16000, 48000},
	{8000, 48000}, {48000, 8000}, {24000, 16000}, {16000, 24000},
	{8000, 24000}, {24000, 48000}, {44100, 16000}, {16000, 44100},
}

// snrDB compares got with peak·sin(2πf(t - delay)) at rate, from sample skip
// on, and returns the signal-to-error ratio in dB.
func snrDB(got []int16, rate int, f, peak float64, delay time.Duration, skip int) float64 {
	var sig, noise float64
	for n := skip; n < len(got); n++ {
		t := float64(n)/float64(rate) - delay.Seconds()
		want := peak * math.Sin(2*math.Pi*f*t)
		sig += want * want
		e := float64(got[n]) - want
		noise += e * e
	}
	return 10 * math.Log10(sig/noise)
}

// TestResampleSineSNR: a sine anywhere in the passband comes out as the same
// sine, delayed by Delay, with at least 60 dB signal-to-error. Rounding to
// 16 bits at both ends alone limits a half-scale sine to about 92 dB.
func TestResampleSineSNR(t *testing.T) {
	for _, p := range resamplePairs {
		in, out := p[0], p[1]
		r, err := NewResampler(in, out)
		if err != nil {
			t.Fatal(err)
		}
		low := float64(min(in, out))
		worst := math.Inf(1)
		for _, frac := range []float64{0.01, 0.0375, 0.125, 0.25, 0.36} {
			r.Reset()
			f := frac * low
			const amp = 0.5
			x := Sine(in, f, 500*time.Millisecond, amp)
			y := r.Process(nil, x)
			skip := Samples(out, 2*r.Delay()+5*time.Millisecond)
			snr := snrDB(y, out, f, amp*32767, r.Delay(), skip)
			worst = min(worst, snr)
			if snr < 60 {
				t.Errorf("%d→%d Hz, %.0f Hz sine: SNR %.1f dB, want ≥ 60", in, out, f, snr)
			}
		}
		t.Logf("%5d→%5d Hz: worst SNR %.1f dB over 0.01..0.36 of %g Hz, delay %v", in, out, worst, low, r.Delay())
	}
}

// prototypeResponse is the gain of r's filter at f Hz relative to DC, from
// the coefficient table itself.
func prototypeResponse(r *Resampler, f float64) float64 {
	fs := float64(r.l) * float64(r.inRate)
	var re, im float64
	l, k := int(r.l), r.taps
	for p := range l {
		for t := range k {
			j := p + t*l // prototype index
			c := float64(r.coef[p*k+k-1-t])
			s, co := math.Sincos(-2 * math.Pi * f * float64(j) / fs)
			re += c * co
			im += c * s
		}
	}
	return math.Hypot(re, im) / (float64(l) * (1 << coefBits))
}

// TestResampleFilterResponse measures the designed filter: passband ripple up
// to 0.37 of the lower rate and attenuation from 0.53 of it to the upsampled
// Nyquist frequency, and checks delay stays near 2 ms.
func TestResampleFilterResponse(t *testing.T) {
	for _, p := range [][2]int{{8000, 16000}, {16000, 8000}, {48000, 16000}, {16000, 48000}, {8000, 48000}, {24000, 16000}} {
		r, err := NewResampler(p[0], p[1])
		if err != nil {
			t.Fatal(err)
		}
		low := float64(min(p[0], p[1]))
		fs := float64(r.l) * float64(r.inRate)
		ripple, stop := 0.0, 0.0
		for f := 0.0; f <= resamplePassEdge*low; f += low / 2000 {
			ripple = max(ripple, math.Abs(prototypeResponse(r, f)-1))
		}
		for f := resampleStopEdge * low; f <= fs/2; f += low / 2000 {
			stop = max(stop, prototypeResponse(r, f))
		}
		stopDB := -20 * math.Log10(stop)
		t.Logf("%5d→%5d Hz: %d taps (%d per phase), passband ripple %.1e (%.4f dB), stopband %.1f dB, delay %v",
			p[0], p[1], r.taps*int(r.l), r.taps, ripple, 20*math.Log10(1+ripple), stopDB, r.Delay())
		if stopDB < 80 {
			t.Errorf("%d→%d Hz: stopband %.1f dB, want ≥ 80", p[0], p[1], stopDB)
		}
		if ripple > 1e-3 {
			t.Errorf("%d→%d Hz: passband ripple %.1e, want ≤ 1e-3", p[0], p[1], ripple)
		}
		if r.Delay() > 2200*time.Microsecond {
			t.Errorf("%d→%d Hz: delay %v, want ≤ 2.2 ms", p[0], p[1], r.Delay())
		}
	}
}

// TestResampleRejectsOutOfBand: downsampling removes tones the lower rate
// cannot carry instead of folding them into the band.
func TestResampleRejectsOutOfBand(t *testing.T) {
	for _, tc := range []struct {
		in, out int
		f       float64
	}{
		{16000, 8000, 4500}, {16000, 8000, 6000}, {16000, 8000, 7900},
		{48000, 16000, 9000}, {48000, 16000, 20000}, {48000, 8000, 5000},
	} {
		r, err := NewResampler(tc.in, tc.out)
		if err != nil {
			t.Fatal(err)
		}
		x := Sine(tc.in, tc.f, 500*time.Millisecond, 0.9)
		y := r.Process(nil, x)
		y = y[Samples(tc.out, 2*r.Delay()+5*time.Millisecond):]
		att := DBFS(RMS(x)) - DBFS(RMS(y))
		t.Logf("%d→%d Hz: %.0f Hz tone down %.1f dB", tc.in, tc.out, tc.f, att)
		// 80 dB below a 0.9 full-scale tone is ~2 LSB: output rounding
		// (0.29 LSB RMS) is what limits the measurement.
		if att < 75 {
			t.Errorf("%d→%d Hz: %.0f Hz tone attenuated %.1f dB, want ≥ 75", tc.in, tc.out, tc.f, att)
		}
	}
}

// TestResampleChunkedEqualsOneShot: history carries across Process calls,
// whatever the chunk sizes.
func TestResampleChunkedEqualsOneShot(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := Sine(48000, 1234, time.Second, 0.3)
	for i := range x {
		x[i] += int16(rng.IntN(4001) - 2000)
	}
	for _, p := range resamplePairs {
		in, out := p[0], p[1]
		src := x[:Samples(in, time.Second)]
		one, err := NewResampler(in, out)
		if err != nil {
			t.Fatal(err)
		}
		want := one.Process(nil, src)
		if n := len(src) * out / in; len(want) < n || len(want) > n+1 {
			t.Errorf("%d→%d: %d samples in gave %d out, want %d", in, out, len(src), len(want), n)
		}
		for _, name := range []string{"20ms", "random"} {
			r, _ := NewResampler(in, out)
			var got []int16
			for rest := src; len(rest) > 0; {
				n := SamplesPerFrame(in)
				if name == "random" {
					n = rng.IntN(2 * r.taps) // also 0 and chunks shorter than the history
				}
				n = min(n, len(rest))
				got = r.Process(got, rest[:n])
				rest = rest[n:]
			}
			if err := sameSamples(got, want); err != nil {
				t.Errorf("%d→%d, %s chunks: %v", in, out, name, err)
			}
		}
	}
}

func sameSamples(got, want []int16) error {
	if len(got) != len(want) {
		return fmt.Errorf("got %d samples, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			return fmt.Errorf("sample %d: got %d, want %d", i, got[i], want[i])
		}
	}
	return nil
}

// TestResampleDC: each phase has unit gain, so a constant stays exact.
func TestResampleDC(t *testing.T) {
	for _, p := range resamplePairs {
		r, _ := NewResampler(p[0], p[1])
		x := make([]int16, p[0]/10)
		for i := range x {
			x[i] = -12345
		}
		y := r.Process(nil, x)
		for i, v := range y[Samples(p[1], 2*r.Delay())+1:] {
			if v != -12345 {
				t.Fatalf("%d→%d: DC sample %d is %d, want -12345", p[0], p[1], i, v)
			}
		}
	}
}

// TestResampleFullScale: a full-scale square wave overshoots (Gibbs) and must
// saturate rather than wrap around to the other sign.
func TestResampleFullScale(t *testing.T) {
	r, _ := NewResampler(8000, 16000)
	x := make([]int16, 800)
	for i := range x {
		x[i] = math.MaxInt16
		if i/20%2 == 1 { // half periods of 20 samples
			x[i] = math.MinInt16
		}
	}
	y := r.Process(nil, x)
	for i := Samples(16000, 2*r.Delay()); i < len(y); i++ {
		// The input sample this output stands for, after the filter delay.
		j := int((float64(i)/16000 - r.Delay().Seconds()) * 8000)
		if k := j % 20; k < 5 || k > 15 {
			continue // near an edge, where ringing may cross zero
		}
		if (y[i] > 0) != (x[j] > 0) {
			t.Fatalf("output %d = %d, input %d = %d: wrapped around", i, y[i], j, x[j])
		}
	}
	if mx := slices.Max(y); mx != math.MaxInt16 {
		t.Errorf("max output %d, want saturation at %d", mx, math.MaxInt16)
	}
}

func TestResampleIdentity(t *testing.T) {
	r, err := NewResampler(16000, 16000)
	if err != nil {
		t.Fatal(err)
	}
	x := Sine(16000, 440, 50*time.Millisecond, 0.5)
	if err := sameSamples(r.Process(nil, x), x); err != nil {
		t.Error(err)
	}
	if r.Delay() != 0 {
		t.Errorf("identity delay %v, want 0", r.Delay())
	}
}

func TestResampleUnsupportedRates(t *testing.T) {
	for _, p := range [][2]int{{0, 8000}, {8000, 0}, {-8000, 16000}, {8000, 999}, {8000, 1_000_000}, {8000, 7919}, {44100, 7919}} {
		r, err := NewResampler(p[0], p[1])
		if err == nil || !errors.Is(err, ErrRate) {
			t.Errorf("NewResampler(%d, %d) = %v, %v; want an error wrapping ErrRate", p[0], p[1], r, err)
		}
	}
}

func TestResampleNoAllocs(t *testing.T) {
	for _, p := range resamplePairs {
		r, _ := NewResampler(p[0], p[1])
		src := Sine(p[0], 700, FrameDuration, 0.5)
		dst := make([]int16, 0, r.MaxOutput(len(src)))
		if allocs := testing.AllocsPerRun(50, func() { dst = r.Process(dst[:0], src) }); allocs != 0 {
			t.Errorf("%d→%d: Process allocates %.1f times per frame, want 0", p[0], p[1], allocs)
		}
		if len(dst) > r.MaxOutput(len(src)) {
			t.Errorf("%d→%d: %d samples out, MaxOutput says %d", p[0], p[1], len(dst), r.MaxOutput(len(src)))
		}
	}
}

func benchmarkResample(b *testing.B, in, out int) {
	r, err := NewResampler(in, out)
	if err != nil {
		b.Fatal(err)
	}
	src := Sine(in, 700, FrameDuration, 0.5)
	dst := make([]int16, 0, r.MaxOutput(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		dst = r.Process(dst[:0], src)
	}
	b.ReportMetric(float64(r.taps), "taps/phase")
}

func BenchmarkResample8kTo16k(b *testing.B)  { benchmarkResample(b, 8000, 16000) }
func BenchmarkResample16kTo8k(b *testing.B)  { benchmarkResample(b, 16000, 8000) }
func BenchmarkResample48kTo16k(b *testing.B) { benchmarkResample(b, 48000, 16000) }
func BenchmarkResample16kTo48k(b *testing.B) { benchmarkResample(b, 16000, 48000) }
