// Package fallback keeps a call talking when a cloud provider fails: LLM,
// STT and TTS wrappers over a primary (cloud) and a secondary (embedded)
// provider that implement the same agent interfaces, so the composition
// root wraps and the session never knows.
//
// The rule is the same for all three: if the primary fails, or exceeds the
// time budget, before it has produced output for this request, the same
// request goes to the secondary, and the caller never hears dead air. What
// "output" and "request" mean differs:
//
//   - LLM: a request is one Complete (one dialogue round); output is the
//     first text delta or tool call. If the primary fails after it has
//     streamed something, the reply is not replayed by the secondary (the
//     caller has heard half an answer, and the two engines would not agree
//     on the rest): the turn ends with a short apology (Options.Apology)
//     and no error, and the conversation goes on with the caller's next
//     words. Tool calls already delivered stand.
//   - TTS: a request is one Synthesize, which the session makes per
//     sentence; output is the first audio. The secondary's audio is
//     resampled to the primary's rate, which is the wrapper's Rate. If the
//     primary fails mid-sentence the secondary speaks the whole sentence
//     again: a repeated half sentence beats a silence, and sentences are
//     short.
//   - STT: a request is one utterance. The recognizer feeds the audio to
//     both (the embedded recogniser is cheap and gives the partials), and
//     End takes the primary's transcript if it comes in time and the
//     secondary's otherwise.
//
// The budget is Options.Budget if set (the wrapper cancels the primary when
// it expires), and in any case the primary's own time budget (the OpenAI
// providers fail with their own after Options.Budget of theirs). A caller's
// cancellation (barge-in, hang-up) and an error returned by the caller's
// out function are not failures: they are returned as they are.
//
// A primary error carrying a Retry-After (an error implementing
// interface{ RetryAfter() time.Duration }, as the OpenAI providers' do
// for HTTP 429 and 503) sends requests straight to the secondary for that
// long, capped by Options.MaxCooldown.
//
// Every fallback is logged (Warn) and counted: Stats returns the counts,
// and Options.OnFallback sees each Event, for a metric.
package fallback
