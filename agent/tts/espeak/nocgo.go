//go:build !cgo

package espeak

import (
	"context"
	"errors"

	"github.com/frontdesk/frontdesk/agent"
)

var errNoCgo = errors.New("espeak: built without cgo: embedded speech unavailable")

// Synth is unusable in a build without cgo: New returns an error.
type Synth struct{}

var _ agent.TTS = (*Synth)(nil)

// New fails: the engine needs cgo.
func New(Options) (*Synth, error) { return nil, errNoCgo }

// Synthesize fails: the engine needs cgo.
func (*Synth) Synthesize(context.Context, string, func([]int16) error) error { return errNoCgo }

// Rate returns the rate the cgo build would produce.
func (*Synth) Rate() int { return Rate }
