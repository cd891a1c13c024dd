// Package transcript records what was said on a call: turns with
// timestamps, speakers, confidence and barge-in cuts, plus the call's
// metadata. A Log appends turns as they finish to an encrypted,
// append-only JSON-lines file (package recording/crypt), flushed per record
// so that a crash keeps every finished turn; Open reads it back; a
// Transcript exports as JSON, plain text and WebVTT.
//
// Files live in one directory, named by call id: <id>.jsonl.enc. Ids pass
// recording.ValidID before they reach the file system.
package transcript

import (
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/frontdesk/frontdesk/recording"
)

// Speaker says who spoke a turn.
type Speaker string

// Speakers.
const (
	Caller Speaker = "caller"
	Agent  Speaker = "agent"
	// System is for what the platform said or did on the call: the
	// recording disclosure, a transfer, hold music.
	System Speaker = "system"
)

// Label returns the speaker's name as exports show it: "Caller";
// "Unknown" for a speaker that is none of the three.
func (s Speaker) Label() string {
	switch s {
	case Caller:
		return "Caller"
	case Agent:
		return "Agent"
	case System:
		return "System"
	}
	return "Unknown"
}

// MaxTextLen bounds a turn's text in bytes, so that every record fits in
// one encrypted chunk and a crash never tears one.
const MaxTextLen = 16 << 10

// Turn is one finished utterance. Times are milliseconds from the start
// of the call, on the same clock as the recording. A Turn is a value, safe
// for concurrent reads.
type Turn struct {
	Speaker Speaker `json:"speaker"`
	Text    string  `json:"text"`
	StartMS int64   `json:"start_ms"`
	EndMS   int64   `json:"end_ms"`
	// Interrupted marks an agent turn the caller barged in on; its Text
	// and EndMS are cut to what the caller heard (see Log.Cut).
	Interrupted bool `json:"interrupted"`
	// Confidence is the recogniser's confidence in [0, 1] for caller
	// turns; 1 for text the agent or system produced.
	Confidence float64 `json:"confidence"`
	// Latency is, for an agent turn that answered the caller, how long its
	// stages took; nil for other turns.
	Latency *Latency `json:"latency,omitempty"`
}

// Latency is the timing of an agent's reply in milliseconds from the end
// of the caller's speech (as the agent's voice activity detector saw it):
// the recogniser's final transcript, the dialogue's first text or tool
// call, the first synthesised audio, the first audio handed to the
// transport, and the first mark the transport echoed (the caller had heard
// the first sentence). A stage the turn never reached is left out (zero):
// key presses need no recogniser, a reply cut short may have had no mark
// back. A Latency is a value, safe for concurrent reads.
type Latency struct {
	STTFinalMS   int64 `json:"stt_final_ms,omitempty"`
	FirstTokenMS int64 `json:"first_token_ms,omitempty"`
	FirstAudioMS int64 `json:"first_audio_ms,omitempty"`
	FirstFrameMS int64 `json:"first_frame_ms,omitempty"`
	FirstMarkMS  int64 `json:"first_mark_ms,omitempty"`
}

// maxLatencyMS bounds each stage: a reply is cut off long before.
const maxLatencyMS = int64(time.Hour / time.Millisecond)

func (l *Latency) validate() error {
	for _, v := range []int64{l.STTFinalMS, l.FirstTokenMS, l.FirstAudioMS, l.FirstFrameMS, l.FirstMarkMS} {
		if v < 0 || v > maxLatencyMS {
			return fmt.Errorf("latency stage of %d ms, want 0..%d", v, maxLatencyMS)
		}
	}
	return nil
}

// Validate checks a turn before it is written.
func (t *Turn) Validate() error {
	switch {
	case t.Speaker != Caller && t.Speaker != Agent && t.Speaker != System:
		return fmt.Errorf("speaker %q, want caller, agent or system", t.Speaker)
	case t.StartMS < 0 || t.EndMS < t.StartMS:
		return fmt.Errorf("times %d..%d ms, want 0 <= start <= end", t.StartMS, t.EndMS)
	case math.IsNaN(t.Confidence) || t.Confidence < 0 || t.Confidence > 1:
		return fmt.Errorf("confidence %v, want 0..1", t.Confidence)
	case len(t.Text) > MaxTextLen:
		return fmt.Errorf("text of %d bytes, want at most %d", len(t.Text), MaxTextLen)
	case !utf8.ValidString(t.Text):
		return errors.New("text is not valid UTF-8")
	case t.Latency != nil && t.Speaker != Agent:
		return fmt.Errorf("latency on a %s turn, want agent turns only", t.Speaker)
	case t.Latency != nil:
		return t.Latency.validate()
	}
	return nil
}

// Meta describes the call a transcript belongs to. A Meta is a value,
// safe for concurrent reads.
type Meta struct {
	CallID     string `json:"call_id"`
	BusinessID string `json:"business_id"`
	// From and To are E.164 numbers ("+15551234567"), or empty when there
	// is none (a browser softphone, an anonymous caller).
	From      string    `json:"from,omitempty"`
	To        string    `json:"to,omitempty"`
	StartedAt time.Time `json:"started_at"`
	// EndedAt and Outcome are zero until the call ends; a call that a
	// crash cut short keeps them zero.
	EndedAt time.Time `json:"ended_at,omitzero"`
	Outcome string    `json:"outcome,omitempty"`
	// DisclosureGiven records that the caller was told the call is
	// recorded.
	DisclosureGiven bool `json:"disclosure_given"`
	// RecordingStoppedMS is when the recording stopped because the caller
	// opted out, in ms from the start of the call; nil if it never did.
	RecordingStoppedMS *int64 `json:"recording_stopped_ms,omitempty"`
}

// MaxOutcomeLen bounds Meta.Outcome.
const MaxOutcomeLen = 64

func (m *Meta) validate() error {
	if err := recording.ValidID(m.CallID); err != nil {
		return fmt.Errorf("call id: %w", err)
	}
	if err := recording.ValidID(m.BusinessID); err != nil {
		return fmt.Errorf("business id: %w", err)
	}
	for _, n := range []struct{ name, v string }{{"from", m.From}, {"to", m.To}} {
		if n.v != "" && !isE164(n.v) {
			return fmt.Errorf("%s %q is not an E.164 number", n.name, n.v)
		}
	}
	if m.StartedAt.IsZero() {
		return errors.New("no start time")
	}
	return checkOutcome(m.Outcome)
}

func checkOutcome(o string) error {
	if len(o) > MaxOutcomeLen || !utf8.ValidString(o) {
		return fmt.Errorf("outcome %q: want at most %d bytes of UTF-8", o, MaxOutcomeLen)
	}
	return nil
}

// isE164 reports whether s is "+" and 2 to 15 digits, the first not 0.
func isE164(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Transcript is a whole call: its metadata and its turns in the order
// they finished. It is a plain value: safe for concurrent reads, not for
// concurrent writes.
type Transcript struct {
	Meta
	Turns []Turn `json:"turns"`
}
