package fallback

import (
	"context"
	"errors"
	"fmt"

	"github.com/frontdesk/frontdesk/agent"
	"github.com/frontdesk/frontdesk/media"
)

// TTS is an agent.TTS that falls back from a primary to a secondary
// synthesiser, sentence by sentence (see the package doc). Its Rate is the
// primary's; the secondary's audio is resampled to it. It is safe for
// concurrent use if both synthesisers are.
type TTS struct {
	primary, secondary agent.TTS
	rate               int
	b                  base
}

var _ agent.TTS = (*TTS)(nil)

// NewTTS returns a TTS over primary and secondary. It fails if the
// secondary's rate cannot be resampled to the primary's.
func NewTTS(primary, secondary agent.TTS, opts Options) (*TTS, error) {
	rate := primary.Rate()
	if _, err := media.NewResampler(secondary.Rate(), rate); err != nil {
		return nil, fmt.Errorf("fallback: tts: %w", err)
	}
	return &TTS{primary: primary, secondary: secondary, rate: rate, b: newBase(KindTTS, opts)}, nil
}

// Rate returns the primary's sample rate.
func (t *TTS) Rate() int { return t.rate }

// Stats returns the counts so far.
func (t *TTS) Stats() Stats { return t.b.stats() }

// Synthesize implements agent.TTS.
func (t *TTS) Synthesize(ctx context.Context, text string, out func(pcm []int16) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t.b.requests.Add(1)
	if t.b.cooling() {
		t.b.fellBack(ReasonCooldown, false, nil)
		return t.second(ctx, text, out)
	}
	var g gate
	pctx, done := g.open(ctx, t.b.opts.Budget)
	err := t.primary.Synthesize(pctx, text, func(pcm []int16) error {
		if !g.pass() {
			return errAbandoned
		}
		return g.failed(out(pcm))
	})
	done()
	started, abandoned, outErr := g.state()
	switch {
	case outErr != nil:
		if !errors.Is(err, outErr) {
			err = outErr
		}
		return err
	case ctx.Err() != nil:
		return ctx.Err()
	case err == nil && !abandoned:
		return nil
	}
	if abandoned {
		err = fmt.Errorf("%w (%v)", errBudget, err)
	}
	t.b.fellBack(reason(err), started, err)
	if serr := t.second(ctx, text, out); serr != nil {
		return fmt.Errorf("fallback: secondary after %v: %w", err, serr)
	}
	return nil
}

// second speaks text with the secondary at the primary's rate.
func (t *TTS) second(ctx context.Context, text string, out func([]int16) error) error {
	rs, err := media.NewResampler(t.secondary.Rate(), t.rate)
	if err != nil {
		return fmt.Errorf("fallback: tts: %w", err)
	}
	return t.secondary.Synthesize(ctx, text, func(pcm []int16) error {
		if rs.InRate() == rs.OutRate() {
			return out(pcm)
		}
		res := rs.Process(nil, pcm)
		if len(res) == 0 {
			return nil
		}
		return out(res)
	})
}
