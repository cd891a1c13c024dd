package twilio

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const (
	goldenSID  = "MZ18ad3ab5a668481ce02b83e7395059f0"
	goldenAcc  = "AC25e16e9a716a4a1786a7c83f58e30482"
	goldenCall = "CA2e8f3a1b4c5d6e7f8091a2b3c4d5e6f7"
)

func readEvent(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "events", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// goldenPayload returns the decoded media.payload of a golden message,
// extracted with encoding/json independently of the Decoder.
func goldenPayload(t testing.TB, data []byte) []byte {
	t.Helper()
	var m struct{ Media struct{ Payload string } }
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	p, err := base64.StdEncoding.DecodeString(m.Media.Payload)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// sameEvent reports how got and want differ, "" when they do not.
// Payloads compare by content (nil equals empty).
func sameEvent(got, want *Event) string {
	if !bytes.Equal(got.Payload, want.Payload) {
		return "Payload differs: got " + base64.StdEncoding.EncodeToString(got.Payload) +
			", want " + base64.StdEncoding.EncodeToString(want.Payload)
	}
	g, w := *got, *want
	g.Payload, w.Payload = nil, nil
	if !reflect.DeepEqual(g, w) {
		gj, _ := json.Marshal(g)
		wj, _ := json.Marshal(w)
		return "got " + string(gj) + "\nwant " + string(wj)
	}
	return ""
}

func TestDecodeGolden(t *testing.T) {
	tests := []struct {
		file string
		want Event
		fast bool // the fast path must take it
	}{
		{file: "connected", want: Event{Type: EventConnected, Name: "connected", Protocol: "Call", Version: "1.0.0"}},
		{file: "start", want: Event{Type: EventStart, Name: "start", SequenceNumber: 1, StreamSID: goldenSID, Start: Start{
			StreamSID: goldenSID, AccountSID: goldenAcc, CallSID: goldenCall, Tracks: []string{"inbound"},
			CustomParameters: map[string]string{"caller": "+14155550123", "tenant": "acme-dental", "greeting": `Hi, it's "Acme" Dental`},
			MediaFormat:      MediaFormat{Encoding: "audio/x-mulaw", SampleRate: 8000, Channels: 1},
		}}},
		{file: "media", fast: true, want: Event{Type: EventMedia, Name: "media", SequenceNumber: 3, StreamSID: goldenSID, Track: "inbound", Chunk: 2, Timestamp: 20}},
		{file: "dtmf", want: Event{Type: EventDTMF, Name: "dtmf", SequenceNumber: 5, StreamSID: goldenSID, Track: "inbound_track", Digit: "1"}},
		{file: "mark", want: Event{Type: EventMark, Name: "mark", SequenceNumber: 4, StreamSID: goldenSID, Mark: "turn-1/sentence-2"}},
		{file: "stop", want: Event{Type: EventStop, Name: "stop", SequenceNumber: 6, StreamSID: goldenSID, StopAccountSID: goldenAcc, StopCallSID: goldenCall}},
		{file: "outbound_media", fast: true, want: Event{Type: EventMedia, Name: "media", StreamSID: goldenSID}},
		{file: "outbound_mark", want: Event{Type: EventMark, Name: "mark", StreamSID: goldenSID, Mark: "turn-1/sentence-2"}},
		{file: "outbound_clear", want: Event{Type: EventClear, Name: "clear", StreamSID: goldenSID}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data := readEvent(t, tt.file)
			want := tt.want
			if want.Type == EventMedia {
				want.Payload = goldenPayload(t, data)
				if len(want.Payload) != 160 {
					t.Fatalf("golden payload is %d bytes, want 160 (20 ms of μ-law)", len(want.Payload))
				}
			}
			var d Decoder
			var ev Event
			if err := d.Decode(data, &ev); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := sameEvent(&ev, &want); diff != "" {
				t.Errorf("Decode: %s", diff)
			}
			var ref Event
			if err := new(Decoder).decodeStd(data, &ref); err != nil {
				t.Fatalf("decodeStd: %v", err)
			}
			if diff := sameEvent(&ref, &want); diff != "" {
				t.Errorf("decodeStd: %s", diff)
			}
			var fast Event
			if got := new(Decoder).decodeFast(data, &fast); got != tt.fast {
				t.Errorf("decodeFast took it = %v, want %v", got, tt.fast)
			}
		})
	}
}

func TestDecodeVariants(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Event
	}{
		{"media counters as numbers", `{"event":"media","sequenceNumber":7,"media":{"track":"inbound","chunk":6,"timestamp":100,"payload":"AAEC"},"streamSid":"MZ1"}`,
			Event{Type: EventMedia, Name: "media", SequenceNumber: 7, StreamSID: "MZ1", Track: "inbound", Chunk: 6, Timestamp: 100, Payload: []byte{0, 1, 2}}},
		{"media keys in any order, whitespace, unknown keys", "\t{ \"media\" : { \"payload\":\"/w==\", \"extra\": {\"a\":[1,-2.5e3,true,false,null,\"\\u00e9\"]}, \"timestamp\":\"40\" } ,\n\"x\":[] , \"event\" : \"media\" }\r\n",
			Event{Type: EventMedia, Name: "media", Timestamp: 40, Payload: []byte{0xff}}},
		{"media with escaped streamSid", `{"event":"media","streamSid":"MZ\u0031","media":{"payload":"AA=="}}`,
			Event{Type: EventMedia, Name: "media", StreamSID: "MZ1", Payload: []byte{0}}},
		{"media with empty payload", `{"event":"media","streamSid":"MZ1","media":{"payload":""}}`,
			Event{Type: EventMedia, Name: "media", StreamSID: "MZ1"}},
		{"media with outbound track", `{"event":"media","media":{"track":"outbound","payload":"AA=="}}`,
			Event{Type: EventMedia, Name: "media", Track: "outbound", Payload: []byte{0}}},
		{"start with streamSid only at top level", `{"event":"start","sequenceNumber":"1","streamSid":"MZ1","start":{"callSid":"CA1"}}`,
			Event{Type: EventStart, Name: "start", SequenceNumber: 1, StreamSID: "MZ1", Start: Start{StreamSID: "MZ1", CallSID: "CA1"}}},
		{"start with streamSid only inside", `{"event":"start","start":{"streamSid":"MZ2"}}`,
			Event{Type: EventStart, Name: "start", Start: Start{StreamSID: "MZ2"}}},
		{"start with different streamSids", `{"event":"start","streamSid":"MZ1","start":{"streamSid":"MZ2"}}`,
			Event{Type: EventStart, Name: "start", StreamSID: "MZ1", Start: Start{StreamSID: "MZ2"}}},
		{"stop without body", `{"event":"stop","streamSid":"MZ1"}`,
			Event{Type: EventStop, Name: "stop", StreamSID: "MZ1"}},
		{"mark with empty name", `{"event":"mark","mark":{"name":""}}`,
			Event{Type: EventMark, Name: "mark"}},
		{"unknown event", `{"event":"transcription","streamSid":"MZ1","sequenceNumber":"7","whatever":{}}`,
			Event{Type: EventUnknown, Name: "transcription", SequenceNumber: 7, StreamSID: "MZ1"}},
		{"unknown event with bad counter", `{"event":"transcription","streamSid":"MZ1","sequenceNumber":"oops"}`,
			Event{Type: EventUnknown, Name: "transcription"}},
		{"unknown event with bad streamSid", `{"event":"transcription","streamSid":5,"sequenceNumber":"7"}`,
			Event{Type: EventUnknown, Name: "transcription"}},
		{"unknown event without fields", `{"event":"Media"}`,
			Event{Type: EventUnknown, Name: "Media"}},
		{"stray fields of other events ignored", `{"event":"clear","streamSid":"MZ1","media":5,"start":"x"}`,
			Event{Type: EventClear, Name: "clear", StreamSID: "MZ1"}},
		{"null counter is absent", `{"event":"mark","sequenceNumber":null,"mark":{"name":"a"}}`,
			Event{Type: EventMark, Name: "mark", Mark: "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Decoder
			ev := Event{Type: EventDTMF, Digit: "9", Payload: []byte{1}} // Decode must reset it
			if err := d.Decode([]byte(tt.in), &ev); err != nil {
				t.Fatalf("Decode(%s): %v", tt.in, err)
			}
			if diff := sameEvent(&ev, &tt.want); diff != "" {
				t.Errorf("Decode(%s): %s", tt.in, diff)
			}
		})
	}
}

