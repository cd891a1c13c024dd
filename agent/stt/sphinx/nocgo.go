//go:build !cgo

package sphinx

import (
	"context"
	"errors"

	"github.com/frontdesk/frontdesk/agent"
)

// errNoCgo is what every entry point returns in a build without cgo.
var errNoCgo = errors.New("sphinx: built without cgo: embedded speech unavailable")

// ErrClosed is returned by an Engine or Recognizer used after Close.
var ErrClosed = errors.New("sphinx: closed")

// Engine is unusable in a build without cgo: New returns an error.
type Engine struct{}

var _ agent.STT = (*Engine)(nil)

// New fails: the engine needs cgo.
func New(Options) (*Engine, error) { return nil, errNoCgo }

// NewRecognizer fails: the engine needs cgo.
func (*Engine) NewRecognizer(context.Context, agent.Vocabulary) (agent.Recognizer, error) {
	return nil, errNoCgo
}

// Close does nothing.
func (*Engine) Close() error { return nil }
