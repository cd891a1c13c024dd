// Package agent is the voice agent: turn-taking, endpointing and barge-in
// around three providers it declares here and never imports: speech to text
// (STT), the dialogue engine (LLM) and text to speech (TTS), plus voice
// activity detection (VAD). Implementations live in subpackages (agent/stt/…,
// agent/llm/…, agent/tts/…, agent/vad/…) and are chosen by the composition
// root.
package agent

import (
	"context"
	"encoding/json"
	"time"
)

// Rate is the pipeline's internal sample rate. Transports resample at the
// edges only.
const Rate = 16000

// ---- Speech to text ----

// Vocabulary is what the business's callers are likely to say: the embedded
// recogniser builds its language model and dictionary from it at start-up.
type Vocabulary struct {
	Phrases []string // whole sentences: FAQ phrasings, booking requests, …
	Words   []string // single words and names: services, staff, days, …
}

// Hint tells the recogniser what kind of answer the agent expects, so that
// a closed question can use a grammar instead of the free language model.
type Hint string

const (
	HintFree   Hint = ""       // anything
	HintYesNo  Hint = "yes_no" // yes, no, and their variants
	HintDigits Hint = "digits" // a phone number or other digits
	HintTime   Hint = "time"   // a day and/or a time of day
)

// Transcript is a recognition hypothesis.
type Transcript struct {
	Text string
	// Confidence in [0, 1]; results below the agent's threshold are
	// rejected and the caller is asked again.
	Confidence float64
	Final      bool
}

// STT makes one Recognizer per call. Implementations are safe for
// concurrent use.
type STT interface {
	NewRecognizer(ctx context.Context, vocab Vocabulary) (Recognizer, error)
}

// Recognizer recognises one caller's utterances, one at a time. It is used
// by one goroutine at a time.
type Recognizer interface {
	// Begin starts an utterance.
	Begin(hint Hint) error
	// Write feeds 16 kHz PCM16 audio of the current utterance and returns
	// the current partial hypothesis (Final false), possibly empty.
	Write(pcm []int16) (Transcript, error)
	// End finishes the utterance and returns the final hypothesis.
	End() (Transcript, error)
	Close() error
}

// ---- Dialogue ----

// Role of a Message in a conversation.
type Role string

const (
	RoleSystem    Role = "system"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool"
)

// Message is one entry of the conversation, in the shape chat-completion
// APIs use: assistant messages may carry tool calls; tool messages answer
// one call by ID.
type Message struct {
	Role       Role
	Content    string
	ToolCalls  []ToolCall // RoleAssistant
	ToolCallID string     // RoleTool
}

// ToolCall is the dialogue engine asking the agent to run a tool.
type ToolCall struct {
	ID        string
	Name      string
	Arguments json.RawMessage // a JSON object
}

// Tool describes a tool the dialogue engine may call.
type Tool struct {
	Name        string
	Description string
	Parameters  json.RawMessage // JSON Schema of the arguments object
}

// Request is one dialogue turn: the conversation so far and the tools.
type Request struct {
	Messages []Message
	Tools    []Tool
}

// Delta is a piece of the engine's streamed reply: text to speak, or a
// complete tool call.
type Delta struct {
	Text     string
	ToolCall *ToolCall
}

// LLM is the dialogue engine. Complete streams the reply to out as it is
// produced and returns when the reply is complete, ctx ends, or out
// returns an error. Implementations are safe for concurrent use.
type LLM interface {
	Complete(ctx context.Context, req Request, out func(Delta) error) error
}

// ---- Text to speech ----

// TTS synthesises speech. Implementations are safe for concurrent use.
type TTS interface {
	// Synthesize streams the audio of text to out, in chunks, at Rate()
	// Hz, as soon as each chunk is ready.
	Synthesize(ctx context.Context, text string, out func(pcm []int16) error) error
	// Rate is the sample rate of the audio Synthesize produces.
	Rate() int
}

// ---- Voice activity ----

// VAD tells speech from silence and noise, frame by frame. One per call;
// used by one goroutine at a time.
type VAD interface {
	// Speech reports whether a 20 ms frame at rate Hz holds speech.
	Speech(frame []int16, rate int) bool
}

// ---- Latency ----

// Latency is the timing of one agent turn, measured from the end of the
// caller's speech.
type Latency struct {
	STTFinal   time.Duration // final transcript ready
	FirstToken time.Duration // first dialogue text or tool call
	FirstAudio time.Duration // first synthesised audio
	FirstFrame time.Duration // first frame sent to the caller
	FirstMark  time.Duration // first mark echoed: the caller heard it
}
