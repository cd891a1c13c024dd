// Package sphinx is the embedded speech recogniser: CMU pocketsphinx
// (Debian's 0.8+5prealpha) through cgo, with a language model built in Go
// at start-up from the business's own vocabulary.
//
// Each vocabulary gets a trigram model (interpolated Kneser-Ney, see
// arpa.go) of its phrases and words plus a built-in receptionist corpus
// (booking requests, days, dates, times, digits, yes and no, names), and a
// dictionary of just those words, cut from the CMU dictionary; words it
// lacks get a pronunciation from flite's letter-to-sound rules. Models are
// cached per vocabulary, so a business's calls share one build. Each
// Recognizer owns a decoder (one per call); closed questions switch to a
// JSGF grammar per utterance (agent.HintYesNo, HintDigits, HintTime).
//
// Final results carry a confidence in [0, 1] (see confidence.go); the
// agent should not act on results below DefaultThreshold. Measured
// accuracy, speed and memory are in docs/speech.md.
//
// Without cgo the package still compiles, and New returns an error.
package sphinx
