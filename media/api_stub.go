package media

// CONTRACT STUB: the helper owning media/ replaces this file with real code
// spread over g711.go, resample.go, wav.go, frame.go, signal.go.

import (
	"io"
	"time"
)

// FrameDuration is the length of one frame on every transport we speak.
const FrameDuration = 20 * time.Millisecond

// SamplesPerFrame returns the number of samples in one 20 ms frame at rate Hz.
func SamplesPerFrame(rate int) int { return rate / 50 }

// DecodeUlaw decodes len(src) μ-law bytes into dst and returns the count.
// dst must hold len(src) samples.
func DecodeUlaw(dst []int16, src []byte) int { panic("unimplemented") }

// EncodeUlaw encodes len(src) samples into dst and returns the count.
func EncodeUlaw(dst []byte, src []int16) int { panic("unimplemented") }

// DecodeAlaw decodes len(src) A-law bytes into dst and returns the count.
func DecodeAlaw(dst []int16, src []byte) int { panic("unimplemented") }

// EncodeAlaw encodes len(src) samples into dst and returns the count.
func EncodeAlaw(dst []byte, src []int16) int { panic("unimplemented") }

// Resampler converts a mono PCM16 stream from one rate to another with a
// polyphase FIR. It keeps state between calls; not safe for concurrent use.
type Resampler struct{}

// NewResampler returns a resampler from inRate to outRate (8000, 16000, 24000,
// 48000, and any pair with a reasonable ratio).
func NewResampler(inRate, outRate int) (*Resampler, error) { panic("unimplemented") }

// Process appends the resampled src to dst and returns the extended slice.
func (r *Resampler) Process(dst, src []int16) []int16 { panic("unimplemented") }

// Audio is PCM16 audio, interleaved when Channels > 1.
type Audio struct {
	Rate     int
	Channels int
	Samples  []int16
}

// ReadWAV reads a RIFF/WAVE file of PCM16 (or 8-bit, μ-law, A-law) audio.
func ReadWAV(r io.Reader) (*Audio, error) { panic("unimplemented") }

// WriteWAV writes a as a PCM16 WAV file.
func WriteWAV(w io.Writer, a *Audio) error { panic("unimplemented") }

// RMS returns the root mean square of pcm in the range [0, 32768].
func RMS(pcm []int16) float64 { panic("unimplemented") }
