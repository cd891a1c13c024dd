package media

// G.711 (ITU-T, 1988) μ-law and A-law companding.
//
// G.711 quantizes uniform PCM of 14 bits (μ-law) or 13 bits (A-law). A 16-bit
// sample is first rounded to that width (round half up, clamped), then signed
// to magnitude: μ-law by negation, A-law by one's complement (the mid-riser
// A-law tables have no zero level). This is the mapping SoX uses, so our
// bytes equal `sox -e u-law`/`-e a-law` for every int16 input; the tests check
// that, and check all inputs against a plain transcription of the G.711
// tables.
//
// Decoding is one lookup in a 256-entry table. Encoding is one lookup in a
// table indexed by the rounded sample (16 KiB for μ-law, 8 KiB for A-law),
// built at init from the segment search; a lookup measured faster than the
// search (see docs/media.md).

var (
	ulawDecode [256]int16
	alawDecode [256]int16

	// ulawEncode[i] encodes the 14-bit value i-8192, i in [0, 16384];
	// index 16384 is the clamped +8192 that rounding 32766 and 32767 yields.
	ulawEncode [1<<14 + 1]byte
	// alawEncode[i] encodes the 13-bit value i-4096, i in [0, 8192].
	alawEncode [1<<13 + 1]byte
)

func init() {
	for i := range 256 {
		ulawDecode[i] = ulawDecodeByte(byte(i))
		alawDecode[i] = alawDecodeByte(byte(i))
	}
	for i := range ulawEncode {
		ulawEncode[i] = ulawEncode14(i - 1<<13)
	}
	for i := range alawEncode {
		alawEncode[i] = alawEncode13(i - 1<<12)
	}
}

// ulawDecodeByte expands one μ-law byte: the magnitude is (2q+33)<<seg - 33
// in 14-bit units, times 4 for 16 bits. μ-law sends the segment and step
// bits inverted and the polarity bit as 1 for positive.
func ulawDecodeByte(c byte) int16 {
	c = ^c
	seg := int32(c>>4) & 7
	q := int32(c) & 0x0F
	mag := ((q<<3)+0x84)<<seg - 0x84
	if c&0x80 != 0 {
		return int16(-mag)
	}
	return int16(mag)
}

// alawDecodeByte expands one A-law byte (even bits inverted on the wire).
func alawDecodeByte(c byte) int16 {
	c ^= 0x55
	seg := int32(c>>4) & 7
	q := int32(c) & 0x0F
	mag := q<<4 + 8 // mid-point of the interval, 16-bit units
	if seg > 0 {
		mag = (mag + 0x100) << (seg - 1)
	}
	if c&0x80 == 0 {
		return int16(-mag)
	}
	return int16(mag)
}

// ulawEncode14 encodes a 14-bit two's complement value in [-8192, 8192].
func ulawEncode14(v int) byte {
	mask := byte(0xFF) // positive: sign bit set after inversion
	if v < 0 {
		v = -v
		mask = 0x7F
	}
	const clip = 8158 // largest magnitude below the overload point 8159
	v = min(v, clip) + 33
	// Biased magnitude 33..8191: segment = position of the top bit above 6.
	seg := 0
	for t := v >> 6; t != 0; t >>= 1 {
		seg++
	}
	q := (v >> (seg + 1)) & 0x0F
	return byte(seg<<4|q) ^ mask
}

// alawEncode13 encodes a 13-bit two's complement value in [-4096, 4096].
func alawEncode13(v int) byte {
	mask := byte(0xD5) // positive: sign bit set, even bits inverted
	if v < 0 {
		v = -v - 1
		mask = 0x55
	}
	v = min(v, 4095)
	seg := 0
	for t := v >> 5; t != 0; t >>= 1 {
		seg++
	}
	var q int
	if seg == 0 {
		q = (v >> 1) & 0x0F
	} else {
		q = (v >> seg) & 0x0F
	}
	return byte(seg<<4|q) ^ mask
}

// DecodeUlaw decodes μ-law bytes from src into dst and returns the number of
// samples written, min(len(dst), len(src)). It allocates nothing.
func DecodeUlaw(dst []int16, src []byte) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, c := range src {
		dst[i] = ulawDecode[c]
	}
	return n
}

// EncodeUlaw encodes samples from src into μ-law bytes in dst and returns the
// number written, min(len(dst), len(src)). It allocates nothing.
func EncodeUlaw(dst []byte, src []int16) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, s := range src {
		// (s+32768+2)>>2 is round(s/4)+8192 without a branch; at most 16384.
		dst[i] = ulawEncode[uint32(int32(s)+32770)>>2]
	}
	return n
}

// DecodeAlaw decodes A-law bytes from src into dst and returns the number of
// samples written, min(len(dst), len(src)). It allocates nothing.
func DecodeAlaw(dst []int16, src []byte) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, c := range src {
		dst[i] = alawDecode[c]
	}
	return n
}

// EncodeAlaw encodes samples from src into A-law bytes in dst and returns the
// number written, min(len(dst), len(src)). It allocates nothing.
func EncodeAlaw(dst []byte, src []int16) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, s := range src {
		dst[i] = alawEncode[uint32(int32(s)+32772)>>3]
	}
	return n
}

// UlawToLinear returns the sample one μ-law byte decodes to.
func UlawToLinear(c byte) int16 { return ulawDecode[c] }

// LinearToUlaw returns the μ-law byte for one sample.
func LinearToUlaw(s int16) byte { return ulawEncode[uint32(int32(s)+32770)>>2] }

// AlawToLinear returns the sample one A-law byte decodes to.
func AlawToLinear(c byte) int16 { return alawDecode[c] }

// LinearToAlaw returns the A-law byte for one sample.
func LinearToAlaw(s int16) byte { return alawEncode[uint32(int32(s)+32772)>>3] }
