package crypt

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// testKeyring returns a keyring with deterministic KEKs "k1" (current)
// and, when more ids are given, those as well.
func testKeyring(t testing.TB, ids ...string) *Keyring {
	t.Helper()
	kr := NewKeyring()
	if len(ids) == 0 {
		ids = []string{"k1"}
	}
	for i, id := range ids {
		if err := kr.Add(id, bytes.Repeat([]byte{byte(i + 1)}, KeySize)); err != nil {
			t.Fatal(err)
		}
	}
	return kr
}

func payload(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// seal encrypts data, flushing after each of the given cut points.
func seal(t testing.TB, kr *Keyring, data []byte, chunkSize int, flushAt ...int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, kr, &Options{ChunkSize: chunkSize})
	if err != nil {
		t.Fatal(err)
	}
	prev := 0
	for _, at := range flushAt {
		if _, err := w.Write(data[prev:at]); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		prev = at
	}
	if _, err := w.Write(data[prev:]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := w.Size(); got != int64(len(data)) {
		t.Errorf("Size() = %d, want %d", got, len(data))
	}
	return buf.Bytes()
}

func openBytes(b []byte, kr *Keyring) (*Reader, error) {
	return Open(bytes.NewReader(b), int64(len(b)), kr)
}

// decrypt opens b and reads all of it.
func decrypt(b []byte, kr *Keyring) ([]byte, error) {
	r, err := openBytes(b, kr)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r.NewReader())
}

func TestRoundTrip(t *testing.T) {
	kr := testKeyring(t)
	tests := []struct {
		name      string
		n, chunk  int
		flushAt   []int
		wantChunk int
	}{
		{"empty", 0, 0, nil, 1},
		{"one byte", 1, 0, nil, 1},
		{"exactly one chunk", 64, 64, nil, 1},
		{"two full chunks", 128, 64, nil, 2},
		{"many chunks and a tail", 1000, 64, nil, 16},
		{"flushes", 1000, 64, []int{10, 11, 300, 301}, 19},
		{"flush at a chunk boundary", 128, 64, []int{64}, 2},
		{"default chunk size", 200_000, 0, []int{32_000, 64_000}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := payload(tt.n, uint64(tt.n))
			file := seal(t, kr, data, tt.chunk, tt.flushAt...)
			r, err := openBytes(file, kr)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Chunks(); got != tt.wantChunk {
				t.Errorf("Chunks() = %d, want %d", got, tt.wantChunk)
			}
			if r.Size() != int64(len(data)) || r.KeyID() != "k1" || r.Recovered() {
				t.Errorf("Size, KeyID, Recovered = %d, %q, %v; want %d, k1, false", r.Size(), r.KeyID(), r.Recovered(), len(data))
			}
			got, err := io.ReadAll(r.NewReader())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("decrypted %d bytes differ from the %d written", len(got), len(data))
			}
			if bytes.Contains(file, data[:min(len(data), 32)]) && len(data) >= 16 {
				t.Error("plaintext appears in the file")
			}
		})
	}
}

func TestRandomAccessEqualsSequential(t *testing.T) {
	kr := testKeyring(t)
	data := payload(10_000, 7)
	file := seal(t, kr, data, 100, 33, 34, 950, 5001)
	r, err := openBytes(file, kr)
	if err != nil {
		t.Fatal(err)
	}
	seq, err := io.ReadAll(r.NewReader())
	if err != nil || !bytes.Equal(seq, data) {
		t.Fatalf("sequential read: equal=%v, err=%v", bytes.Equal(seq, data), err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var wg sync.WaitGroup
	for g := range 4 { // in parallel, as io.ReaderAt allows
		seed := rng.Uint64()
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(g)))
			for range 300 {
				off := rng.IntN(len(data) + 10)
				p := make([]byte, rng.IntN(400))
				n, err := r.ReadAt(p, int64(off))
				want := data[min(off, len(data)):min(off+len(p), len(data))]
				if n != len(want) || !bytes.Equal(p[:n], want) {
					t.Errorf("ReadAt(%d bytes, %d) = %d bytes, want %d equal to the sequential read", len(p), off, n, len(want))
					return
				}
				if wantEOF := off+len(p) > len(data); wantEOF != (err == io.EOF) || (!wantEOF && err != nil) {
					t.Errorf("ReadAt(%d bytes, %d) err = %v, want EOF %v", len(p), off, err, wantEOF)
					return
				}
			}
		})
	}
	wg.Wait()
	if _, err := r.ReadAt(make([]byte, 1), -1); err == nil {
		t.Error("ReadAt at -1: no error")
	}
}

