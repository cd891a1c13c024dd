// Package media moves audio: PCM16 frames, G.711 μ-law and A-law, resampling
// between the rates a call meets (8, 16, 24 and 48 kHz), WAV files and small
// signal measures. It transports media and never decides what to say.
//
// Codecs write into buffers the caller supplies and allocate nothing per
// frame, so a call's hot path stays allocation-free. Functions are safe for
// concurrent use; a Resampler carries one stream's state and is not.
package media
