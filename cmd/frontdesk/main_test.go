package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/internal/servertest"
	"github.com/frontdesk/frontdesk/media"
)

func TestConfigCheck(t *testing.T) {
	if err := run([]string{"config", "check", "../../configs/example.yaml"}); err != nil {
		t.Errorf("example config: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("server:\n  listen: \":8080\"\n  colour: blue\n"), 0o600)
	err := run([]string{"config", "check", bad})
	if err == nil || !strings.Contains(err.Error(), "bad.yaml:3") || !strings.Contains(err.Error(), "colour") {
		t.Errorf("bad config: got %v, want an error naming line 3 and the unknown key", err)
	}
	if err := run([]string{"config"}); err == nil {
		t.Error("config without check: want a usage error")
	}
	if err := run([]string{"dance"}); err == nil {
		t.Error("unknown command: want an error")
	}
}

// TestCallCommand runs `frontdesk call` against a real echo server with a
// 16 kHz WAV, so the resampling to 8 kHz μ-law is on the path too.
func TestCallCommand(t *testing.T) {
	srv := servertest.Start(t, "echo")
	dir := t.TempDir()
	in := filepath.Join(dir, "in.wav")
	out := filepath.Join(dir, "out.wav")
	tone := media.Sine(16000, 600, 1500*time.Millisecond, 0.4)
	f, _ := os.Create(in)
	if err := media.WriteWAV(f, &media.Audio{Rate: 16000, Channels: 1, Samples: tone}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	err := run([]string{"call", "-config", "", "-server", srv.URL, "-token", servertest.AuthToken,
		"-to", servertest.Number, "-wav", in, "-out", out, "-tail", "2s", "-digits", "1#"})
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	g, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	a, err := media.ReadWAV(g)
	if err != nil {
		t.Fatal(err)
	}
	if a.Rate != 8000 || a.Channels != 1 {
		t.Fatalf("reply is %d Hz × %d, want 8000 × 1", a.Rate, a.Channels)
	}
	// Silence for the echo delay, then the tone.
	if rms := media.RMS(a.Samples[:7200]); rms > 10 {
		t.Errorf("first 0.9 s RMS %.0f, want silence", rms)
	}
	if len(a.Samples) < 8000+12000 {
		t.Fatalf("reply is %d samples, want at least 2.5 s", len(a.Samples))
	}
	if rms := media.RMS(a.Samples[8400:19600]); rms < 5000 {
		t.Errorf("echoed tone RMS %.0f, want the tone back", rms)
	}
}
