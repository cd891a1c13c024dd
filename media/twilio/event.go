package twilio

import (
	"errors"
	"strconv"
)

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

// eventNames holds the wire name of each EventType; the index is the type.
var eventNames = [...]string{
	EventUnknown:   "unknown",
	EventConnected: "connected",
	EventStart:     "start",
	EventMedia:     "media",
	EventDTMF:      "dtmf",
	EventMark:      "mark",
	EventStop:      "stop",
	EventClear:     "clear",
}

// String returns the event name as it appears on the wire ("media", "mark",
// …), "unknown" for EventUnknown.
func (t EventType) String() string {
	if int(t) < len(eventNames) {
		return eventNames[t]
	}
	return "EventType(" + strconv.Itoa(int(t)) + ")"
}

// eventType maps a wire name to its EventType. It takes a string so that
// eventType(string(b)) does not allocate.
func eventType(name string) EventType {
	switch name {
	case "connected":
		return EventConnected
	case "start":
		return EventStart
	case "media":
		return EventMedia
	case "dtmf":
		return EventDTMF
	case "mark":
		return EventMark
	case "stop":
		return EventStop
	case "clear":
		return EventClear
	}
	return EventUnknown
}

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
//
// Decode allocates a fresh Start.Tracks and Start.CustomParameters for every
// start event, so a caller may keep ev.Start after the next Decode.
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

// ErrMalformed is wrapped by Decode errors for messages that are not valid events.
var ErrMalformed = errors.New("twilio: malformed event")

// decodeError says what is wrong with a message. It wraps ErrMalformed and,
// when there is one, the underlying cause (a *json.SyntaxError, a
// base64.CorruptInputError), so callers can test for either with errors.Is
// or errors.As.
type decodeError struct {
	event string // event name, "" when not known yet
	what  string
	cause error
}

func (e *decodeError) Error() string {
	msg := "twilio: decode event: malformed: " + e.what
	if e.event != "" {
		msg = "twilio: decode " + e.event + " event: malformed: " + e.what
	}
	if e.cause != nil {
		msg += ": " + e.cause.Error()
	}
	return msg
}

func (e *decodeError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrMalformed}
	}
	return []error{ErrMalformed, e.cause}
}

func malformed(event, what string, cause error) error {
	return &decodeError{event: event, what: what, cause: cause}
}
