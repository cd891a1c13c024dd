//go:build !cgo

package webrtc

import "errors"

// OpusEncoderAvailable tells whether this build can encode Opus (it needs
// cgo and libopus).
const OpusEncoderAvailable = false

// ErrNoOpusEncoder is returned by NewOpusEncoder in a build without cgo.
var ErrNoOpusEncoder = errors.New("webrtc: Opus encoding needs cgo and libopus")

// OpusEncoder encodes Opus; without cgo it cannot be made.
type OpusEncoder struct{}

// NewOpusEncoder fails without cgo.
func NewOpusEncoder(rate int) (*OpusEncoder, error) { return nil, ErrNoOpusEncoder }

// Encode is never reached without cgo.
func (e *OpusEncoder) Encode(dst []byte, pcm []int16) (int, error) { return 0, ErrNoOpusEncoder }

// Close does nothing.
func (e *OpusEncoder) Close() {}
