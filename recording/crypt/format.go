package crypt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
)

// Format constants; the package doc describes the layout.
const (
	// HeaderSize is the length of a file's header.
	HeaderSize = 122
	// Overhead is what a chunk adds to its plaintext: length word and tag.
	Overhead = lenSize + tagSize
	// DefaultChunkSize is the chunk size of a Writer given none: 64 KiB
	// holds two seconds of 8 kHz stereo PCM16, so a recorder that flushes
	// every second seals on flush, not on size.
	DefaultChunkSize = 64 << 10
	// MinChunkSize and MaxChunkSize bound the chunk size a header may
	// declare.
	MinChunkSize = 16
	MaxChunkSize = 16 << 20

	version      = 1
	lenSize      = 4
	tagSize      = 16
	prefixSize   = 4
	wrappedSize  = 12 + KeySize + 16
	offIDLen     = 5
	offID        = 6
	offPrefix    = offID + MaxKeyIDLen
	offChunkSize = offPrefix + prefixSize
	offWrapped   = offChunkSize + 4

	flagFinal     = 1 << 31
	flagRecovered = 1 << 30
	lenMask       = 1<<30 - 1
	recoveredCtr  = 1 << 63
)

var magic = [4]byte{'F', 'D', 'E', 'C'}

var (
	// ErrFormat is wrapped for input that is not a file of this format or
	// breaks its rules (bad magic, version, lengths, flags).
	ErrFormat = errors.New("malformed encrypted file")
	// ErrAuth is wrapped when authentication fails: a wrong KEK, or a
	// header or chunk that was changed, swapped or cut.
	ErrAuth = errors.New("authentication failed")
	// ErrTruncated is wrapped for a file that ends inside a chunk or
	// without a final chunk: cut short, or never finished (see FinishFile).
	ErrTruncated = errors.New("file truncated")
)

// header is a parsed header.
type header struct {
	keyID     string
	prefix    [prefixSize]byte
	chunkSize int
	wrapped   [wrappedSize]byte
}

// sealHeader wraps dek under the keyring's current KEK and returns the
// header bytes.
func sealHeader(kr *Keyring, dek []byte, prefix [prefixSize]byte, chunkSize int) ([HeaderSize]byte, error) {
	var h [HeaderSize]byte
	id, kek, err := kr.currentKey()
	if err != nil {
		return h, err
	}
	copy(h[:], magic[:])
	h[4] = version
	h[offIDLen] = byte(len(id))
	copy(h[offID:], id)
	copy(h[offPrefix:], prefix[:])
	binary.BigEndian.PutUint32(h[offChunkSize:], uint32(chunkSize))
	w := kek.Seal(nil, nil, dek, h[:offWrapped])
	if len(w) != wrappedSize {
		return h, fmt.Errorf("wrapped key is %d bytes, want %d", len(w), wrappedSize)
	}
	copy(h[offWrapped:], w)
	return h, nil
}

// parseHeader checks the header's layout; it does not unwrap.
func parseHeader(b []byte) (*header, error) {
	if len(b) < HeaderSize {
		return nil, fmt.Errorf("header: %d bytes, want %d: %w (%w)", len(b), HeaderSize, ErrFormat, ErrTruncated)
	}
	if !bytes.Equal(b[:4], magic[:]) {
		return nil, fmt.Errorf("header: magic %q: %w", b[:4], ErrFormat)
	}
	if b[4] != version {
		return nil, fmt.Errorf("header: version %d, want %d: %w", b[4], version, ErrFormat)
	}
	n := int(b[offIDLen])
	if n < 1 || n > MaxKeyIDLen {
		return nil, fmt.Errorf("header: key id length %d: %w", n, ErrFormat)
	}
	id := string(b[offID : offID+n])
	if ValidKeyID(id) != nil {
		return nil, fmt.Errorf("header: key id %q: %w", id, ErrFormat)
	}
	for _, c := range b[offID+n : offPrefix] {
		if c != 0 {
			return nil, fmt.Errorf("header: key id padding not zero: %w", ErrFormat)
		}
	}
	h := &header{keyID: id, chunkSize: int(binary.BigEndian.Uint32(b[offChunkSize:]))}
	if h.chunkSize < MinChunkSize || h.chunkSize > MaxChunkSize {
		return nil, fmt.Errorf("header: chunk size %d, want %d..%d: %w", h.chunkSize, MinChunkSize, MaxChunkSize, ErrFormat)
	}
	copy(h.prefix[:], b[offPrefix:])
	copy(h.wrapped[:], b[offWrapped:HeaderSize])
	return h, nil
}

// unwrap returns the file's chunk cipher, authenticating the header's
// first 62 bytes with the wrapped key.
func unwrap(b []byte, h *header, kr *Keyring) (cipher.AEAD, error) {
	kek, err := kr.get(h.keyID)
	if err != nil {
		return nil, err
	}
	dek, err := kek.Open(nil, nil, h.wrapped[:], b[:offWrapped])
	if err != nil {
		return nil, fmt.Errorf("unwrap data key with key %q: wrong key or changed header: %w", h.keyID, ErrAuth)
	}
	return newDataAEAD(dek)
}

func newDataAEAD(dek []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(dek)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// newDEK returns a fresh data key and nonce prefix.
func newDEK() ([]byte, [prefixSize]byte) {
	dek := make([]byte, KeySize)
	rand.Read(dek)
	var p [prefixSize]byte
	rand.Read(p[:])
	return dek, p
}

// chunkParams fills nonce and additional data for chunk index i with the
// flags of its length word.
func chunkParams(nonce *[12]byte, ad *[9]byte, prefix [prefixSize]byte, i uint64, word uint32) {
	ctr := i
	if word&flagRecovered != 0 {
		ctr |= recoveredCtr
	}
	copy(nonce[:], prefix[:])
	binary.BigEndian.PutUint64(nonce[4:], ctr)
	binary.BigEndian.PutUint64(ad[:], i)
	ad[8] = byte(word >> 24)
}
