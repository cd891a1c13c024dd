package transcript

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/frontdesk/frontdesk/recording/crypt"
)

// FuzzRead feeds arbitrary JSON lines to the log reader: it must never
// panic, only fail with ErrFormat (or a line too long), and what it
// accepts must export without error and survive a JSON round trip.
func FuzzRead(f *testing.F) {
	dir := f.TempDir()
	l, _ := Create(dir, testMeta("seed"), Options{Keyring: testKeyring()})
	l.Append(Turn{Speaker: Agent, Text: "Hello. How can I help?", StartMS: 0, EndMS: 2000, Confidence: 1})
	l.Cut(0, 1000)
	l.Disclosed()
	l.RecordingStopped(500)
	l.End(started, "hung_up")
	l.Close()
	r, err := crypt.OpenFile(dir+"/seed"+Ext, testKeyring())
	if err != nil {
		f.Fatal(err)
	}
	plain := make([]byte, r.Size())
	r.ReadAt(plain, 0)
	r.Close()
	f.Add(plain)
	f.Add([]byte(`{"kind":"start","v":1,"meta":{"call_id":"a","business_id":"b","started_at":"2026-01-01T00:00:00Z"}}` + "\n" + `{"kind":"cut","index":0,"turn":{}}`))
	f.Add([]byte(`{"kind":"turn"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := Read(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, ErrFormat) && !bytes.Contains([]byte(err.Error()), []byte("too long")) {
				t.Fatalf("error is not ErrFormat: %v", err)
			}
			return
		}
		var buf bytes.Buffer
		for _, w := range []func(*bytes.Buffer) error{
			func(b *bytes.Buffer) error { return tr.WriteText(b) },
			func(b *bytes.Buffer) error { return tr.WriteVTT(b) },
		} {
			buf.Reset()
			if err := w(&buf); err != nil {
				t.Fatal(err)
			}
		}
		if msg := checkVTT(buf.String()); msg != "" && msg != "no cues" {
			t.Fatalf("invalid WebVTT from accepted input: %s\n%s", msg, buf.String())
		}
		buf.Reset()
		if err := tr.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		var back Transcript
		if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
			t.Fatal(err)
		}
		var again bytes.Buffer
		back.WriteJSON(&again)
		if !bytes.Equal(again.Bytes(), buf.Bytes()) {
			t.Fatalf("JSON round trip changed the transcript:\n%s\n%s", buf.Bytes(), again.Bytes())
		}
	})
}
