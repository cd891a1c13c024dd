package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// Audio is PCM16 audio, interleaved when Channels > 1. It is a plain value:
// safe for concurrent reads, not for concurrent writes.
type Audio struct {
	Rate     int
	Channels int
	Samples  []int16
}

// Frames returns the number of samples per channel.
func (a *Audio) Frames() int {
	if a.Channels <= 0 {
		return 0
	}
	return len(a.Samples) / a.Channels
}

// Duration returns how long the audio lasts.
func (a *Audio) Duration() time.Duration { return Duration(a.Rate, a.Frames()) }

// WAV format tags (the wFormatTag of the fmt chunk).
const (
	wavPCM        = 1
	wavALaw       = 6
	wavMuLaw      = 7
	wavExtensible = 0xFFFE
)

// WAVHeaderSize is the length of the header WriteWAV and AppendWAVHeader
// write; the samples follow it.
const WAVHeaderSize = 44

// wavSubFormatTail is bytes 2..15 of the KSDATAFORMAT_SUBTYPE GUIDs of
// WAVE_FORMAT_EXTENSIBLE; bytes 0..1 carry the plain format tag.
var wavSubFormatTail = [14]byte{0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71}

var (
	// ErrNotWAV is wrapped by ReadWAV's error for input that is not RIFF/WAVE.
	ErrNotWAV = errors.New("not a RIFF/WAVE file")
	// ErrUnsupportedWAV is wrapped by ReadWAV's error for a WAV file in an
	// encoding or layout it does not read.
	ErrUnsupportedWAV = errors.New("unsupported WAV format")
)

// wavFormat is what ReadWAV takes from the fmt chunk.
type wavFormat struct {
	tag      uint16 // wavPCM, wavALaw or wavMuLaw, extensible resolved
	channels int
	rate     int
	bits     int
}

// ReadWAV reads a RIFF/WAVE file of 16-bit or 8-bit (unsigned) PCM, μ-law
// (format 7) or A-law (format 6), mono or stereo, also as
// WAVE_FORMAT_EXTENSIBLE, and returns it as PCM16. Chunks other than fmt and
// data are skipped. A data chunk whose size is 0 or 0xFFFFFFFF, as a
// recorder leaves it when it dies before fixing the header, is read to the
// end of r; a trailing partial sample frame is dropped. RF64 files are read
// the same way, through the 0xFFFFFFFF their data chunk declares. Input that is not
// WAV gives an error wrapping ErrNotWAV, an unsupported encoding
// ErrUnsupportedWAV, a short file io.ErrUnexpectedEOF. Memory grows with
// what r yields, never with sizes the header claims.
func ReadWAV(r io.Reader) (*Audio, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("media: read WAV header: %w (%w)", ErrNotWAV, io.ErrUnexpectedEOF)
		}
		return nil, fmt.Errorf("media: read WAV header: %w", err)
	}
	if id := string(hdr[0:4]); (id != "RIFF" && id != "RF64") || string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("media: read WAV header: %w", ErrNotWAV)
	}
	var f *wavFormat
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return nil, fmt.Errorf("media: read WAV: no data chunk: %w", unexpected(err))
		}
		id := string(ch[:4])
		size := binary.LittleEndian.Uint32(ch[4:])
		switch id {
		case "fmt ":
			var err error
			if f, err = readWAVFormat(r, size); err != nil {
				return nil, err
			}
		case "data":
			if f == nil {
				return nil, fmt.Errorf("media: read WAV: data chunk before fmt chunk: %w", ErrUnsupportedWAV)
			}
			return readWAVData(r, f, size)
		default:
			// Chunks are padded to an even size.
			if err := skip(r, int64(size)+int64(size&1)); err != nil {
				return nil, fmt.Errorf("media: read WAV: skip %q chunk: %w", id, err)
			}
		}
	}
}

// unexpected maps io.EOF to io.ErrUnexpectedEOF: inside a WAV file an end is
// always premature.
func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func skip(r io.Reader, n int64) error {
	got, err := io.CopyN(io.Discard, r, n)
	if got == n {
		return nil
	}
	return unexpected(err)
}

func readWAVFormat(r io.Reader, size uint32) (*wavFormat, error) {
	if size < 16 {
		return nil, fmt.Errorf("media: read WAV fmt chunk: %d bytes, want at least 16: %w", size, ErrUnsupportedWAV)
	}
	var b [40]byte
	n := min(int(size), len(b))
	if _, err := io.ReadFull(r, b[:n]); err != nil {
		return nil, fmt.Errorf("media: read WAV fmt chunk: %w", unexpected(err))
	}
	if err := skip(r, int64(size)-int64(n)+int64(size&1)); err != nil {
		return nil, fmt.Errorf("media: read WAV fmt chunk: %w", err)
	}
	le := binary.LittleEndian
	f := &wavFormat{
		tag:      le.Uint16(b[0:]),
		channels: int(le.Uint16(b[2:])),
		rate:     int(le.Uint32(b[4:])),
		bits:     int(le.Uint16(b[14:])),
	}
	if f.tag == wavExtensible {
		if n < 40 || le.Uint16(b[16:]) < 22 {
			return nil, fmt.Errorf("media: read WAV fmt chunk: WAVE_FORMAT_EXTENSIBLE without its extension: %w", ErrUnsupportedWAV)
		}
		if [14]byte(b[26:40]) != wavSubFormatTail {
			return nil, fmt.Errorf("media: read WAV fmt chunk: unknown sub-format GUID % x: %w", b[24:40], ErrUnsupportedWAV)
		}
		f.tag = le.Uint16(b[24:])
	}
	switch {
	case f.channels < 1 || f.channels > 2:
		return nil, fmt.Errorf("media: read WAV fmt chunk: %d channels, want 1 or 2: %w", f.channels, ErrUnsupportedWAV)
	case f.rate < 1 || f.rate > math.MaxInt32:
		return nil, fmt.Errorf("media: read WAV fmt chunk: sample rate %d: %w", f.rate, ErrUnsupportedWAV)
	}
	switch f.tag {
	case wavPCM:
		if f.bits != 8 && f.bits != 16 {
			return nil, fmt.Errorf("media: read WAV fmt chunk: %d-bit PCM, want 8 or 16: %w", f.bits, ErrUnsupportedWAV)
		}
	case wavALaw, wavMuLaw:
		if f.bits != 8 {
			return nil, fmt.Errorf("media: read WAV fmt chunk: %d-bit G.711, want 8: %w", f.bits, ErrUnsupportedWAV)
		}
	default:
		return nil, fmt.Errorf("media: read WAV fmt chunk: format tag %#x: %w", f.tag, ErrUnsupportedWAV)
	}
	return f, nil
}

