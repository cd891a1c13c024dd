package twilio

import "errors"

// CONTRACT STUB: the helper owning the codec replaces this file with
// event.go (types + Decoder), encode.go (Append* functions), signature.go.

// EventType is the kind of a Media Streams message.
type EventType uint8

const (
	EventUnknown EventType = iota
	EventConnected
	EventStart
	EventMedia
	EventDTMF
	EventMark
	EventStop
	EventClear // server → Twilio only
)

// MediaFormat describes the audio of a stream.
type MediaFormat struct {
	Encoding   string
	SampleRate int
	Channels   int
}

// Start is the payload of a start event.
type Start struct {
	StreamSID        string
	AccountSID       string
	CallSID          string
	Tracks           []string
	CustomParameters map[string]string
	MediaFormat      MediaFormat
}

// Event is one decoded message. A Decoder reuses the Event's buffers: Payload
// is only valid until the next Decode into the same Event.
type Event struct {
	Type           EventType
	Name           string // the event name as sent, also for unknown events
	SequenceNumber int64  // 0 when absent (connected, and server → Twilio messages)
	StreamSID      string

	Protocol, Version string // connected

	Start Start // start

	Track     string // media, dtmf
	Chunk     int64  // media
	Timestamp int64  // media, milliseconds since the stream started
	Payload   []byte // media: decoded μ-law bytes (not base64)

	Digit string // dtmf
	Mark  string // mark name

	StopAccountSID, StopCallSID string // stop
}

// Decoder decodes events. Not safe for concurrent use; one per stream.
type Decoder struct{}

// Decode parses one text message into ev. It returns an error wrapping
// ErrMalformed for invalid JSON or a missing required field.
func (d *Decoder) Decode(data []byte, ev *Event) error { panic("unimplemented") }

// Server → Twilio messages.
func AppendMedia(dst []byte, streamSID string, ulaw []byte) []byte { panic("unimplemented") }
func AppendMark(dst []byte, streamSID, name string) []byte         { panic("unimplemented") }
func AppendClear(dst []byte, streamSID string) []byte              { panic("unimplemented") }

// Twilio → server messages (the simulator and tests speak these).
func AppendConnected(dst []byte) []byte                  { panic("unimplemented") }
func AppendStart(dst []byte, seq int64, s *Start) []byte { panic("unimplemented") }
func AppendInboundMedia(dst []byte, sid string, seq, chunk, tsMillis int64, ulaw []byte) []byte {
	panic("unimplemented")
}
func AppendDTMF(dst []byte, sid string, seq int64, digit string) []byte    { panic("unimplemented") }
func AppendMarkEcho(dst []byte, sid string, seq int64, name string) []byte { panic("unimplemented") }
func AppendStop(dst []byte, sid string, seq int64, accountSID, callSID string) []byte {
	panic("unimplemented")
}

// Validator checks X-Twilio-Signature. Safe for concurrent use.
type Validator struct{}

func NewValidator(authToken string) *Validator { panic("unimplemented") }

// Validate reports whether signature signs url and params (nil for a GET or
// a WebSocket upgrade). It accepts the URL with and without the default port.
func (v *Validator) Validate(url string, params map[string]string, signature string) bool {
	panic("unimplemented")
}

// Sign computes the signature Twilio would send; the simulator uses it.
func Sign(authToken, url string, params map[string]string) string { panic("unimplemented") }

// ErrMalformed is wrapped by Decode errors for messages that are not valid events.
var ErrMalformed = errors.New("twilio: malformed event")
