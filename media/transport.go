package media

import "time"

// InKind is the kind of an inbound event of a call.
type InKind uint8

const (
	InAudio InKind = iota + 1 // Frame holds 20 ms of caller audio
	InDTMF                    // Digit holds the key
	InMark                    // Mark names a mark the transport echoed: its audio played or was cleared
)

// MaxFrameSamples is the most samples an In frame holds: 20 ms at 16 kHz,
// the pipeline's rate. Transports at higher rates resample before delivery.
const MaxFrameSamples = 320

// In is one inbound event of a call, whatever the transport: caller audio,
// a key press, or an echoed mark. It is a value (no pointers into transport
// buffers), so it can cross a channel without an allocation.
type In struct {
	Kind InKind
	// Audio: N samples of Frame at Rate Hz are valid.
	Rate  int
	N     int
	Frame [MaxFrameSamples]int16
	// Timestamp is the transport's media time of the audio.
	Timestamp time.Duration
	Digit     string
	Mark      string
}

// PCM returns the valid samples of an audio event.
func (in *In) PCM() []int16 { return in.Frame[:in.N] }

// Stats counts what a call's transport saw.
type Stats struct {
	FramesIn      int64
	FramesOut     int64
	FramesLost    int64 // gaps in what the peer sent
	FramesDropped int64 // caller frames dropped because the call fell behind, or agent audio over the queue limit
	MarksSent     int64
	MarksEchoed   int64
	Clears        int64
	DTMF          int64
	Unknown       int64 // unknown events, ignored
}
