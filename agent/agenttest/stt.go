package agenttest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/frontdesk/frontdesk/agent"
)

// sttVocab is a small vocabulary for the STT suite.
var sttVocab = agent.Vocabulary{
	Phrases: []string{"What are your opening hours?", "I would like to book a cleaning."},
	Words:   []string{"cleaning", "checkup"},
}

// TestSTT checks stt against the agent.STT contract: NewRecognizer
// honours a cancelled context; an utterance without audio ends with empty
// text; Begin/Write/End cycles repeat on one recognizer with every hint,
// partials not final and finals final, confidences in [0, 1]; odd write
// sizes, loud noise and silence are accepted; Close is idempotent and
// later calls fail instead of crashing; recognizers work concurrently.
//
// The suite has no speech to offer (it would need a synthesiser); a
// provider's own tests check what it recognises.
func TestSTT(t *testing.T, stt agent.STT) {
	t.Helper()
	ctx := context.Background()
	newRec := func(t *testing.T) agent.Recognizer {
		t.Helper()
		r, err := stt.NewRecognizer(ctx, sttVocab)
		if err != nil {
			t.Fatalf("NewRecognizer = %v", err)
		}
		if r == nil {
			t.Fatal("NewRecognizer returned a nil Recognizer and no error")
		}
		t.Cleanup(func() { r.Close() })
		return r
	}
	t.Run("CancelledContext", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		r, err := stt.NewRecognizer(cctx, sttVocab)
		if err == nil {
			r.Close()
			t.Fatal("NewRecognizer(cancelled ctx) = nil error, want one")
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("NewRecognizer(cancelled ctx) = %v, want an error wrapping context.Canceled", err)
		}
	})
	t.Run("EmptyVocabulary", func(t *testing.T) {
		r, err := stt.NewRecognizer(ctx, agent.Vocabulary{})
		if err != nil {
			t.Fatalf("NewRecognizer(empty vocabulary) = %v, want a recognizer for the default domain", err)
		}
		defer r.Close()
		if _, err := cycle(r, agent.HintFree, silence(8000)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("NoAudio", func(t *testing.T) {
		r := newRec(t)
		for i := range 2 {
			if err := r.Begin(agent.HintFree); err != nil {
				t.Fatalf("Begin = %v", err)
			}
			tr, err := r.End()
			if err != nil {
				t.Fatalf("End without audio = %v, want nil", err)
			}
			if tr.Text != "" || !tr.Final {
				t.Errorf("End without audio (round %d) = %+v, want empty final text", i, tr)
			}
		}
	})
	t.Run("Cycles", func(t *testing.T) {
		r := newRec(t)
		hints := []agent.Hint{agent.HintFree, agent.HintYesNo, agent.HintDigits, agent.HintTime, agent.HintFree, agent.HintYesNo}
		for i, h := range hints {
			audio := silence(16000 / 2)
			if i%2 == 1 {
				audio = whiteNoise(16000/2, 300, uint64(i)) // quiet room noise
			}
			if _, err := cycle(r, h, audio); err != nil {
				t.Fatalf("cycle %d (hint %q): %v", i, h, err)
			}
		}
	})
	t.Run("WriteSizes", func(t *testing.T) {
		r := newRec(t)
		if err := r.Begin(agent.HintFree); err != nil {
			t.Fatal(err)
		}
		noise := whiteNoise(16000, 3000, 1)
		for _, n := range []int{0, 1, 7, 160, 320, 3333} {
			tr, err := r.Write(noise[:n])
			if err != nil {
				t.Fatalf("Write(%d samples) = %v", n, err)
			}
			if tr.Final {
				t.Fatalf("Write returned a final transcript %+v", tr)
			}
		}
		if _, err := r.Write(nil); err != nil {
			t.Fatalf("Write(nil) = %v", err)
		}
		tr, err := r.End()
		if err != nil {
			t.Fatalf("End = %v", err)
		}
		if err := checkFinal(tr); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("LoudNoise", func(t *testing.T) {
		r := newRec(t)
		loud := whiteNoise(2*16000, 12000, 2)
		for i := range loud {
			if i%50 == 0 {
				loud[i] = 32767 // clipping
			}
		}
		tr, err := cycle(r, agent.HintFree, loud)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("loud noise → %q (confidence %.2f)", tr.Text, tr.Confidence)
	})
	t.Run("Close", func(t *testing.T) {
		r, err := stt.NewRecognizer(ctx, sttVocab)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Begin(agent.HintFree); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Write(silence(320)); err != nil {
			t.Fatal(err)
		}
		// Closing mid-utterance is how a hang-up ends a recognizer.
		if err := r.Close(); err != nil {
			t.Fatalf("Close = %v", err)
		}
		if err := r.Close(); err != nil {
			t.Fatalf("second Close = %v, want nil", err)
		}
		if err := r.Begin(agent.HintFree); err == nil {
			t.Error("Begin after Close = nil error, want one")
		}
		if _, err := r.Write(silence(320)); err == nil {
			t.Error("Write after Close = nil error, want one")
		}
		if _, err := r.End(); err == nil {
			t.Error("End after Close = nil error, want one")
		}
	})
	t.Run("ConcurrentClose", func(t *testing.T) {
		r, err := stt.NewRecognizer(ctx, sttVocab)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() { r.Close() })
		}
		wg.Wait()
	})
	t.Run("Concurrent", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for i := range 4 {
			wg.Go(func() {
				r, err := stt.NewRecognizer(ctx, sttVocab)
				if err != nil {
					errs <- err
					return
				}
				defer r.Close()
				for j := range 2 {
					if _, err := cycle(r, agent.HintFree, whiteNoise(16000/2, 500, uint64(10*i+j))); err != nil {
						errs <- fmt.Errorf("recognizer %d cycle %d: %w", i, j, err)
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

// cycle runs one utterance of audio through r in 20 ms writes and checks
// what comes back.
func cycle(r agent.Recognizer, hint agent.Hint, audio []int16) (agent.Transcript, error) {
	if err := r.Begin(hint); err != nil {
		return agent.Transcript{}, fmt.Errorf("Begin(%q) = %w", hint, err)
	}
	for len(audio) > 0 {
		n := min(320, len(audio))
		tr, err := r.Write(audio[:n])
		if err != nil {
			return agent.Transcript{}, fmt.Errorf("Write = %w", err)
		}
		if tr.Final {
			return agent.Transcript{}, fmt.Errorf("Write returned a final transcript %+v, want partials only", tr)
		}
		audio = audio[n:]
	}
	tr, err := r.End()
	if err != nil {
		return agent.Transcript{}, fmt.Errorf("End = %w", err)
	}
	return tr, checkFinal(tr)
}

func checkFinal(tr agent.Transcript) error {
	if !tr.Final {
		return fmt.Errorf("End returned %+v with Final false", tr)
	}
	if !(tr.Confidence >= 0 && tr.Confidence <= 1) {
		return fmt.Errorf("End returned confidence %v, want within [0, 1]", tr.Confidence)
	}
	return nil
}
