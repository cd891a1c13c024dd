package vad

import (
	"math"
	"time"

	"github.com/frontdesk/frontdesk/agent"
)

// Energy is an adaptive energy gate: a frame is speech when its level is
// well above the noise floor, which it tracks by minimum statistics (the
// quietest frame of the last Window, since speech always pauses within a
// second or two while noise does not). Pure Go, usable without cgo, but
// alone it takes any loud sound for speech: VAD pairs it with the WebRTC
// detector. Not safe for concurrent use; one per stream.
type Energy struct {
	// Immutable after NewEnergy.
	opts EnergyOptions

	// Stream state, owned by Speech.
	ring    []float64     // frame levels in dBFS over the window, oldest first from pos
	times   []float64     // their durations, seconds
	pos     int           // next slot in ring
	n       int           // filled slots
	span    float64       // seconds covered by the filled slots
	floor   float64       // tracked noise floor, dBFS
	started bool          // floor initialised
	elapsed float64       // seconds of audio seen, up to the window
	hang    time.Duration // speech hangover left
}

var _ agent.VAD = (*Energy)(nil)

// EnergyOptions configure an Energy gate. Zero fields take the defaults.
type EnergyOptions struct {
	// Margin is how far above the noise floor a frame must be to count as
	// speech; default 9 dB, about half the level of speech at 20 dB SNR.
	Margin float64
	// MinLevel is the level below which nothing is speech however quiet
	// the line, in dBFS; default -55.
	MinLevel float64
	// Window is the span over which the floor is the minimum; default
	// 1.5 s. Shorter follows changing noise sooner but lets a long vowel
	// raise the floor.
	Window time.Duration
	// Rise bounds how fast the floor may go up, in dB per second; default
	// 15, and three times that during the first Window of a stream, so
	// that line noise stops counting as speech within about a second of
	// the call's start (while the agent greets, when a false barge-in
	// would cut the greeting). It goes down at once.
	Rise float64
	// Hangover keeps a frame after speech marked as speech, so that the
	// quiet consonants ending a word are not cut; default 60 ms, and a
	// negative value means none.
	Hangover time.Duration
}

func (o EnergyOptions) withDefaults() EnergyOptions {
	if o.Margin == 0 {
		o.Margin = 9
	}
	if o.MinLevel == 0 {
		o.MinLevel = -55
	}
	if o.Window <= 0 {
		o.Window = 1500 * time.Millisecond
	}
	if o.Rise <= 0 {
		o.Rise = 15
	}
	if o.Hangover == 0 {
		o.Hangover = 60 * time.Millisecond
	}
	return o
}

// initialFloor is where the floor starts before any frame: a quiet line.
// Starting low and rising at Rise lets speech at the very start of a call
// through, at the price of calling loud noise speech for its first second
// or two (the WebRTC half of VAD catches most of that).
const initialFloor = -65.0

// NewEnergy returns an energy gate.
func NewEnergy(opts EnergyOptions) *Energy {
	opts = opts.withDefaults()
	// Enough slots for the window at 10 ms frames; longer frames use fewer.
	slots := int(opts.Window/(10*time.Millisecond)) + 1
	return &Energy{opts: opts, ring: make([]float64, slots), times: make([]float64, slots), floor: initialFloor}
}

// Level returns the level of frame in dBFS (-Inf for silence).
func Level(frame []int16) float64 {
	if len(frame) == 0 {
		return math.Inf(-1)
	}
	var sum float64
	for _, s := range frame {
		v := float64(s)
		sum += v * v
	}
	if sum == 0 {
		return math.Inf(-1)
	}
	return 10 * math.Log10(sum/float64(len(frame))/(32768*32768))
}

// Speech reports whether frame, rate Hz, is well above the noise floor,
// and updates the floor. Any frame length works; an empty frame or a
// non-positive rate is not speech and changes nothing.
func (e *Energy) Speech(frame []int16, rate int) bool {
	if len(frame) == 0 || rate <= 0 {
		return false
	}
	dur := float64(len(frame)) / float64(rate)
	lvl := max(Level(frame), -120) // digital silence: very quiet, not -Inf
	e.push(lvl, dur)
	target := e.minimum()
	switch {
	case !e.started:
		e.floor = min(initialFloor, target)
		e.started = true
	case target < e.floor:
		e.floor = target
	default:
		rise := e.opts.Rise
		if e.elapsed < e.opts.Window.Seconds() {
			rise *= 3
		}
		e.floor = min(target, e.floor+rise*dur)
	}
	e.elapsed = min(e.elapsed+dur, e.opts.Window.Seconds())
	speech := lvl >= e.opts.MinLevel && lvl > e.floor+e.opts.Margin
	d := time.Duration(dur * float64(time.Second))
	switch {
	case speech:
		e.hang = max(e.opts.Hangover, 0)
	case e.hang > 0:
		e.hang -= d
		speech = lvl >= e.opts.MinLevel
	}
	return speech
}

// Floor returns the current noise floor estimate in dBFS.
func (e *Energy) Floor() float64 { return e.floor }

// push adds a frame level, dropping the oldest frames beyond the window.
func (e *Energy) push(lvl, dur float64) {
	win := e.opts.Window.Seconds()
	for e.n > 0 && (e.n == len(e.ring) || e.span+dur > win+1e-9) {
		old := (e.pos - e.n + len(e.ring)) % len(e.ring)
		e.span -= e.times[old]
		e.n--
	}
	e.ring[e.pos], e.times[e.pos] = lvl, dur
	e.pos = (e.pos + 1) % len(e.ring)
	e.n++
	e.span += dur
}

// minimum is the quietest level in the window, plus a correction: the
// minimum of noisy frame levels sits below their mean by about a decibel
// for 10–30 ms frames.
func (e *Energy) minimum() float64 {
	m := math.Inf(1)
	for i := 0; i < e.n; i++ {
		m = min(m, e.ring[(e.pos-1-i+len(e.ring))%len(e.ring)])
	}
	return m + 1
}
