//go:build cgo

package espeak

/*
#cgo pkg-config: espeak-ng
#include <stdlib.h>
#include <string.h>
#include <espeak-ng/speak_lib.h>

// The synthesis callback appends to one process-wide buffer: espeak-ng
// has one callback and one synthesis at a time anyway (callers hold a Go
// lock around every use).
static short *fd_buf;
static size_t fd_len, fd_cap;
static int fd_oom;

static int fd_cb(short *wav, int n, espeak_EVENT *ev) {
	(void)ev;
	if (wav == NULL || n <= 0) return 0;
	if (fd_len + (size_t)n > fd_cap) {
		size_t cap = fd_cap ? fd_cap : 22050;
		while (cap < fd_len + (size_t)n) cap *= 2;
		short *b = realloc(fd_buf, cap * sizeof *b);
		if (b == NULL) { fd_oom = 1; return 1; }
		fd_buf = b;
		fd_cap = cap;
	}
	memcpy(fd_buf + fd_len, wav, (size_t)n * sizeof *wav);
	fd_len += (size_t)n;
	return 0;
}

static int fd_init(void) {
	int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 100, NULL, espeakINITIALIZE_DONT_EXIT);
	if (rate > 0) espeak_SetSynthCallback(fd_cb);
	return rate;
}

// fd_synth synthesises text with voice at speed into the buffer, which
// *out points to afterwards (valid until the next call).
static int fd_synth(const char *voice, int speed, const char *text, short **out, size_t *n) {
	fd_len = 0;
	fd_oom = 0;
	int rc = espeak_SetVoiceByName(voice);
	if (rc == EE_OK) rc = espeak_SetParameter(espeakRATE, speed, 0);
	if (rc == EE_OK) rc = espeak_Synth(text, strlen(text) + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, NULL);
	if (rc == EE_OK && fd_oom) rc = EE_BUFFER_FULL;
	*out = fd_buf;
	*n = fd_len;
	return rc;
}
*/
import "C"

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"unsafe"

	"github.com/frontdesk/frontdesk/agent"
	"github.com/frontdesk/frontdesk/agent/tts/internal/chunk"
	"github.com/frontdesk/frontdesk/media"
)

// Synth synthesises speech with one espeak-ng voice. It is safe for
// concurrent use; syntheses in the process run one at a time.
type Synth struct {
	// Immutable after New.
	voice string
	speed int
	chunk int // samples per chunk
}

var _ agent.TTS = (*Synth)(nil)

var (
	mu      sync.Mutex // guards all use of espeak-ng
	inited  bool
	initErr error
)

// New returns a synthesiser with the voice, speed and chunk length of
// opts; it fails if espeak-ng cannot start or lacks the voice.
func New(opts Options) (*Synth, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Synth{voice: opts.Voice, speed: opts.Speed, chunk: media.Samples(Rate, opts.Chunk)}
	// Try the voice now, so that a wrong name fails here and not in a call.
	if _, err := s.sentence("a"); err != nil {
		return nil, err
	}
	return s, nil
}

func initLocked() error {
	if inited {
		return initErr
	}
	inited = true
	if rate := int(C.fd_init()); rate != Rate {
		initErr = fmt.Errorf("espeak: initialise: got rate %d, want %d (is espeak-ng-data installed?)", rate, Rate)
	}
	return initErr
}

// Rate returns 22050.
func (s *Synth) Rate() int { return Rate }

// Synthesize streams the audio of text to out sentence by sentence, in
// chunks of the configured length, checking ctx before each sentence and
// chunk. Each chunk is a fresh slice out may keep. Text without words
// gives no audio and no error. It returns ctx's error if ctx ends first,
// or out's error.
func (s *Synth) Synthesize(ctx context.Context, text string, out func(pcm []int16) error) error {
	for _, sentence := range chunk.Sentences(text) {
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

// sentence synthesises one sentence into Go memory.
func (s *Synth) sentence(text string) ([]int16, error) {
	cv, ct := C.CString(s.voice), C.CString(text)
	defer C.free(unsafe.Pointer(cv))
	defer C.free(unsafe.Pointer(ct))
	mu.Lock()
	defer mu.Unlock()
	if err := initLocked(); err != nil {
		return nil, err
	}
	var buf *C.short
	var n C.size_t
	if rc := C.fd_synth(cv, C.int(s.speed), ct, &buf, &n); rc != C.EE_OK {
		return nil, fmt.Errorf("espeak: synthesise with voice %q: error %d", s.voice, int(rc))
	}
	if n == 0 || buf == nil {
		return nil, nil
	}
	return slices.Clone(unsafe.Slice((*int16)(unsafe.Pointer(buf)), int(n))), nil
}
