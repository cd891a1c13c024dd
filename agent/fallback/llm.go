package fallback

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/frontdesk/frontdesk/agent"
)

// LLM is an agent.LLM that falls back from a primary to a secondary
// engine (see the package doc). It is safe for concurrent use if both
// engines are.
type LLM struct {
	primary, secondary agent.LLM
	b                  base
}

var _ agent.LLM = (*LLM)(nil)

// NewLLM returns an LLM over primary and secondary.
func NewLLM(primary, secondary agent.LLM, opts Options) *LLM {
	return &LLM{primary: primary, secondary: secondary, b: newBase(KindLLM, opts)}
}

// Stats returns the counts so far.
func (l *LLM) Stats() Stats { return l.b.stats() }

var errAbandoned = errors.New("fallback: primary abandoned after its time budget")

// Complete implements agent.LLM.
func (l *LLM) Complete(ctx context.Context, req agent.Request, out func(agent.Delta) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.b.requests.Add(1)
	if l.b.cooling() {
		l.b.fellBack(ReasonCooldown, false, nil)
		return l.secondary.Complete(ctx, req, out)
	}
	var g gate
	var said strings.Builder
	pctx, done := g.open(ctx, l.b.opts.Budget)
	err := l.primary.Complete(pctx, req, func(d agent.Delta) error {
		if !g.pass() {
			return errAbandoned
		}
		said.WriteString(d.Text)
		return g.failed(out(d))
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
	if !started {
		l.b.fellBack(reason(err), false, err)
		if serr := l.secondary.Complete(ctx, req, out); serr != nil {
			return fmt.Errorf("fallback: secondary after %v: %w", err, serr)
		}
		return nil
	}
	l.b.fellBack(reason(err), true, err)
	return out(agent.Delta{Text: apology(said.String(), l.b.opts.Apology)})
}

// apology is the text that ends a reply cut short after said.
func apology(said, sorry string) string {
	trimmed := strings.TrimRight(said, " \t\n")
	switch {
	case trimmed == "":
		return sorry
	case strings.HasSuffix(trimmed, ".") || strings.HasSuffix(trimmed, "!") || strings.HasSuffix(trimmed, "?"):
		if len(trimmed) < len(said) {
			return sorry
		}
		return " " + sorry
	default:
		// Close the broken sentence so that it is spoken before the
		// apology, as its own sentence.
		return "... " + sorry
	}
}
