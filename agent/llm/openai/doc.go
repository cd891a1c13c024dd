// Package openai is the cloud dialogue engine: chat completions with tools,
// streamed, through github.com/sashabaranov/go-openai, against OpenAI or any
// server that speaks its API (set Options.BaseURL).
//
// Text deltas go to the caller as they arrive. Tool calls arrive in
// fragments keyed by index (the name first, the arguments in pieces); each
// is emitted whole, once it is complete: when the next index starts or when
// the stream ends. Arguments that are not a JSON object are an error.
//
// # Time budget
//
// Options.Budget bounds every wait on the server: for the response to
// start, and for each chunk of the stream after it. A server that stalls
// fails the request with an error wrapping ErrBudget (and
// context.DeadlineExceeded) instead of leaving the caller in silence; the
// time the caller's out function takes is not counted. A wrapper such as
// package agent/fallback then hands the turn to the embedded engine.
//
// # Errors
//
// Errors name the operation and wrap go-openai's (*openai.APIError for an
// error JSON body, *openai.RequestError otherwise). An error from a
// response that carried a Retry-After header (HTTP 429 or 503) also
// implements
//
//	interface{ RetryAfter() time.Duration }
//
// so that a caller can leave the server alone for that long.
package openai
