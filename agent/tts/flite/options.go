package flite

import (
	"fmt"
	"slices"
	"time"
)

// Rate is the sample rate of every voice here, in Hz.
const Rate = 16000

// Voices lists the voice names New accepts; the first is the default.
var Voices = []string{"slt", "rms", "awb", "kal16"}

// DefaultChunk is the default length of the chunks Synthesize hands out.
const DefaultChunk = 40 * time.Millisecond

// Options configure a Synth. The zero value is the default: voice slt,
// 40 ms chunks.
type Options struct {
	// Voice is one of Voices; empty means "slt".
	Voice string
	// Chunk is the length of audio handed to out at a time; zero means
	// DefaultChunk. Shorter chunks react to cancellation sooner.
	Chunk time.Duration
}

func (o Options) withDefaults() (Options, error) {
	if o.Voice == "" {
		o.Voice = Voices[0]
	}
	if !slices.Contains(Voices, o.Voice) {
		return o, fmt.Errorf("flite: unknown voice %q (have %v)", o.Voice, Voices)
	}
	if o.Chunk == 0 {
		o.Chunk = DefaultChunk
	}
	if o.Chunk < time.Millisecond || o.Chunk > 10*time.Second {
		return o, fmt.Errorf("flite: chunk %v out of range [1ms, 10s]", o.Chunk)
	}
	return o, nil
}