func readWAVData(r io.Reader, f *wavFormat, size uint32) (*Audio, error) {
	var data []byte
	var err error
	if size == 0 || size == math.MaxUint32 {
		data, err = io.ReadAll(r)
	} else {
		data, err = io.ReadAll(io.LimitReader(r, int64(size)))
		if err == nil && len(data) < int(size) {
			err = fmt.Errorf("%d of %d bytes: %w", len(data), size, io.ErrUnexpectedEOF)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("media: read WAV data chunk: %w", err)
	}
	width := f.bits / 8
	frames := len(data) / (width * f.channels)
	a := &Audio{Rate: f.rate, Channels: f.channels, Samples: make([]int16, frames*f.channels)}
	data = data[:len(a.Samples)*width]
	switch {
	case f.tag == wavPCM && width == 2:
		for i := range a.Samples {
			a.Samples[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
		}
	case f.tag == wavPCM:
		for i, b := range data {
			a.Samples[i] = (int16(b) - 128) << 8
		}
	case f.tag == wavMuLaw:
		DecodeUlaw(a.Samples, data)
	case f.tag == wavALaw:
		DecodeAlaw(a.Samples, data)
	}
	return a, nil
}

// AppendWAVHeader appends the 44-byte header of a PCM16 WAV file with
// dataBytes bytes of samples to dst. A recorder that does not know the length
// yet may write 0 and patch the two sizes (offsets 4 and 40) when done; a file
// left with 0 still reads, to its end.
func AppendWAVHeader(dst []byte, rate, channels int, dataBytes uint32) ([]byte, error) {
	if err := checkWAVLayout(rate, channels); err != nil {
		return dst, err
	}
	if dataBytes > math.MaxUint32-36 {
		return dst, fmt.Errorf("media: write WAV header: %d bytes of data do not fit a WAV file", dataBytes)
	}
	le := binary.LittleEndian
	dst = append(dst, "RIFF"...)
	dst = le.AppendUint32(dst, 36+dataBytes)
	dst = append(dst, "WAVEfmt "...)
	dst = le.AppendUint32(dst, 16)
	dst = le.AppendUint16(dst, wavPCM)
	dst = le.AppendUint16(dst, uint16(channels))
	dst = le.AppendUint32(dst, uint32(rate))
	dst = le.AppendUint32(dst, uint32(rate*channels*2))
	dst = le.AppendUint16(dst, uint16(channels*2))
	dst = le.AppendUint16(dst, 16)
	dst = append(dst, "data"...)
	dst = le.AppendUint32(dst, dataBytes)
	return dst, nil
}

func checkWAVLayout(rate, channels int) error {
	if channels < 1 || channels > 2 {
		return fmt.Errorf("media: write WAV: %d channels, want 1 or 2", channels)
	}
	if rate < 1 || rate >= 1<<30 {
		return fmt.Errorf("media: write WAV: sample rate %d out of range", rate)
	}
	return nil
}

// WriteWAV writes a as a PCM16 WAV file. It fails for a nil a, a channel
// count other than 1 or 2, a sample count that is not a whole number of
// frames, or audio too long for a WAV file's 32-bit sizes.
func WriteWAV(w io.Writer, a *Audio) error {
	if a == nil {
		return errors.New("media: write WAV: nil audio")
	}
	if err := checkWAVLayout(a.Rate, a.Channels); err != nil {
		return err
	}
	if len(a.Samples)%a.Channels != 0 {
		return fmt.Errorf("media: write WAV: %d samples is not a whole number of %d-channel frames", len(a.Samples), a.Channels)
	}
	size := int64(len(a.Samples)) * 2
	if size > math.MaxUint32-36 {
		return fmt.Errorf("media: write WAV: %d samples do not fit a WAV file", len(a.Samples))
	}
	var buf [4096]byte
	hdr, err := AppendWAVHeader(buf[:0], a.Rate, a.Channels, uint32(size))
	if err != nil {
		return err
	}
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("media: write WAV header: %w", err)
	}
	for s := a.Samples; len(s) > 0; {
		n := min(len(s), len(buf)/2)
		for i, v := range s[:n] {
			binary.LittleEndian.PutUint16(buf[2*i:], uint16(v))
		}
		if _, err := w.Write(buf[:2*n]); err != nil {
			return fmt.Errorf("media: write WAV data: %w", err)
		}
		s = s[n:]
	}
	return nil
}
