package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// wavChunk encodes one RIFF chunk, padded to an even length.
func wavChunk(id string, payload []byte) []byte {
	b := append([]byte(id), binary.LittleEndian.AppendUint32(nil, uint32(len(payload)))...)
	b = append(b, payload...)
	if len(payload)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// wavChunkSized is wavChunk with a size field that may lie.
func wavChunkSized(id string, size uint32, payload []byte) []byte {
	b := append([]byte(id), binary.LittleEndian.AppendUint32(nil, size)...)
	return append(b, payload...)
}

func riff(chunks ...[]byte) []byte {
	body := []byte("WAVE")
	for _, c := range chunks {
		body = append(body, c...)
	}
	return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...), body...)
}

// fmtChunk builds a fmt payload; extensible wraps tag in WAVE_FORMAT_EXTENSIBLE.
func fmtChunk(tag uint16, channels, rate, bits int, extensible bool) []byte {
	le := binary.LittleEndian
	outer := tag
	if extensible {
		outer = wavExtensible
	}
	b := le.AppendUint16(nil, outer)
	b = le.AppendUint16(b, uint16(channels))
	b = le.AppendUint32(b, uint32(rate))
	b = le.AppendUint32(b, uint32(rate*channels*bits/8))
	b = le.AppendUint16(b, uint16(channels*bits/8))
	b = le.AppendUint16(b, uint16(bits))
	if extensible {
		b = le.AppendUint16(b, 22)
		b = le.AppendUint16(b, uint16(bits))
		b = le.AppendUint32(b, 3) // front left, front right
		b = le.AppendUint16(b, tag)
		b = append(b, wavSubFormatTail[:]...)
	}
	return wavChunk("fmt ", b)
}