func TestWrongAndUnknownKey(t *testing.T) {
	file := seal(t, testKeyring(t), payload(100, 1), 32)

	wrong := NewKeyring()
	if err := wrong.Add("k1", bytes.Repeat([]byte{9}, KeySize)); err != nil {
		t.Fatal(err)
	}
	if _, err := openBytes(file, wrong); !errors.Is(err, ErrAuth) {
		t.Errorf("open with the wrong KEK: err = %v, want ErrAuth", err)
	}
	other := testKeyring(t, "k2")
	if _, err := openBytes(file, other); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("open with a keyring lacking k1: err = %v, want ErrUnknownKey", err)
	}
	if _, err := NewWriter(io.Discard, NewKeyring(), nil); !errors.Is(err, ErrNoCurrentKey) {
		t.Errorf("NewWriter with an empty keyring: err = %v, want ErrNoCurrentKey", err)
	}
}

// TestEveryByteFlipFails flips each byte of a small file in turn: opening
// and reading all of it must fail every time, never return changed data.
func TestEveryByteFlipFails(t *testing.T) {
	kr := testKeyring(t)
	data := payload(90, 3)
	file := seal(t, kr, data, 32, 40)
	for i := range file {
		for _, mask := range []byte{0x01, 0x80} {
			bad := bytes.Clone(file)
			bad[i] ^= mask
			got, err := decrypt(bad, kr)
			if err == nil {
				t.Fatalf("byte %d ^ %#x: read %d bytes without error (equal: %v)", i, mask, len(got), bytes.Equal(got, data))
			}
		}
	}
}

// chunkOffsets returns the file offsets of the chunks of file.
func chunkOffsets(t *testing.T, file []byte, kr *Keyring) []chunkInfo {
	t.Helper()
	r, err := openBytes(file, kr)
	if err != nil {
		t.Fatal(err)
	}
	return r.chunks
}

func TestTamper(t *testing.T) {
	kr := testKeyring(t)
	data := payload(64*4+10, 4)
	file := seal(t, kr, data, 64)
	cs := chunkOffsets(t, file, kr)
	if len(cs) != 5 {
		t.Fatalf("%d chunks, want 5", len(cs))
	}
	span := func(i int) []byte { return file[cs[i].off:cs[i].end()] }

	swapped := bytes.Clone(file[:cs[1].off])
	swapped = append(swapped, span(2)...)
	swapped = append(swapped, span(1)...)
	swapped = append(swapped, file[cs[3].off:]...)

	dupe := bytes.Clone(file[:cs[2].off])
	dupe = append(dupe, span(1)...) // chunk 1 again in place of chunk 2
	dupe = append(dupe, file[cs[3].off:]...)

	dropped := bytes.Clone(file[:cs[1].off])
	dropped = append(dropped, file[cs[2].off:]...)

	// A file cut after chunk 2 whose chunk 2 claims to be final.
	fakeFinal := bytes.Clone(file[:cs[3].off])
	fakeFinal[cs[2].off] |= 0x80

	otherFile := seal(t, kr, payload(64*4+10, 5), 64)
	ocs := chunkOffsets(t, otherFile, kr)
	spliced := bytes.Clone(file)
	copy(spliced[cs[1].off:], otherFile[ocs[1].off:ocs[1].end()])

	tests := []struct {
		name string
		file []byte
		want error
	}{
		{"chunks 1 and 2 swapped", swapped, ErrAuth},
		{"chunk 1 duplicated over chunk 2", dupe, ErrAuth},
		{"chunk 1 dropped", dropped, ErrAuth},
		{"cut after chunk 2, flagged final", fakeFinal, ErrAuth},
		{"chunk from another file", spliced, ErrAuth},
		{"cut mid-chunk", file[:cs[2].off+10], ErrTruncated},
		{"cut inside a length word", file[:cs[2].off+2], ErrTruncated},
		{"cut at a chunk boundary, no final", file[:cs[3].off], ErrTruncated},
		{"header only", file[:HeaderSize], ErrTruncated},
		{"half a header", file[:HeaderSize/2], ErrTruncated},
		{"bytes after the final chunk", append(bytes.Clone(file), 0), ErrFormat},
		{"empty", nil, ErrFormat},
		{"not ours", []byte("RIFF....WAVEfmt " + string(make([]byte, 200))), ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decrypt(tt.file, kr)
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v (read %d bytes), want %v", err, len(got), tt.want)
			}
		})
	}
}

