package twilio

import (
	"encoding/base64"
	"maps"
	"slices"
	"strconv"
	"unicode/utf8"
)

// The Append functions write one message as compact JSON at the end of dst
// and return the extended slice, like strconv.AppendInt. They allocate
// nothing when dst has room (AppendStart excepted: it sorts the custom
// parameter names). Strings are JSON-escaped; invalid UTF-8 becomes U+FFFD.
// Field order follows Twilio's own messages.

// Server → Twilio messages.

// AppendMedia appends {"event":"media","streamSid":S,"media":{"payload":B64}}
// carrying raw μ-law bytes.
func AppendMedia(dst []byte, streamSID string, ulaw []byte) []byte {
	dst = append(dst, `{"event":"media","streamSid":`...)
	dst = appendString(dst, streamSID)
	dst = append(dst, `,"media":{"payload":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, ulaw)
	return append(dst, `"}}`...)
}

// AppendMark appends {"event":"mark","streamSid":S,"mark":{"name":N}}.
func AppendMark(dst []byte, streamSID, name string) []byte {
	dst = append(dst, `{"event":"mark","streamSid":`...)
	dst = appendString(dst, streamSID)
	dst = append(dst, `,"mark":{"name":`...)
	dst = appendString(dst, name)
	return append(dst, `}}`...)
}

// AppendClear appends {"event":"clear","streamSid":S}.
func AppendClear(dst []byte, streamSID string) []byte {
	dst = append(dst, `{"event":"clear","streamSid":`...)
	dst = appendString(dst, streamSID)
	return append(dst, '}')
}

// Twilio → server messages (the simulator and tests speak these).

// AppendConnected appends the first message of a stream:
// {"event":"connected","protocol":"Call","version":"1.0.0"}.
func AppendConnected(dst []byte) []byte {
	return append(dst, `{"event":"connected","protocol":"Call","version":"1.0.0"}`...)
}

// AppendStart appends a start event with sequence number seq. s.StreamSID
// goes both at the top level and inside "start". Custom parameters are
// written sorted by name. A zero s.MediaFormat is written as Twilio's only
// format: audio/x-mulaw, 8000 Hz, 1 channel.
func AppendStart(dst []byte, seq int64, s *Start) []byte {
	mf := s.MediaFormat
	if mf == (MediaFormat{}) {
		mf = MediaFormat{Encoding: "audio/x-mulaw", SampleRate: 8000, Channels: 1}
	}
	dst = append(dst, `{"event":"start","sequenceNumber":`...)
	dst = appendCounter(dst, seq)
	dst = append(dst, `,"start":{"accountSid":`...)
	dst = appendString(dst, s.AccountSID)
	dst = append(dst, `,"streamSid":`...)
	dst = appendString(dst, s.StreamSID)
	dst = append(dst, `,"callSid":`...)
	dst = appendString(dst, s.CallSID)
	dst = append(dst, `,"tracks":[`...)
	for i, t := range s.Tracks {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, t)
	}
	dst = append(dst, `],"mediaFormat":{"encoding":`...)
	dst = appendString(dst, mf.Encoding)
	dst = append(dst, `,"sampleRate":`...)
	dst = strconv.AppendInt(dst, int64(mf.SampleRate), 10)
	dst = append(dst, `,"channels":`...)
	dst = strconv.AppendInt(dst, int64(mf.Channels), 10)
	dst = append(dst, `},"customParameters":{`...)
	for i, k := range slices.Sorted(maps.Keys(s.CustomParameters)) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ':')
		dst = appendString(dst, s.CustomParameters[k])
	}
	dst = append(dst, `}},"streamSid":`...)
	dst = appendString(dst, s.StreamSID)
	return append(dst, '}')
}

// AppendInboundMedia appends a media event of the caller's audio as Twilio
// sends it: track "inbound"; sequenceNumber, chunk and timestamp (ms) as
// strings.
func AppendInboundMedia(dst []byte, sid string, seq, chunk, tsMillis int64, ulaw []byte) []byte {
	dst = append(dst, `{"event":"media","sequenceNumber":`...)
	dst = appendCounter(dst, seq)
	dst = append(dst, `,"media":{"track":"inbound","chunk":`...)
	dst = appendCounter(dst, chunk)
	dst = append(dst, `,"timestamp":`...)
	dst = appendCounter(dst, tsMillis)
	dst = append(dst, `,"payload":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, ulaw)
	dst = append(dst, `"},"streamSid":`...)
	dst = appendString(dst, sid)
	return append(dst, '}')
}

// AppendDTMF appends a dtmf event for one digit, track "inbound_track".
func AppendDTMF(dst []byte, sid string, seq int64, digit string) []byte {
	dst = append(dst, `{"event":"dtmf","streamSid":`...)
	dst = appendString(dst, sid)
	dst = append(dst, `,"sequenceNumber":`...)
	dst = appendCounter(dst, seq)
	dst = append(dst, `,"dtmf":{"track":"inbound_track","digit":`...)
	dst = appendString(dst, digit)
	return append(dst, `}}`...)
}

// AppendMarkEcho appends the mark event Twilio sends back when the audio
// before a mark has played (or was cleared).
func AppendMarkEcho(dst []byte, sid string, seq int64, name string) []byte {
	dst = append(dst, `{"event":"mark","sequenceNumber":`...)
	dst = appendCounter(dst, seq)
	dst = append(dst, `,"streamSid":`...)
	dst = appendString(dst, sid)
	dst = append(dst, `,"mark":{"name":`...)
	dst = appendString(dst, name)
	return append(dst, `}}`...)
}

// AppendStop appends the stop event that ends a stream.
func AppendStop(dst []byte, sid string, seq int64, accountSID, callSID string) []byte {
	dst = append(dst, `{"event":"stop","sequenceNumber":`...)
	dst = appendCounter(dst, seq)
	dst = append(dst, `,"stop":{"accountSid":`...)
	dst = appendString(dst, accountSID)
	dst = append(dst, `,"callSid":`...)
	dst = appendString(dst, callSID)
	dst = append(dst, `},"streamSid":`...)
	dst = appendString(dst, sid)
	return append(dst, '}')
}

// appendCounter appends n as a JSON string, as Twilio sends its counters.
func appendCounter(dst []byte, n int64) []byte {
	dst = append(dst, '"')
	dst = strconv.AppendInt(dst, n, 10)
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a quoted JSON string. It escapes what JSON
// requires (quote, backslash, control characters) and, like encoding/json,
// U+2028 and U+2029, which break JavaScript; invalid UTF-8 becomes U+FFFD.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0 // s[start:i] is pending, needs no escaping
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
