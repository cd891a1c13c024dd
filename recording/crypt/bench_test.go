package crypt

import (
	"bytes"
	"io"
	"testing"
)

// BenchmarkWrite measures encryption throughput: one second of 8 kHz
// stereo PCM16 (32,000 bytes) per Write, sealed as one chunk per Flush, the
// way a recorder drives it.
func BenchmarkWrite(b *testing.B) {
	kr := testKeyring(b)
	w, err := NewWriter(io.Discard, kr, nil)
	if err != nil {
		b.Fatal(err)
	}
	sec := payload(32_000, 1)
	b.SetBytes(int64(len(sec)))
	b.ReportAllocs()
	for b.Loop() {
		w.Write(sec)
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadAt measures decryption throughput of a sequential read in
// 32 KiB pieces (io.Copy's size) over 64 KiB chunks.
func BenchmarkReadAt(b *testing.B) {
	kr := testKeyring(b)
	data := payload(8<<20, 2)
	file := seal(b, kr, data, 0)
	r, err := Open(bytes.NewReader(file), int64(len(file)), kr)
	if err != nil {
		b.Fatal(err)
	}
	p := make([]byte, 32<<10)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		for off := int64(0); off < r.Size(); off += int64(len(p)) {
			if _, err := r.ReadAt(p, off); err != nil && err != io.EOF {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkOpen measures opening a one-hour 8 kHz stereo file flushed every
// second (3,600 chunks): the scan of the length words.
func BenchmarkOpen(b *testing.B) {
	kr := testKeyring(b)
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, kr, nil)
	sec := make([]byte, 32_000)
	for range 3600 {
		w.Write(sec)
		w.Flush()
	}
	w.Close()
	file := buf.Bytes()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Open(bytes.NewReader(file), int64(len(file)), kr); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(3600, "chunks")
}
