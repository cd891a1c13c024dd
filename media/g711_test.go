package media

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The reference below is a plain transcription of ITU-T G.711 (11/88),
// Tables 1a (A-law) and 2a (μ-law): for each of the 8 segments, where its
// first decision value lies on the uniform scale, the quantization step inside
// it, and the decoder output of its first interval. It shares no code with
// g711.go.

type g711Segment struct {
	start int // first decision value of the segment (uniform scale)
	step  int // interval width
	out   int // decoder output value of interval 0
}

// μ-law, 14-bit magnitude scale (0..8159). Segment 0's first interval is
// [0, 1) with output 0; the others are centred on their output values.
var muSegments = [8]g711Segment{
	{0, 2, 0}, // intervals [0,1), [1,3), [3,5) ... [29,31)
	{31, 4, 33},
	{95, 8, 99},
	{223, 16, 231},
	{479, 32, 495},
	{991, 64, 1023},
	{2015, 128, 2079},
	{4063, 256, 4191}, // last interval [7903, 8159), output 8031
}

// A-law, 12-bit magnitude scale (0..4095, the "4096" normalization of Table 1a).
var aSegments = [8]g711Segment{
	{0, 2, 1},
	{32, 2, 33},
	{64, 4, 66},
	{128, 8, 132},
	{256, 16, 264},
	{512, 32, 528},
	{1024, 64, 1056},
	{2048, 128, 2112},
}

// refMuIntervalStart is the lower decision value of interval q of segment s.
func refMuIntervalStart(s, q int) int {
	if s == 0 {
		if q == 0 {
			return 0
		}
		return 2*q - 1
	}
	return muSegments[s].start + q*muSegments[s].step
}

// refUlawEncode: round the 16-bit sample to 14 bits, take sign and magnitude,
// find the interval whose decision values enclose the magnitude (overload
// goes to the last interval), and form the character: polarity bit 1 for
// positive, then the segment and step bits, which μ-law sends inverted.
func refUlawEncode(x int16) byte {
	v := roundShift(int(x), 2, 8191)
	positive := v >= 0
	mag := v
	if !positive {
		mag = -v
	}
	seg, q := 7, 15
	found := false
	for s := 0; s < 8 && !found; s++ {
		for k := 0; k < 16; k++ {
			lo := refMuIntervalStart(s, k)
			hi := 8159
			if k < 15 {
				hi = refMuIntervalStart(s, k+1)
			} else if s < 7 {
				hi = refMuIntervalStart(s+1, 0)
			}
			if mag >= lo && mag < hi {
				seg, q, found = s, k, true
				break
			}
		}
	}
	c := ^byte(seg<<4|q) & 0x7F
	if positive {
		c |= 0x80
	}
	return c
}

func refUlawDecode(c byte) int16 {
	m := ^c
	seg, q := int(m>>4&7), int(m&15)
	out := muSegments[seg].out + q*muSegments[seg].step
	if c&0x80 == 0 {
		out = -out
	}
	return int16(out * 4) // 14-bit scale to 16 bits
}

// refAlawEncode: round the 16-bit sample to 13 bits; A-law is mid-riser, so a
// negative two's complement value v stands for magnitude -v-1. Even bits are
// inverted on the line (G.711 §3.2).
func refAlawEncode(x int16) byte {
	v := roundShift(int(x), 3, 4095)
	positive := v >= 0
	mag := v
	if !positive {
		mag = -v - 1
	}
	seg, q := 7, 15
	for s := 7; s >= 0; s-- {
		if mag >= aSegments[s].start {
			seg = s
			q = min((mag-aSegments[s].start)/aSegments[s].step, 15)
			break
		}
	}
	c := byte(seg<<4 | q)
	if positive {
		c |= 0x80
	}
	return c ^ 0x55
}

func refAlawDecode(c byte) int16 {
	c ^= 0x55
	seg, q := int(c>>4&7), int(c&15)
	out := aSegments[seg].out + q*aSegments[seg].step
	if c&0x80 == 0 {
		out = -out
	}
	return int16(out * 8) // 12-bit magnitude scale to 16 bits
}

// roundShift rounds x/2^shift to the nearest integer (half up) and clamps it
// to at most max.
func roundShift(x, shift, max int) int {
	v := (x + 1<<(shift-1)) >> shift
	if v > max {
		v = max
	}
	return v
}

