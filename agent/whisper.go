package agent

import (
	"slices"
	"sync"
)

// whispers are a supervisor's instructions for the rest of the call. Safe
// for concurrent use: Whisper comes from an HTTP handler while replies read
// them from their goroutines.
type whispers struct {
	mu   sync.Mutex
	msgs []Message // guarded by mu
}

// Whisper adds a supervisor's instruction to the agent's context for the
// rest of the call: every later request to the dialogue engine carries it
// as a system message, which the caller never hears. The embedded rules
// engine ignores system messages; an LLM provider sees them. Safe to call
// concurrently with Run.
func (s *Session) Whisper(text string) {
	s.whisper.mu.Lock()
	defer s.whisper.mu.Unlock()
	s.whisper.msgs = append(s.whisper.msgs, Message{Role: RoleSystem, Content: "Instruction from a supervisor (the caller cannot hear this): " + text})
}

// with returns msgs with the whispers placed after the leading system
// messages: not at the end, where dialogue engines expect the turn to
// answer. msgs is not modified.
func (w *whispers) with(msgs []Message) []Message {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.msgs) == 0 {
		return msgs
	}
	i := 0
	for i < len(msgs) && msgs[i].Role == RoleSystem {
		i++
	}
	return slices.Concat(msgs[:i:i], w.msgs, msgs[i:])
}
