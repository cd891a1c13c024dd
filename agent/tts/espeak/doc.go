// Package espeak is the embedded text-to-speech engine for languages
// flite lacks: espeak-ng through cgo, 22.05 kHz PCM16, any of its 100+
// voices ("en-us", "es", "fr", "de", …). Robotic, but small and fast.
//
// espeak-ng keeps its state process-wide (one voice, one callback), so
// every synthesis in the process takes one lock; at a real-time factor
// under 0.001 that queue is short. Replies are cut into sentences and
// streamed in chunks as in package flite.
//
// Without cgo the package still compiles, and New returns an error.
package espeak
