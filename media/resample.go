package media

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Resampler design. The low-pass is a Kaiser-windowed sinc whose transition
// band sits around the Nyquist frequency of the lower of the two rates: flat
// (ripple below 10^(-attenuation/20)) up to passEdge·low, at least
// attenuation dB down from stopEdge·low on. At 8 kHz that is flat to 2960 Hz,
// -6 dB at 3600 Hz and -80 dB from 4240 Hz, so images of a phone band
// (300-3400 Hz) and aliases onto it are gone, while the filter stays short:
// the delay is about 2 ms for pairs with 8 kHz and 1 ms with 16 kHz. Measured
// numbers are in docs/media.md.
const (
	resamplePassEdge    = 0.37
	resampleStopEdge    = 0.53
	resampleAttenuation = 82.0 // design target; a margin over the 80 dB we test

	maxResampleRate = 384000
	minResampleRate = 1000
	maxResampleL    = 1024 // phases; bounds the table for odd ratios like 44.1 kHz
	maxResampleM    = 1024

	coefBits = 30 // fixed-point coefficients: Q30, int64 accumulation
)

// ErrRate is wrapped by NewResampler's error for a rate or ratio it does not
// support.
var ErrRate = errors.New("unsupported sample rate")

// Resampler converts a mono PCM16 stream from one rate to another with a
// polyphase FIR. It keeps the filter history between Process calls, so a
// stream cut into 20 ms chunks comes out exactly as if processed in one
// piece. Not safe for concurrent use; one per stream.
type Resampler struct {
	// Immutable after NewResampler.
	inRate, outRate int
	l, m            int64   // up- and down-sampling factors, gcd-reduced
	taps            int     // taps per phase
	coef            []int32 // l phases × taps, Q30, each phase reversed so the dot product runs forward
	delay           time.Duration

	// Stream state, owned by Process.
	scratch []int16 // [0, taps-1): the last taps-1 input samples; then room for as many new ones
	next    int64   // position of the next output in 1/l input samples from the start of the next src
}