// TestDecodeFastPathScope pins what the fast path takes itself and what it
// leaves to encoding/json, so that a change cannot silently send every
// media event down the slow path.
func TestDecodeFastPathScope(t *testing.T) {
	tests := []struct {
		in   string
		fast bool
	}{
		{`{"event":"media","sequenceNumber":"1","media":{"track":"inbound","chunk":"1","timestamp":"0","payload":"AA=="},"streamSid":"MZ1"}`, true},
		{`{"event":"media","streamSid":"MZ1","media":{"payload":"AA=="}}`, true},
		{`{"media":{"timestamp":5,"payload":"AA=="},"sequenceNumber":7,"event":"media"}`, true},
		{` {"event" : "media", "x":{"y":[1,2.5e-3,"\u00e9",null,true]}, "media":{"z":[],"payload":"AA=="}} `, true},
		{`{"event":"mark","mark":{"name":"a"}}`, false},
		{`{"event":"clear","streamSid":"MZ1"}`, false},
		{`{"event":"media","streamSid":"MZ\u0031","media":{"payload":"AA=="}}`, false},
		{`{"event":"media","media":{"payload":"AA=="},"media":{"payload":"AA=="}}`, false},
		{`{"Event":"media","media":{"payload":"AA=="}}`, false},
		{`{"event":"media","media":{"PAYLOAD":"AA=="}}`, false},
		{`{"event":"media","streamSid":null,"media":{"payload":"AA=="}}`, false},
		{`{"event":"media","media":{"payload":"AA!="}}`, false},
		{`{"event":"media","sequenceNumber":"-1","media":{"payload":"AA=="}}`, false},
		{`{"event":"media","media":{"payload":"AA=="}} x`, false},
		{`{"event":"media","media":{"payload":"AA=="},}`, false},
	}
	for _, tt := range tests {
		var ev Event
		if got := new(Decoder).decodeFast([]byte(tt.in), &ev); got != tt.fast {
			t.Errorf("decodeFast(%s) = %v, want %v", tt.in, got, tt.fast)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, in, want string // want: a substring of the error
	}{
		{"empty input", ``, "invalid JSON"},
		{"not JSON", `hello`, "invalid JSON"},
		{"truncated", `{"event":"media","media":{"payload":"AAAA"}`, "invalid JSON"},
		{"trailing garbage", `{"event":"clear"} x`, "invalid JSON"},
		{"array", `[{"event":"media"}]`, "want a JSON object"},
		{"null", `null`, `missing "event"`},
		{"missing event", `{"streamSid":"MZ1"}`, `missing "event"`},
		{"empty event", `{"event":""}`, `empty "event"`},
		{"event not a string", `{"event":3}`, "want a JSON object"},
		{"media without media", `{"event":"media","streamSid":"MZ1"}`, "missing media"},
		{"media without payload", `{"event":"media","media":{"track":"inbound"}}`, "missing media.payload"},
		{"media null payload", `{"event":"media","media":{"payload":null}}`, "missing media.payload"},
		{"media payload not a string", `{"event":"media","media":{"payload":12}}`, "media"},
		{"media not an object", `{"event":"media","media":"AAAA"}`, "media: want an object"},
		{"invalid base64", `{"event":"media","media":{"payload":"AA!A"}}`, "invalid base64"},
		{"base64 missing padding", `{"event":"media","media":{"payload":"AAA"}}`, "invalid base64"},
		{"negative sequenceNumber", `{"event":"media","sequenceNumber":"-1","media":{"payload":"AA=="}}`, "sequenceNumber: want a non-negative integer"},
		{"fractional chunk", `{"event":"media","media":{"chunk":1.5,"payload":"AA=="}}`, "media.chunk: want a non-negative integer"},
		{"empty timestamp", `{"event":"media","media":{"timestamp":"","payload":"AA=="}}`, "media.timestamp: want a non-negative integer"},
		{"overflowing counter", `{"event":"media","sequenceNumber":"9223372036854775808","media":{"payload":"AA=="}}`, "sequenceNumber"},
		{"counter of wrong type", `{"event":"mark","sequenceNumber":true,"mark":{"name":"a"}}`, "sequenceNumber"},
		{"streamSid not a string", `{"event":"clear","streamSid":5}`, "streamSid: want a string"},
		{"start without streamSid", `{"event":"start","sequenceNumber":"1","start":{"callSid":"CA1"}}`, "missing streamSid"},
		{"start without start", `{"event":"start","streamSid":"MZ1"}`, "missing start"},
		{"start with bad sampleRate", `{"event":"start","streamSid":"MZ1","start":{"mediaFormat":{"sampleRate":"8000"}}}`, "start: want an object"},
		{"mark without name", `{"event":"mark","streamSid":"MZ1","mark":{}}`, "missing mark.name"},
		{"mark without mark", `{"event":"mark","streamSid":"MZ1"}`, "missing mark"},
		{"dtmf without digit", `{"event":"dtmf","dtmf":{"track":"inbound_track"}}`, "missing dtmf.digit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Decoder
			var ev Event
			err := d.Decode([]byte(tt.in), &ev)
			if err == nil {
				t.Fatalf("Decode(%s) = nil error, want one containing %q", tt.in, tt.want)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("Decode(%s) = %v, does not wrap ErrMalformed", tt.in, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode(%s) = %q, want it to contain %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestDecodeErrorCauses(t *testing.T) {
	var d Decoder
	var ev Event
	err := d.Decode([]byte(`{"event":"media","media":{"payload":"A!=="}}`), &ev)
	var cie base64.CorruptInputError
	if !errors.As(err, &cie) {
		t.Errorf("invalid base64: %v does not wrap base64.CorruptInputError", err)
	}
	err = d.Decode([]byte(`{"event":`), &ev)
	var syn *json.SyntaxError
	if !errors.As(err, &syn) {
		t.Errorf("invalid JSON: %v does not wrap *json.SyntaxError", err)
	}
}

func TestDecodeReusesBuffersAndResets(t *testing.T) {
	var d Decoder
	var ev Event
	a := AppendInboundMedia(nil, "MZ1", 1, 1, 0, bytes.Repeat([]byte{0xaa}, 160))
	b := AppendInboundMedia(nil, "MZ1", 2, 2, 20, bytes.Repeat([]byte{0x55}, 160))
	if err := d.Decode(a, &ev); err != nil {
		t.Fatal(err)
	}
	first := ev.Payload
	if err := d.Decode(b, &ev); err != nil {
		t.Fatal(err)
	}
	if &first[0] != &ev.Payload[0] {
		t.Error("second media event did not reuse the payload buffer")
	}
	if ev.Payload[0] != 0x55 || ev.SequenceNumber != 2 || ev.Timestamp != 20 {
		t.Errorf("second media event: payload[0]=%#x seq=%d ts=%d, want 0x55 2 20", ev.Payload[0], ev.SequenceNumber, ev.Timestamp)
	}
	if err := d.Decode(AppendMarkEcho(nil, "MZ1", 3, "m"), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Payload != nil || ev.Track != "" || ev.Chunk != 0 {
		t.Errorf("mark after media kept media fields: Payload=%v Track=%q Chunk=%d", ev.Payload, ev.Track, ev.Chunk)
	}
}

func TestDecodeStartDoesNotAlias(t *testing.T) {
	var d Decoder
	var ev Event
	start := &Start{StreamSID: "MZ1", Tracks: []string{"inbound"}, CustomParameters: map[string]string{"a": "1"}}
	if err := d.Decode(AppendStart(nil, 1, start), &ev); err != nil {
		t.Fatal(err)
	}
	kept := ev.Start
	start2 := &Start{StreamSID: "MZ2", Tracks: []string{"outbound"}, CustomParameters: map[string]string{"a": "2"}}
	if err := d.Decode(AppendStart(nil, 1, start2), &ev); err != nil {
		t.Fatal(err)
	}
	if kept.Tracks[0] != "inbound" || kept.CustomParameters["a"] != "1" {
		t.Errorf("a second start changed the first: Tracks=%v CustomParameters=%v", kept.Tracks, kept.CustomParameters)
	}
}

func TestDecodeMediaAllocs(t *testing.T) {
	inbound := readEvent(t, "media")
	outbound := readEvent(t, "outbound_media")
	var d Decoder
	var ev Event
	for name, data := range map[string][]byte{"inbound": inbound, "outbound": outbound} {
		if err := d.Decode(data, &ev); err != nil { // warm up: buffer and streamSid
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(100, func() {
			if err := d.Decode(data, &ev); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("Decode(%s media) allocates %v times per event, want 0", name, allocs)
		}
	}
}

// FuzzDecode checks Decode never panics, that its verdict matches the
// encoding/json reference on every input, and that whenever the fast path
// accepts a message the reference decodes the same fields from it.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "events", "*.json"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var ref Event
		errRef := new(Decoder).decodeStd(data, &ref)
		if errRef != nil && !errors.Is(errRef, ErrMalformed) {
			t.Fatalf("decodeStd(%q) = %v, does not wrap ErrMalformed", data, errRef)
		}

		var fast Event
		if new(Decoder).decodeFast(data, &fast) {
			if errRef != nil {
				t.Fatalf("fast path accepted %q, reference rejects it: %v", data, errRef)
			}
			if diff := sameEvent(&fast, &ref); diff != "" {
				t.Fatalf("fast path vs reference on %q: %s", data, diff)
			}
		}

		var ev Event
		err := new(Decoder).Decode(data, &ev)
		if (err == nil) != (errRef == nil) {
			t.Fatalf("Decode(%q) error = %v, reference error = %v", data, err, errRef)
		}
		if err == nil {
			if diff := sameEvent(&ev, &ref); diff != "" {
				t.Fatalf("Decode vs reference on %q: %s", data, diff)
			}
		}
	})
}

func BenchmarkDecodeMedia(b *testing.B) {
	data := readEvent(b, "media")
	var d Decoder
	var ev Event
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Decode(data, &ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeMediaStdlib is the encoding/json reference, for comparison.
func BenchmarkDecodeMediaStdlib(b *testing.B) {
	data := readEvent(b, "media")
	var d Decoder
	var ev Event
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		ev = Event{}
		if err := d.decodeStd(data, &ev); err != nil {
			b.Fatal(err)
		}
	}
}