func TestRotateAndRewrap(t *testing.T) {
	kr := testKeyring(t, "2025-01", "2026-01")
	if kr.Current() != "2025-01" {
		t.Fatalf("Current() = %q, want the first key added", kr.Current())
	}
	dir := t.TempDir()
	oldPath := filepath.Join(dir, "old")
	data := payload(5000, 6)
	writeFile(t, oldPath, kr, data)

	if err := kr.SetCurrent("2026-01"); err != nil {
		t.Fatal(err)
	}
	newPath := filepath.Join(dir, "new")
	writeFile(t, newPath, kr, data)
	for _, p := range []string{oldPath, newPath} {
		if got := readFile(t, p, kr); !bytes.Equal(got, data) {
			t.Errorf("%s: read back differs", p)
		}
	}
	if id := keyIDOf(t, oldPath, kr); id != "2025-01" {
		t.Errorf("old file key id = %q, want 2025-01", id)
	}

	before, _ := os.ReadFile(oldPath)
	if err := RewrapFile(oldPath, kr); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(oldPath)
	if !bytes.Equal(before[HeaderSize:], after[HeaderSize:]) || len(before) != len(after) {
		t.Error("Rewrap changed the chunks")
	}
	if bytes.Equal(before[:HeaderSize], after[:HeaderSize]) {
		t.Error("Rewrap left the header as it was")
	}
	kr.Remove("2025-01")
	if got := readFile(t, oldPath, kr); !bytes.Equal(got, data) {
		t.Error("rewrapped file does not read with only the new KEK")
	}
	if id := keyIDOf(t, oldPath, kr); id != "2026-01" {
		t.Errorf("rewrapped key id = %q, want 2026-01", id)
	}
	if err := RewrapFile(oldPath, kr); err != nil {
		t.Errorf("rewrap of a file already on the current key: %v", err)
	}
	again, _ := os.ReadFile(oldPath)
	if !bytes.Equal(again, after) {
		t.Error("rewrap to the same key rewrote the header")
	}

	// Without its KEK a file stays shut, and Rewrap says why.
	kr2 := testKeyring(t, "other")
	if err := RewrapFile(newPath, kr2); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("rewrap without the file's KEK: err = %v, want ErrUnknownKey", err)
	}
}

func writeFile(t *testing.T, path string, kr *Keyring, data []byte) {
	t.Helper()
	w, err := CreateFile(path, kr, &Options{ChunkSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string, kr *Keyring) []byte {
	t.Helper()
	r, err := OpenFile(path, kr)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r.NewReader())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func keyIDOf(t *testing.T, path string, kr *Keyring) string {
	t.Helper()
	r, err := OpenFile(path, kr)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return r.KeyID()
}

func TestFinishFile(t *testing.T) {
	kr := testKeyring(t)
	data := payload(3000, 8)
	tests := []struct {
		name string
		// tail changes the file a dead writer left
		tail func(b []byte) []byte
		want int // plaintext bytes that survive
	}{
		{"cut at a chunk boundary", func(b []byte) []byte { return b }, 2000},
		{"torn chunk", func(b []byte) []byte { return append(b, 0, 0, 1, 0, 9, 9, 9) }, 2000},
		{"torn length word", func(b []byte) []byte { return append(b, 0, 0) }, 2000},
		{"zeros after a power cut", func(b []byte) []byte { return append(b, make([]byte, 700)...) }, 2000},
		{"whole-looking chunk of noise", func(b []byte) []byte {
			return append(append(b, 0, 0, 0, 100), payload(116, 9)...)
		}, 2000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			w, err := CreateFile(path, kr, &Options{ChunkSize: 1000})
			if err != nil {
				t.Fatal(err)
			}
			w.Write(data[:2000])
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			w.Write(data[2000:]) // buffered, lost with the writer
			if _, err := FinishFile(path, kr); !errors.Is(err, ErrBusy) {
				t.Errorf("FinishFile while the writer holds the file: err = %v, want ErrBusy", err)
			}
			unlockFile(w.dst.(*os.File)) // the writer "dies": its lock goes
			b, _ := os.ReadFile(path)
			if err := os.WriteFile(path, tt.tail(b), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := OpenFile(path, kr); !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrFormat) {
				t.Errorf("open before finishing: err = %v, want ErrTruncated or ErrFormat", err)
			}
			changed, err := FinishFile(path, kr)
			if err != nil || !changed {
				t.Fatalf("FinishFile = %v, %v; want true, nil", changed, err)
			}
			r, err := OpenFile(path, kr)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got, err := io.ReadAll(r.NewReader())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data[:tt.want]) || !r.Recovered() {
				t.Errorf("after finishing: %d bytes (equal %v), recovered %v; want the first %d, true", len(got), bytes.Equal(got, data[:len(got)]), r.Recovered(), tt.want)
			}
			if changed, err := FinishFile(path, kr); changed || err != nil {
				t.Errorf("second FinishFile = %v, %v; want false, nil", changed, err)
			}
		})
	}
}

