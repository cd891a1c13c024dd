package crypt

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzOpen feeds arbitrary bytes to the header and chunk parser. Open and a
// full read must never panic, and anything they accept must be a file that
// authenticates: with a fixed keyring the fuzzer cannot forge chunks, so an
// accepted input is one of the seeds or a harmless variant of one (the
// same chunks).
func FuzzOpen(f *testing.F) {
	kr := testKeyring(f)
	valid := seal(f, kr, payload(300, 1), 64, 10)
	f.Add(valid)
	f.Add(valid[:HeaderSize])
	f.Add(valid[:len(valid)-1])
	f.Add(seal(f, kr, nil, 16))
	f.Add([]byte("FDEC\x01"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Open(bytes.NewReader(b), int64(len(b)), kr)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrAuth) && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrUnknownKey) {
				t.Fatalf("error wraps none of the package's errors: %v", err)
			}
			return
		}
		got, err := io.ReadAll(r.NewReader())
		if err != nil {
			if !errors.Is(err, ErrAuth) {
				t.Fatalf("read error is not ErrAuth: %v", err)
			}
			return
		}
		if int64(len(got)) != r.Size() {
			t.Fatalf("read %d bytes, Size() = %d", len(got), r.Size())
		}
		// Whatever Open accepts, FinishFile's lenient scan agrees with.
		lr, err := open(bytes.NewReader(b), int64(len(b)), kr, true)
		if err != nil || lr.Size() != r.Size() {
			t.Fatalf("lenient open of an accepted file: size %v, err %v", lr, err)
		}
	})
}
