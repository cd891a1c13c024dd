//go:build cgo

package webrtc

/*
#cgo pkg-config: opus
#include <opus.h>

static int fd_set_bitrate(OpusEncoder *st, opus_int32 v) { return opus_encoder_ctl(st, OPUS_SET_BITRATE(v)); }
static int fd_set_complexity(OpusEncoder *st, opus_int32 v) { return opus_encoder_ctl(st, OPUS_SET_COMPLEXITY(v)); }
static int fd_set_signal_voice(OpusEncoder *st) { return opus_encoder_ctl(st, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE)); }
*/
import "C"

import (
	"fmt"
	"sync"
	"unsafe"
)

// OpusEncoderAvailable tells whether this build can encode Opus (it needs
// cgo and libopus).
const OpusEncoderAvailable = true

// OpusEncoder encodes mono PCM16 into Opus packets with libopus, tuned for
// voice. Not safe for concurrent use; Close frees it.
type OpusEncoder struct {
	st   *C.OpusEncoder
	once sync.Once
}

// NewOpusEncoder returns an encoder for mono audio at rate Hz (8, 12, 16, 24
// or 48 kHz).
func NewOpusEncoder(rate int) (*OpusEncoder, error) {
	var cerr C.int
	st := C.opus_encoder_create(C.opus_int32(rate), 1, C.OPUS_APPLICATION_VOIP, &cerr)
	if cerr != C.OPUS_OK || st == nil {
		return nil, fmt.Errorf("webrtc: opus encoder at %d Hz: %s", rate, C.GoString(C.opus_strerror(cerr)))
	}
	C.fd_set_bitrate(st, defaultOpusBitrate)
	C.fd_set_complexity(st, defaultOpusComplexity)
	C.fd_set_signal_voice(st)
	return &OpusEncoder{st: st}, nil
}

// Encode encodes one frame of pcm (2.5 to 60 ms; 20 ms here) into dst and
// returns the packet's length. It allocates nothing.
func (e *OpusEncoder) Encode(dst []byte, pcm []int16) (int, error) {
	if len(pcm) == 0 || len(dst) == 0 {
		return 0, fmt.Errorf("webrtc: opus encode: empty buffer")
	}
	n := C.opus_encode(e.st, (*C.opus_int16)(unsafe.Pointer(&pcm[0])), C.int(len(pcm)),
		(*C.uchar)(unsafe.Pointer(&dst[0])), C.opus_int32(len(dst)))
	if n < 0 {
		return 0, fmt.Errorf("webrtc: opus encode: %s", C.GoString(C.opus_strerror(n)))
	}
	return int(n), nil
}

// Close frees the encoder. It is idempotent.
func (e *OpusEncoder) Close() {
	e.once.Do(func() { C.opus_encoder_destroy(e.st) })
}
