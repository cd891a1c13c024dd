package live

import (
	"bytes"
	"encoding/json"
	"time"
)

// Event types, as they appear in the "type" field of an event's JSON.
const (
	EventPartial   = "transcript.partial"
	EventFinal     = "transcript.final"
	EventState     = "agent.state"
	EventToolCall  = "tool.call"
	EventBargeIn   = "barge_in"
	EventWhisper   = "whisper"
	EventTransfer  = "transfer"
	EventDTMF      = "dtmf"
	EventDropped   = "dropped"
	EventCallEnded = "call.ended"
)

// Agent states in Info.State and agent.state events.
const (
	StateListening = "listening"
	StateThinking  = "thinking"
	StateSpeaking  = "speaking"
)

// Info describes a live call; its JSON is CallInfo in docs/supervisors.md.
type Info struct {
	ID        string    `json:"id"`
	Business  string    `json:"business"`
	Transport string    `json:"transport"`
	From      string    `json:"from,omitempty"`
	StartedAt time.Time `json:"started_at"`
	State     string    `json:"state,omitempty"`
	Node      string    `json:"node,omitempty"`
	// Rate is the sample rate in Hz of the call's audio frames (default 8000).
	Rate int `json:"rate,omitempty"`
}

// Event is one thing that happened in a call. The hub assigns Seq (per call,
// from 1) and T (milliseconds since the call started) when it is published;
// fields that do not apply to the type stay empty.
type Event struct {
	Type        string          `json:"type"`
	Seq         int64           `json:"seq"`
	T           int64           `json:"t"`
	Speaker     string          `json:"speaker,omitempty"`
	Text        string          `json:"text,omitempty"`
	Interrupted *bool           `json:"interrupted,omitempty"`
	State       string          `json:"state,omitempty"`
	Name        string          `json:"name,omitempty"`
	Args        json.RawMessage `json:"args,omitempty"`
	Result      json.RawMessage `json:"result,omitempty"`
	To          string          `json:"to,omitempty"`
	Digits      string          `json:"digits,omitempty"`
	Outcome     string          `json:"outcome,omitempty"`
	Frames      uint64          `json:"frames,omitempty"`
	Events      uint64          `json:"events,omitempty"`
	Replay      bool            `json:"replay,omitempty"`
}

// Bool returns a pointer to v, for Event.Interrupted.
func Bool(v bool) *bool { return &v }

// replayed returns the event JSON raw (an object) with "replay":true added,
// as a late joiner receives history.
func replayed(raw []byte) []byte {
	if len(raw) < 2 || raw[len(raw)-1] != '}' || bytes.HasSuffix(raw, replaySuffix) {
		return raw // not an object, or already marked (relayed history)
	}
	out := make([]byte, 0, len(raw)+len(`,"replay":true`))
	out = append(out, raw[:len(raw)-1]...)
	return append(out, replaySuffix...)
}

var replaySuffix = []byte(`,"replay":true}`)
