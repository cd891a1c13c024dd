package vad

import "fmt"

// Mode is the WebRTC detector's aggressiveness: how readily it calls a
// frame non-speech.
type Mode int

// Modes, from the one calling the most frames speech to the one calling
// the fewest. The zero value, ModeDefault, is ModeAggressive: WebRTC mode
// 2, the best measured in noise together with the energy gate
// (embedded-speech.md, docs/speech.md).
const (
	ModeDefault        Mode = iota
	ModeQuality             // WebRTC mode 0
	ModeLowBitrate          // WebRTC mode 1
	ModeAggressive          // WebRTC mode 2
	ModeVeryAggressive      // WebRTC mode 3
)

// Options configure a VAD. The zero value is the default.
type Options struct {
	// Mode of the WebRTC detector; default ModeAggressive.
	Mode Mode
	// Energy configures the energy gate.
	Energy EnergyOptions
}

// webrtcMode is the library's mode number for m.
func (m Mode) webrtcMode() (int, error) {
	if m == ModeDefault {
		m = ModeAggressive
	}
	if m < ModeQuality || m > ModeVeryAggressive {
		return 0, fmt.Errorf("vad: unknown mode %d", int(m))
	}
	return int(m - ModeQuality), nil
}

// validFrame reports whether the WebRTC detector takes n samples at rate
// Hz: 10, 20 or 30 ms at 8, 16, 32 or 48 kHz.
func validFrame(n, rate int) bool {
	switch rate {
	case 8000, 16000, 32000, 48000:
	default:
		return false
	}
	ms10 := rate / 100
	return n == ms10 || n == 2*ms10 || n == 3*ms10
}
