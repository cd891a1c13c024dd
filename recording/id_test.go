package recording

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/recording/crypt"
)

func TestValidID(t *testing.T) {
	good := []string{"a", "CA0123456789abcdef0123456789abcdef", "call_1-2", strings.Repeat("x", 64), "-", "_"}
	for _, id := range good {
		if err := ValidID(id); err != nil {
			t.Errorf("ValidID(%q) = %v, want nil", id, err)
		}
	}
	bad := []string{
		"", strings.Repeat("x", 65), "..", ".", "../etc/passwd", "a/b", `a\b`, "/abs",
		"%2e%2e", "%2e%2e%2fx", "a%00", "a\x00b", "a b", "a.wav", "é", "ｃａｌｌ", "a\n",
		"..%2f", "CA1/../CA2", "~root",
	}
	for _, id := range bad {
		if err := ValidID(id); err == nil {
			t.Errorf("ValidID(%q) = nil, want an error", id)
		}
		if _, err := Path("/rec", id); err == nil {
			t.Errorf("Path(%q): no error", id)
		}
	}
	if p, err := Path("/rec", "CA1"); err != nil || p != "/rec/CA1.wav.enc" {
		t.Errorf("Path(/rec, CA1) = %q, %v", p, err)
	}
}

func TestExpiry(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	tests := []struct {
		keep   time.Duration
		want   time.Time
		wantOK bool
	}{
		{180 * day, at.Add(180 * day), true},
		{time.Nanosecond, at.Add(time.Nanosecond), true},
		{0, time.Time{}, false},
		{-day, time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := Expiry(at, tt.keep)
		if !got.Equal(tt.want) || ok != tt.wantOK {
			t.Errorf("Expiry(%v, %v) = %v, %v; want %v, %v", at, tt.keep, got, ok, tt.want, tt.wantOK)
		}
	}
	private := Plan{Recordings: 0, Transcripts: 30 * day}
	if private.Records() {
		t.Error("a plan keeping recordings 0 days records")
	}
	if _, ok := private.RecordingExpiry(at); ok {
		t.Error("RecordingExpiry of a plan that keeps none: ok")
	}
	if got, ok := private.TranscriptExpiry(at); !ok || !got.Equal(at.Add(30*day)) {
		t.Errorf("TranscriptExpiry = %v, %v; want %v", got, ok, at.Add(30*day))
	}
}

func TestRecoverSkipsLiveAndReportsBroken(t *testing.T) {
	kr := testKeyring(t)
	dir := t.TempDir()
	live, err := Create(dir, "live", Options{Rate: 8000, Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	live.WriteCaller(make([]int16, 16000))
	done, _ := Create(dir, "done", Options{Rate: 8000, Keyring: kr})
	done.WriteCaller(make([]int16, 800))
	done.Close()
	os.WriteFile(filepath.Join(dir, "torn"+Ext), []byte("FDEC\x01"), 0o600)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a recording"), 0o600)
	os.WriteFile(filepath.Join(dir, "bad..id"+Ext), []byte("x"), 0o600)

	ids, err := Recover(dir, kr)
	if !slices.Equal(ids, []string{"torn"}) || !errors.Is(err, crypt.ErrFormat) {
		t.Errorf("Recover = %v, %v; want [torn] and its ErrFormat, the live one untouched", ids, err)
	}
	if err := live.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, p := readBack(t, dir, "live", kr); p.Duration() != 2*time.Second || p.Recovered() {
		t.Errorf("live recording after Recover: %v, recovered %v; want 2s, false", p.Duration(), p.Recovered())
	}
	if _, err := Recover(filepath.Join(dir, "missing"), kr); err == nil {
		t.Error("Recover of a missing directory: no error")
	}
}

func TestEraseAndRewrap(t *testing.T) {
	kr := testKeyring(t)
	dir := t.TempDir()
	r, _ := Create(dir, "CA9", Options{Rate: 8000, Keyring: kr})
	r.WriteCaller(make([]int16, 800))
	r.Close()

	kr.Add("test-2", crypt.NewKey())
	kr.SetCurrent("test-2")
	if err := Rewrap(dir, "CA9", kr); err != nil {
		t.Fatal(err)
	}
	kr.Remove("test-1")
	p, err := Open(dir, "CA9", kr)
	if err != nil {
		t.Fatalf("open after rewrap with only the new KEK: %v", err)
	}
	if p.KeyID() != "test-2" {
		t.Errorf("KeyID() = %q, want test-2", p.KeyID())
	}
	p.Close()

	if err := Erase(dir, "CA9"); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, "CA9", kr); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("open after Erase: err = %v, want ErrNotExist", err)
	}
	if err := Erase(dir, "../CA9"); err == nil {
		t.Error("Erase of an invalid id: no error")
	}
	if err := Rewrap(dir, "CA9", kr); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Rewrap of an erased recording: err = %v, want ErrNotExist", err)
	}
}
