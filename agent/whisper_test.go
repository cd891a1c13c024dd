package agent

import (
	"fmt"
	"testing"
)

func TestWhispersAfterThePrompt(t *testing.T) {
	s := &Session{}
	msgs := []Message{{Role: RoleSystem, Content: "prompt"}, {Role: RoleAssistant, Content: "hi"}, {Role: RoleUser, Content: "hours?"}}
	if got := s.whisper.with(msgs); len(got) != 3 {
		t.Errorf("no whispers: %d messages, want 3", len(got))
	}
	s.Whisper("offer the discount")
	s.Whisper("be brief")
	got := s.whisper.with(msgs)
	var roles []string
	for _, m := range got {
		roles = append(roles, string(m.Role))
	}
	if fmt.Sprint(roles) != "[system system system assistant user]" || got[4].Content != "hours?" {
		t.Errorf("roles %v: want the whispers after the prompt and the caller's turn last", roles)
	}
	if got[1].Content == got[2].Content || msgs[1].Content != "hi" {
		t.Errorf("whispers %q %q; the input was changed: %v", got[1].Content, got[2].Content, msgs)
	}
}
