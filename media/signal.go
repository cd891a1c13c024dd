package media

import (
	"math"
	"math/bits"
	"math/cmplx"
	"slices"
	"time"
)

// RMS returns the root mean square of pcm in the range [0, 32768]; 0 for no
// samples.
func RMS(pcm []int16) float64 {
	if len(pcm) == 0 {
		return 0
	}
	var sum uint64 // each square is at most 2^30: no overflow below 2^34 samples
	for _, s := range pcm {
		v := int64(s)
		sum += uint64(v * v)
	}
	return math.Sqrt(float64(sum) / float64(len(pcm)))
}

// DBFS converts an RMS level (as RMS returns) to decibels relative to full
// scale: 20·log10(rms/32768). A full-scale square wave is 0 dBFS, a
// full-scale sine about -3 dBFS, silence -Inf.
func DBFS(rms float64) float64 {
	if rms <= 0 {
		return math.Inf(-1)
	}
	return 20 * math.Log10(rms/32768)
}

// Sine returns d of a sine wave of freq Hz sampled at rate Hz, starting at
// phase 0. amplitude is the peak as a fraction of full scale when
// |amplitude| <= 1 (0.5 is half scale, -6 dBFS peak) and in sample units
// above that (8000 means a peak of 8000); samples saturate at the int16
// limits. It returns nil for a non-positive rate or duration.
func Sine(rate int, freq float64, d time.Duration, amplitude float64) []int16 {
	n := Samples(rate, d)
	if n == 0 {
		return nil
	}
	peak := amplitude
	if math.Abs(peak) <= 1 {
		peak *= 32767
	}
	out := make([]int16, n)
	w := 2 * math.Pi * freq / float64(rate)
	for i := range out {
		out[i] = clamp16(math.Round(peak * math.Sin(w*float64(i))))
	}
	return out
}

// clamp16 saturates v to the int16 range.
func clamp16(v float64) int16 {
	switch {
	case v >= math.MaxInt16:
		return math.MaxInt16
	case v <= math.MinInt16:
		return math.MinInt16
	}
	return int16(v)
}

// sat16 saturates an integer sum to the int16 range.
func sat16(v int32) int16 {
	return int16(max(min(v, math.MaxInt16), math.MinInt16))
}

// Mix appends the sample-wise sum of a and b to dst, saturating at the int16
// limits, and returns the extended slice. The shorter input counts as
// silence past its end. It allocates only when dst lacks capacity.
func Mix(dst, a, b []int16) []int16 {
	n := max(len(a), len(b))
	dst, out := grow(dst, n)
	for i := range out {
		var v int32
		if i < len(a) {
			v = int32(a[i])
		}
		if i < len(b) {
			v += int32(b[i])
		}
		out[i] = sat16(v)
	}
	return dst
}

// ToMono appends the average of each left/right pair of interleaved stereo to
// dst and returns the extended slice. A trailing odd sample is ignored.
func ToMono(dst, stereo []int16) []int16 {
	n := len(stereo) / 2
	dst, out := grow(dst, n)
	for i := range out {
		out[i] = int16((int32(stereo[2*i]) + int32(stereo[2*i+1])) >> 1)
	}
	return dst
}

// Interleave appends left and right as interleaved stereo (L R L R ...) to
// dst and returns the extended slice. The shorter channel is padded with
// silence, so the two stay aligned by sample position.
func Interleave(dst, left, right []int16) []int16 {
	n := max(len(left), len(right))
	dst, out := grow(dst, 2*n)
	clear(out)
	for i, s := range left {
		out[2*i] = s
	}
	for i, s := range right {
		out[2*i+1] = s
	}
	return dst
}

// Deinterleave appends the left and right channels of interleaved stereo to
// left and right and returns the extended slices. A trailing odd sample is
// ignored.
func Deinterleave(left, right, stereo []int16) ([]int16, []int16) {
	n := len(stereo) / 2
	left, l := grow(left, n)
	right, r := grow(right, n)
	for i := range n {
		l[i] = stereo[2*i]
		r[i] = stereo[2*i+1]
	}
	return left, right
}

