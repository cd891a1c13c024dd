package server_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/internal/chromium"
	"github.com/frontdesk/frontdesk/internal/leaktest"
	"github.com/frontdesk/frontdesk/internal/servertest"
	"github.com/frontdesk/frontdesk/media"
	"github.com/frontdesk/frontdesk/media/webrtc"
	"github.com/frontdesk/frontdesk/server"
)

// The softphone in a real headless Chromium: its fake microphone plays a
// spoken question, the page calls the echo agent, and the page must hear
// the question back while the server counts a WebRTC call with audio in.
func TestWebRTCBrowserEcho(t *testing.T) {
	leaktest.Check(t)
	checkPCs(t)
	ts := startRTC(t, "echo", webrtc.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	wav := speakWAV(t, "Hello. What time do you open on Saturday?")
	page := openPhone(ctx, t, wav, ts.URL+"/phone?business=clinic")

	page.WaitJS(ctx, t, `document.readyState === "complete" && !!window.frontdesk`, 10*time.Second)
	if got := page.EvalString(ctx, t, `document.getElementById("business").value`); got != "clinic" {
		t.Errorf("business field %q, want clinic from the link", got)
	}
	if got := page.EvalString(ctx, t, `document.getElementById("status").getAttribute("aria-live")`); got != "polite" {
		t.Errorf("status aria-live %q, want polite", got)
	}
	page.Eval(ctx, t, `document.getElementById("call").click()`)
	page.WaitJS(ctx, t, `frontdesk.state === "connected"`, 15*time.Second)
	callID := page.EvalString(ctx, t, `frontdesk.callId`)
	if !strings.HasPrefix(callID, "call_") {
		t.Errorf("call id %q", callID)
	}

	// The echo of the fake microphone (speech at RMS 0.16 of full scale)
	// comes back after a second; silence before it decodes to zero.
	page.WaitJS(ctx, t, `frontdesk.peak > 0.05`, 15*time.Second)
	t.Logf("page heard the echo: peak RMS %s", page.EvalString(ctx, t, `String(frontdesk.peak)`))

	m := scrape(t, ts.URL)
	if got := m["frontdesk_calls_active"]; got != 1 {
		t.Errorf("calls active %v, want 1", got)
	}
	if got := m["frontdesk_frames_in_total"]; got < 50 {
		t.Errorf("server frames in %v, want ≥ 50 (a second of the browser's audio)", got)
	}

	page.Eval(ctx, t, `document.getElementById("hangup").click()`)
	page.WaitJS(ctx, t, `frontdesk.state === "ended"`, 5*time.Second)
	waitMetric(t, ts.URL, `frontdesk_calls_total{outcome="completed",transport="webrtc"}`, 1)
	if n := ts.ActiveCalls(); n != 0 {
		t.Errorf("%d calls active after hang-up", n)
	}
}

// The end-to-end check with the embedded receptionist: Chromium's
// fake microphone asks a question after the greeting; the page hears the
// agent and the server's transcript has the question.
func TestWebRTCBrowserReceptionist(t *testing.T) {
	leaktest.Check(t)
	checkPCs(t)
	logs := &syncBuffer{}
	ts := servertest.StartWith(t, "receptionist", servertest.Options{
		Logs:   logs,
		Server: []server.Option{server.WithWebRTC(webrtc.Config{IPs: []string{"127.0.0.1"}})},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Chromium loops the file: silence through the greeting (about 8 s),
	// the question, then a long silence for the answer.
	question := speakWAV(t, "What are your hours?")
	wav := padWAV(t, question, 9*time.Second, 30*time.Second)
	page := openPhone(ctx, t, wav, ts.URL+"/phone?business=clinic")
	page.WaitJS(ctx, t, `document.readyState === "complete" && !!window.frontdesk`, 10*time.Second)
	page.Eval(ctx, t, `document.getElementById("call").click()`)
	page.WaitJS(ctx, t, `frontdesk.state === "connected"`, 15*time.Second)
	// The greeting.
	page.WaitJS(ctx, t, `frontdesk.peak > 0.05`, 15*time.Second)

	deadline := time.Now().Add(25 * time.Second)
	for !strings.Contains(logs.String(), `speaker=caller text="what are your hours"`) {
		if time.Now().After(deadline) {
			var turns []string
			for _, line := range strings.Split(logs.String(), "\n") {
				if strings.Contains(line, "msg=turn") || strings.Contains(line, "rejected transcript") {
					turns = append(turns, line)
				}
			}
			t.Fatalf("the transcript lacks the question; turns:\n%s", strings.Join(turns, "\n"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	page.Eval(ctx, t, `document.getElementById("hangup").click()`)
	waitMetric(t, ts.URL, `frontdesk_calls_total{outcome="completed",transport="webrtc"}`, 1)
}

// roomNoise is n samples of quiet noise (about -60 dBFS), what a real
// microphone gives between words: digital silence would drive the browser's
// gain control to its maximum and clip the speech after it.
func roomNoise(n int) []int16 {
	out := make([]int16, n)
	x := uint32(1)
	for i := range out {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		out[i] = int16(int32(x%61) - 30)
	}
	return out
}

// padWAV writes a copy of the WAV at path with quiet noise before and
// after.
func padWAV(t testing.TB, path string, before, after time.Duration) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := media.ReadWAV(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	pcm := append(roomNoise(media.Samples(a.Rate, before)), a.Samples...)
	pcm = append(pcm, roomNoise(media.Samples(a.Rate, after))...)
	out := filepath.Join(t.TempDir(), "padded.wav")
	w, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := media.WriteWAV(w, &media.Audio{Rate: a.Rate, Channels: 1, Samples: pcm}); err != nil {
		t.Fatal(err)
	}
	return out
}

// speakWAV synthesises text with the flite command (Debian flite, a test
// dependency) into a 16 kHz WAV for Chromium's fake microphone.
func speakWAV(t testing.TB, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "question.wav")
	out, err := exec.Command("flite", "-voice", "slt", "-t", text, "-o", path).CombinedOutput()
	if err != nil {
		t.Fatalf("flite (Debian package flite, `make test-deps`): %v\n%s", err, out)
	}
	return path
}

// openPhone starts Chromium with a fake microphone playing wav on url
// and attaches to the softphone page.
func openPhone(ctx context.Context, t testing.TB, wav, url string) *chromium.Page {
	t.Helper()
	b := chromium.Start(ctx, t, chromium.Options{URL: url, FakeMic: wav})
	page := b.Page(ctx, t, "/phone")
	page.Debug = `JSON.stringify({frontdesk: window.frontdesk, status: document.getElementById("status") && document.getElementById("status").textContent})`
	return page
}

// tail is the last n bytes of s, for long bodies in failure messages.
func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