func pcm16Bytes(s []int16) []byte {
	var b []byte
	for _, v := range s {
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	return b
}

func TestWAVRoundTrip(t *testing.T) {
	for _, a := range []*Audio{
		{Rate: 8000, Channels: 1, Samples: Sine(8000, 440, 100*time.Millisecond, 0.5)},
		{Rate: 16000, Channels: 2, Samples: Interleave(nil, Sine(16000, 300, 30*time.Millisecond, 1), Sine(16000, 900, 30*time.Millisecond, -1))},
		{Rate: 48000, Channels: 2, Samples: nil},
		{Rate: 8000, Channels: 1, Samples: allInt16()}, // several write buffers; every value
	} {
		var buf bytes.Buffer
		if err := WriteWAV(&buf, a); err != nil {
			t.Fatal(err)
		}
		if want := WAVHeaderSize + 2*len(a.Samples); buf.Len() != want {
			t.Errorf("wrote %d bytes, want %d", buf.Len(), want)
		}
		got, err := ReadWAV(&buf)
		if err != nil {
			t.Fatalf("read back %d Hz × %d: %v", a.Rate, a.Channels, err)
		}
		if got.Rate != a.Rate || got.Channels != a.Channels {
			t.Errorf("read back %d Hz × %d, want %d Hz × %d", got.Rate, got.Channels, a.Rate, a.Channels)
		}
		if err := sameSamples(got.Samples, a.Samples); err != nil {
			t.Errorf("%d Hz × %d: %v", a.Rate, a.Channels, err)
		}
	}
}

func TestReadWAVEncodings(t *testing.T) {
	codes := []byte{0x00, 0x7F, 0x80, 0xFF, 0x55, 0xD5, 0x13}
	ulaw := make([]int16, len(codes))
	alaw := make([]int16, len(codes))
	DecodeUlaw(ulaw, codes)
	DecodeAlaw(alaw, codes)
	pcm := []int16{0, 1, -1, 32767, -32768, 1000}
	tests := []struct {
		name     string
		file     []byte
		rate     int
		channels int
		want     []int16
	}{
		{"pcm16 mono", riff(fmtChunk(wavPCM, 1, 8000, 16, false), wavChunk("data", pcm16Bytes(pcm))), 8000, 1, pcm},
		{"pcm16 stereo", riff(fmtChunk(wavPCM, 2, 16000, 16, false), wavChunk("data", pcm16Bytes(pcm))), 16000, 2, pcm},
		{"pcm8", riff(fmtChunk(wavPCM, 1, 8000, 8, false), wavChunk("data", []byte{0, 128, 255, 127, 129})), 8000, 1,
			[]int16{-32768, 0, 32512, -256, 256}},
		{"mu-law (7)", riff(fmtChunk(wavMuLaw, 1, 8000, 8, false), wavChunk("data", codes)), 8000, 1, ulaw},
		{"a-law (6)", riff(fmtChunk(wavALaw, 1, 8000, 8, false), wavChunk("data", codes)), 8000, 1, alaw},
		{"mu-law stereo", riff(fmtChunk(wavMuLaw, 2, 8000, 8, false), wavChunk("data", codes[:6])), 8000, 2, ulaw[:6]},
		{"extensible pcm16", riff(fmtChunk(wavPCM, 2, 48000, 16, true), wavChunk("data", pcm16Bytes(pcm))), 48000, 2, pcm},
		{"extensible mu-law", riff(fmtChunk(wavMuLaw, 1, 8000, 8, true), wavChunk("data", codes)), 8000, 1, ulaw},
		{"odd unknown chunks", riff(wavChunk("junk", []byte{1, 2, 3}), fmtChunk(wavPCM, 1, 8000, 16, false),
			wavChunk("LIST", []byte("INFOISFT\x05\x00\x00\x00sox!\x00")), wavChunk("fact", []byte{6, 0, 0, 0}),
			wavChunk("data", pcm16Bytes(pcm))), 8000, 1, pcm},
		{"odd data then trailing chunk", riff(fmtChunk(wavPCM, 1, 8000, 8, false), wavChunk("data", []byte{1, 2, 3}),
			wavChunk("LIST", []byte("xxxx"))), 8000, 1, []int16{-127 << 8, -126 << 8, -125 << 8}},
		{"data size 0: read to EOF", riff(fmtChunk(wavPCM, 1, 8000, 16, false), wavChunkSized("data", 0, pcm16Bytes(pcm))), 8000, 1, pcm},
		{"data size 0xFFFFFFFF: read to EOF", riff(fmtChunk(wavPCM, 1, 8000, 16, false), wavChunkSized("data", 0xFFFFFFFF, pcm16Bytes(pcm))), 8000, 1, pcm},
		{"crashed: partial frame dropped", riff(fmtChunk(wavPCM, 2, 8000, 16, false), wavChunkSized("data", 0, pcm16Bytes(pcm)[:11])), 8000, 2, pcm[:4]},
		{"empty data", riff(fmtChunk(wavPCM, 1, 8000, 16, false), wavChunk("data", nil)), 8000, 1, nil},
	}
	for _, tc := range tests {
		a, err := ReadWAV(bytes.NewReader(tc.file))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if a.Rate != tc.rate || a.Channels != tc.channels {
			t.Errorf("%s: got %d Hz × %d, want %d Hz × %d", tc.name, a.Rate, a.Channels, tc.rate, tc.channels)
		}
		if err := sameSamples(a.Samples, tc.want); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestReadWAVErrors(t *testing.T) {
	pcm := pcm16Bytes([]int16{1, 2, 3, 4})
	good := fmtChunk(wavPCM, 1, 8000, 16, false)
	badGUID := fmtChunk(wavPCM, 1, 8000, 16, true)
	badGUID[len(badGUID)-1] ^= 0xFF
	tests := []struct {
		name string
		file []byte
		want error
	}{
		{"empty", nil, ErrNotWAV},
		{"short header", []byte("RIFF\x00"), io.ErrUnexpectedEOF},
		{"text", []byte("hello, this is not a wave file at all"), ErrNotWAV},
		{"RIFX big endian", append([]byte("RIFX\x00\x00\x00\x00WAVE"), good...), ErrNotWAV},
		{"AVI", []byte("RIFF\x00\x00\x00\x00AVI LIST"), ErrNotWAV},
		{"no chunks", riff(), io.ErrUnexpectedEOF},
		{"no data chunk", riff(good), io.ErrUnexpectedEOF},
		{"data before fmt", riff(wavChunk("data", pcm), good), ErrUnsupportedWAV},
		{"truncated data", riff(good, wavChunkSized("data", 100, pcm)), io.ErrUnexpectedEOF},
		{"huge claimed data", riff(good, wavChunkSized("data", 0x7FFFFFF0, pcm)), io.ErrUnexpectedEOF},
		{"truncated fmt", riff(wavChunkSized("fmt ", 16, good[8:16])), io.ErrUnexpectedEOF},
		{"fmt too short", riff(wavChunk("fmt ", good[8:20])), ErrUnsupportedWAV},
		{"truncated unknown chunk", riff(wavChunkSized("LIST", 1000, []byte("abc"))), io.ErrUnexpectedEOF},
		{"truncated chunk header", riff(good, []byte("da")), io.ErrUnexpectedEOF},
		{"24-bit", riff(fmtChunk(wavPCM, 1, 8000, 24, false), wavChunk("data", pcm[:6])), ErrUnsupportedWAV},
		{"float", riff(fmtChunk(3, 1, 8000, 32, false), wavChunk("data", pcm)), ErrUnsupportedWAV},
		{"16-bit mu-law", riff(fmtChunk(wavMuLaw, 1, 8000, 16, false), wavChunk("data", pcm)), ErrUnsupportedWAV},
		{"3 channels", riff(fmtChunk(wavPCM, 3, 8000, 16, false), wavChunk("data", pcm[:6])), ErrUnsupportedWAV},
		{"0 channels", riff(fmtChunk(wavPCM, 0, 8000, 16, false), wavChunk("data", pcm)), ErrUnsupportedWAV},
		{"rate 0", riff(fmtChunk(wavPCM, 1, 0, 16, false), wavChunk("data", pcm)), ErrUnsupportedWAV},
		{"extensible unknown GUID", riff(badGUID, wavChunk("data", pcm)), ErrUnsupportedWAV},
		{"extensible without extension", riff(wavChunk("fmt ", append(binary.LittleEndian.AppendUint16(nil, wavExtensible), good[10:24]...)), wavChunk("data", pcm)), ErrUnsupportedWAV},
	}
	for _, tc := range tests {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		a, err := ReadWAV(bytes.NewReader(tc.file))
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Errorf("%s: got %d Hz × %d, %d samples; want an error", tc.name, a.Rate, a.Channels, len(a.Samples))
			continue
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: error %q does not wrap %q", tc.name, err, tc.want)
		}
		// The header's claimed sizes must not drive allocation.
		if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
			t.Errorf("%s: allocated %d bytes for a %d-byte file", tc.name, n, len(tc.file))
		}
	}
}

// errReader fails after yielding its data.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		return n, e.err
	}
	return n, err
}

