package crypt

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Options tunes a Writer. The zero value is the default.
type Options struct {
	// ChunkSize is the most plaintext bytes a chunk holds, MinChunkSize to
	// MaxChunkSize. Default DefaultChunkSize.
	ChunkSize int
	// Sync makes every sealed chunk durable: after writing it the Writer
	// calls Sync on the underlying writer when it has one (an *os.File).
	// Off by default: a process crash loses nothing written, and a power
	// cut loses what the OS had not yet written back.
	Sync bool
}

func (o *Options) chunkSize() (int, error) {
	if o == nil || o.ChunkSize == 0 {
		return DefaultChunkSize, nil
	}
	if o.ChunkSize < MinChunkSize || o.ChunkSize > MaxChunkSize {
		return 0, fmt.Errorf("crypt: chunk size %d, want %d..%d", o.ChunkSize, MinChunkSize, MaxChunkSize)
	}
	return o.ChunkSize, nil
}

// ErrClosed is returned by a Writer used after Close.
var ErrClosed = errors.New("crypt: writer closed")

// Writer encrypts what is written to it into the chunked format. It buffers
// up to one chunk; Flush seals what is buffered as a chunk of its own, so
// its owner decides the cadence (a recorder flushes every second of audio,
// a transcript log after every record). Close seals the final chunk.
//
// A Writer is not safe for concurrent use. After an error from the
// underlying writer every call returns that error: a chunk may be half
// written, and appending after it would only make the file harder to
// recover.
type Writer struct {
	// immutable
	dst       io.Writer
	aead      cipher.AEAD
	prefix    [prefixSize]byte
	chunkSize int
	sync      bool
	onClose   func() error // closes what CreateFile opened; may be nil

	buf     []byte   // length word, up to chunkSize plaintext, tag
	n       int      // plaintext bytes buffered in buf[lenSize:]
	index   uint64   // of the next chunk
	written int64    // plaintext bytes accepted
	err     error    // sticky
	nonce   [12]byte // scratch, a field so that it does not escape per chunk
	ad      [9]byte  // scratch
	closed  bool
}

// NewWriter writes a header for a fresh data key wrapped by the keyring's
// current KEK to dst and returns a Writer of the chunks that follow.
func NewWriter(dst io.Writer, kr *Keyring, opts *Options) (*Writer, error) {
	cs, err := opts.chunkSize()
	if err != nil {
		return nil, err
	}
	dek, prefix := newDEK()
	h, err := sealHeader(kr, dek, prefix, cs)
	if err != nil {
		return nil, fmt.Errorf("crypt: new writer: %w", err)
	}
	aead, err := newDataAEAD(dek)
	if err != nil {
		return nil, fmt.Errorf("crypt: new writer: %w", err)
	}
	if _, err := dst.Write(h[:]); err != nil {
		return nil, fmt.Errorf("crypt: write header: %w", err)
	}
	w := &Writer{
		dst:       dst,
		aead:      aead,
		prefix:    prefix,
		chunkSize: cs,
		sync:      opts != nil && opts.Sync,
		buf:       make([]byte, lenSize+cs+tagSize),
	}
	if w.sync {
		if err := w.syncDst(); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// Write buffers p, sealing a chunk each time the buffer is full and more
// follows.
func (w *Writer) Write(p []byte) (int, error) {
	if err := w.usable(); err != nil {
		return 0, err
	}
	total := len(p)
	for len(p) > 0 {
		if w.n == w.chunkSize {
			// Sealed only now, when more follows, so that Close can mark
			// a full last chunk final instead of adding an empty one.
			if err := w.seal(0); err != nil {
				return total - len(p), err
			}
		}
		c := copy(w.buf[lenSize+w.n:lenSize+w.chunkSize], p)
		w.n += c
		w.written += int64(c)
		p = p[c:]
	}
	return total, nil
}

// Flush seals the buffered bytes as a chunk and writes it out (and syncs
// it when Options.Sync is set). With nothing buffered it does nothing.
func (w *Writer) Flush() error {
	if err := w.usable(); err != nil {
		return err
	}
	if w.n == 0 {
		return nil
	}
	return w.seal(0)
}

// Size returns how many plaintext bytes were written.
func (w *Writer) Size() int64 { return w.written }

// Close seals the buffered bytes as the final chunk; a file without one
// reads as truncated. A Writer from CreateFile also syncs and closes the
// file and releases its lock. Close is idempotent; later calls return nil.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.err
	if err == nil {
		err = w.seal(flagFinal)
	}
	if w.onClose != nil {
		if cerr := w.onClose(); err == nil {
			err = cerr
		}
	}
	return err
}

func (w *Writer) usable() error {
	if w.closed {
		return ErrClosed
	}
	return w.err
}

// seal encrypts the buffered plaintext in place as chunk w.index with the
// given flags and writes it in one Write call, so a crash leaves a chunk
// either whole or torn at the end of the file, never interleaved.
func (w *Writer) seal(flags uint32) error {
	word := flags | uint32(w.n)
	binary.BigEndian.PutUint32(w.buf, word)
	chunkParams(&w.nonce, &w.ad, w.prefix, w.index, word)
	pt := w.buf[lenSize : lenSize+w.n]
	w.aead.Seal(pt[:0], w.nonce[:], pt, w.ad[:])
	if _, err := w.dst.Write(w.buf[:lenSize+w.n+tagSize]); err != nil {
		w.err = fmt.Errorf("crypt: write chunk %d: %w", w.index, err)
		return w.err
	}
	w.index++
	w.n = 0
	if w.sync {
		return w.syncDst()
	}
	return nil
}

func (w *Writer) syncDst() error {
	s, ok := w.dst.(interface{ Sync() error })
	if !ok {
		return nil
	}
	if err := s.Sync(); err != nil {
		w.err = fmt.Errorf("crypt: sync: %w", err)
		return w.err
	}
	return nil
}
