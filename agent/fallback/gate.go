package fallback

import (
	"context"
	"sync"
	"time"
)

// gate stands between a primary and the caller's out: it knows whether
// the primary has produced output, and once the budget has run out
// without any it lets nothing more through.
type gate struct {
	mu        sync.Mutex
	started   bool  // output reached the caller
	abandoned bool  // the budget ran out first; the secondary answers
	outErr    error // the caller's out failed
	stop      func()
}

// open starts the budget, if any, on a context derived from ctx: when it
// runs out before output, the primary's context is cancelled.
func (g *gate) open(ctx context.Context, budget time.Duration) (context.Context, func()) {
	pctx, cancel := context.WithCancelCause(ctx)
	if budget <= 0 {
		return pctx, func() { cancel(nil) }
	}
	t := time.AfterFunc(budget, func() {
		g.mu.Lock()
		fire := !g.started
		g.abandoned = g.abandoned || fire
		g.mu.Unlock()
		if fire {
			cancel(errBudget)
		}
	})
	return pctx, func() { t.Stop(); cancel(nil) }
}

// pass reports whether output may go to the caller, and records that it
// did.
func (g *gate) pass() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.abandoned {
		return false
	}
	g.started = true
	return true
}

// failed records the caller's out error.
func (g *gate) failed(err error) error {
	if err != nil {
		g.mu.Lock()
		g.outErr = err
		g.mu.Unlock()
	}
	return err
}

func (g *gate) state() (started, abandoned bool, outErr error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.started, g.abandoned, g.outErr
}
