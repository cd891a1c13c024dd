// Package openai is the cloud speech synthesiser: the speech API
// (gpt-4o-mini-tts, tts-1, or any OpenAI-compatible server: set
// Options.BaseURL) through github.com/sashabaranov/go-openai, asking for
// response_format "pcm": raw 16-bit little-endian mono samples at 24 kHz,
// streamed. Each piece of the HTTP body goes to the caller as it arrives.
//
// # Time budget
//
// Options.Budget bounds every wait on the server: for the response to
// start, and for each piece of the body after it (the time the caller's
// out takes is not counted). A server that stalls fails the request with
// an error wrapping ErrBudget (and context.DeadlineExceeded). Errors from
// a response with a Retry-After header (HTTP 429 or 503) implement
//
//	interface{ RetryAfter() time.Duration }
package openai
