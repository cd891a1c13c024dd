package crypt

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrBusy is wrapped by FinishFile for a file another writer holds open:
// a live recording on this node or another one sharing the directory.
var ErrBusy = errors.New("file is being written")

// CreateFile creates path (it must not exist; mode 0600), takes an
// exclusive advisory lock on it that FinishFile respects, and returns a
// Writer into it. The header is written before CreateFile returns. The
// Writer's Close seals the final chunk, syncs and closes the file; if the
// process dies first, the lock goes with it and FinishFile can recover the
// file.
func CreateFile(path string, kr *Keyring, opts *Options) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("crypt: create: %w", err)
	}
	fail := func(err error) (*Writer, error) {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	if err := lockFile(f); err != nil {
		return fail(fmt.Errorf("crypt: create %s: lock: %w", path, err))
	}
	w, err := NewWriter(f, kr, opts)
	if err != nil {
		return fail(err)
	}
	w.onClose = func() error {
		serr := f.Sync()
		unlockFile(f)
		cerr := f.Close()
		if serr != nil {
			return fmt.Errorf("crypt: close %s: sync: %w", path, serr)
		}
		if cerr != nil {
			return fmt.Errorf("crypt: close %s: %w", path, cerr)
		}
		return nil
	}
	return w, nil
}

// OpenFile opens a finished file for reading, as Open does. Close the
// Reader to close the file.
func OpenFile(path string, kr *Keyring) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("crypt: open: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("crypt: open: %w", err)
	}
	r, err := Open(f, st.Size(), kr)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	r.onClose = f.Close
	return r, nil
}

// FinishFile makes a file whose writer died readable: it keeps the whole,
// authenticated chunks, truncates what follows them (a chunk torn by the
// crash) and appends an empty final chunk flagged recovered. It reports
// whether it changed the file: false with a nil error for a file that is
// already finished. A file locked by a live writer gives an error wrapping
// ErrBusy and is left alone.
func FinishFile(path string, kr *Keyring) (bool, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return false, fmt.Errorf("crypt: finish: %w", err)
	}
	defer f.Close()
	if err := lockFile(f); err != nil {
		return false, fmt.Errorf("crypt: finish %s: %w", path, err)
	}
	defer unlockFile(f)
	st, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("crypt: finish: %w", err)
	}
	r, err := open(f, st.Size(), kr, true)
	if err != nil {
		return false, fmt.Errorf("crypt: finish %s: %w", path, err)
	}
	keep := len(r.chunks)
	if keep > 0 && r.chunks[keep-1].final() {
		if _, err := r.chunk(keep - 1); err != nil {
			return false, fmt.Errorf("crypt: finish %s: %w", path, err)
		}
		return false, nil
	}
	// Walk back over a tail that does not authenticate (a power cut can
	// leave whole-looking chunks of zeros); chunks before it are checked
	// when they are read.
	for keep > 0 {
		if _, err := r.chunk(keep - 1); err == nil {
			break
		}
		keep--
	}
	end := int64(HeaderSize)
	if keep > 0 {
		end = r.chunks[keep-1].end()
	}
	if err := f.Truncate(end); err != nil {
		return false, fmt.Errorf("crypt: finish %s: truncate: %w", path, err)
	}
	var b [lenSize + tagSize]byte
	word := uint32(flagFinal | flagRecovered)
	binary.BigEndian.PutUint32(b[:], word)
	var nonce [12]byte
	var ad [9]byte
	chunkParams(&nonce, &ad, r.prefix, uint64(keep), word)
	r.aead.Seal(b[lenSize:lenSize], nonce[:], nil, ad[:])
	if _, err := f.WriteAt(b[:], end); err != nil {
		return false, fmt.Errorf("crypt: finish %s: write final chunk: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return false, fmt.Errorf("crypt: finish %s: sync: %w", path, err)
	}
	return true, nil
}

// ReadWriterAt is what Rewrap needs of a file.
type ReadWriterAt interface {
	io.ReaderAt
	io.WriterAt
}

// Rewrap moves a file's data key to the keyring's current KEK: it unwraps
// the key with the KEK the header names and writes a new header in place
// (one 122-byte write at offset 0), leaving every chunk untouched. A file
// already on the current KEK is left as is. The file may be live: its
// writer never rewrites the header.
func Rewrap(f ReadWriterAt, kr *Keyring) error {
	var hb [HeaderSize]byte
	if _, err := f.ReadAt(hb[:], 0); err != nil {
		return fmt.Errorf("crypt: rewrap: read header: %w", unexpected(err))
	}
	h, err := parseHeader(hb[:])
	if err != nil {
		return fmt.Errorf("crypt: rewrap: %w", err)
	}
	kek, err := kr.get(h.keyID)
	if err != nil {
		return fmt.Errorf("crypt: rewrap: %w", err)
	}
	dek, err := kek.Open(nil, nil, h.wrapped[:], hb[:offWrapped])
	if err != nil {
		return fmt.Errorf("crypt: rewrap: unwrap with key %q: %w", h.keyID, ErrAuth)
	}
	if kr.Current() == h.keyID {
		return nil
	}
	nh, err := sealHeader(kr, dek, h.prefix, h.chunkSize)
	if err != nil {
		return fmt.Errorf("crypt: rewrap: %w", err)
	}
	if _, err := f.WriteAt(nh[:], 0); err != nil {
		return fmt.Errorf("crypt: rewrap: write header: %w", err)
	}
	return nil
}

// RewrapFile is Rewrap on the file at path, synced before it returns.
func RewrapFile(path string, kr *Keyring) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("crypt: rewrap: %w", err)
	}
	defer f.Close()
	if err := Rewrap(f, kr); err != nil {
		return fmt.Errorf("%w (%s)", err, path)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("crypt: rewrap %s: sync: %w", path, err)
	}
	return f.Close()
}

// Shred crypto-shreds the file at path: it overwrites the header, and
// with it the only copy of the wrapped data key, with random bytes, syncs,
// and removes the file. The chunks left in free blocks or in copies taken
// afterwards cannot be decrypted. Copies taken before (backups) still
// can, for as long as their KEK exists: see the package doc.
func Shred(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("crypt: shred: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("crypt: shred: %w", err)
	}
	noise := make([]byte, min(st.Size(), HeaderSize))
	rand.Read(noise)
	if _, err := f.WriteAt(noise, 0); err != nil {
		return fmt.Errorf("crypt: shred %s: overwrite header: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("crypt: shred %s: sync: %w", path, err)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("crypt: shred: %w", err)
	}
	return nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%w (%w)", io.ErrUnexpectedEOF, ErrFormat)
	}
	return err
}
