package transcript

import "testing"

func TestCutText(t *testing.T) {
	const two = "We open at nine. We close at five on weekdays."
	tests := []struct {
		name string
		text string
		frac float64
		want string
	}{
		{"nothing heard", two, 0, ""},
		{"half a word", two, 0.03, ""},
		{"two words", two, 0.2, "We open"},
		{"just short of the sentence end", two, 0.33, "We open at nine."},
		{"at the sentence end", two, 16.0 / 46, "We open at nine."},
		{"into the second sentence", two, 0.5, "We open at nine."},
		{"near the end", two, 0.96, "We open at nine. We close at five on weekdays."},
		{"all of it", two, 1, two},
		{"no sentence end: words", "Let me check the calendar for you", 0.5, "Let me check the"},
		{"question and exclamation", "Is that right? Great! Booked.", 0.5, "Is that right?"},
		{"ellipsis", "Hmm… let me see", 0.3, "Hmm…"},
		{"a dot inside a word is no sentence end", "Visit frontdesk.example now please", 0.7, "Visit frontdesk.example"},
		{"multibyte runes", "Grüße aus Köln. Tschüss!", 0.7, "Grüße aus Köln."},
		{"empty", "", 0.5, ""},
		{"spaces", "   ", 0.5, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cutText(tt.text, tt.frac); got != tt.want {
				t.Errorf("cutText(%q, %v) = %q, want %q", tt.text, tt.frac, got, tt.want)
			}
		})
	}
}

func TestCutTurn(t *testing.T) {
	turn := Turn{Speaker: Agent, Text: "One two three four.", StartMS: 1000, EndMS: 3000, Confidence: 1}
	tests := []struct {
		at       int64
		wantText string
		wantEnd  int64
	}{
		{500, "", 1000},
		{1000, "", 1000},
		{2000, "One two", 2000},
		{2990, "One two three four.", 2990},
	}
	for _, tt := range tests {
		got := cutTurn(turn, tt.at)
		if got.Text != tt.wantText || got.EndMS != tt.wantEnd || !got.Interrupted || got.StartMS != 1000 {
			t.Errorf("cut at %d = %+v, want text %q, end %d, interrupted", tt.at, got, tt.wantText, tt.wantEnd)
		}
	}
	zero := Turn{Speaker: Agent, Text: "Hello there.", StartMS: 5, EndMS: 5}
	if got := cutTurn(zero, 4); got.Text != "" || got.EndMS != 5 {
		t.Errorf("cut of a zero-length turn = %+v, want empty at 5", got)
	}
}
