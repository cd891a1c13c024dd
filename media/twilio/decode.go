package twilio

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
)

// Decoder decodes events. Not safe for concurrent use; one per stream: it
// owns the buffer that Event.Payload points into and remembers the last
// streamSid and track so that decoding media allocates nothing.
//
// The zero Decoder is ready to use.
type Decoder struct {
	payload []byte // decoded base64 of the last media event, reused
	sid     string // last StreamSID handed out, reused while it repeats
	track   string // last media track handed out, reused while it repeats
}

// Decode parses one text message into ev. It returns an error wrapping
// ErrMalformed for invalid JSON or a missing required field.
//
// Decode first resets *ev. It understands both directions of the protocol:
// connected, start, media, dtmf, mark and stop from Twilio, and media, mark
// and clear to Twilio. An event with an unknown name is not an error: ev.Type
// is EventUnknown and ev.Name is set, so the caller can log and skip it;
// SequenceNumber and StreamSID are set too when both are well-formed (for
// gap counting), and left zero otherwise.
//
// Required fields: "event" (a non-empty string); a streamSid (top-level or
// inside "start") for start; media.payload (valid base64) for media;
// mark.name for mark; dtmf.digit for dtmf. sequenceNumber, chunk and
// timestamp are decimal strings as Twilio sends them; JSON numbers are
// accepted too; either must be a non-negative integer.
//
// ev.Payload points into a buffer owned by d and is valid until the next
// call to Decode.
func (d *Decoder) Decode(data []byte, ev *Event) error {
	*ev = Event{}
	// Media is 50 messages a second per call; everything else is rare. The
	// fast path handles the media messages Twilio and our own encoders
	// send and declines anything unusual, which encoding/json then decides.
	if d.decodeFast(data, ev) {
		return nil
	}
	*ev = Event{}
	return d.decodeStd(data, ev)
}

// setPayload decodes b64 into d.payload and points ev.Payload at it.
func (d *Decoder) setPayload(ev *Event, b64 []byte) error {
	n := base64.StdEncoding.DecodedLen(len(b64))
	if cap(d.payload) < n {
		d.payload = make([]byte, n)
	}
	n, err := base64.StdEncoding.Decode(d.payload[:n], b64)
	if err != nil {
		return err
	}
	ev.Payload = d.payload[:n]
	return nil
}

// internSID returns b as a string, reusing the previous one when equal.
// The comparison string(b) == s does not allocate.
func (d *Decoder) internSID(b []byte) string {
	if string(b) != d.sid {
		d.sid = string(b)
	}
	return d.sid
}

func (d *Decoder) internTrack(b []byte) string {
	switch string(b) {
	case "inbound":
		return "inbound"
	case "outbound":
		return "outbound"
	}
	if string(b) != d.track {
		d.track = string(b)
	}
	return d.track
}

// parseCounter parses the digits of a sequenceNumber, chunk or timestamp:
// the content of the JSON string, or the JSON number literal. Only
// non-negative integers that fit an int64 are valid.
func parseCounter(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v := int64(c - '0')
		if n > (math.MaxInt64-v)/10 {
			return 0, false
		}
		n = n*10 + v
	}
	return n, true
}

// ---- Fast path for media events ----

// Presence bits of the fields decodeFast extracts; a second occurrence of a
// key makes it decline (encoding/json lets the last one win).
const (
	seenEvent = 1 << iota
	seenSeq
	seenSID
	seenMedia
	seenTrack
	seenChunk
	seenTimestamp
	seenPayload
)

// maxSkipDepth bounds the nesting of unknown values decodeFast will skip;
// deeper input goes to encoding/json.
const maxSkipDepth = 32

// fastMedia holds the raw fields decodeFast found, still undecoded.
type fastMedia struct {
	seen                         uint
	name, seq, sid               []byte
	track, chunk, timestamp, b64 []byte
}

// decodeFast decodes a media event without encoding/json and without
// allocating (except for a new streamSid or track). It returns false,
// leaving ev in an unspecified state, for anything it is not sure about:
// not a media event, invalid JSON, escapes in strings or keys, duplicate
// keys, keys encoding/json would match case-insensitively, values of an
// unexpected type, invalid counters or base64. The caller then decodes with
// decodeStd, which is the reference for the result or the error.
func (d *Decoder) decodeFast(data []byte, ev *Event) bool {
	s := scanner{b: data}
	var f fastMedia
	s.space()
	if !s.eat('{') {
		return false
	}
	for first := true; ; first = false {
		key, done, ok := s.member(first)
		if !ok {
			return false
		}
		if done {
			break
		}
		if !f.topField(&s, key) {
			return false
		}
	}
	s.space()
	if s.i != len(s.b) || string(f.name) != "media" || f.seen&seenPayload == 0 {
		return false
	}
	var ok bool
	if f.seen&seenSeq != 0 {
		if ev.SequenceNumber, ok = parseCounter(f.seq); !ok {
			return false
		}
	}
	if f.seen&seenChunk != 0 {
		if ev.Chunk, ok = parseCounter(f.chunk); !ok {
			return false
		}
	}
	if f.seen&seenTimestamp != 0 {
		if ev.Timestamp, ok = parseCounter(f.timestamp); !ok {
			return false
		}
	}
	if d.setPayload(ev, f.b64) != nil {
		return false
	}
	ev.Type = EventMedia
	ev.Name = "media"
	if f.seen&seenSID != 0 {
		ev.StreamSID = d.internSID(f.sid)
	}
	if f.seen&seenTrack != 0 {
		ev.Track = d.internTrack(f.track)
	}
	return true
}

