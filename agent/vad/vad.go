//go:build cgo

package vad

/*
#cgo LDFLAGS: -lwebrtc_audio_processing
#include <stdint.h>
#include <stddef.h>

// The classic WebRTC VAD, exported by the library without a header.
typedef struct WebRtcVadInst VadInst;
VadInst *WebRtcVad_Create(void);
int WebRtcVad_Init(VadInst *handle);
int WebRtcVad_set_mode(VadInst *handle, int mode);
int WebRtcVad_Process(VadInst *handle, int fs, const int16_t *audio_frame, size_t frame_length);
void WebRtcVad_Free(VadInst *handle);
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"github.com/frontdesk/frontdesk/agent"
)

// VAD is the WebRTC detector AND the energy gate. One per call: Speech is
// used by one goroutine at a time; Close may be called from any goroutine,
// more than once.
type VAD struct {
	mu     sync.Mutex // serialises Close with Speech
	inst   *webrtc    // nil once closed
	energy *Energy

	lastWebRTC bool // the WebRTC half's verdict on the last frame, for tests
}

var _ agent.VAD = (*VAD)(nil)

// webrtc owns the C detector; a cleanup frees it if Close is never called
// (agent.VAD has no Close).
type webrtc struct {
	p       *C.VadInst
	cleanup runtime.Cleanup
}

// New returns a detector configured by opts.
func New(opts Options) (*VAD, error) {
	mode, err := opts.Mode.webrtcMode()
	if err != nil {
		return nil, err
	}
	w, err := newWebRTC(mode)
	if err != nil {
		return nil, err
	}
	return &VAD{inst: w, energy: NewEnergy(opts.Energy)}, nil
}

func newWebRTC(mode int) (*webrtc, error) {
	p := C.WebRtcVad_Create()
	if p == nil {
		return nil, errors.New("vad: create WebRTC detector: out of memory")
	}
	if C.WebRtcVad_Init(p) != 0 || C.WebRtcVad_set_mode(p, C.int(mode)) != 0 {
		C.WebRtcVad_Free(p)
		return nil, fmt.Errorf("vad: initialise WebRTC detector in mode %d failed", mode)
	}
	w := &webrtc{p: p}
	w.cleanup = runtime.AddCleanup(w, func(p *C.VadInst) { C.WebRtcVad_Free(p) }, p)
	return w, nil
}

// Speech reports whether frame, rate Hz, holds speech: both the WebRTC
// detector and the energy gate must say so. Frames of 10, 20 or 30 ms at
// 8, 16, 32 or 48 kHz work; anything else (or a closed VAD) is not speech
// and leaves the state alone. It allocates nothing.
func (v *VAD) Speech(frame []int16, rate int) bool {
	if !validFrame(len(frame), rate) {
		return false
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.inst == nil {
		return false
	}
	// Both run on every frame so that each keeps adapting.
	w := C.WebRtcVad_Process(v.inst.p, C.int(rate), (*C.int16_t)(unsafe.Pointer(&frame[0])), C.size_t(len(frame))) == 1
	e := v.energy.Speech(frame, rate)
	runtime.KeepAlive(v.inst)
	v.lastWebRTC = w
	return w && e
}

// Close frees the WebRTC detector. It is idempotent; Speech after Close
// reports no speech.
func (v *VAD) Close() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.inst != nil {
		v.inst.cleanup.Stop()
		C.WebRtcVad_Free(v.inst.p)
		v.inst = nil
	}
	return nil
}
