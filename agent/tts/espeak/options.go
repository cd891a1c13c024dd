package espeak

import (
	"fmt"
	"strings"
	"time"
)

// Rate is the sample rate of espeak-ng's audio, in Hz.
const Rate = 22050

// DefaultChunk is the default length of the chunks Synthesize hands out.
const DefaultChunk = 40 * time.Millisecond

// Options configure a Synth. The zero value is US English at espeak's
// normal speed in 40 ms chunks.
type Options struct {
	// Voice is an espeak-ng voice name (`espeak-ng --voices` lists
	// them); default "en-us".
	Voice string
	// Speed in words per minute, 80 to 450; default 175.
	Speed int
	// Chunk is the length of audio handed to out at a time; default
	// DefaultChunk.
	Chunk time.Duration
}

func (o Options) withDefaults() (Options, error) {
	if o.Voice == "" {
		o.Voice = "en-us"
	}
	if strings.ContainsAny(o.Voice, "\x00/") {
		return o, fmt.Errorf("espeak: bad voice name %q", o.Voice)
	}
	if o.Speed == 0 {
		o.Speed = 175
	}
	if o.Speed < 80 || o.Speed > 450 {
		return o, fmt.Errorf("espeak: speed %d words per minute out of [80, 450]", o.Speed)
	}
	if o.Chunk == 0 {
		o.Chunk = DefaultChunk
	}
	if o.Chunk < time.Millisecond || o.Chunk > 10*time.Second {
		return o, fmt.Errorf("espeak: chunk %v out of range [1ms, 10s]", o.Chunk)
	}
	return o, nil
}
