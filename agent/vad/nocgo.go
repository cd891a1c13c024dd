//go:build !cgo

package vad

import (
	"errors"

	"github.com/frontdesk/frontdesk/agent"
)

// VAD is unusable in a build without cgo: New returns an error. Energy,
// the gate alone, still works.
type VAD struct{}

var _ agent.VAD = (*VAD)(nil)

// New fails: the WebRTC detector needs cgo.
func New(Options) (*VAD, error) {
	return nil, errors.New("vad: built without cgo: embedded speech unavailable (Energy works without it)")
}

// Speech reports no speech.
func (*VAD) Speech([]int16, int) bool { return false }

// Close does nothing.
func (*VAD) Close() error { return nil }