func TestReadWAVReaderError(t *testing.T) {
	boom := errors.New("disk on fire")
	var buf bytes.Buffer
	if err := WriteWAV(&buf, &Audio{Rate: 8000, Channels: 1, Samples: make([]int16, 100)}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 5, 20, 44, 100} {
		_, err := ReadWAV(&errReader{bytes.NewReader(buf.Bytes()[:n]), boom})
		if !errors.Is(err, boom) {
			t.Errorf("reader failing after %d bytes: got %v, want it wrapped", n, err)
		}
	}
}

type failWriter struct{ after int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after < len(p) {
		return 0, errors.New("disk full")
	}
	f.after -= len(p)
	return len(p), nil
}

func TestWriteWAVErrors(t *testing.T) {
	for _, a := range []*Audio{
		nil,
		{Rate: 8000, Channels: 0},
		{Rate: 8000, Channels: 3, Samples: make([]int16, 3)},
		{Rate: 0, Channels: 1},
		{Rate: 8000, Channels: 2, Samples: make([]int16, 3)},
	} {
		if err := WriteWAV(io.Discard, a); err == nil {
			t.Errorf("WriteWAV(%+v) succeeded, want an error", a)
		}
	}
	a := &Audio{Rate: 8000, Channels: 1, Samples: make([]int16, 10000)}
	for _, after := range []int{0, 44, 5000} {
		if err := WriteWAV(&failWriter{after: after}, a); err == nil {
			t.Errorf("writer failing after %d bytes: WriteWAV succeeded", after)
		}
	}
}

