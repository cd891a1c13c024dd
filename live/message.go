package live

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// Kind is the first byte of a Message's wire form.
type Kind byte

// Message kinds.
const (
	KindAudio Kind = 1 // an aligned frame pair: caller and agent at Rate
	KindEvent Kind = 2 // one event's JSON, seq and t already assigned
	KindInfo  Kind = 3 // the call's Info (at start and on every change)
	KindEnd   Kind = 4 // the call ended with Outcome
)

// maxFrameSamples bounds a decoded frame: 20 ms at 48 kHz.
const maxFrameSamples = 960

// ErrMessage is wrapped by UnmarshalBinary's errors.
var ErrMessage = errors.New("live: bad message")

// Message is one item of a call's stream in a form that crosses processes:
// a relay ships MarshalBinary's bytes (for example over Redis pub/sub) and
// the other side feeds them to Inject.
//
// Wire form: byte 0 is the Kind. Audio: rate (uint32 big-endian), n (uint16
// big-endian), n caller then n agent samples (int16 little-endian). Event:
// the event JSON. Info: the Info JSON. End: the outcome (UTF-8).
type Message struct {
	Kind    Kind
	Rate    int
	Caller  []int16
	Agent   []int16 // same length as Caller; shorter is padded with silence
	Event   []byte  // KindEvent: JSON
	Info    Info    // KindInfo
	Outcome string  // KindEnd
}

// MarshalBinary returns the wire form of m.
func (m *Message) MarshalBinary() ([]byte, error) { return m.AppendBinary(nil) }

// AppendBinary appends the wire form of m to b; it allocates only when b
// lacks capacity (and for KindInfo, whose JSON it builds).
func (m *Message) AppendBinary(b []byte) ([]byte, error) {
	switch m.Kind {
	case KindAudio:
		n := len(m.Caller)
		if n > maxFrameSamples || len(m.Agent) > n {
			return b, fmt.Errorf("live: encode audio: %d caller and %d agent samples (max %d, agent ≤ caller)", n, len(m.Agent), maxFrameSamples)
		}
		b = append(b, byte(KindAudio))
		b = binary.BigEndian.AppendUint32(b, uint32(m.Rate))
		b = binary.BigEndian.AppendUint16(b, uint16(n))
		for _, s := range m.Caller {
			b = binary.LittleEndian.AppendUint16(b, uint16(s))
		}
		for i := range n {
			var s int16
			if i < len(m.Agent) {
				s = m.Agent[i]
			}
			b = binary.LittleEndian.AppendUint16(b, uint16(s))
		}
		return b, nil
	case KindEvent:
		return append(append(b, byte(KindEvent)), m.Event...), nil
	case KindInfo:
		j, err := json.Marshal(m.Info)
		if err != nil {
			return b, fmt.Errorf("live: encode info: %w", err)
		}
		return append(append(b, byte(KindInfo)), j...), nil
	case KindEnd:
		return append(append(b, byte(KindEnd)), m.Outcome...), nil
	}
	return b, fmt.Errorf("live: encode message: unknown kind %d", m.Kind)
}

// UnmarshalBinary decodes a wire form into m, reusing m's sample buffers.
// Event bytes are copied. Malformed input gives an error wrapping ErrMessage.
func (m *Message) UnmarshalBinary(b []byte) error {
	if len(b) == 0 {
		return fmt.Errorf("%w: empty", ErrMessage)
	}
	k := Kind(b[0])
	b = b[1:]
	switch k {
	case KindAudio:
		if len(b) < 6 {
			return fmt.Errorf("%w: audio header of %d bytes", ErrMessage, len(b))
		}
		rate := binary.BigEndian.Uint32(b)
		n := int(binary.BigEndian.Uint16(b[4:]))
		b = b[6:]
		if rate == 0 || rate > 384000 || n > maxFrameSamples {
			return fmt.Errorf("%w: audio of %d samples at %d Hz", ErrMessage, n, rate)
		}
		if len(b) != 4*n {
			return fmt.Errorf("%w: audio of %d samples in %d bytes", ErrMessage, n, len(b))
		}
		m.Kind, m.Rate = k, int(rate)
		m.Caller = decodeSamples(m.Caller[:0], b[:2*n])
		m.Agent = decodeSamples(m.Agent[:0], b[2*n:])
		return nil
	case KindEvent:
		if !json.Valid(b) || len(b) == 0 || b[0] != '{' {
			return fmt.Errorf("%w: event is not a JSON object", ErrMessage)
		}
		m.Kind = k
		m.Event = append(m.Event[:0], b...)
		return nil
	case KindInfo:
		var info Info
		if err := json.Unmarshal(b, &info); err != nil {
			return fmt.Errorf("%w: info: %w", ErrMessage, err)
		}
		m.Kind, m.Info = k, info
		return nil
	case KindEnd:
		m.Kind, m.Outcome = k, string(b)
		return nil
	}
	return fmt.Errorf("%w: unknown kind %d", ErrMessage, k)
}

func decodeSamples(dst []int16, b []byte) []int16 {
	for i := 0; i+1 < len(b); i += 2 {
		dst = append(dst, int16(binary.LittleEndian.Uint16(b[i:])))
	}
	return dst
}
