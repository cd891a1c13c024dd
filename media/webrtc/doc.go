// Package webrtc is the WebRTC transport of a call, on pion/webrtc: one
// PeerConnection per call, audio in Opus or PCMU.
//
// An Engine holds the ICE and codec configuration; its Answer takes a
// browser's (or a WHIP client's) offer, gathers every ICE candidate (no
// trickle) and returns a Session whose local description is the answer.
// Session.Run then moves audio until the peer hangs up, the connection
// fails, Hangup is called or the context ends:
//
//   - inbound RTP is decoded (Opus with the pure-Go github.com/pion/opus,
//     PCMU with media's G.711), brought to 16 kHz and handed to the call as
//     20 ms media.In frames on a bounded channel that drops its oldest frame
//     when the call falls behind;
//   - outbound audio given to Play (at OutputRate: 16 kHz for Opus, 8 kHz
//     for PCMU) is queued in 20 ms frames and a pacer encodes one frame per
//     20 ms slot (silence when the queue is empty) and writes it to the
//     local track at real time, so nothing sits ahead of the caller's ear
//     beyond the frame in flight: Clear silences the caller at once. A Mark
//     comes back on In when the audio queued before it has been sent.
//
// Opus encoding uses libopus through cgo (Debian libopus-dev). A build
// without cgo still receives Opus but sends PCMU only.
//
// It transports media and never decides what to say.
package webrtc