// mark records that a field was seen; false for a duplicate.
func (f *fastMedia) mark(bit uint) bool {
	if f.seen&bit != 0 {
		return false
	}
	f.seen |= bit
	return true
}

// topField reads the value of one key of the message object.
func (f *fastMedia) topField(s *scanner, key []byte) bool {
	var ok bool
	switch string(key) {
	case "event":
		f.name, ok = s.plainString()
		return ok && f.mark(seenEvent)
	case "sequenceNumber":
		f.seq, ok = s.counter()
		return ok && f.mark(seenSeq)
	case "streamSid":
		f.sid, ok = s.plainString()
		return ok && f.mark(seenSID)
	case "media":
		if !f.mark(seenMedia) || !s.eat('{') {
			return false
		}
		for first := true; ; first = false {
			key, done, ok := s.member(first)
			if !ok {
				return false
			}
			if done {
				return true
			}
			if !f.mediaField(s, key) {
				return false
			}
		}
	}
	return !foldsTo(key, "event", "sequenceNumber", "streamSid", "media") && s.skip(0)
}

// mediaField reads the value of one key of the "media" object.
func (f *fastMedia) mediaField(s *scanner, key []byte) bool {
	var ok bool
	switch string(key) {
	case "track":
		f.track, ok = s.plainString()
		return ok && f.mark(seenTrack)
	case "chunk":
		f.chunk, ok = s.counter()
		return ok && f.mark(seenChunk)
	case "timestamp":
		f.timestamp, ok = s.counter()
		return ok && f.mark(seenTimestamp)
	case "payload":
		f.b64, ok = s.plainString()
		return ok && f.mark(seenPayload)
	}
	return !foldsTo(key, "track", "chunk", "timestamp", "payload") && s.skip(0)
}

// foldsTo reports whether key is not plain ASCII or equals one of names
// ignoring ASCII case. encoding/json matches keys to fields
// case-insensitively (with Unicode folding), so such a key may be one of
// the fields and the fast path must decline. The caller has already
// checked the exact matches.
func foldsTo(key []byte, names ...string) bool {
	for _, c := range key {
		if c >= 0x80 {
			return true
		}
	}
	for _, n := range names {
		if len(n) != len(key) {
			continue
		}
		eq := true
		for i := range len(n) {
			if lower(key[i]) != lower(n[i]) {
				eq = false
				break
			}
		}
		if eq {
			return true
		}
	}
	return false
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// scanner walks JSON text. It validates what it skips with the same
// grammar as encoding/json, so the fast path never accepts input the
// reference rejects.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// plainString reads a string of printable ASCII without escapes and
// returns its content. Anything else, valid or not, returns false: escapes
// and non-ASCII bytes (invalid UTF-8 becomes U+FFFD) need unquoting that
// only the reference path does.
func (s *scanner) plainString() ([]byte, bool) {
	if !s.eat('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, false
		}
		s.i++
	}
	return nil, false
}

// counter reads a plain string or a number and returns its content or
// literal for parseCounter.
func (s *scanner) counter() ([]byte, bool) {
	if s.i < len(s.b) && s.b[s.i] == '"' {
		return s.plainString()
	}
	start := s.i
	if !s.number() {
		return nil, false
	}
	return s.b[start:s.i], true
}

// member moves to the next member of an object whose '{' has been read and
// returns its key, which must be a plain string, leaving the scanner at the
// value. done is true at the closing '}'. first says no member has been
// read yet, so no comma is due.
func (s *scanner) member(first bool) (key []byte, done, ok bool) {
	s.space()
	if s.eat('}') {
		return nil, true, true
	}
	if !first {
		if !s.eat(',') {
			return nil, false, false
		}
		s.space()
	}
	if key, ok = s.plainString(); !ok {
		return nil, false, false
	}
	s.space()
	if !s.eat(':') {
		return nil, false, false
	}
	s.space()
	return key, false, true
}

