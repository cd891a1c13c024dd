package chunk

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestSentences(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   \n\t ", nil},
		{"...", nil},
		{"Hello.", []string{"Hello."}},
		{"Hello there. How can I help?", []string{"Hello there.", "How can I help?"}},
		{"Really?! Yes.", []string{"Really?!", "Yes."}},
		{"Dr. Lee sees you at 3.30 on Monday. Bring your card.", []string{"Dr. Lee sees you at 3.30 on Monday.", "Bring your card."}},
		{"We open at 9 a.m. and close at 5 p.m. See you then.", []string{"We open at 9 a.m. and close at 5 p.m.", "See you then."}},
		{"Ask for J. Smith. She knows.", []string{"Ask for J. Smith.", "She knows."}},
		{"Call us at 5. Then wait.", []string{"Call us at 5.", "Then wait."}},
		{"He said \"stop.\" Then left.", []string{"He said \"stop.\"", "Then left."}},
		{"line one\nline two", []string{"line one", "line two"}},
		{"first; second", []string{"first;", "second"}},
		{"visit example.com today", []string{"visit example.com today"}},
		{"no trailing stop", []string{"no trailing stop"}},
	}
	for _, tt := range tests {
		if got := Sentences(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Sentences(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSentencesLong(t *testing.T) {
	long := strings.Repeat("and then we walked a little further, ", 20)
	got := Sentences(long)
	if len(got) < 3 {
		t.Fatalf("Sentences(long) gave %d pieces, want at least 3", len(got))
	}
	for _, s := range got {
		if len(s) > MaxSentence {
			t.Errorf("piece of %d bytes, want at most %d", len(s), MaxSentence)
		}
	}
	if j := strings.Join(got, " "); strings.Join(strings.Fields(j), " ") != strings.TrimSpace(strings.Join(strings.Fields(long), " ")) {
		t.Errorf("pieces lost text: %q", j)
	}
	// No spaces at all: cut on a rune boundary.
	for _, s := range Sentences(strings.Repeat("é", 300)) {
		if !strings.HasPrefix(s, "é") || len(s) > MaxSentence {
			t.Errorf("bad cut: %d bytes %q…", len(s), s[:4])
		}
	}
}

func TestEmit(t *testing.T) {
	pcm := make([]int16, 1000)
	var sizes []int
	err := Emit(context.Background(), pcm, 320, func(c []int16) error { sizes = append(sizes, len(c)); return nil })
	if err != nil || !reflect.DeepEqual(sizes, []int{320, 320, 320, 40}) {
		t.Fatalf("Emit = %v, sizes %v; want nil, [320 320 320 40]", err, sizes)
	}

	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err = Emit(ctx, pcm, 100, func([]int16) error { n++; cancel(); return nil })
	if !errors.Is(err, context.Canceled) || n != 1 {
		t.Fatalf("Emit after cancel = %v with %d chunks, want context.Canceled after 1", err, n)
	}

	boom := errors.New("boom")
	n = 0
	err = Emit(context.Background(), pcm, 100, func([]int16) error { n++; return boom })
	if !errors.Is(err, boom) || n != 1 {
		t.Fatalf("Emit with failing out = %v after %d chunks, want boom after 1", err, n)
	}
}
