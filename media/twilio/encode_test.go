package twilio

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite testdata/encode golden files")

// ulawFrame is 20 ms of a μ-law ramp, every byte value represented.
var ulawFrame = func() []byte {
	b := make([]byte, 160)
	for i := range b {
		b[i] = byte(i * 255 / 159)
	}
	return b
}()

var goldenStart = &Start{
	StreamSID:  goldenSID,
	AccountSID: goldenAcc,
	CallSID:    goldenCall,
	Tracks:     []string{"inbound"},
	CustomParameters: map[string]string{
		"tenant":   "acme-dental",
		"caller":   "+14155550123",
		"greeting": `Hi, it's "Acme" Dental`,
	},
	MediaFormat: MediaFormat{Encoding: "audio/x-mulaw", SampleRate: 8000, Channels: 1},
}

// TestAppendGolden pins the exact bytes of each message. Run with -update
// after an intended change of the wire format.
func TestAppendGolden(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
	}{
		{"media", AppendMedia(nil, goldenSID, ulawFrame[:9])},
		{"mark", AppendMark(nil, goldenSID, "turn-1/sentence-2")},
		{"clear", AppendClear(nil, goldenSID)},
		{"connected", AppendConnected(nil)},
		{"start", AppendStart(nil, 1, goldenStart)},
		{"inbound_media", AppendInboundMedia(nil, goldenSID, 3, 2, 20, ulawFrame[:9])},
		{"dtmf", AppendDTMF(nil, goldenSID, 5, "1")},
		{"mark_echo", AppendMarkEcho(nil, goldenSID, 4, "turn-1/sentence-2")},
		{"stop", AppendStop(nil, goldenSID, 6, goldenAcc, goldenCall)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !json.Valid(tt.got) {
				t.Fatalf("output is not valid JSON: %s", tt.got)
			}
			path := filepath.Join("testdata", "encode", tt.name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, append(tt.got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got := append(tt.got, '\n'); !bytes.Equal(got, want) {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

// awkward strings for names and parameters: JSON specials, control
// characters, non-ASCII, JavaScript line separators.
var awkward = []string{
	"",
	"plain",
	`quote " and backslash \ and slash /`,
	"tab\tnewline\nreturn\rnul\x00bell\x07del\x7f\x1f",
	"héllo wörld — 日本語 🎧",
	"line\u2028para\u2029sep",
	"<script>&amp;</script>",
}

func TestAppendRoundTrip(t *testing.T) {
	var d Decoder
	var ev Event
	decode := func(t *testing.T, msg []byte) *Event {
		t.Helper()
		if !json.Valid(msg) {
			t.Fatalf("not valid JSON: %q", msg)
		}
		if err := d.Decode(msg, &ev); err != nil {
			t.Fatalf("Decode(%s): %v", msg, err)
		}
		return &ev
	}
	check := func(t *testing.T, msg []byte, want Event) {
		t.Helper()
		if diff := sameEvent(decode(t, msg), &want); diff != "" {
			t.Errorf("%s", diff)
		}
	}
	for _, s := range awkward {
		t.Run(s, func(t *testing.T) {
			check(t, AppendMedia(nil, s, ulawFrame), Event{Type: EventMedia, Name: "media", StreamSID: s, Payload: ulawFrame})
			check(t, AppendMedia(nil, s, nil), Event{Type: EventMedia, Name: "media", StreamSID: s})
			check(t, AppendMark(nil, s, s), Event{Type: EventMark, Name: "mark", StreamSID: s, Mark: s})
			check(t, AppendClear(nil, s), Event{Type: EventClear, Name: "clear", StreamSID: s})
			check(t, AppendInboundMedia(nil, s, 1<<40, 7, 140, ulawFrame),
				Event{Type: EventMedia, Name: "media", SequenceNumber: 1 << 40, StreamSID: s, Track: "inbound", Chunk: 7, Timestamp: 140, Payload: ulawFrame})
			check(t, AppendDTMF(nil, s, 9, s), Event{Type: EventDTMF, Name: "dtmf", SequenceNumber: 9, StreamSID: s, Track: "inbound_track", Digit: s})
			check(t, AppendMarkEcho(nil, s, 10, s), Event{Type: EventMark, Name: "mark", SequenceNumber: 10, StreamSID: s, Mark: s})
			check(t, AppendStop(nil, s, 11, s, s), Event{Type: EventStop, Name: "stop", SequenceNumber: 11, StreamSID: s, StopAccountSID: s, StopCallSID: s})
		})
	}
	t.Run("connected", func(t *testing.T) {
		check(t, AppendConnected(nil), Event{Type: EventConnected, Name: "connected", Protocol: "Call", Version: "1.0.0"})
	})
	t.Run("start", func(t *testing.T) {
		params := map[string]string{}
		for i, s := range awkward {
			params[s] = awkward[len(awkward)-1-i]
		}
		st := Start{StreamSID: "MZ1", AccountSID: "AC1", CallSID: "CA1", Tracks: []string{"inbound", "outbound"},
			CustomParameters: params, MediaFormat: MediaFormat{Encoding: "audio/x-mulaw", SampleRate: 8000, Channels: 1}}
		check(t, AppendStart(nil, 1, &st), Event{Type: EventStart, Name: "start", SequenceNumber: 1, StreamSID: "MZ1", Start: st})
	})
	t.Run("start defaults", func(t *testing.T) {
		check(t, AppendStart(nil, 1, &Start{StreamSID: "MZ1"}), Event{Type: EventStart, Name: "start", SequenceNumber: 1, StreamSID: "MZ1",
			Start: Start{StreamSID: "MZ1", MediaFormat: MediaFormat{Encoding: "audio/x-mulaw", SampleRate: 8000, Channels: 1}}})
	})
	t.Run("appends", func(t *testing.T) {
		prefix := []byte("keep me")
		out := AppendClear(prefix, "MZ1")
		if !bytes.HasPrefix(out, prefix) || !json.Valid(out[len(prefix):]) {
			t.Errorf("AppendClear(%q, …) = %q, want the prefix kept and a message after it", prefix, out)
		}
	})
}

// TestAppendStringMatchesStdlib checks appendString against encoding/json:
// both must decode to the same string, invalid UTF-8 included.
func TestAppendStringMatchesStdlib(t *testing.T) {
	cases := append([]string{"bad \xff utf8", "\xc3", "trunc \xe2\x82", "\xed\xa0\x80 surrogate"}, awkward...)
	for _, s := range cases {
		checkAppendString(t, s)
	}
	for c := range 256 {
		checkAppendString(t, string([]byte{byte(c)}))
	}
}

func checkAppendString(t *testing.T, s string) {
	t.Helper()
	got := appendString(nil, s)
	var fromOurs, fromStd string
	if err := json.Unmarshal(got, &fromOurs); err != nil {
		t.Fatalf("appendString(%q) = %s, not a JSON string: %v", s, got, err)
	}
	std, _ := json.Marshal(s)
	if err := json.Unmarshal(std, &fromStd); err != nil {
		t.Fatal(err)
	}
	if fromOurs != fromStd {
		t.Errorf("appendString(%q) = %s decodes to %q, encoding/json gives %q", s, got, fromOurs, fromStd)
	}
	if utf8.ValidString(s) && fromOurs != s {
		t.Errorf("appendString(%q) = %s decodes to %q, want the input back", s, got, fromOurs)
	}
	if bytes.ContainsAny(got[1:len(got)-1], "\u2028\u2029") {
		t.Errorf("appendString(%q) = %s left U+2028/U+2029 unescaped", s, got)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range awkward {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkAppendString(t, s)
	})
}

func TestAppendAllocs(t *testing.T) {
	buf := make([]byte, 0, 4096)
	tests := []struct {
		name string
		fn   func()
	}{
		{"AppendMedia", func() { buf = AppendMedia(buf[:0], goldenSID, ulawFrame) }},
		{"AppendMark", func() { buf = AppendMark(buf[:0], goldenSID, "turn \"1\"\n é") }},
		{"AppendClear", func() { buf = AppendClear(buf[:0], goldenSID) }},
		{"AppendConnected", func() { buf = AppendConnected(buf[:0]) }},
		{"AppendInboundMedia", func() { buf = AppendInboundMedia(buf[:0], goldenSID, 1234, 1233, 24660, ulawFrame) }},
		{"AppendDTMF", func() { buf = AppendDTMF(buf[:0], goldenSID, 7, "5") }},
		{"AppendMarkEcho", func() { buf = AppendMarkEcho(buf[:0], goldenSID, 7, "m") }},
		{"AppendStop", func() { buf = AppendStop(buf[:0], goldenSID, 7, goldenAcc, goldenCall) }},
	}
	for _, tt := range tests {
		if allocs := testing.AllocsPerRun(100, tt.fn); allocs != 0 {
			t.Errorf("%s with capacity allocates %v times, want 0", tt.name, allocs)
		}
	}
}

func BenchmarkAppendMedia(b *testing.B) {
	buf := make([]byte, 0, 512)
	b.SetBytes(int64(len(ulawFrame)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendMedia(buf[:0], goldenSID, ulawFrame)
	}
}

func BenchmarkAppendInboundMedia(b *testing.B) {
	buf := make([]byte, 0, 512)
	b.SetBytes(int64(len(ulawFrame)))
	b.ReportAllocs()
	var seq int64
	for b.Loop() {
		seq++
		buf = AppendInboundMedia(buf[:0], goldenSID, seq, seq-1, (seq-1)*20, ulawFrame)
	}
}
