// Package agenttest checks implementations of the agent's provider
// interfaces against their contracts, in the style of testing/slogtest:
// an implementation's own test calls TestSTT, TestTTS or TestVAD with the
// implementation, and the suite runs its checks as subtests. Embedded and
// cloud providers run the same suites, so they are interchangeable in the
// agent.
//
// The suites make their own audio (silence, noise, tones, a synthetic
// vowel) and never wait on the wall clock with a fixed limit; a provider
// behind the network should be pointed at a local fake that speaks the
// real wire format.
package agenttest

import (
	"math"
	"math/rand/v2"
)

// silence returns n zero samples.
func silence(n int) []int16 { return make([]int16, n) }

// whiteNoise returns n samples of Gaussian white noise at rms (in sample
// units), from a fixed seed so runs repeat.
func whiteNoise(n int, rms float64, seed uint64) []int16 {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	out := make([]int16, n)
	for i := range out {
		out[i] = clamp(r.NormFloat64() * rms)
	}
	return out
}

// vowels returns d seconds of a synthetic voice at rate Hz: syllables of
// 240 ms (an /a/-like vowel: a glottal pulse train at a gliding pitch
// through three formant resonators) separated by 120 ms pauses, scaled to
// a peak RMS of rms. Any voice activity detector worth the name calls the
// syllables speech; none needs a real recording for that.
func vowels(rate int, seconds float64, rms float64) (pcm []int16, voiced []bool) {
	n := int(seconds * float64(rate))
	frame := rate / 50
	buf := make([]float64, n)
	formants := []struct{ f, bw float64 }{{730, 90}, {1090, 110}, {2440, 170}}
	type res struct{ a1, a2, b0, y1, y2 float64 }
	rs := make([]res, len(formants))
	for i, f := range formants {
		r := math.Exp(-math.Pi * f.bw / float64(rate))
		th := 2 * math.Pi * f.f / float64(rate)
		rs[i] = res{a1: 2 * r * math.Cos(th), a2: -r * r, b0: 1 - r}
	}
	syl, gap := int(0.24*float64(rate)), int(0.12*float64(rate))
	phase := 0.0
	for i := range buf {
		pos := i % (syl + gap)
		if pos >= syl {
			continue
		}
		// Pitch glides 110 → 140 Hz within a syllable; a raised-cosine
		// envelope avoids clicks.
		f0 := 110 + 30*float64(pos)/float64(syl)
		phase += f0 / float64(rate)
		x := 0.0
		if phase >= 1 {
			phase--
			x = 1
		}
		for k := range rs {
			r := &rs[k]
			y := r.b0*x + r.a1*r.y1 + r.a2*r.y2
			r.y2, r.y1 = r.y1, y
			x = y
		}
		env := 0.5 - 0.5*math.Cos(2*math.Pi*float64(pos)/float64(syl))
		buf[i] = x * env
	}
	var sum float64
	for _, v := range buf {
		sum += v * v
	}
	// Peak RMS of a raised cosine envelope is about 1.63× the mean over
	// the voiced part; scale so the loudest frames reach rms.
	mean := math.Sqrt(sum / float64(n) * float64(syl+gap) / float64(syl))
	g := rms / (mean * 1.2)
	pcm = make([]int16, n)
	for i, v := range buf {
		pcm[i] = clamp(v * g)
	}
	// A frame counts as voiced when its middle lies in the louder middle
	// half of a syllable, where no detector has an excuse.
	for i := 0; i+frame <= n; i += frame {
		pos := (i + frame/2) % (syl + gap)
		voiced = append(voiced, pos > syl/4 && pos < 3*syl/4)
	}
	return pcm, voiced
}

func clamp(v float64) int16 {
	switch {
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(math.Round(v))
}
