package agenttest

import (
	"strconv"
	"testing"

	"github.com/frontdesk/frontdesk/agent"
)

// TestVAD checks detectors made by newVAD against the agent.VAD contract,
// with 20 ms frames at 8 and 16 kHz: digital silence and quiet room noise
// are not speech; a synthetic voice is, for most of its voiced frames, and
// the detector lets go within half a second after it; malformed frames
// (odd lengths, unsupported rates) do not panic, and without audio or
// rate are not speech; detectors are independent and deterministic.
func TestVAD(t *testing.T, newVAD func() agent.VAD) {
	t.Helper()
	for _, rate := range []int{8000, 16000} {
		frame := rate / 50
		t.Run(rateName(rate), func(t *testing.T) {
			t.Run("Silence", func(t *testing.T) {
				v := newVAD()
				for i := range 100 {
					if v.Speech(silence(frame), rate) {
						t.Fatalf("frame %d of digital silence is speech", i)
					}
				}
			})
			t.Run("QuietNoise", func(t *testing.T) {
				v := newVAD()
				noise := whiteNoise(3*rate, 10, 7) // -70 dBFS: a quiet line
				if n := count(v, noise, rate); n > 0 {
					t.Fatalf("%d of %d frames of -70 dBFS noise are speech, want none", n, len(noise)/frame)
				}
			})
			t.Run("Voice", func(t *testing.T) {
				v := newVAD()
				lead := silence(rate / 2)
				voice, voiced := vowels(rate, 3, 3000)
				// Half a second of quiet line, the voice, two seconds of quiet.
				count(v, whiteNoise(len(lead), 10, 1), rate)
				hit, n := 0, 0
				for i, on := range voiced {
					got := v.Speech(voice[i*frame:(i+1)*frame], rate)
					if on {
						n++
						if got {
							hit++
						}
					}
				}
				if hit*2 < n {
					t.Errorf("%d of %d voiced frames detected as speech, want most", hit, n)
				}
				tail := whiteNoise(2*rate, 10, 2)
				last := -1
				for i := 0; i+frame <= len(tail); i += frame {
					if v.Speech(tail[i:i+frame], rate) {
						last = i / frame
					}
				}
				if last >= 25 {
					t.Errorf("still speech %d ms after the voice ended, want under 500 ms", 20*(last+1))
				}
			})
			t.Run("Independent", func(t *testing.T) {
				// a and b hear the same audio while c, in between, hears
				// something else: a detector sharing state would disagree.
				a, b, c := newVAD(), newVAD(), newVAD()
				voice, _ := vowels(rate, 2, 3000)
				noise := whiteNoise(len(voice), 300, 3)
				for i := range voice {
					voice[i] = clamp(float64(voice[i]) + float64(noise[i]))
				}
				other := whiteNoise(len(voice), 8000, 4)
				for i := 0; i+frame <= len(voice); i += frame {
					ga := a.Speech(voice[i:i+frame], rate)
					c.Speech(other[i:i+frame], rate)
					if gb := b.Speech(voice[i:i+frame], rate); ga != gb {
						t.Fatalf("frame %d: two detectors fed the same audio disagree (%v, %v)", i/frame, ga, gb)
					}
				}
			})
			t.Run("BadFrames", func(t *testing.T) {
				v := newVAD()
				loud, _ := vowels(rate, 0.2, 8000)
				// Frames that are not 20 ms at the rate break the
				// contract: any answer will do, but no panic. Those
				// without audio or rate are never speech.
				cases := []struct {
					name   string
					frame  []int16
					rate   int
					silent bool
				}{
					{"empty", nil, rate, true},
					{"zero rate", loud[:frame], 0, true},
					{"negative rate", loud[:frame], -rate, true},
					{"one sample", loud[:1], rate, false},
					{"odd length", loud[:frame-1], rate, false},
					{"unsupported rate", loud[:441], 22050, false},
				}
				for _, c := range cases {
					if v.Speech(c.frame, c.rate) && c.silent {
						t.Errorf("%s: Speech = true, want false", c.name)
					}
				}
			})
		})
	}
}

// count feeds audio in 20 ms frames and returns how many were speech.
func count(v agent.VAD, audio []int16, rate int) int {
	frame := rate / 50
	n := 0
	for i := 0; i+frame <= len(audio); i += frame {
		if v.Speech(audio[i:i+frame], rate) {
			n++
		}
	}
	return n
}

func rateName(rate int) string { return strconv.Itoa(rate) + "Hz" }