// skip validates and skips one JSON value.
func (s *scanner) skip(depth int) bool {
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		return s.skipString()
	case c == '{':
		if depth >= maxSkipDepth {
			return false
		}
		s.i++
		s.space()
		if s.eat('}') {
			return true
		}
		for {
			s.space()
			if !s.skipString() {
				return false
			}
			s.space()
			if !s.eat(':') {
				return false
			}
			s.space()
			if !s.skip(depth + 1) {
				return false
			}
			s.space()
			if s.eat('}') {
				return true
			}
			if !s.eat(',') {
				return false
			}
		}
	case c == '[':
		if depth >= maxSkipDepth {
			return false
		}
		s.i++
		s.space()
		if s.eat(']') {
			return true
		}
		for {
			s.space()
			if !s.skip(depth + 1) {
				return false
			}
			s.space()
			if s.eat(']') {
				return true
			}
			if !s.eat(',') {
				return false
			}
		}
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	default:
		return s.number()
	}
}

func (s *scanner) literal(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// skipString skips a string, checking its escapes. Non-ASCII bytes, valid
// UTF-8 or not, are accepted as encoding/json accepts them.
func (s *scanner) skipString() bool {
	if !s.eat('"') {
		return false
	}
	for s.i < len(s.b) {
		c := s.b[s.i]
		s.i++
		switch {
		case c == '"':
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if s.i >= len(s.b) {
				return false
			}
			e := s.b[s.i]
			s.i++
			switch e {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(s.b)-s.i < 4 {
					return false
				}
				for _, h := range s.b[s.i : s.i+4] {
					if !isHex(h) {
						return false
					}
				}
				s.i += 4
			default:
				return false
			}
		}
	}
	return false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// number skips a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() bool {
	s.eat('-')
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '0':
		s.i++
	case '1' <= c && c <= '9':
		s.digits()
	default:
		return false
	}
	if s.eat('.') && s.digits() == 0 {
		return false
	}
	if s.eat('e') || s.eat('E') {
		if !s.eat('+') {
			s.eat('-')
		}
		if s.digits() == 0 {
			return false
		}
	}
	return true
}

func (s *scanner) digits() int {
	n := 0
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}

// ---- Reference path: encoding/json ----

// wireMessage is the top level of every event. Fields are kept raw and
// interpreted per event, so a field that does not belong to the event
// (a stray "start" in a media message) is ignored whatever its type.
type wireMessage struct {
	Event          *string         `json:"event"`
	SequenceNumber json.RawMessage `json:"sequenceNumber"`
	StreamSID      json.RawMessage `json:"streamSid"`
	Protocol       json.RawMessage `json:"protocol"`
	Version        json.RawMessage `json:"version"`
	Start          json.RawMessage `json:"start"`
	Media          json.RawMessage `json:"media"`
	DTMF           json.RawMessage `json:"dtmf"`
	Mark           json.RawMessage `json:"mark"`
	Stop           json.RawMessage `json:"stop"`
}

type wireStart struct {
	StreamSID        json.RawMessage   `json:"streamSid"`
	AccountSID       json.RawMessage   `json:"accountSid"`
	CallSID          json.RawMessage   `json:"callSid"`
	Tracks           []string          `json:"tracks"`
	CustomParameters map[string]string `json:"customParameters"`
	MediaFormat      struct {
		Encoding   json.RawMessage `json:"encoding"`
		SampleRate int             `json:"sampleRate"`
		Channels   int             `json:"channels"`
	} `json:"mediaFormat"`
}

type wireMedia struct {
	Track     json.RawMessage `json:"track"`
	Chunk     json.RawMessage `json:"chunk"`
	Timestamp json.RawMessage `json:"timestamp"`
	Payload   json.RawMessage `json:"payload"`
}

type wireDTMF struct {
	Track json.RawMessage `json:"track"`
	Digit json.RawMessage `json:"digit"`
}

type wireMark struct {
	Name json.RawMessage `json:"name"`
}

type wireStop struct {
	AccountSID json.RawMessage `json:"accountSid"`
	CallSID    json.RawMessage `json:"callSid"`
}

// stdDecoder interprets raw fields of one event and keeps the first error.
type stdDecoder struct {
	event string
	err   error
}

func (r *stdDecoder) fail(what string, cause error) {
	if r.err == nil {
		r.err = malformed(r.event, what, cause)
	}
}

// object unmarshals raw into v; it reports whether raw was present.
func (r *stdDecoder) object(field string, raw json.RawMessage, v any) bool {
	if absent(raw) {
		return false
	}
	if err := json.Unmarshal(raw, v); err != nil {
		r.fail(field+": want an object with the right field types", err)
	}
	return true
}

// str returns the string in raw; present is false for a missing or null field.
func (r *stdDecoder) str(field string, raw json.RawMessage) (s string, present bool) {
	if absent(raw) {
		return "", false
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		r.fail(field+": want a string", err)
		return "", false
	}
	return s, true
}