func TestFinishFinishedAndBroken(t *testing.T) {
	kr := testKeyring(t)
	dir := t.TempDir()
	done := filepath.Join(dir, "done")
	writeFile(t, done, kr, payload(100, 1))
	before, _ := os.ReadFile(done)
	if changed, err := FinishFile(done, kr); changed || err != nil {
		t.Errorf("FinishFile on a closed file = %v, %v; want false, nil", changed, err)
	}
	if after, _ := os.ReadFile(done); !bytes.Equal(before, after) {
		t.Error("FinishFile changed a finished file")
	}
	torn := filepath.Join(dir, "torn-header")
	os.WriteFile(torn, before[:50], 0o600)
	if _, err := FinishFile(torn, kr); !errors.Is(err, ErrFormat) {
		t.Errorf("FinishFile on a torn header: err = %v, want ErrFormat", err)
	}
	if _, err := FinishFile(filepath.Join(dir, "missing"), kr); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("FinishFile on a missing file: err = %v, want ErrNotExist", err)
	}
	if _, err := CreateFile(done, kr, nil); !errors.Is(err, os.ErrExist) {
		t.Errorf("CreateFile over an existing file: err = %v, want ErrExist", err)
	}
}

func TestShred(t *testing.T) {
	kr := testKeyring(t)
	path := filepath.Join(t.TempDir(), "f")
	writeFile(t, path, kr, payload(100, 1))
	if err := Shred(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Shred: stat err = %v, want ErrNotExist", err)
	}
	if err := Shred(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Shred of a missing file: err = %v, want ErrNotExist", err)
	}
}

type failWriter struct{ after int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errors.New("disk full")
	}
	f.after--
	return len(p), nil
}

func TestWriterErrors(t *testing.T) {
	kr := testKeyring(t)
	if _, err := NewWriter(io.Discard, kr, &Options{ChunkSize: 8}); err == nil {
		t.Error("chunk size 8: no error")
	}
	if _, err := NewWriter(&failWriter{}, kr, nil); err == nil {
		t.Error("header write failure: no error")
	}
	w, err := NewWriter(&failWriter{after: 1}, kr, &Options{ChunkSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]byte, 40)); err == nil {
		t.Fatal("chunk write failure: no error")
	}
	if _, err := w.Write([]byte{1}); err == nil || err.Error() != "crypt: write chunk 0: disk full" {
		t.Errorf("write after a failure: err = %v, want the sticky chunk 0 error", err)
	}
	if err := w.Close(); err == nil {
		t.Error("Close after a failure: no error")
	}
	if _, err := w.Write([]byte{1}); !errors.Is(err, ErrClosed) {
		t.Errorf("write after Close: err = %v, want ErrClosed", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}

func TestKeyring(t *testing.T) {
	kr := NewKeyring()
	key := NewKey()
	if len(key) != KeySize || bytes.Equal(key, NewKey()) {
		t.Fatal("NewKey: wrong length or not random")
	}
	bad := []struct {
		id  string
		key []byte
	}{
		{"", key}, {"a/b", key}, {"../x", key}, {string(make([]byte, 49)), key}, {"k", key[:16]}, {"k\x00", key},
	}
	for _, b := range bad {
		if err := kr.Add(b.id, b.key); err == nil {
			t.Errorf("Add(%q, %d bytes): no error", b.id, len(b.key))
		}
	}
	if err := kr.Add("a", key); err != nil {
		t.Fatal(err)
	}
	if err := kr.Add("a", NewKey()); err == nil {
		t.Error("Add of a duplicate id: no error")
	}
	if err := kr.SetCurrent("b"); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("SetCurrent(unknown) = %v, want ErrUnknownKey", err)
	}
	kr.Add("b", NewKey())
	if got := kr.IDs(); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("IDs() = %v, want [a b]", got)
	}
	kr.Remove("a")
	if kr.Current() != "" {
		t.Errorf("Current() after removing it = %q, want empty", kr.Current())
	}
}
