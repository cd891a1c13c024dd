package crypt

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// chunkInfo locates one chunk, learned from its length word.
type chunkInfo struct {
	off   int64  // file offset of the length word
	plain int64  // plaintext offset of its first byte
	word  uint32 // flags and plaintext length
}

func (c chunkInfo) n() int64        { return int64(c.word & lenMask) }
func (c chunkInfo) sealed() int64   { return lenSize + c.n() + tagSize }
func (c chunkInfo) final() bool     { return c.word&flagFinal != 0 }
func (c chunkInfo) end() int64      { return c.off + c.sealed() }
func (c chunkInfo) plainEnd() int64 { return c.plain + c.n() }

// Reader decrypts a finished file, sequentially or at any plaintext offset.
// It is safe for concurrent use (ReadAt may be called in parallel, as
// io.ReaderAt allows); calls are serialised on a one-chunk cache, so that
// small sequential reads decrypt each chunk once.
type Reader struct {
	// immutable after Open
	src       io.ReaderAt
	aead      cipher.AEAD
	prefix    [prefixSize]byte
	keyID     string
	chunks    []chunkInfo
	size      int64
	recovered bool
	onClose   func() error

	mu     sync.Mutex
	cached int      // index of the chunk in plain, -1 for none; guarded by mu
	buf    []byte   // sealed chunk, decrypted in place; guarded by mu
	plain  []byte   // the plaintext of chunk cached, inside buf; guarded by mu
	nonce  [12]byte // scratch, a field so that it does not escape per chunk; guarded by mu
	ad     [9]byte  // scratch; guarded by mu
}

// Open reads the header and the chunk boundaries of a file of fileSize
// bytes and authenticates its final chunk, so that a file cut at a chunk
// boundary fails here, not at the end of playback. Every other chunk is
// authenticated when it is read. Errors wrap ErrFormat, ErrUnknownKey,
// ErrAuth or ErrTruncated (also for a file that was never finished: see
// FinishFile).
func Open(src io.ReaderAt, fileSize int64, kr *Keyring) (*Reader, error) {
	r, err := open(src, fileSize, kr, false)
	if err != nil {
		return nil, err
	}
	if _, err := r.chunk(len(r.chunks) - 1); err != nil {
		return nil, err
	}
	return r, nil
}

// open parses the header and scans the chunks; lenient stops at a torn or
// malformed tail instead of failing, for recovery.
func open(src io.ReaderAt, fileSize int64, kr *Keyring, lenient bool) (*Reader, error) {
	var hb [HeaderSize]byte
	if fileSize < HeaderSize {
		return nil, fmt.Errorf("crypt: open: %d bytes, shorter than a header: %w (%w)", fileSize, ErrFormat, ErrTruncated)
	}
	if _, err := src.ReadAt(hb[:], 0); err != nil {
		return nil, fmt.Errorf("crypt: open: read header: %w", err)
	}
	h, err := parseHeader(hb[:])
	if err != nil {
		return nil, fmt.Errorf("crypt: open: %w", err)
	}
	aead, err := unwrap(hb[:], h, kr)
	if err != nil {
		return nil, fmt.Errorf("crypt: open: %w", err)
	}
	r := &Reader{src: src, aead: aead, prefix: h.prefix, keyID: h.keyID, cached: -1}
	if err := r.scan(fileSize, h.chunkSize, lenient); err != nil {
		return nil, fmt.Errorf("crypt: open: %w", err)
	}
	if n := len(r.chunks); n > 0 {
		last := r.chunks[n-1]
		r.size = last.plainEnd()
		r.recovered = last.word&flagRecovered != 0
	}
	return r, nil
}

