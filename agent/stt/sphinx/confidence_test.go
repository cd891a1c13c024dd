//go:build cgo

package sphinx

import (
	"context"
	"testing"

	"github.com/frontdesk/frontdesk/agent"
)

// unseenOffTopic were not used to fit the confidence weights.
var unseenOffTopic = []string{
	"the museum has a new exhibition about ancient egypt",
	"my brother plays the guitar in a rock band",
	"it rained so much that the river flooded the village",
	"the cat is sleeping on the warm windowsill",
	"we need to buy more flour and sugar for the cake",
	"the astronauts returned safely from the space station",
	"this novel has a surprising ending",
	"the garden hose has a leak near the tap",
}

// TestConfidence checks that the confidence separates in-domain speech
// from off-topic speech for a voice the weights were not fitted on (awb),
// with the language model and with grammars.
func TestConfidence(t *testing.T) {
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	vocab := dentalVocab()
	vocab.Phrases = append(vocab.Phrases, utterances(t)...)
	r, err := e.NewRecognizer(context.Background(), vocab)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	const voice = "awb"
	type set struct {
		hint agent.Hint
		in   []string
	}
	sets := []set{
		{agent.HintFree, utterances(t)[:12]},
		{agent.HintYesNo, []string{"yes", "no", "yes please", "no thank you", "that's right", "not really"}},
		{agent.HintDigits, []string{"five five five zero one two three", "my number is four one five two two three eight nine nine zero", "double five one two", "nine eight seven six"}},
	}
	for _, s := range sets {
		var inAcc, inN, offAcc, offN int
		for _, text := range s.in {
			tr := recognise(t, r, s.hint, speak(t, voice, text))
			if tr.Confidence < 0 || tr.Confidence > 1 {
				t.Fatalf("confidence %v out of [0, 1]", tr.Confidence)
			}
			// Count results that are mostly right: a confidence measure
			// cannot be blamed for a word the decoder got wrong.
			if e, n := wordErrors(text, tr.Text); 4*e > n {
				t.Logf("%-6s in  %.2f %q → %q (skipped: %d errors)", s.hint, tr.Confidence, text, tr.Text, e)
				continue
			}
			t.Logf("%-6s in  %.2f %q → %q", s.hint, tr.Confidence, text, tr.Text)
			inN++
			if tr.Confidence >= DefaultThreshold {
				inAcc++
			}
		}
		for _, text := range unseenOffTopic[:6] {
			tr := recognise(t, r, s.hint, speak(t, voice, text))
			t.Logf("%-6s off %.2f %q → %q", s.hint, tr.Confidence, text, tr.Text)
			offN++
			if tr.Confidence >= DefaultThreshold {
				offAcc++
			}
		}
		t.Logf("hint %q: accepted %d/%d in-domain results, %d/%d off-topic", s.hint, inAcc, inN, offAcc, offN)
		if inN == 0 || float64(inAcc) < 0.7*float64(inN) {
			t.Errorf("hint %q: accepted %d/%d in-domain results, want at least 70%%", s.hint, inAcc, inN)
		}
		if float64(offAcc) > 0.25*float64(offN) {
			t.Errorf("hint %q: accepted %d/%d off-topic sentences, want at most 25%%", s.hint, offAcc, offN)
		}
	}
}
