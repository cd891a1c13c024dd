package webrtc

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pion/opus"
	"github.com/pion/sdp/v3"
)

// Codec names as SDP spells them.
const (
	CodecOpus = "opus"
	CodecPCMU = "PCMU"
)

// Errors about an offer; the server answers them with 400.
var (
	ErrBadOffer = errors.New("webrtc: malformed SDP offer")
	ErrNoAudio  = errors.New("webrtc: the offer has no audio")
	ErrNoCodec  = errors.New("webrtc: the offer has no audio codec we speak (Opus or PCMU)")
)

// Offer is what CheckOffer found in an SDP offer.
type Offer struct {
	Opus, PCMU bool
	// Direction of the audio section: sendrecv, sendonly (WHIP ingest),
	// recvonly or inactive.
	Direction string
}

// CheckOffer parses an SDP offer and finds its first active audio section
// and the codecs in it. It returns an error wrapping ErrBadOffer, ErrNoAudio
// or ErrNoCodec for an offer a call cannot use.
func CheckOffer(offer string) (Offer, error) {
	var sd sdp.SessionDescription
	if strings.TrimSpace(offer) == "" {
		return Offer{}, fmt.Errorf("%w: empty", ErrBadOffer)
	}
	if err := sd.UnmarshalString(offer); err != nil {
		return Offer{}, fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	for _, m := range sd.MediaDescriptions {
		if m == nil || m.MediaName.Media != "audio" || m.MediaName.Port.Value == 0 {
			continue
		}
		// WebRTC requires ICE credentials and a DTLS fingerprint, in the
		// section or at session level (RFC 8829). An offer cut short
		// lacks them, and pion would answer it with no media at all.
		for _, attr := range []string{"ice-ufrag", "ice-pwd", "fingerprint"} {
			if _, ok := m.Attribute(attr); !ok && !sessionHas(&sd, attr) {
				return Offer{}, fmt.Errorf("%w: the audio section has no %s", ErrBadOffer, attr)
			}
		}
		o := Offer{Direction: "sendrecv"}
		static := map[string]bool{}
		for _, f := range m.MediaName.Formats {
			static[f] = true
		}
		if static["0"] {
			o.PCMU = true // static payload type 0, with or without rtpmap
		}
		for _, a := range m.Attributes {
			switch a.Key {
			case "sendrecv", "sendonly", "recvonly", "inactive":
				o.Direction = a.Key
			case "rtpmap":
				pt, enc, ok := strings.Cut(a.Value, " ")
				if !ok || !static[pt] {
					continue
				}
				name, _, _ := strings.Cut(enc, "/")
				switch {
				case strings.EqualFold(name, CodecOpus):
					o.Opus = true
				case strings.EqualFold(name, CodecPCMU):
					o.PCMU = true
				}
			}
		}
		if !o.Opus && !o.PCMU {
			return o, ErrNoCodec
		}
		return o, nil
	}
	return Offer{}, ErrNoAudio
}

// OpusDecoder decodes Opus packets into mono PCM16 with the pure-Go
// github.com/pion/opus. Not safe for concurrent use.
type OpusDecoder struct {
	dec  opus.Decoder
	rate int
}

// NewOpusDecoder returns a decoder whose output is mono at rate Hz (8, 12,
// 16, 24 or 48 kHz).
func NewOpusDecoder(rate int) (*OpusDecoder, error) {
	d, err := opus.NewDecoderWithOutput(rate, 1)
	if err != nil {
		return nil, fmt.Errorf("webrtc: opus decoder at %d Hz: %w", rate, err)
	}
	return &OpusDecoder{dec: d, rate: rate}, nil
}

// MaxSamples is the most samples one packet decodes to (120 ms).
func (d *OpusDecoder) MaxSamples() int { return d.rate * 120 / 1000 }

// Decode decodes one packet into dst, which must hold MaxSamples, and
// returns the number of samples.
func (d *OpusDecoder) Decode(dst []int16, pkt []byte) (int, error) {
	n, err := d.dec.DecodeToInt16(pkt, dst)
	if err != nil {
		return 0, fmt.Errorf("webrtc: opus decode: %w", err)
	}
	return n, nil
}

func sessionHas(sd *sdp.SessionDescription, key string) bool {
	_, ok := sd.Attribute(key)
	return ok
}