// NewResampler returns a resampler from inRate to outRate Hz. Any rates in
// [1000, 384000] whose reduced ratio L/M has L and M at most 1024 work:
// all pairs of 8, 16, 24, 32, 44.1 and 48 kHz among them. Equal rates pass
// samples through unchanged. Other rates give an error wrapping ErrRate.
func NewResampler(inRate, outRate int) (*Resampler, error) {
	if inRate < minResampleRate || inRate > maxResampleRate || outRate < minResampleRate || outRate > maxResampleRate {
		return nil, fmt.Errorf("media: new resampler %d Hz → %d Hz: %w (want %d to %d Hz)",
			inRate, outRate, ErrRate, minResampleRate, maxResampleRate)
	}
	g := gcd(inRate, outRate)
	l, m := outRate/g, inRate/g
	if l > maxResampleL || m > maxResampleM {
		return nil, fmt.Errorf("media: new resampler %d Hz → %d Hz: %w (ratio %d/%d too fine)",
			inRate, outRate, ErrRate, l, m)
	}
	r := &Resampler{inRate: inRate, outRate: outRate, l: int64(l), m: int64(m)}
	if l == m {
		return r, nil
	}
	r.design()
	return r, nil
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// design builds the polyphase table. The prototype filter runs at the
// upsampled rate F = L·inRate; phase p holds taps p, p+L, p+2L, ...
func (r *Resampler) design() {
	f := float64(r.l) * float64(r.inRate)
	low := float64(min(r.inRate, r.outRate))
	fc := (resamplePassEdge + resampleStopEdge) / 2 * low / f // cycles per upsampled sample
	dw := 2 * math.Pi * (resampleStopEdge - resamplePassEdge) * low / f
	a := resampleAttenuation
	beta := 0.1102 * (a - 8.7) // Kaiser's formula for a ≥ 50 dB
	n := int(math.Ceil((a-7.95)/(2.285*dw))) + 1
	l := int(r.l)
	r.taps = (n + l - 1) / l
	n = r.taps * l // use every slot of the last column rather than zero-pad it

	proto := make([]float64, n)
	center := float64(n-1) / 2
	i0b := besselI0(beta)
	for j := range proto {
		x := float64(j) - center
		t := 2 * x / float64(n-1)
		w := besselI0(beta*math.Sqrt(max(0, 1-t*t))) / i0b
		proto[j] = 2 * fc * sinc(2*fc*x) * w
	}

	// Each phase gets unit DC gain in Q30, the rounding residue on its
	// largest tap: a constant input then comes out exactly constant.
	r.coef = make([]int32, n)
	for p := range l {
		var sum float64
		for t := range r.taps {
			sum += proto[p+t*l]
		}
		row := r.coef[p*r.taps : (p+1)*r.taps]
		var isum int64
		big := 0
		for t := range r.taps {
			c := int32(math.Round(proto[p+t*l] / sum * (1 << coefBits)))
			row[r.taps-1-t] = c
			isum += int64(c)
			if abs(int(c)) > abs(int(row[big])) {
				big = r.taps - 1 - t
			}
		}
		row[big] += int32(1<<coefBits - isum)
	}
	r.delay = time.Duration(math.Round(float64(n-1) / 2 / f * float64(time.Second)))
	r.scratch = make([]int16, 2*(r.taps-1))
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// besselI0 is the modified Bessel function of the first kind, order 0, by its
// power series (converges fast for the β < 20 a Kaiser window uses).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 200; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}

// Delay returns the group delay of the filter: an input sample at time t
// comes out at t+Delay. It is 0 for equal rates.
func (r *Resampler) Delay() time.Duration { return r.delay }

// InRate returns the input rate in Hz.
func (r *Resampler) InRate() int { return r.inRate }

// OutRate returns the output rate in Hz.
func (r *Resampler) OutRate() int { return r.outRate }

// MaxOutput returns the most samples Process can append for n input samples,
// for sizing dst.
func (r *Resampler) MaxOutput(n int) int {
	if n <= 0 {
		return 0
	}
	return int((int64(n)*r.l+r.m-1)/r.m) + 1
}

// Reset forgets the stream: the next Process starts from silence, as a new
// Resampler would.
func (r *Resampler) Reset() {
	clear(r.scratch)
	r.next = 0
}

// Process appends the resampled src to dst and returns the extended slice. It
// allocates only when dst lacks capacity (see MaxOutput). Output lags input
// by Delay; the stream's first output sample corresponds to its first input
// sample at time 0.
func (r *Resampler) Process(dst, src []int16) []int16 {
	if r.l == r.m {
		return append(dst, src...)
	}
	k := r.taps
	h := k - 1
	n := len(src)
	if end := int64(n) * r.l; r.next < end {
		dst = slices.Grow(dst, int((end-r.next+r.m-1)/r.m))
	}
	// Windows that reach back before src come from scratch: the history
	// followed by the head of src.
	head := min(n, h)
	copy(r.scratch[h:], src[:head])
	ext := r.scratch[:h+head]
	// Walk the output positions as input index i and phase p (pos = i·L+p)
	// without dividing per sample.
	i, p := int(r.next/r.l), int(r.next%r.l)
	di, dp := int(r.m/r.l), int(r.m%r.l)
	l := int(r.l)
	for i < n {
		var w []int16
		if i < h {
			w = ext[i : i+k]
		} else {
			w = src[i-h : i+1]
		}
		dst = append(dst, dot(r.coef[p*k:(p+1)*k], w))
		i, p = i+di, p+dp
		if p >= l {
			i, p = i+1, p-l
		}
	}
	r.next = int64(i-n)*r.l + int64(p)
	// Keep the last h samples of history+src.
	if n >= h {
		copy(r.scratch[:h], src[n-h:])
	} else {
		copy(r.scratch[:h], r.scratch[n:n+h])
	}
	return dst
}

// dot is the FIR inner product in Q30, rounded and saturated to int16.
// Four accumulators break the add dependency chain; the four-element
// reslices let the compiler drop bounds checks.
func dot(c []int32, w []int16) int16 {
	var a0, a1, a2, a3 int64
	for len(c) >= 4 && len(w) >= 4 {
		c4, w4 := c[:4:4], w[:4:4]
		a0 += int64(c4[0]) * int64(w4[0])
		a1 += int64(c4[1]) * int64(w4[1])
		a2 += int64(c4[2]) * int64(w4[2])
		a3 += int64(c4[3]) * int64(w4[3])
		c, w = c[4:], w[4:]
	}
	for i := range min(len(c), len(w)) {
		a0 += int64(c[i]) * int64(w[i])
	}
	acc := (a0 + a1 + a2 + a3 + 1<<(coefBits-1)) >> coefBits
	return int16(max(min(acc, math.MaxInt16), math.MinInt16))
}
