package live

import (
	"encoding/binary"
	"fmt"

	"github.com/frontdesk/frontdesk/media"
)

// Audio encodings a listener can ask for.
const (
	EncodingPCM16 = "pcm16" // signed 16-bit little-endian, interleaved when stereo
	EncodingMulaw = "mulaw" // G.711 μ-law, mono 8 kHz only
)

// Format is the audio a listener receives.
type Format struct {
	Encoding string // EncodingPCM16 or EncodingMulaw
	Rate     int    // 8000 or 16000
	Channels int    // 1 (mix of caller and agent) or 2 (caller left, agent right)
}

// Validate reports a format the listen API does not offer.
func (f Format) Validate() error {
	switch {
	case f.Encoding != EncodingPCM16 && f.Encoding != EncodingMulaw:
		return fmt.Errorf("format %q: want pcm16 or mulaw", f.Encoding)
	case f.Rate != 8000 && f.Rate != 16000:
		return fmt.Errorf("rate %d: want 8000 or 16000", f.Rate)
	case f.Channels != 1 && f.Channels != 2:
		return fmt.Errorf("channels %d: want 1 or 2", f.Channels)
	case f.Encoding == EncodingMulaw && (f.Rate != 8000 || f.Channels != 1):
		return fmt.Errorf("mulaw is mono 8000 Hz only")
	}
	return nil
}

// Encoder turns frame pairs into one listener's Format. It keeps resampler
// state across frames and reuses its buffers. Not safe for concurrent use.
type Encoder struct {
	f              Format
	inRate         int
	rsCall, rsAgnt *media.Resampler
	caller, agent  []int16
	mix            []int16
}

// NewEncoder returns an encoder to f.
func NewEncoder(f Format) (*Encoder, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	return &Encoder{f: f}, nil
}

// Encode appends fr in the encoder's format to dst.
func (e *Encoder) Encode(dst []byte, fr *Frame) ([]byte, error) {
	caller, agent := fr.Caller, fr.Agent
	if fr.Rate != e.f.Rate {
		if fr.Rate != e.inRate || e.rsCall == nil {
			var err error
			if e.rsCall, err = media.NewResampler(fr.Rate, e.f.Rate); err != nil {
				return dst, fmt.Errorf("live: encode: %w", err)
			}
			if e.rsAgnt, err = media.NewResampler(fr.Rate, e.f.Rate); err != nil {
				return dst, fmt.Errorf("live: encode: %w", err)
			}
			e.inRate = fr.Rate
		}
		e.caller = e.rsCall.Process(e.caller[:0], caller)
		e.agent = e.rsAgnt.Process(e.agent[:0], agent)
		caller, agent = e.caller, e.agent
	}
	var pcm []int16
	if e.f.Channels == 2 {
		e.mix = media.Interleave(e.mix[:0], caller, agent)
	} else {
		e.mix = media.Mix(e.mix[:0], caller, agent)
	}
	pcm = e.mix
	if e.f.Encoding == EncodingMulaw {
		for _, s := range pcm {
			dst = append(dst, media.LinearToUlaw(s))
		}
		return dst, nil
	}
	for _, s := range pcm {
		dst = binary.LittleEndian.AppendUint16(dst, uint16(s))
	}
	return dst, nil
}
