package recording

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/frontdesk/frontdesk/media"
	"github.com/frontdesk/frontdesk/recording/crypt"
)

// Playback is a finished recording opened for reading: a stereo PCM16 WAV
// file with true sizes in its header, served by plaintext offset for HTTP
// Range (http.ServeContent(w, req, name, modtime, p.NewReader())). The
// file stores placeholder sizes, since an encrypted file cannot cheaply be
// rewritten at its start; Playback serves a header computed from the
// decrypted length instead. It is safe for concurrent use.
type Playback struct {
	// immutable
	r      *crypt.Reader
	hdr    []byte // the WAV header served
	size   int64  // header plus whole stereo frames
	rate   int
	frames int64
}

// Open opens call id's recording in dir. A recording still being written,
// or left unfinished by a crash until Recover runs, fails with an error
// wrapping crypt.ErrTruncated.
func Open(dir, id string, kr *crypt.Keyring) (*Playback, error) {
	path, err := Path(dir, id)
	if err != nil {
		return nil, err
	}
	r, err := crypt.OpenFile(path, kr)
	if err != nil {
		return nil, fmt.Errorf("recording: open %s: %w", id, err)
	}
	p, err := newPlayback(r)
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("recording: open %s: %w", id, err)
	}
	return p, nil
}

func newPlayback(r *crypt.Reader) (*Playback, error) {
	var hb [media.WAVHeaderSize]byte
	if _, err := r.ReadAt(hb[:], 0); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%d bytes, no WAV header: %w", r.Size(), media.ErrNotWAV)
		}
		return nil, fmt.Errorf("read WAV header: %w", err)
	}
	a, err := media.ReadWAV(bytes.NewReader(hb[:]))
	if err != nil {
		return nil, err
	}
	if a.Channels != 2 || (a.Rate != 8000 && a.Rate != 16000) {
		return nil, fmt.Errorf("%d channels at %d Hz, want a stereo recording at 8 or 16 kHz: %w", a.Channels, a.Rate, media.ErrUnsupportedWAV)
	}
	// A recovered file may end inside a frame only if the crash tore one;
	// serve whole frames.
	frames := min((r.Size()-media.WAVHeaderSize)/4, maxDataBytes/4)
	hdr, err := media.AppendWAVHeader(nil, a.Rate, 2, uint32(frames*4))
	if err != nil {
		return nil, err
	}
	return &Playback{r: r, hdr: hdr, size: media.WAVHeaderSize + frames*4, rate: a.Rate, frames: frames}, nil
}

// ReadAt reads the WAV file at offset off, as io.ReaderAt does.
func (p *Playback) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("recording: read at %d: negative offset", off)
	}
	if off >= p.size {
		return 0, io.EOF
	}
	want := len(b)
	b = b[:min(int64(len(b)), p.size-off)]
	n := 0
	if off < int64(len(p.hdr)) {
		n = copy(b, p.hdr[off:])
	}
	if n < len(b) {
		m, err := p.r.ReadAt(b[n:], off+int64(n))
		n += m
		if err != nil && !(errors.Is(err, io.EOF) && n == len(b)) {
			return n, err
		}
	}
	if n < want {
		return n, io.EOF
	}
	return n, nil
}

// Size returns the length of the WAV file in bytes.
func (p *Playback) Size() int64 { return p.size }

// NewReader returns a reader of the WAV file from its start; it is also an
// io.Seeker.
func (p *Playback) NewReader() *io.SectionReader { return io.NewSectionReader(p, 0, p.size) }

// Rate returns the sample rate.
func (p *Playback) Rate() int { return p.rate }

// Duration returns how long the recording lasts.
func (p *Playback) Duration() time.Duration { return media.Duration(p.rate, int(p.frames)) }

// Recovered reports whether the recording was finished by Recover after a
// crash rather than closed by its Recorder.
func (p *Playback) Recovered() bool { return p.r.Recovered() }

// KeyID returns the id of the KEK that wraps the recording's data key.
func (p *Playback) KeyID() string { return p.r.KeyID() }

// Close closes the file. It is idempotent.
func (p *Playback) Close() error { return p.r.Close() }
