package vad

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func noise(n int, rms float64, seed uint64) []int16 {
	r := rand.New(rand.NewPCG(seed, 9))
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(max(-32768, min(32767, math.Round(r.NormFloat64()*rms))))
	}
	return out
}

func TestLevel(t *testing.T) {
	if l := Level(nil); !math.IsInf(l, -1) {
		t.Errorf("Level(nil) = %v, want -Inf", l)
	}
	if l := Level(make([]int16, 160)); !math.IsInf(l, -1) {
		t.Errorf("Level(silence) = %v, want -Inf", l)
	}
	sq := make([]int16, 160)
	for i := range sq {
		sq[i] = 32767
		if i%2 == 1 {
			sq[i] = -32767
		}
	}
	if l := Level(sq); math.Abs(l) > 0.01 {
		t.Errorf("Level(full-scale square) = %.3f dBFS, want 0", l)
	}
	if l := Level(noise(16000, 32768*0.01, 1)); math.Abs(l+40) > 0.3 {
		t.Errorf("Level(-40 dBFS noise) = %.2f", l)
	}
}

// feed runs e over audio in 20 ms frames and returns the speech verdicts.
func feed(e *Energy, audio []int16, rate int) []bool {
	frame := rate / 50
	var out []bool
	for i := 0; i+frame <= len(audio); i += frame {
		out = append(out, e.Speech(audio[i:i+frame], rate))
	}
	return out
}

func frac(v []bool) float64 {
	n := 0
	for _, b := range v {
		if b {
			n++
		}
	}
	return float64(n) / float64(max(1, len(v)))
}

// TestEnergyTracksFloor: the floor follows noise that steps up (within
// Window plus the rise time) and down (at once), and bursts well above it
// are speech.
func TestEnergyTracksFloor(t *testing.T) {
	const rate = 8000
	e := NewEnergy(EnergyOptions{})
	feed(e, noise(2*rate, 32768*0.001, 1), rate) // -60 dBFS
	if f := e.Floor(); math.Abs(f+60) > 2 {
		t.Fatalf("floor %.1f dBFS after 2 s of -60 dBFS noise, want about -60", f)
	}
	// Noise steps up 30 dB: after Window + 30 dB / Rise (3.5 s) the floor
	// has followed.
	v := feed(e, noise(5*rate, 32768*0.0316, 2), rate) // -30 dBFS
	if f := e.Floor(); math.Abs(f+30) > 2 {
		t.Errorf("floor %.1f dBFS after 5 s of -30 dBFS noise, want about -30", f)
	}
	if got := frac(v[len(v)*3/4:]); got > 0 {
		t.Errorf("%.0f%% of the last second of -30 dBFS noise is speech, want none", 100*got)
	}
	// A burst 20 dB over the noise is speech.
	if got := frac(feed(e, noise(rate/5, 32768*0.316, 3), rate)); got < 0.99 {
		t.Errorf("%.0f%% of a -10 dBFS burst over -30 dBFS noise is speech, want all", 100*got)
	}
	// Noise steps down: the floor follows at once.
	feed(e, noise(rate/10, 32768*0.001, 4), rate)
	if f := e.Floor(); f > -55 {
		t.Errorf("floor %.1f dBFS 100 ms into quieter noise, want near -60", f)
	}
}

func TestEnergyHangover(t *testing.T) {
	const rate = 16000
	for _, hang := range []time.Duration{-1, 60 * time.Millisecond, 200 * time.Millisecond} {
		e := NewEnergy(EnergyOptions{Hangover: hang})
		feed(e, noise(rate, 30, 1), rate)      // -60 dBFS
		feed(e, noise(rate/2, 3000, 2), rate)  // speech-loud
		v := feed(e, noise(rate, 82, 3), rate) // -52 dBFS: above MinLevel, under floor + Margin
		n := 0
		for n < len(v) && v[n] {
			n++
		}
		want := int(max(hang, 0) / (20 * time.Millisecond))
		if n != want {
			t.Errorf("hangover %v: %d frames held as speech, want %d", hang, n, want)
		}
	}
}

func TestEnergyMinLevel(t *testing.T) {
	// On a digitally silent line, sounds under MinLevel are not speech
	// however far above the floor.
	e := NewEnergy(EnergyOptions{})
	feed(e, make([]int16, 8000), 8000)
	if got := frac(feed(e, noise(8000, 32768*0.0005, 1), 8000)); got > 0 { // -66 dBFS
		t.Errorf("%.0f%% of -66 dBFS noise after silence is speech, want none", 100*got)
	}
	if got := frac(feed(e, noise(1600, 32768*0.05, 2), 8000)); got < 0.99 { // -26 dBFS
		t.Errorf("%.0f%% of -26 dBFS sound after silence is speech, want all", 100*got)
	}
}

func TestEnergyAnyFrame(t *testing.T) {
	e := NewEnergy(EnergyOptions{})
	if e.Speech(nil, 8000) || e.Speech(noise(160, 8000, 1), 0) || e.Speech(noise(160, 8000, 1), -8000) {
		t.Error("speech for an empty frame or a bad rate")
	}
	// Odd sizes and rates work: the gate needs no particular frame.
	if !e.Speech(noise(441, 8000, 2), 22050) {
		t.Error("a loud 20 ms frame at 22.05 kHz is not speech")
	}
	frame := noise(160, 3000, 3)
	if n := testing.AllocsPerRun(100, func() { e.Speech(frame, 8000) }); n != 0 {
		t.Errorf("Speech allocates %.0f times", n)
	}
}