func TestG711KnownValues(t *testing.T) {
	ulaw := []struct {
		code byte
		want int16
	}{
		{0xFF, 0}, {0x7F, 0}, {0x00, -32124}, {0x80, 32124}, {0xFE, 8}, {0x7E, -8},
		{0xEF, 132}, {0xF0, 120}, {0x8F, 16764}, // segment 1 bottom, segment 0 top, segment 7 bottom
	}
	for _, tc := range ulaw {
		if got := UlawToLinear(tc.code); got != tc.want {
			t.Errorf("μ-law 0x%02X: got %d, want %d", tc.code, got, tc.want)
		}
	}
	alaw := []struct {
		code byte
		want int16
	}{
		{0xD5, 8}, {0x55, -8}, {0xAA, 32256}, {0x2A, -32256}, {0xD4, 24}, {0xC5, 264},
	}
	for _, tc := range alaw {
		if got := AlawToLinear(tc.code); got != tc.want {
			t.Errorf("A-law 0x%02X: got %d, want %d", tc.code, got, tc.want)
		}
	}
	enc := []struct {
		in      int16
		mu, a   byte
		comment string
	}{
		{0, 0xFF, 0xD5, "zero"},
		{32767, 0x80, 0xAA, "positive full scale"},
		{-32768, 0x00, 0x2A, "negative full scale"},
		{8, 0xFE, 0xD5, ""},
		{-8, 0x7E, 0x55, ""},
	}
	for _, tc := range enc {
		if got := LinearToUlaw(tc.in); got != tc.mu {
			t.Errorf("μ-law encode %d: got 0x%02X, want 0x%02X", tc.in, got, tc.mu)
		}
		if got := LinearToAlaw(tc.in); got != tc.a {
			t.Errorf("A-law encode %d: got 0x%02X, want 0x%02X", tc.in, got, tc.a)
		}
	}
}

func TestG711DecodeAllCodes(t *testing.T) {
	codes := make([]byte, 256)
	for i := range codes {
		codes[i] = byte(i)
	}
	u := make([]int16, 256)
	a := make([]int16, 256)
	if n := DecodeUlaw(u, codes); n != 256 {
		t.Fatalf("DecodeUlaw returned %d, want 256", n)
	}
	if n := DecodeAlaw(a, codes); n != 256 {
		t.Fatalf("DecodeAlaw returned %d, want 256", n)
	}
	for i := range 256 {
		if want := refUlawDecode(byte(i)); u[i] != want {
			t.Errorf("μ-law decode 0x%02X: got %d, want %d", i, u[i], want)
		}
		if want := refAlawDecode(byte(i)); a[i] != want {
			t.Errorf("A-law decode 0x%02X: got %d, want %d", i, a[i], want)
		}
	}
}

// allInt16 returns every int16 value in ascending order.
func allInt16() []int16 {
	s := make([]int16, 1<<16)
	for i := range s {
		s[i] = int16(i - 32768)
	}
	return s
}

