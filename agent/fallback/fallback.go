package fallback

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Options.
const (
	DefaultApology     = "Sorry, I'm having a little trouble on my end. Could you say that again?"
	DefaultMaxCooldown = 30 * time.Second
)

// Options configure a wrapper. The zero value is usable.
type Options struct {
	// Budget is the longest the primary may take to produce its first
	// output (LLM text or tool call, TTS audio) or its transcript (STT,
	// counted from End) before the secondary takes over. Zero leaves it
	// to the primary's own time budget.
	Budget time.Duration
	// MaxCooldown caps how long a primary's Retry-After sends requests
	// straight to the secondary; default DefaultMaxCooldown. Negative
	// ignores Retry-After.
	MaxCooldown time.Duration
	// Apology ends an LLM reply whose primary failed after it had begun
	// (LLM only); default DefaultApology.
	Apology string
	// OnFallback, if set, is called after each fallback, from the
	// goroutine of the request; it must not block. For metrics.
	OnFallback func(Event)
	// Logger receives a Warn per fallback; default none.
	Logger *slog.Logger
	// Now is the clock of cooldowns; default time.Now.
	Now func() time.Time
}

func (o *Options) defaults() {
	if o.MaxCooldown == 0 {
		o.MaxCooldown = DefaultMaxCooldown
	}
	if o.Apology == "" {
		o.Apology = DefaultApology
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Kinds of Event.
const (
	KindLLM = "llm"
	KindSTT = "stt"
	KindTTS = "tts"
)

// Reasons of Event.
const (
	ReasonError    = "error"    // the primary failed
	ReasonBudget   = "budget"   // the primary exceeded the time budget
	ReasonCooldown = "cooldown" // the primary asked not to be called yet (Retry-After)
)

// Event is one fallback.
type Event struct {
	Kind   string // KindLLM, KindSTT or KindTTS
	Reason string // ReasonError, ReasonBudget or ReasonCooldown
	// Partial is true when the primary had produced output before it
	// failed: an LLM reply ended with an apology, or a TTS sentence
	// spoken again by the secondary.
	Partial bool
	Err     error // the primary's error; nil for ReasonCooldown
}

// Stats counts a wrapper's requests (LLM Complete calls, TTS sentences,
// STT utterances) and how they went.
type Stats struct {
	Requests  int64 // all requests
	Fallbacks int64 // requests the secondary answered, in whole or in part
	Partial   int64 // of Fallbacks, those after output from the primary
	Cooldown  int64 // of Fallbacks, those that skipped the primary (Retry-After)
}

// base is what the three wrappers share: options, counters, cooldown.
type base struct {
	kind string
	opts Options

	requests, fallbacks, partial, cooldowns atomic.Int64

	mu    sync.Mutex
	until time.Time // guarded by mu: no primary requests before
}

func newBase(kind string, opts Options) base {
	opts.defaults()
	return base{kind: kind, opts: opts}
}

func (b *base) stats() Stats {
	return Stats{Requests: b.requests.Load(), Fallbacks: b.fallbacks.Load(), Partial: b.partial.Load(), Cooldown: b.cooldowns.Load()}
}

// cooling reports whether the primary asked not to be called now.
func (b *base) cooling() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.opts.Now().Before(b.until)
}

// errBudget is the cause given to a primary cancelled by Options.Budget.
var errBudget = errors.New("fallback: primary exceeded the time budget")

// fellBack records a fallback: counts, cooldown, log, callback.
func (b *base) fellBack(reason string, partial bool, err error) {
	b.fallbacks.Add(1)
	if partial {
		b.partial.Add(1)
	}
	if reason == ReasonCooldown {
		b.cooldowns.Add(1)
	}
	var ra interface{ RetryAfter() time.Duration }
	if err != nil && b.opts.MaxCooldown > 0 && errors.As(err, &ra) {
		if d := min(ra.RetryAfter(), b.opts.MaxCooldown); d > 0 {
			b.mu.Lock()
			if u := b.opts.Now().Add(d); u.After(b.until) {
				b.until = u
			}
			b.mu.Unlock()
		}
	}
	if reason != ReasonCooldown {
		b.opts.Logger.Warn("fallback: primary failed, secondary answers", "kind", b.kind, "reason", reason, "partial", partial, "err", err)
	}
	if b.opts.OnFallback != nil {
		b.opts.OnFallback(Event{Kind: b.kind, Reason: reason, Partial: partial, Err: err})
	}
}

// reason classifies a primary's failure.
func reason(err error) string {
	if errors.Is(err, errBudget) || errors.Is(err, context.DeadlineExceeded) {
		return ReasonBudget
	}
	return ReasonError
}
