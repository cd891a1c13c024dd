package agenttest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/agent"
	"github.com/frontdesk/frontdesk/media"
)

// Texts the TTS suite speaks.
const (
	ttsShort = "Thank you for calling. How can I help you today?"
	ttsLong  = "Thank you for calling. We are open from nine to five. " +
		"You can book a cleaning online. We take most insurance plans. " +
		"Parking is free behind the building. Please arrive ten minutes early. " +
		"Bring your insurance card. We will send a reminder the day before. " +
		"Cancellations need a day's notice. Is there anything else? Goodbye."
)

// TestTTS checks tts against the agent.TTS contract: a plausible constant
// Rate; audio for text and none (and no error) for empty text; audio in
// chunks, the first of a multi-sentence text before the whole text is
// synthesised; ctx cancellation before and during synthesis returns ctx's
// error promptly; out's error stops synthesis and is returned; concurrent
// calls work.
func TestTTS(t *testing.T, tts agent.TTS) {
	t.Helper()
	rate := tts.Rate()
	t.Run("Rate", func(t *testing.T) {
		if rate < 8000 || rate > 48000 {
			t.Fatalf("Rate() = %d, want within [8000, 48000]", rate)
		}
		if got := tts.Rate(); got != rate {
			t.Fatalf("Rate() changed from %d to %d", rate, got)
		}
	})
	t.Run("Speech", func(t *testing.T) {
		pcm, chunks, err := synth(context.Background(), tts, ttsShort)
		if err != nil {
			t.Fatalf("Synthesize(%q) = %v, want nil", ttsShort, err)
		}
		if d := media.Duration(rate, len(pcm)); d < 500*time.Millisecond || d > 15*time.Second {
			t.Fatalf("Synthesize(%q) gave %v of audio, want between 0.5 s and 15 s", ttsShort, d)
		}
		if lvl := media.DBFS(media.RMS(pcm)); lvl < -45 {
			t.Fatalf("audio level %.1f dBFS, want above -45 (not silence)", lvl)
		}
		for i, c := range chunks {
			if c == 0 {
				t.Fatalf("chunk %d is empty", i)
			}
		}
	})
	t.Run("Empty", func(t *testing.T) {
		for _, text := range []string{"", "   ", "\n\t"} {
			calls := 0
			err := tts.Synthesize(context.Background(), text, func([]int16) error { calls++; return nil })
			if err != nil || calls != 0 {
				t.Errorf("Synthesize(%q) = %v with %d chunks, want nil and none", text, err, calls)
			}
		}
	})
	t.Run("OutError", func(t *testing.T) {
		stop := errors.New("agenttest: consumer gone")
		calls := 0
		err := tts.Synthesize(context.Background(), ttsLong, func([]int16) error { calls++; return stop })
		if !errors.Is(err, stop) {
			t.Fatalf("Synthesize with failing out = %v, want an error wrapping %v", err, stop)
		}
		if calls != 1 {
			t.Fatalf("out called %d times after returning an error, want 1 call in all", calls)
		}
	})
	t.Run("CancelBefore", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		calls := 0
		err := tts.Synthesize(ctx, ttsShort, func([]int16) error { calls++; return nil })
		if !errors.Is(err, context.Canceled) || calls != 0 {
			t.Fatalf("Synthesize(cancelled ctx) = %v with %d chunks, want context.Canceled and none", err, calls)
		}
	})
	t.Run("CancelDuring", func(t *testing.T) {
		full, _, err := synth(context.Background(), tts, ttsLong)
		if err != nil {
			t.Fatalf("Synthesize(long) = %v", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var got, after int
		err = tts.Synthesize(ctx, ttsLong, func(pcm []int16) error {
			if ctx.Err() != nil {
				after++
			}
			got += len(pcm)
			cancel() // the caller barged in
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Synthesize cancelled during the first chunk = %v, want context.Canceled", err)
		}
		// "Promptly": a couple of chunks already in flight may still come,
		// not the rest of the text.
		if after > 2 {
			t.Errorf("%d chunks after cancellation, want at most 2", after)
		}
		if got >= len(full)/2 {
			t.Errorf("%d samples delivered before stopping, want well under the %d of the whole text", got, len(full))
		}
	})
	t.Run("Streaming", func(t *testing.T) {
		// The first chunk must not wait for the whole text. Timing is only
		// compared within one run (first chunk against the whole), and a
		// run disturbed by a busy machine gets two more chances.
		var ratios []float64
		for range 3 {
			start := time.Now()
			var first time.Duration
			chunks := 0
			err := tts.Synthesize(context.Background(), ttsLong, func([]int16) error {
				if chunks == 0 {
					first = time.Since(start)
				}
				chunks++
				return nil
			})
			total := time.Since(start)
			if err != nil {
				t.Fatalf("Synthesize(long) = %v", err)
			}
			if chunks < 2 {
				t.Fatalf("Synthesize(long) gave %d chunk(s), want audio in several chunks", chunks)
			}
			r := float64(first) / float64(total)
			if r < 0.5 {
				return
			}
			ratios = append(ratios, r)
		}
		t.Fatalf("first chunk came after %.0f%% of the synthesis time in every run (%.2f), want it before half of it", 100*ratios[0], ratios)
	})
	t.Run("Concurrent", func(t *testing.T) {
		texts := []string{"Good morning.", "We are open today.", "Please hold the line.", "Goodbye and thank you."}
		want := make([]int, len(texts))
		for i, text := range texts {
			pcm, _, err := synth(context.Background(), tts, text)
			if err != nil {
				t.Fatalf("Synthesize(%q) = %v", text, err)
			}
			want[i] = len(pcm)
		}
		var wg sync.WaitGroup
		got := make([]int, len(texts))
		errs := make([]error, len(texts))
		for rep := range 2 {
			for i, text := range texts {
				wg.Go(func() {
					pcm, _, err := synth(context.Background(), tts, text)
					if rep == 0 {
						got[i], errs[i] = len(pcm), err
					}
				})
			}
		}
		wg.Wait()
		for i := range texts {
			if errs[i] != nil {
				t.Errorf("concurrent Synthesize(%q) = %v", texts[i], errs[i])
			} else if got[i] < want[i]/2 || got[i] > want[i]*2 {
				t.Errorf("concurrent Synthesize(%q) gave %d samples, alone %d", texts[i], got[i], want[i])
			}
		}
	})
}

// synth collects the whole audio of text and the chunk sizes.
func synth(ctx context.Context, tts agent.TTS, text string) (pcm []int16, chunks []int, err error) {
	err = tts.Synthesize(ctx, text, func(c []int16) error {
		pcm = append(pcm, c...)
		chunks = append(chunks, len(c))
		return nil
	})
	return pcm, chunks, err
}
