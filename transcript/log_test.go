package transcript

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/recording/crypt"
)

// testKeyring returns a keyring with one fixed KEK, the same in a crash
// test's child process.
func testKeyring() *crypt.Keyring {
	kr := crypt.NewKeyring()
	if err := kr.Add("test-1", bytes.Repeat([]byte{9}, crypt.KeySize)); err != nil {
		panic(err) // a constant key: cannot fail
	}
	return kr
}

var started = time.Date(2026, 3, 1, 14, 30, 0, 0, time.UTC)

func testMeta(id string) Meta {
	return Meta{CallID: id, BusinessID: "acme-dental", From: "+15551230001", To: "+15557650002", StartedAt: started}
}

// sampleLog writes the call the golden files show and returns the log's
// own view of it, after Close.
func sampleLog(t *testing.T, dir string) *Transcript {
	t.Helper()
	l, err := Create(dir, testMeta("CA0001"), Options{Keyring: testKeyring()})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	add := func(tu Turn) int {
		t.Helper()
		i, err := l.Append(tu)
		must(err)
		return i
	}
	add(Turn{Speaker: System, Text: "This call is recorded for quality & training.", StartMS: 0, EndMS: 2400, Confidence: 1})
	must(l.Disclosed())
	add(Turn{Speaker: Agent, Text: "Thanks for calling Acme Dental. How can I help?", StartMS: 2500, EndMS: 5200, Confidence: 1})
	add(Turn{Speaker: Caller, Text: "Hi, I'd like to book a cleaning\nnext week.", StartMS: 5900, EndMS: 8300, Confidence: 0.91})
	long := add(Turn{Speaker: Agent, Text: "Sure. We have Tuesday at 9 <morning> or Thursday at 2 --> which works? I can also text you.", StartMS: 8800, EndMS: 14800, Confidence: 1})
	// The caller barges in; its turn finished after the agent's started.
	add(Turn{Speaker: Caller, Text: "Tuesday!", StartMS: 10100, EndMS: 10700, Confidence: 0.87})
	if got, err := l.Cut(long, 10300); err != nil || got.Text != "Sure." || !got.Interrupted || got.EndMS != 10300 {
		t.Fatalf("Cut = %+v, %v; want \"Sure.\" interrupted at 10300", got, err)
	}
	add(Turn{Speaker: Caller, Text: "", StartMS: 11000, EndMS: 11200, Confidence: 0.2}) // noise: no text
	add(Turn{Speaker: Caller, Text: "Please don't record this --> <no recording> & thanks.", StartMS: 12000, EndMS: 13500, Confidence: 0.95})
	must(l.RecordingStopped(13600))
	add(Turn{Speaker: Agent, Text: "Understood, the recording is off. Booked: Tuesday 9 am. Bye — see you then!", StartMS: 3723000, EndMS: 3727450, Confidence: 1,
		Latency: &Latency{STTFinalMS: 212, FirstTokenMS: 213, FirstAudioMS: 318, FirstFrameMS: 400, FirstMarkMS: 2950}})
	must(l.End(started.Add(62*time.Minute+8*time.Second), "booked"))
	want := l.Transcript()
	must(l.Close())
	must(l.Close())
	return want
}

func TestLogRoundTrip(t *testing.T) {
	dir := t.TempDir()
	want := sampleLog(t, dir)
	got, err := Open(dir, "CA0001", testKeyring())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Open =\n%+v\nwant the log's view\n%+v", got, want)
	}
	if len(got.Turns) != 8 || !got.DisclosureGiven || got.RecordingStoppedMS == nil || *got.RecordingStoppedMS != 13600 || got.Outcome != "booked" {
		t.Errorf("read back %d turns, disclosure %v, stopped %v, outcome %q", len(got.Turns), got.DisclosureGiven, got.RecordingStoppedMS, got.Outcome)
	}
	if _, err := Open(dir, "../CA0001", testKeyring()); err == nil {
		t.Error("Open of an invalid id: no error")
	}
	if _, err := Open(dir, "CA0002", testKeyring()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open of a missing log: err = %v, want ErrNotExist", err)
	}
	// A log renamed to another call's name is refused.
	os.Rename(filepath.Join(dir, "CA0001"+Ext), filepath.Join(dir, "CA0002"+Ext))
	if _, err := Open(dir, "CA0002", testKeyring()); !errors.Is(err, ErrFormat) {
		t.Errorf("Open of a renamed log: err = %v, want ErrFormat", err)
	}
	if err := Erase(dir, "CA0002"); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, "CA0002", testKeyring()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open after Erase: err = %v, want ErrNotExist", err)
	}
}

