// Package recording records calls: a Recorder taps a call's audio and
// writes it as a stereo WAV file (caller left, agent right) at the call's
// rate, aligned by sample position rather than by wall clock, encrypted
// per file with package crypt and written incrementally so that a crash
// loses at most the last second. Open plays a recording back with random
// access (for HTTP Range), Recover finishes the files a crashed process
// left, and Expiry and Plan turn a business's retention plan into expiry
// times.
//
// Files live in one directory, named by call id: <id>.wav.enc. Every id
// passes ValidID before it reaches the file system.
package recording
