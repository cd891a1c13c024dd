// Package flite is the embedded text-to-speech engine: CMU Flite through
// cgo, with the US English voices Debian's flite1-dev ships (slt, the
// default and most natural; rms and awb, male; kal16, robotic but very
// intelligible). It produces 16 kHz PCM16.
//
// Flite synthesises a whole utterance before any of its audio exists, so a
// reply is cut into sentences and each sentence's audio is streamed, in
// short chunks, as soon as it is ready: the first audio of a long reply
// waits for its first sentence only. A context cancelled between chunks
// (barge-in) stops the audio within one chunk.
//
// Without cgo the package still compiles, and New returns an error.
package flite