// scan walks the length words. Strict, it wants whole chunks up to a
// final one that ends the file; lenient, it keeps the whole chunks before
// the first torn or malformed one.
func (r *Reader) scan(fileSize int64, chunkSize int, lenient bool) error {
	var wb [lenSize]byte
	off, plain := int64(HeaderSize), int64(0)
	maxSealed := int64(0)
	for off < fileSize {
		idx := len(r.chunks)
		if fileSize-off < lenSize {
			if lenient {
				break
			}
			return fmt.Errorf("chunk %d: %d bytes left for its length word: %w", idx, fileSize-off, ErrTruncated)
		}
		if _, err := r.src.ReadAt(wb[:], off); err != nil {
			return fmt.Errorf("chunk %d: read length: %w", idx, err)
		}
		c := chunkInfo{off: off, plain: plain, word: binary.BigEndian.Uint32(wb[:])}
		var bad string
		switch {
		case c.n() > int64(chunkSize):
			bad = fmt.Sprintf("length %d over the chunk size %d", c.n(), chunkSize)
		case c.word&flagRecovered != 0 && !c.final():
			bad = "recovered flag on a chunk that is not final"
		case c.n() == 0 && !c.final():
			bad = "empty chunk that is not final"
		}
		if bad != "" {
			if lenient {
				break
			}
			return fmt.Errorf("chunk %d at byte %d: %s: %w", idx, off, bad, ErrFormat)
		}
		if c.end() > fileSize {
			if lenient {
				break
			}
			return fmt.Errorf("chunk %d at byte %d: %d of %d bytes: %w", idx, off, fileSize-off, c.sealed(), ErrTruncated)
		}
		r.chunks = append(r.chunks, c)
		maxSealed = max(maxSealed, c.sealed())
		off, plain = c.end(), c.plainEnd()
		if c.final() {
			if off != fileSize {
				return fmt.Errorf("%d bytes after the final chunk: %w", fileSize-off, ErrFormat)
			}
			break
		}
	}
	if !lenient {
		if len(r.chunks) == 0 || !r.chunks[len(r.chunks)-1].final() {
			return fmt.Errorf("no final chunk after %d chunks: %w", len(r.chunks), ErrTruncated)
		}
	}
	// Sized by what the file holds, not by what its header claims.
	r.buf = make([]byte, maxSealed)
	return nil
}

// chunk returns the plaintext of chunk i, decrypting it unless cached.
// The caller holds r.mu or owns r exclusively.
func (r *Reader) chunk(i int) ([]byte, error) {
	if i == r.cached {
		return r.plain, nil
	}
	r.cached = -1
	c := r.chunks[i]
	b := r.buf[:c.sealed()]
	if _, err := r.src.ReadAt(b, c.off); err != nil {
		if errors.Is(err, io.EOF) {
			err = fmt.Errorf("%w (%w)", err, ErrTruncated)
		}
		return nil, fmt.Errorf("crypt: read chunk %d: %w", i, err)
	}
	if binary.BigEndian.Uint32(b) != c.word {
		return nil, fmt.Errorf("crypt: read chunk %d: length word changed since open: %w", i, ErrAuth)
	}
	chunkParams(&r.nonce, &r.ad, r.prefix, uint64(i), c.word)
	pt, err := r.aead.Open(b[lenSize:lenSize], r.nonce[:], b[lenSize:], r.ad[:])
	if err != nil {
		return nil, fmt.Errorf("crypt: chunk %d: changed, moved or cut: %w", i, ErrAuth)
	}
	r.cached, r.plain = i, pt
	return pt, nil
}

// Size returns the plaintext length.
func (r *Reader) Size() int64 { return r.size }

// KeyID returns the id of the KEK that wraps the file's data key.
func (r *Reader) KeyID() string { return r.keyID }

// Recovered reports whether the file was finished by FinishFile after its
// writer died rather than closed by it: its last record may be cut short.
func (r *Reader) Recovered() bool { return r.recovered }

// Chunks returns the number of chunks, the final one included.
func (r *Reader) Chunks() int { return len(r.chunks) }

// ReadAt reads len(p) plaintext bytes from offset off, decrypting the
// chunks that hold them. Like io.ReaderAt it returns io.EOF when fewer
// than len(p) bytes remain; a chunk that fails authentication ends the
// read with an error wrapping ErrAuth.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("crypt: read at %d: negative offset", off)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for n < len(p) {
		if off >= r.size {
			return n, io.EOF
		}
		i := r.find(off)
		pt, err := r.chunk(i)
		if err != nil {
			return n, err
		}
		c := copy(p[n:], pt[off-r.chunks[i].plain:])
		n += c
		off += int64(c)
	}
	return n, nil
}

// find returns the index of the chunk holding plaintext offset off <
// Size: the first whose end is past off. A hand-written search: the
// closure sort.Search takes would allocate on every read.
func (r *Reader) find(off int64) int {
	lo, hi := 0, len(r.chunks)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if r.chunks[m].plainEnd() > off {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// NewReader returns a reader of the whole plaintext from its start, which
// is also an io.Seeker (for http.ServeContent).
func (r *Reader) NewReader() *io.SectionReader { return io.NewSectionReader(r, 0, r.size) }

// Close closes the file OpenFile opened; for a Reader from Open it does
// nothing. It is idempotent.
func (r *Reader) Close() error {
	r.mu.Lock()
	f := r.onClose
	r.onClose = nil
	r.mu.Unlock()
	if f == nil {
		return nil
	}
	return f()
}
