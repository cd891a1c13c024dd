// Package vad tells speech from silence and noise, frame by frame, for
// endpointing and barge-in. VAD is the WebRTC voice activity detector
// (from Debian's libwebrtc-audio-processing, through cgo) AND an adaptive
// energy gate: a frame is speech only if both say so. The WebRTC detector
// knows what speech sounds like but calls everything speech in loud noise;
// the gate knows nothing of speech but ignores steady noise and tones once
// it has tracked them. Both run on every frame so that each keeps adapting.
//
// Energy, the gate alone, is pure Go. Without cgo the package still
// compiles, and New returns an error.
package vad
