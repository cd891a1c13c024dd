package agent

import (
	"time"

	"github.com/frontdesk/frontdesk/media"
)

// leadTrimmer drops the silence a synthesiser puts before the first word
// of what it says (flite: about 200 ms), which the caller would hear as
// that much more reply latency. It keeps a short margin before the onset
// so the first sound is not clipped, and trims at most maxLead: a
// synthesiser that starts quietly is let through. Not safe for concurrent
// use.
type leadTrimmer struct {
	win, margin, maxLead int // in samples
	done                 bool
	seen                 int     // samples trimmed or kept so far
	keep                 []int16 // the margin: the last silence before now
}

// Onset: a 5 ms window above -45 dBFS.
const onsetRMS = 180

func newLeadTrimmer(rate int) *leadTrimmer {
	return &leadTrimmer{
		win:     media.Samples(rate, 5*time.Millisecond),
		margin:  media.Samples(rate, 20*time.Millisecond),
		maxLead: media.Samples(rate, 400*time.Millisecond),
	}
}

// trim returns what of pcm should be played: nothing while only silence
// has come, then the margin and everything from the onset on. The result
// may alias pcm or the trimmer's buffer; use it before the next call.
func (t *leadTrimmer) trim(pcm []int16) []int16 {
	if t.done {
		return pcm
	}
	for i := 0; i < len(pcm); i += t.win {
		end := min(i+t.win, len(pcm))
		if media.RMS(pcm[i:end]) > onsetRMS || t.seen+end > t.maxLead {
			t.done = true
			t.remember(pcm[:i])
			out := append(t.keep, pcm[i:]...)
			t.keep = nil
			return out
		}
	}
	t.seen += len(pcm)
	t.remember(pcm)
	return nil
}

// remember keeps the last margin of the silence seen.
func (t *leadTrimmer) remember(pcm []int16) {
	t.keep = append(t.keep, pcm...)
	if n := len(t.keep) - t.margin; n > 0 {
		t.keep = append(t.keep[:0], t.keep[n:]...)
	}
}

// flush returns the margin kept when the audio ended without an onset, so
// that silence still plays as a short pause.
func (t *leadTrimmer) flush() []int16 {
	out := t.keep
	t.keep = nil
	t.done = true
	return out
}
