package media

import "time"

// FrameDuration is the length of one frame on every transport we speak:
// Twilio Media Streams and RTP (PCMU, Opus) all packetize 20 ms.
const FrameDuration = 20 * time.Millisecond

// SamplesPerFrame returns the number of samples per channel in one 20 ms
// frame at rate Hz (160 at 8 kHz, 320 at 16 kHz, 960 at 48 kHz).
func SamplesPerFrame(rate int) int { return rate / 50 }

// Samples returns the number of samples per channel that d lasts at rate Hz,
// rounded down; 0 for a negative d or rate.
func Samples(rate int, d time.Duration) int {
	if rate <= 0 || d <= 0 {
		return 0
	}
	// Split d into whole seconds and the rest so that hours of audio at
	// 384 kHz cannot overflow int64.
	sec := int64(d / time.Second)
	rest := int64(d % time.Second)
	return int(sec*int64(rate) + rest*int64(rate)/int64(time.Second))
}

// Duration returns how long n samples per channel last at rate Hz, rounded
// down to the nanosecond; 0 for a non-positive rate.
func Duration(rate, n int) time.Duration {
	if rate <= 0 {
		return 0
	}
	sec := int64(n / rate)
	rest := int64(n % rate)
	return time.Duration(sec)*time.Second + time.Duration(rest*int64(time.Second)/int64(rate))
}
