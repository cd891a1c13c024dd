//go:build cgo

package flite

/*
#cgo CFLAGS: -I/usr/include/flite
#cgo LDFLAGS: -lflite_cmu_us_slt -lflite_cmu_us_rms -lflite_cmu_us_awb -lflite_cmu_us_kal16 -lflite_usenglish -lflite_cmulex -lflite -lm
#include <stdlib.h>
#include <flite.h>

// The voice libraries export these without a header.
cst_voice *register_cmu_us_slt(const char *voxdir);
cst_voice *register_cmu_us_rms(const char *voxdir);
cst_voice *register_cmu_us_awb(const char *voxdir);
cst_voice *register_cmu_us_kal16(const char *voxdir);

static cst_voice *fd_register(int which) {
	switch (which) {
	case 0: return register_cmu_us_slt(NULL);
	case 1: return register_cmu_us_rms(NULL);
	case 2: return register_cmu_us_awb(NULL);
	case 3: return register_cmu_us_kal16(NULL);
	}
	return NULL;
}
*/
import "C"

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unsafe"

	"golang.org/x/text/unicode/norm"

	"github.com/frontdesk/frontdesk/agent"
	"github.com/frontdesk/frontdesk/agent/tts/internal/chunk"
	"github.com/frontdesk/frontdesk/media"
)

// Synth synthesises speech with one flite voice. It is safe for concurrent
// use: each Synthesize builds its own utterances, and the voice they share
// is only read.
type Synth struct {
	// Immutable after New.
	voice *C.cst_voice // registered once per process, never freed
	name  string
	chunk int // samples per chunk
}

var _ agent.TTS = (*Synth)(nil)

// Voices are registered once per process and live as long as it: flite
// keeps them in static storage.
var (
	initOnce sync.Once
	voiceMu  sync.Mutex
	voices   = map[string]*C.cst_voice{}
)

// New returns a synthesiser with the voice and chunk length of opts.
func New(opts Options) (*Synth, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	v, err := loadVoice(opts.Voice)
	if err != nil {
		return nil, err
	}
	return &Synth{voice: v, name: opts.Voice, chunk: media.Samples(Rate, opts.Chunk)}, nil
}

func loadVoice(name string) (*C.cst_voice, error) {
	initOnce.Do(func() { C.flite_init() })
	voiceMu.Lock()
	defer voiceMu.Unlock()
	if v := voices[name]; v != nil {
		return v, nil
	}
	v := C.fd_register(C.int(slices.Index(Voices, name)))
	if v == nil {
		return nil, fmt.Errorf("flite: register voice %q failed", name)
	}
	voices[name] = v
	return v, nil
}

// Voice returns the name of the synthesiser's voice.
func (s *Synth) Voice() string { return s.name }

// Rate returns 16000: every voice here speaks at 16 kHz.
func (s *Synth) Rate() int { return Rate }

// Synthesize streams the audio of text to out sentence by sentence, in
// chunks of the configured length, checking ctx before each sentence and
// each chunk. Each chunk is a fresh slice that out may keep. Text with no
// words gives no audio and no error. It returns ctx's error if ctx ends
// first, or out's error (which stops synthesis).
func (s *Synth) Synthesize(ctx context.Context, text string, out func(pcm []int16) error) error {
	for _, sentence := range chunk.Sentences(asciiText(text)) {
		if err := ctx.Err(); err != nil {
			return err
		}
		pcm, err := s.sentence(sentence)
		if err != nil {
			return err
		}
		if err := chunk.Emit(ctx, pcm, s.chunk, out); err != nil {
			return err
		}
	}
	return nil
}

// sentence synthesises one sentence and copies its audio into Go memory.
func (s *Synth) sentence(text string) ([]int16, error) {
	ctext := C.CString(text)
	defer C.free(unsafe.Pointer(ctext))
	w := C.flite_text_to_wave(ctext, s.voice)
	if w == nil {
		return nil, fmt.Errorf("flite: synthesise %q: no audio", text)
	}
	defer C.delete_wave(w)
	if int(w.sample_rate) != Rate || w.num_channels != 1 {
		return nil, fmt.Errorf("flite: synthesise %q: got %d Hz × %d channels, want %d Hz mono",
			text, int(w.sample_rate), int(w.num_channels), Rate)
	}
	n := int(w.num_samples)
	if n <= 0 || w.samples == nil {
		return nil, nil
	}
	return slices.Clone(unsafe.Slice((*int16)(unsafe.Pointer(w.samples)), n)), nil
}

// asciiText maps the typographic punctuation language models like to
// produce onto ASCII, and drops other non-ASCII runes: flite reads bytes
// as Latin-1 and would spell out the bytes of UTF-8 sequences.
func asciiText(s string) string {
	// Decompose first so that "café" keeps its e once the accent goes.
	s = norm.NFD.String(s)
	return strings.Map(func(r rune) rune {
		switch r {
		case '‘', '’', 'ʼ':
			return '\''
		case '“', '”':
			return '"'
		case '–', '—':
			return ','
		case '…':
			return '.'
		}
		if r < 0x80 {
			return r
		}
		if unicode.IsSpace(r) {
			return ' '
		}
		return -1 // accents (now separate marks) and anything flite cannot say
	}, s)
}