func TestG711EncodeAllInputs(t *testing.T) {
	in := allInt16()
	u := make([]byte, len(in))
	a := make([]byte, len(in))
	EncodeUlaw(u, in)
	EncodeAlaw(a, in)
	bad := 0
	for i, x := range in {
		if want := refUlawEncode(x); u[i] != want {
			if bad++; bad < 10 {
				t.Errorf("μ-law encode %d: got 0x%02X, want 0x%02X", x, u[i], want)
			}
		}
		if want := refAlawEncode(x); a[i] != want {
			if bad++; bad < 10 {
				t.Errorf("A-law encode %d: got 0x%02X, want 0x%02X", x, a[i], want)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d mismatches against the G.711 reference", bad)
	}
}

// TestG711MatchesSox encodes and decodes every input with SoX and compares
// byte for byte. .ci/run installs sox; a missing sox is a failure, not a skip.
func TestG711MatchesSox(t *testing.T) {
	sox, err := exec.LookPath("sox")
	if err != nil {
		t.Fatalf("sox is required (apt-get install sox): %v", err)
	}
	dir := t.TempDir()
	in := allInt16()
	var raw bytes.Buffer
	if err := binary.Write(&raw, binary.LittleEndian, in); err != nil {
		t.Fatal(err)
	}
	pcmPath := filepath.Join(dir, "in.s16")
	if err := os.WriteFile(pcmPath, raw.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	codes := make([]byte, 256)
	for i := range codes {
		codes[i] = byte(i)
	}
	codesPath := filepath.Join(dir, "codes.raw")
	if err := os.WriteFile(codesPath, codes, 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) []byte {
		t.Helper()
		out := filepath.Join(dir, "out.raw")
		args = append([]string{"-D", "-V1"}, append(args, out)...)
		if msg, err := exec.Command(sox, args...).CombinedOutput(); err != nil {
			t.Fatalf("sox %v: %v\n%s", args, err, msg)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	srcPCM := []string{"-t", "raw", "-e", "signed", "-b", "16", "-L", "-r", "8000", "-c", "1", pcmPath, "-t", "raw", "-b", "8"}
	for _, law := range []struct {
		name   string
		encode func([]byte, []int16) int
		decode func([]int16, []byte) int
	}{
		{"u-law", EncodeUlaw, DecodeUlaw},
		{"a-law", EncodeAlaw, DecodeAlaw},
	} {
		want := run(append(srcPCM, "-e", law.name)...)
		got := make([]byte, len(in))
		law.encode(got, in)
		if len(want) != len(got) {
			t.Fatalf("%s: sox wrote %d bytes, want %d", law.name, len(want), len(got))
		}
		diff := 0
		for i := range got {
			if got[i] != want[i] {
				if diff++; diff < 10 {
					t.Errorf("%s encode %d: got 0x%02X, sox 0x%02X", law.name, in[i], got[i], want[i])
				}
			}
		}
		if diff > 0 {
			t.Errorf("%s: %d of 65536 inputs differ from sox", law.name, diff)
		}

		dec := run("-t", "raw", "-e", law.name, "-b", "8", "-r", "8000", "-c", "1", codesPath,
			"-t", "raw", "-e", "signed", "-b", "16", "-L")
		var wantPCM [256]int16
		if err := binary.Read(bytes.NewReader(dec), binary.LittleEndian, &wantPCM); err != nil {
			t.Fatalf("%s: read sox decode: %v", law.name, err)
		}
		var gotPCM [256]int16
		law.decode(gotPCM[:], codes)
		if gotPCM != wantPCM {
			for i := range gotPCM {
				if gotPCM[i] != wantPCM[i] {
					t.Errorf("%s decode 0x%02X: got %d, sox %d", law.name, i, gotPCM[i], wantPCM[i])
				}
			}
		}
	}
}

// TestG711RoundTrip: re-encoding a decoded code gives the code back (μ-law's
// negative zero 0x7F becomes 0xFF), and decode(encode(x)) stays within half a
// quantization step of x, plus the half-LSB that rounding to 14/13 bits costs
// (and for A-law negatives one LSB more for the one's complement), except
// beyond the largest level where G.711 clips.
func TestG711RoundTrip(t *testing.T) {
	for c := range 256 {
		code := byte(c)
		want := code
		if code == 0x7F {
			want = 0xFF
		}
		if got := LinearToUlaw(UlawToLinear(code)); got != want {
			t.Errorf("μ-law 0x%02X → %d → 0x%02X, want 0x%02X", code, UlawToLinear(code), got, want)
		}
		if got := LinearToAlaw(AlawToLinear(code)); got != code {
			t.Errorf("A-law 0x%02X → %d → 0x%02X", code, AlawToLinear(code), got)
		}
	}
	abs := func(v int) int {
		if v < 0 {
			return -v
		}
		return v
	}
	for _, x := range allInt16() {
		u := LinearToUlaw(x)
		useg := int(^u >> 4 & 7)
		if y := UlawToLinear(u); abs(int(x)) <= 32124 && abs(int(y)-int(x)) > 4<<useg+2 {
			t.Errorf("μ-law %d → 0x%02X → %d: error %d > %d", x, u, y, abs(int(y)-int(x)), 4<<useg+2)
		}
		a := LinearToAlaw(x)
		aseg := int((a ^ 0x55) >> 4 & 7)
		half := 8 << max(aseg-1, 0)
		if y := AlawToLinear(a); abs(int(x)) <= 32256 && abs(int(y)-int(x)) > half+4+8 {
			t.Errorf("A-law %d → 0x%02X → %d: error %d > %d", x, a, y, abs(int(y)-int(x)), half+12)
		}
	}
	// Encoding is monotonic: a larger sample never decodes smaller.
	prevU, prevA := UlawToLinear(LinearToUlaw(-32768)), AlawToLinear(LinearToAlaw(-32768))
	for _, x := range allInt16()[1:] {
		u, a := UlawToLinear(LinearToUlaw(x)), AlawToLinear(LinearToAlaw(x))
		if u < prevU || a < prevA {
			t.Fatalf("not monotonic at %d: μ %d after %d, A %d after %d", x, u, prevU, a, prevA)
		}
		prevU, prevA = u, a
	}
}

func TestG711ShortBuffers(t *testing.T) {
	src := []int16{1000, -1000, 5}
	dst := make([]byte, 2)
	if n := EncodeUlaw(dst, src); n != 2 {
		t.Errorf("EncodeUlaw into 2 bytes: got %d, want 2", n)
	}
	if n := EncodeAlaw(nil, src); n != 0 {
		t.Errorf("EncodeAlaw into nil: got %d, want 0", n)
	}
	pcm := make([]int16, 5)
	if n := DecodeUlaw(pcm, []byte{1, 2, 3}); n != 3 {
		t.Errorf("DecodeUlaw of 3 bytes: got %d, want 3", n)
	}
	if n := DecodeAlaw(pcm[:1], []byte{1, 2, 3}); n != 1 {
		t.Errorf("DecodeAlaw into 1 sample: got %d, want 1", n)
	}
}

func TestG711NoAllocs(t *testing.T) {
	pcm := Sine(8000, 440, FrameDuration, 0.5)
	b := make([]byte, len(pcm))
	out := make([]int16, len(pcm))
	allocs := testing.AllocsPerRun(100, func() {
		EncodeUlaw(b, pcm)
		DecodeUlaw(out, b)
		EncodeAlaw(b, pcm)
		DecodeAlaw(out, b)
	})
	if allocs != 0 {
		t.Errorf("G.711 frame round trip allocates %.1f times, want 0", allocs)
	}
}

// speechLike is one 160-sample frame with a speech-like spread of levels.
func speechLike() []int16 {
	f := Sine(8000, 310, FrameDuration, 0.3)
	g := Sine(8000, 1270, FrameDuration, 0.05)
	return Mix(nil, f, g)
}

func BenchmarkEncodeUlaw(b *testing.B) {
	src := speechLike()
	dst := make([]byte, len(src))
	b.ReportAllocs()
	for b.Loop() {
		EncodeUlaw(dst, src)
	}
}

// ulawEncodeBits is the branch-light segment search (bits.Len finds the
// segment), the alternative to the table lookup the encoder uses; the
// benchmark below compares the two.
func ulawEncodeBits(s int16) byte {
	v := (int(s) + 2) >> 2
	mask := byte(0xFF)
	if v < 0 {
		v, mask = -v, 0x7F
	}
	v = min(v, 8158) + 33
	seg := bits.Len(uint(v >> 6))
	return byte(seg<<4|(v>>(seg+1))&0x0F) ^ mask
}

func TestUlawEncodeBitsAgrees(t *testing.T) {
	for _, x := range allInt16() {
		if got, want := ulawEncodeBits(x), LinearToUlaw(x); got != want {
			t.Fatalf("segment search encodes %d as 0x%02X, table as 0x%02X", x, got, want)
		}
	}
}

func BenchmarkEncodeUlawSearch(b *testing.B) {
	src := speechLike()
	dst := make([]byte, len(src))
	b.ReportAllocs()
	for b.Loop() {
		for i, s := range src {
			dst[i] = ulawEncodeBits(s)
		}
	}
}

func BenchmarkDecodeUlaw(b *testing.B) {
	src := make([]byte, 160)
	EncodeUlaw(src, speechLike())
	dst := make([]int16, len(src))
	b.ReportAllocs()
	for b.Loop() {
		DecodeUlaw(dst, src)
	}
}

func BenchmarkEncodeAlaw(b *testing.B) {
	src := speechLike()
	dst := make([]byte, len(src))
	b.ReportAllocs()
	for b.Loop() {
		EncodeAlaw(dst, src)
	}
}

func BenchmarkDecodeAlaw(b *testing.B) {
	src := make([]byte, 160)
	EncodeAlaw(src, speechLike())
	dst := make([]int16, len(src))
	b.ReportAllocs()
	for b.Loop() {
		DecodeAlaw(dst, src)
	}
}
