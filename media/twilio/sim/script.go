package sim

import (
	"time"

	"github.com/frontdesk/frontdesk/media"
	"github.com/frontdesk/frontdesk/media/twilio"
)

// agentState is what the caller's script can see of the agent.
type agentState struct {
	framesHeard int // media frames received so far
	playEnd     int // sample index at which the agent's audio will have played
}

// script decides what the caller sends in each 20 ms frame: the audio of
// the current turn, a key press, or silence (Twilio streams continuously).
type script struct {
	turns      []turn
	cur        int // index of the turn being prepared or spoken
	pos        int // samples of the current turn already sent
	digitsSent int
	digitGap   int // frames until the next key may be sent
	quiet      int // samples of agent silence that end a reply
	maxWait    int
	tail       int // samples of silence after the last turn (no-wait mode)
	waitFrom   int // sample index where waiting for the agent began
	heardAt    int // frames heard when waiting began
	frame      int // frames sent so far
	starts     []int
	done       bool
}

type turn struct {
	audio  []int16
	digits string
	wait   bool // wait for the agent to speak and go quiet first
	// interrupt, when set, is how much of the agent's reply the caller
	// hears before saying this turn over it.
	interrupt int // frames
}

func newScript(o Options) *script {
	rate := twilio.Rate
	sc := &script{
		quiet:   media.Samples(rate, o.TurnQuiet),
		maxWait: media.Samples(rate, o.MaxWait),
		tail:    media.Samples(rate, o.Tail),
	}
	if sc.quiet == 0 {
		sc.quiet = media.Samples(rate, 1200*time.Millisecond)
	}
	if sc.maxWait == 0 {
		sc.maxWait = media.Samples(rate, 20*time.Second)
	}
	if len(o.Turns) > 0 {
		for k, a := range o.Turns {
			sc.turns = append(sc.turns, turn{audio: a, digits: o.TurnDigits[k], wait: true, interrupt: int(o.Interrupt[k] / media.FrameDuration)})
		}
		// A last empty turn waits for the reply to the last real one.
		sc.turns = append(sc.turns, turn{wait: true})
		sc.tail = 0
	} else {
		sc.turns = []turn{{audio: o.Audio, digits: o.Digits}}
	}
	return sc
}

func (sc *script) over() bool { return sc.done }

// next returns the audio (possibly empty: silence) and key of the frame to
// send at sample index now; ok is false when the caller has nothing more to
// send and hangs up.
func (sc *script) next(now int, ag agentState) (pcm []int16, digit string, ok bool) {
	for !sc.done {
		if sc.cur >= len(sc.turns) {
			if sc.tail <= 0 {
				sc.done = true
				break
			}
			sc.tail -= twilio.FrameSamples
			sc.frame++
			return nil, "", true
		}
		t := &sc.turns[sc.cur]
		if t.wait {
			if sc.waitFrom == 0 {
				sc.waitFrom, sc.heardAt = max(now, 1), ag.framesHeard+1
			}
			spoke := ag.framesHeard >= sc.heardAt
			quiet := spoke && now-ag.playEnd >= sc.quiet
			if t.interrupt > 0 {
				quiet = ag.framesHeard >= sc.heardAt+t.interrupt
			}
			if !quiet && now-sc.waitFrom < sc.maxWait {
				sc.frame++
				return nil, "", true
			}
			t.wait = false
			sc.waitFrom, sc.heardAt = 0, 0
			if t.audio == nil && t.digits == "" { // the closing wait
				sc.done = true
				break
			}
		}
		if sc.pos == 0 && sc.digitsSent == 0 && len(sc.starts) < sc.cur+1 {
			sc.starts = append(sc.starts, now)
		}
		if sc.pos < len(t.audio) {
			n := min(twilio.FrameSamples, len(t.audio)-sc.pos)
			pcm = t.audio[sc.pos : sc.pos+n]
			sc.pos += n
			sc.frame++
			return pcm, "", true
		}
		// Keys after the audio: one every 250 ms, the first at once.
		if sc.digitsSent < len(t.digits) {
			if sc.digitGap == 0 {
				digit = t.digits[sc.digitsSent : sc.digitsSent+1]
				sc.digitsSent++
				sc.digitGap = int(250 * time.Millisecond / media.FrameDuration)
			}
			sc.digitGap--
			sc.frame++
			return nil, digit, true
		}
		sc.cur++
		sc.pos, sc.digitsSent, sc.digitGap = 0, 0, 0
	}
	return nil, "", false
}

// voiced reports whether a 20 ms window holds more than line noise.
func voiced(pcm []int16) bool { return media.RMS(pcm) > 300 }

// replyLatencies measures, for each turn, the time from the last voiced
// window of what the caller said to the first voiced window the caller
// heard after it.
func replyLatencies(out []int16, starts []int, turns [][]int16) []time.Duration {
	const w = twilio.FrameSamples
	var lat []time.Duration
	for k, start := range starts {
		if k >= len(turns) {
			break
		}
		said := turns[k]
		end := 0
		for i := 0; i+w <= len(said); i += w {
			if voiced(said[i : i+w]) {
				end = i + w
			}
		}
		from := start + end
		to := len(out)
		if k+1 < len(starts) {
			to = starts[k+1]
		}
		d := time.Duration(-1)
		for i := from; i+w <= to && i+w <= len(out); i += w {
			if voiced(out[i : i+w]) {
				d = media.Duration(twilio.Rate, i-from)
				break
			}
		}
		lat = append(lat, d)
	}
	return lat
}
