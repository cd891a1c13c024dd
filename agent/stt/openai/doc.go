// Package openai is the cloud speech recogniser: the transcription API
// (whisper-1, gpt-4o-mini-transcribe, gpt-4o-transcribe, or any
// OpenAI-compatible server: set Options.BaseURL) through
// github.com/sashabaranov/go-openai.
//
// The API transcribes whole files, so a Recognizer buffers the utterance's
// 16 kHz audio between Begin and End and sends it on End as a WAV file in a
// multipart request. Write returns empty partials: the embedded recogniser
// is the one that hears partials (package agent/fallback runs both).
// The vocabulary's words go in the request's prompt, which biases the
// spelling of names and services.
//
// # Confidence
//
// With the verbose_json response format (the default for whisper models)
// each segment carries avg_logprob and no_speech_prob; the confidence is
// the duration-weighted mean of exp(avg_logprob) × (1 − no_speech_prob).
// Other formats carry nothing to compute one from, and results get
// Options.Confidence (default DefaultConfidence).
//
// # Time budget
//
// Options.Budget bounds one utterance's request, from End to the
// transcript; past it End fails with an error wrapping ErrBudget (and
// context.DeadlineExceeded). Errors from a response with a Retry-After
// header (HTTP 429 or 503) implement
//
//	interface{ RetryAfter() time.Duration }
package openai