func TestLogErrors(t *testing.T) {
	dir := t.TempDir()
	kr := testKeyring()
	badMeta := []Meta{
		{CallID: "../x", BusinessID: "b", StartedAt: started},
		{CallID: "a", BusinessID: "b c", StartedAt: started},
		{CallID: "a", BusinessID: "b", From: "5551234", StartedAt: started},
		{CallID: "a", BusinessID: "b", To: "+0123", StartedAt: started},
		{CallID: "a", BusinessID: "b"},
		{CallID: "a", BusinessID: "b", StartedAt: started, Outcome: "done"},
	}
	for _, m := range badMeta {
		if _, err := Create(dir, m, Options{Keyring: kr}); err == nil {
			t.Errorf("Create(%+v): no error", m)
		}
	}
	if _, err := Create(dir, testMeta("a"), Options{}); err == nil {
		t.Error("Create without a keyring: no error")
	}
	l, err := Create(dir, testMeta("a"), Options{Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Create(dir, testMeta("a"), Options{Keyring: kr}); !errors.Is(err, os.ErrExist) {
		t.Errorf("second Create: err = %v, want ErrExist", err)
	}
	badTurns := []Turn{
		{Speaker: "bot", Text: "x"},
		{Speaker: Caller, StartMS: -1},
		{Speaker: Caller, StartMS: 10, EndMS: 9},
		{Speaker: Caller, Confidence: 1.5},
		{Speaker: Caller, Text: "\xff"},
		{Speaker: Caller, Text: string(make([]byte, MaxTextLen+1))},
		{Speaker: Caller, Text: "x", Latency: &Latency{STTFinalMS: 1}},
		{Speaker: Agent, Text: "x", Latency: &Latency{FirstAudioMS: -5}},
		{Speaker: Agent, Text: "x", Latency: &Latency{FirstMarkMS: maxLatencyMS + 1}},
	}
	for _, tu := range badTurns {
		if _, err := l.Append(tu); err == nil {
			t.Errorf("Append(%+v): no error", tu)
		}
	}
	i, _ := l.Append(Turn{Speaker: Caller, Text: "hello", EndMS: 100})
	if _, err := l.Cut(i, 50); err == nil {
		t.Error("Cut of a caller turn: no error")
	}
	if _, err := l.Cut(5, 50); err == nil {
		t.Error("Cut of a missing turn: no error")
	}
	j, _ := l.Append(Turn{Speaker: Agent, Text: "Hello there.", StartMS: 100, EndMS: 900})
	if got, err := l.Cut(j, 900); err != nil || got.Interrupted || got.Text != "Hello there." {
		t.Errorf("Cut at the end = %+v, %v; want the turn unchanged", got, err)
	}
	if err := l.RecordingStopped(-1); err == nil {
		t.Error("RecordingStopped(-1): no error")
	}
	if err := l.End(time.Time{}, "x"); err == nil {
		t.Error("End without a time: no error")
	}
	if err := l.End(started, "hung_up"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(Turn{Speaker: Caller}); err == nil {
		t.Error("Append after End: no error")
	}
	l.Close()
	if err := l.Disclosed(); !errors.Is(err, ErrClosed) {
		t.Errorf("Disclosed after Close: err = %v, want ErrClosed", err)
	}
}

func TestLogConcurrent(t *testing.T) {
	dir := t.TempDir()
	kr := testKeyring()
	l, err := Create(dir, testMeta("conc"), Options{Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, sp := range []Speaker{Caller, Agent, System} {
		wg.Go(func() {
			for i := range 50 {
				if _, err := l.Append(Turn{Speaker: sp, Text: "turn", StartMS: int64(i), EndMS: int64(i)}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			l.Transcript()
		}
	})
	wg.Wait()
	l.Close()
	got, err := Open(dir, "conc", kr)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Turns, l.Transcript().Turns) || len(got.Turns) != 150 {
		t.Errorf("read back %d turns, want the log's 150 in its order", len(got.Turns))
	}
}

func TestRecoverSkipsLive(t *testing.T) {
	dir := t.TempDir()
	kr := testKeyring()
	l, _ := Create(dir, testMeta("live"), Options{Keyring: kr})
	defer l.Close()
	if ids, err := Recover(dir, kr); len(ids) != 0 || err != nil {
		t.Errorf("Recover with a live log = %v, %v; want nothing", ids, err)
	}
	if _, err := Recover(filepath.Join(dir, "missing"), kr); err == nil {
		t.Error("Recover of a missing directory: no error")
	}
}
