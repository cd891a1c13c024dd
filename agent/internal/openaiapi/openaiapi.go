// Package openaiapi is what the OpenAI providers (chat, transcription,
// speech) share: client configuration, time budgets, Retry-After and the
// shape of their errors.
package openaiapi

// This file is the HTTP plumbing shared in spirit by the three OpenAI
// providers (llm, stt, tts); each package keeps its own copy so that none
// imports another's.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	oai "github.com/sashabaranov/go-openai"
)

// DefaultBaseURL is OpenAI's API.
const DefaultBaseURL = "https://api.openai.com/v1"

// ErrBudget is the cause of a request that exceeded its time budget. It
// wraps context.DeadlineExceeded.
var ErrBudget = fmt.Errorf("openai: time budget exceeded: %w", context.DeadlineExceeded)

// ClientConfig returns go-openai's configuration for baseURL and key, with
// doer capturing Retry-After headers.
func ClientConfig(baseURL, apiKey string, hc *http.Client) (oai.ClientConfig, error) {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return oai.ClientConfig{}, fmt.Errorf("openai: base URL %q: want an absolute http(s) URL", baseURL)
	}
	if hc == nil {
		hc = &http.Client{}
	}
	cfg := oai.DefaultConfig(apiKey)
	cfg.BaseURL = baseURL
	cfg.HTTPClient = doer{hc}
	return cfg, nil
}

// doer records the Retry-After of a refused request in the holder its
// context carries.
type doer struct{ c *http.Client }

func (d doer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.c.Do(req)
	if err == nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if h, ok := req.Context().Value(holderKey{}).(*Holder); ok {
			h.Set(ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()))
		}
	}
	return resp, err
}

type holderKey struct{}

type Holder struct {
	mu    sync.Mutex
	after time.Duration
}

func (h *Holder) Set(d time.Duration) {
	h.mu.Lock()
	h.after = d
	h.mu.Unlock()
}

func (h *Holder) Get() time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.after
}

func WithHolder(ctx context.Context) (context.Context, *Holder) {
	h := &Holder{}
	return context.WithValue(ctx, holderKey{}, h), h
}

// ParseRetryAfter reads a Retry-After value: delay seconds or an HTTP date.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s > 0 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// retryError is an error from a response that asked to retry later.
type retryError struct {
	after time.Duration
	err   error
}

func (e *retryError) Error() string {
	return fmt.Sprintf("%v (retry after %v)", e.err, e.after)
}
func (e *retryError) Unwrap() error { return e.err }

// RetryAfter is how long the server asked to be left alone.
func (e *retryError) RetryAfter() time.Duration { return e.after }

// failure names op and explains err: the budget, the caller's
// cancellation, or the server's refusal with its Retry-After.
func Failure(ctx context.Context, op string, h *Holder, err error) error {
	if errors.Is(context.Cause(ctx), ErrBudget) {
		return fmt.Errorf("openai: %s: %w", op, ErrBudget)
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%w (%v)", cerr, err)
	}
	err = fmt.Errorf("openai: %s: %w", op, err)
	if d := h.Get(); d > 0 {
		return &retryError{after: d, err: err}
	}
	return err
}

// Watchdog cancels a request with ErrBudget when a wait on the server
// lasts longer than the budget. It starts armed.
type Watchdog struct {
	t *time.Timer
	d time.Duration
}

func NewWatchdog(d time.Duration, cancel context.CancelCauseFunc) *Watchdog {
	return &Watchdog{t: time.AfterFunc(d, func() { cancel(ErrBudget) }), d: d}
}

// Arm starts a wait; Disarm ends it.
func (w *Watchdog) Arm()    { w.t.Reset(w.d) }
func (w *Watchdog) Disarm() { w.t.Stop() }

// warm lists the server's models: it opens (and leaves in the HTTP
// client's pool) a connection, and checks the key.
func Warm(ctx context.Context, c *oai.Client, budget time.Duration) error {
	ctx, cancel := context.WithTimeoutCause(ctx, budget, ErrBudget)
	defer cancel()
	ctx, hold := WithHolder(ctx)
	if _, err := c.ListModels(ctx); err != nil {
		return Failure(ctx, "warm", hold, err)
	}
	return nil
}