// grow extends dst by n samples and returns it and the new tail, allocating
// only when dst lacks capacity.
func grow(dst []int16, n int) ([]int16, []int16) {
	l := len(dst)
	dst = slices.Grow(dst, n)[:l+n]
	return dst, dst[l:]
}

// CrossCorrelate finds where b best matches a: it returns the lag in
// [-maxLag, maxLag] that maximizes the normalized cross-correlation
//
//	coeff(lag) = Σ a[i]·b[i+lag] / sqrt(Σ a² · Σ b²)
//
// so that b[i+lag] ≈ a[i] (b is a copy of a delayed by lag samples when lag
// is positive), and that coefficient, in [-1, 1]. It is 1 when b is exactly
// a scaled, shifted a with nothing else in either. Silence in a or b gives
// (0, 0). The sums run over an FFT, O(n log n), so seconds of audio with
// lags of seconds cost milliseconds; it allocates and is meant for tests and
// tools, not the per-frame path.
func CrossCorrelate(a, b []int16, maxLag int) (lag int, coeff float64) {
	ea, eb := energy(a), energy(b)
	if ea == 0 || eb == 0 {
		return 0, 0
	}
	maxLag = min(max(maxLag, 0), max(len(a), len(b)))
	n := 1 << bits.Len(uint(len(a)+len(b)-1)) // ≥ len(a)+len(b)-1: no circular wrap
	fa := make([]complex128, n)
	fb := make([]complex128, n)
	for i, s := range a {
		fa[i] = complex(float64(s), 0)
	}
	for i, s := range b {
		fb[i] = complex(float64(s), 0)
	}
	tw := twiddles(n)
	fft(fa, tw, false)
	fft(fb, tw, false)
	for i := range fa {
		fa[i] = cmplx.Conj(fa[i]) * fb[i]
	}
	fft(fa, tw, true) // fa[k] = n · Σ a[i]·b[i+k mod n]
	norm := 1 / (float64(n) * math.Sqrt(ea*eb))
	best, bestLag := math.Inf(-1), 0
	for l := -maxLag; l <= maxLag; l++ {
		var c float64
		if l > -len(a) && l < len(b) { // otherwise nothing overlaps
			c = real(fa[(l+n)%n]) * norm
		}
		if c > best || (c == best && abs(l) < abs(bestLag)) {
			best, bestLag = c, l
		}
	}
	return bestLag, max(min(best, 1), -1)
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func energy(pcm []int16) float64 {
	var e float64
	for _, s := range pcm {
		e += float64(s) * float64(s)
	}
	return e
}

// twiddles returns e^{-2πik/n} for k < n/2, each computed directly so that
// errors do not accumulate.
func twiddles(n int) []complex128 {
	tw := make([]complex128, n/2)
	for k := range tw {
		s, c := math.Sincos(-2 * math.Pi * float64(k) / float64(n))
		tw[k] = complex(c, s)
	}
	return tw
}

// fft transforms x in place (radix-2, len(x) a power of two); inverse uses the
// conjugate twiddles and does not scale.
func fft(x []complex128, tw []complex128, inverse bool) {
	n := len(x)
	shift := 64 - bits.Len(uint(n-1))
	for i := range x {
		j := int(bits.Reverse64(uint64(i)) >> shift)
		if n == 1 {
			j = 0
		}
		if i < j {
			x[i], x[j] = x[j], x[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		half, step := size/2, n/size
		for start := 0; start < n; start += size {
			for k := range half {
				w := tw[k*step]
				if inverse {
					w = cmplx.Conj(w)
				}
				u, v := x[start+k], x[start+k+half]*w
				x[start+k], x[start+k+half] = u+v, u-v
			}
		}
	}
}