// counter returns the integer in raw, a decimal string or a JSON number.
func (r *stdDecoder) counter(field string, raw json.RawMessage) int64 {
	if absent(raw) {
		return 0
	}
	digits := []byte(raw)
	if raw[0] == '"' {
		s, _ := r.str(field, raw)
		digits = []byte(s)
	}
	n, ok := parseCounter(digits)
	if !ok {
		r.fail(field+": want a non-negative integer, got "+string(raw), nil)
	}
	return n
}

func (r *stdDecoder) required(field string, present bool) {
	if !present {
		r.fail("missing "+field, nil)
	}
}

func absent(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// decodeStd decodes any event with encoding/json. It is Decode's fallback
// and the reference the fast path is tested against.
func (d *Decoder) decodeStd(data []byte, ev *Event) error {
	var m wireMessage
	if err := json.Unmarshal(data, &m); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return malformed("", "invalid JSON", err)
		}
		return malformed("", "want a JSON object with a string \"event\"", err)
	}
	if m.Event == nil {
		return malformed("", `missing "event"`, nil)
	}
	if *m.Event == "" {
		return malformed("", `empty "event"`, nil)
	}
	ev.Type = eventType(*m.Event)
	ev.Name = *m.Event
	if ev.Type != EventUnknown {
		ev.Name = ev.Type.String() // a constant, so ev.Name does not pin the input
	}
	r := stdDecoder{event: ev.Name}
	ev.SequenceNumber = r.counter("sequenceNumber", m.SequenceNumber)
	sid, hasSID := r.str("streamSid", m.StreamSID)
	if ev.Type == EventUnknown {
		// Sequence numbers count every message of the stream, so a caller
		// tracking gaps needs them from events it does not know; what they
		// carry is not ours to judge.
		if r.err != nil {
			ev.SequenceNumber, sid = 0, ""
		}
		ev.StreamSID = sid
		return nil
	}
	if hasSID {
		ev.StreamSID = d.internSID([]byte(sid))
	}

	switch ev.Type {
	case EventConnected:
		ev.Protocol, _ = r.str("protocol", m.Protocol)
		ev.Version, _ = r.str("version", m.Version)

	case EventStart:
		var w wireStart
		r.required("start", r.object("start", m.Start, &w))
		st := &ev.Start
		inner, hasInner := r.str("start.streamSid", w.StreamSID)
		st.StreamSID = inner
		if !hasInner || inner == "" {
			st.StreamSID = ev.StreamSID
		}
		r.required("streamSid", st.StreamSID != "")
		st.AccountSID, _ = r.str("start.accountSid", w.AccountSID)
		st.CallSID, _ = r.str("start.callSid", w.CallSID)
		if len(w.Tracks) > 0 {
			st.Tracks = w.Tracks
		}
		if len(w.CustomParameters) > 0 {
			st.CustomParameters = w.CustomParameters
		}
		st.MediaFormat.Encoding, _ = r.str("start.mediaFormat.encoding", w.MediaFormat.Encoding)
		st.MediaFormat.SampleRate = w.MediaFormat.SampleRate
		st.MediaFormat.Channels = w.MediaFormat.Channels

	case EventMedia:
		var w wireMedia
		r.required("media", r.object("media", m.Media, &w))
		if track, ok := r.str("media.track", w.Track); ok {
			ev.Track = d.internTrack([]byte(track))
		}
		ev.Chunk = r.counter("media.chunk", w.Chunk)
		ev.Timestamp = r.counter("media.timestamp", w.Timestamp)
		b64, ok := r.str("media.payload", w.Payload)
		r.required("media.payload", ok)
		if ok && r.err == nil {
			if err := d.setPayload(ev, []byte(b64)); err != nil {
				r.fail("media.payload: invalid base64", err)
			}
		}

	case EventDTMF:
		var w wireDTMF
		r.required("dtmf", r.object("dtmf", m.DTMF, &w))
		ev.Track, _ = r.str("dtmf.track", w.Track)
		var ok bool
		ev.Digit, ok = r.str("dtmf.digit", w.Digit)
		r.required("dtmf.digit", ok)

	case EventMark:
		var w wireMark
		r.required("mark", r.object("mark", m.Mark, &w))
		var ok bool
		ev.Mark, ok = r.str("mark.name", w.Name)
		r.required("mark.name", ok)

	case EventStop:
		var w wireStop
		r.object("stop", m.Stop, &w)
		ev.StopAccountSID, _ = r.str("stop.accountSid", w.AccountSID)
		ev.StopCallSID, _ = r.str("stop.callSid", w.CallSID)

	case EventClear:
		// Nothing but the streamSid.
	}
	return r.err
}
