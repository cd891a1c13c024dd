package live

import (
	"encoding/binary"
	"testing"

	"github.com/frontdesk/frontdesk/media"
)

func TestEncoderFormats(t *testing.T) {
	caller, agent := frame(160, 1000), frame(160, -300)
	for _, c := range []struct {
		f        Format
		bytes    int
		first    []int16 // first samples (pcm16) to check
		firstLaw byte
	}{
		{f: Format{EncodingPCM16, 8000, 1}, bytes: 320, first: []int16{700}},
		{f: Format{EncodingPCM16, 8000, 2}, bytes: 640, first: []int16{1000, -300}},
		{f: Format{EncodingPCM16, 16000, 1}, bytes: 640},
		{f: Format{EncodingPCM16, 16000, 2}, bytes: 1280},
		{f: Format{EncodingMulaw, 8000, 1}, bytes: 160, firstLaw: media.LinearToUlaw(700)},
	} {
		e, err := NewEncoder(c.f)
		if err != nil {
			t.Fatal(err)
		}
		var out []byte
		for range 3 { // resampler history settles
			out, err = e.Encode(out[:0], &Frame{Rate: 8000, Caller: caller, Agent: agent})
			if err != nil {
				t.Fatal(err)
			}
		}
		if len(out) != c.bytes {
			t.Errorf("%+v: %d bytes per frame, want %d", c.f, len(out), c.bytes)
		}
		for i, w := range c.first {
			if got := int16(binary.LittleEndian.Uint16(out[2*i:])); got != w {
				t.Errorf("%+v: sample %d = %d, want %d", c.f, i, got, w)
			}
		}
		if c.f.Encoding == EncodingMulaw && out[0] != c.firstLaw {
			t.Errorf("mulaw byte %x, want %x", out[0], c.firstLaw)
		}
		if c.f.Rate == 16000 && c.f.Channels == 1 {
			// The upsampled mix keeps the DC level of 700 once settled.
			if got := int16(binary.LittleEndian.Uint16(out[200:])); got < 650 || got > 750 {
				t.Errorf("16 kHz mix sample %d, want about 700", got)
			}
		}
	}
	for _, bad := range []Format{{"opus", 8000, 1}, {EncodingPCM16, 44100, 1}, {EncodingPCM16, 8000, 3}, {EncodingMulaw, 16000, 1}, {EncodingMulaw, 8000, 2}} {
		if _, err := NewEncoder(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