func TestAppendWAVHeader(t *testing.T) {
	hdr, err := AppendWAVHeader(nil, 16000, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(hdr) != WAVHeaderSize {
		t.Fatalf("header is %d bytes, want %d", len(hdr), WAVHeaderSize)
	}
	// A recorder that died before patching the sizes: still readable.
	samples := []int16{1, -1, 2, -2, 3, -3}
	a, err := ReadWAV(bytes.NewReader(append(hdr, pcm16Bytes(samples)...)))
	if err != nil {
		t.Fatal(err)
	}
	if a.Rate != 16000 || a.Channels != 2 || a.Frames() != 3 || a.Duration() != 187500*time.Nanosecond {
		t.Errorf("got %d Hz × %d, %d frames, %v", a.Rate, a.Channels, a.Frames(), a.Duration())
	}
	if err := sameSamples(a.Samples, samples); err != nil {
		t.Error(err)
	}
	if _, err := AppendWAVHeader(nil, 16000, 5, 0); err == nil {
		t.Error("5 channels: want an error")
	}
}

// TestWAVInteropSox: files sox writes read back as the samples sox decodes
// them to, and sox reads what WriteWAV writes.
func TestWAVInteropSox(t *testing.T) {
	sox, err := exec.LookPath("sox")
	if err != nil {
		t.Fatalf("sox is required (apt-get install sox): %v", err)
	}
	dir := t.TempDir()
	soxRun := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(sox, append([]string{"-D", "-V1"}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("sox %v: %v\n%s", args, err, out)
		}
	}
	readFile := func(name string) *Audio {
		t.Helper()
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		a, err := ReadWAV(f)
		if err != nil {
			t.Fatalf("ReadWAV(%s): %v", filepath.Base(name), err)
		}
		return a
	}
	stereo := Interleave(nil, Sine(8000, 440, 200*time.Millisecond, 0.7), Sine(8000, 1900, 200*time.Millisecond, 0.2))
	ours := filepath.Join(dir, "ours.wav")
	var buf bytes.Buffer
	if err := WriteWAV(&buf, &Audio{Rate: 8000, Channels: 2, Samples: stereo}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ours, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	// sox reads our file and re-encodes it; decoding its output with sox
	// must give what our codec gives.
	for _, enc := range []struct {
		args   []string
		decode func([]int16) []int16
	}{
		{[]string{"-e", "signed", "-b", "16"}, func(s []int16) []int16 { return s }},
		{[]string{"-e", "u-law"}, func(s []int16) []int16 {
			b := make([]byte, len(s))
			EncodeUlaw(b, s)
			out := make([]int16, len(b))
			DecodeUlaw(out, b)
			return out
		}},
		{[]string{"-e", "a-law"}, func(s []int16) []int16 {
			b := make([]byte, len(s))
			EncodeAlaw(b, s)
			out := make([]int16, len(b))
			DecodeAlaw(out, b)
			return out
		}},
		{[]string{"-e", "unsigned", "-b", "8"}, nil},
	} {
		name := filepath.Join(dir, "sox.wav")
		soxRun(append(append([]string{ours}, enc.args...), name)...)
		a := readFile(name)
		if a.Rate != 8000 || a.Channels != 2 {
			t.Errorf("sox %v: got %d Hz × %d, want 8000 Hz × 2", enc.args, a.Rate, a.Channels)
		}
		if enc.decode != nil {
			if err := sameSamples(a.Samples, enc.decode(stereo)); err != nil {
				t.Errorf("sox %v: %v", enc.args, err)
			}
			continue
		}
		// 8-bit keeps the top byte, rounded.
		if len(a.Samples) != len(stereo) {
			t.Fatalf("sox %v: %d samples, want %d", enc.args, len(a.Samples), len(stereo))
		}
		for i := range stereo {
			if d := int(a.Samples[i]) - int(stereo[i]); d < -128 || d > 128 {
				t.Fatalf("sox %v: sample %d is %d, want %d ± 128", enc.args, i, a.Samples[i], stereo[i])
			}
		}
	}
	// Every file in testdata was written by sox.
	files, _ := filepath.Glob("testdata/*.wav")
	if len(files) == 0 {
		t.Fatal("no testdata/*.wav")
	}
	for _, f := range files {
		a := readFile(f)
		raw := filepath.Join(dir, "out.raw")
		soxRun(f, "-t", "raw", "-e", "signed", "-b", "16", "-L", raw)
		b, err := os.ReadFile(raw)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]int16, len(b)/2)
		for i := range want {
			want[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
		}
		if err := sameSamples(a.Samples, want); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// FuzzReadWAV: any input gives audio or an error wrapping one of the three
// sentinels, never a panic; audio read back writes and reads identically.
func FuzzReadWAV(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.wav")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	pcm := pcm16Bytes([]int16{1, -2, 3, -4})
	f.Add(riff(fmtChunk(wavPCM, 2, 48000, 16, true), wavChunk("data", pcm)))
	f.Add(riff(fmtChunk(wavALaw, 1, 8000, 8, false), wavChunk("LIST", []byte{1, 2, 3}), wavChunkSized("data", 0xFFFFFFFF, pcm)))
	f.Add(riff(fmtChunk(wavPCM, 1, 8000, 8, false), wavChunkSized("data", 0, pcm[:5])))
	f.Add([]byte("RIFF\xff\xff\xff\xffWAVEfmt \x10\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ReadWAV(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, ErrNotWAV) && !errors.Is(err, ErrUnsupportedWAV) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("error %q wraps no sentinel", err)
			}
			return
		}
		if a.Rate < 1 || (a.Channels != 1 && a.Channels != 2) || len(a.Samples)%a.Channels != 0 {
			t.Fatalf("bad audio: %d Hz × %d, %d samples", a.Rate, a.Channels, len(a.Samples))
		}
		if len(a.Samples) > len(b) {
			t.Fatalf("%d samples from %d bytes", len(a.Samples), len(b))
		}
		var buf bytes.Buffer
		if err := WriteWAV(&buf, a); err != nil {
			if a.Rate >= 1<<30 {
				return // readable, but too fast a rate for our writer
			}
			t.Fatalf("write back: %v", err)
		}
		back, err := ReadWAV(&buf)
		if err != nil {
			t.Fatalf("read back: %v", err)
		}
		if back.Rate != a.Rate || back.Channels != a.Channels {
			t.Fatalf("read back %d Hz × %d, want %d Hz × %d", back.Rate, back.Channels, a.Rate, a.Channels)
		}
		if err := sameSamples(back.Samples, a.Samples); err != nil {
			t.Fatal(err)
		}
	})
}
