package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

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
	b := startChromium(ctx, t, wav, ts.URL+"/phone?business=clinic")
	page := b.page(ctx, t)

	page.waitJS(ctx, t, `document.readyState === "complete" && !!window.frontdesk`, 10*time.Second)
	if got := page.evalString(ctx, t, `document.getElementById("business").value`); got != "clinic" {
		t.Errorf("business field %q, want clinic from the link", got)
	}
	if got := page.evalString(ctx, t, `document.getElementById("status").getAttribute("aria-live")`); got != "polite" {
		t.Errorf("status aria-live %q, want polite", got)
	}
	page.eval(ctx, t, `document.getElementById("call").click()`)
	page.waitJS(ctx, t, `frontdesk.state === "connected"`, 15*time.Second)
	callID := page.evalString(ctx, t, `frontdesk.callId`)
	if !strings.HasPrefix(callID, "call_") {
		t.Errorf("call id %q", callID)
	}

	// The echo of the fake microphone (speech at RMS 0.16 of full scale)
	// comes back after a second; silence before it decodes to zero.
	page.waitJS(ctx, t, `frontdesk.peak > 0.05`, 15*time.Second)
	t.Logf("page heard the echo: peak RMS %s", page.evalString(ctx, t, `String(frontdesk.peak)`))

	m := scrape(t, ts.URL)
	if got := m["frontdesk_calls_active"]; got != 1 {
		t.Errorf("calls active %v, want 1", got)
	}
	if got := m["frontdesk_frames_in_total"]; got < 50 {
		t.Errorf("server frames in %v, want ≥ 50 (a second of the browser's audio)", got)
	}

	page.eval(ctx, t, `document.getElementById("hangup").click()`)
	page.waitJS(ctx, t, `frontdesk.state === "ended"`, 5*time.Second)
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
	b := startChromium(ctx, t, wav, ts.URL+"/phone?business=clinic")
	page := b.page(ctx, t)
	page.waitJS(ctx, t, `document.readyState === "complete" && !!window.frontdesk`, 10*time.Second)
	page.eval(ctx, t, `document.getElementById("call").click()`)
	page.waitJS(ctx, t, `frontdesk.state === "connected"`, 15*time.Second)
	// The greeting.
	page.waitJS(ctx, t, `frontdesk.peak > 0.05`, 15*time.Second)

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
	page.eval(ctx, t, `document.getElementById("hangup").click()`)
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

type browser struct {
	cmd     *exec.Cmd
	devtool string // http://127.0.0.1:PORT
}

var devtoolsRE = regexp.MustCompile(`DevTools listening on (ws://[^/\s]+)/`)

// startChromium starts headless Chromium on url with a fake microphone
// playing wav, and stops it (its whole process group) when the test ends.
func startChromium(ctx context.Context, t testing.TB, wav, url string) *browser {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium not found (Debian package chromium, `make test-deps`): %v", err)
	}
	cmd := exec.Command(bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--disable-extensions", "--disable-dev-shm-usage",
		"--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
		"--use-file-for-fake-audio-capture="+wav,
		"--autoplay-policy=no-user-gesture-required",
		// ICE on loopback only, with plain addresses: no mDNS names, no
		// traffic off this machine.
		"--allow-loopback-in-peer-connection",
		"--disable-features=WebRtcHideLocalIpsWithMdns",
		"--user-data-dir="+t.TempDir(),
		"--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
		url)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	logs := make(chan string, 1)
	found := make(chan string, 1)
	go func() {
		var all strings.Builder
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			all.WriteString(sc.Text() + "\n")
			if m := devtoolsRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- strings.Replace(m[1], "ws://", "http://", 1):
				default:
				}
			}
		}
		logs <- all.String()
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		l := <-logs
		if t.Failed() {
			t.Logf("chromium stderr:\n%s", tail(l, 3000))
		}
	})
	select {
	case d := <-found:
		return &browser{cmd: cmd, devtool: d}
	case <-time.After(20 * time.Second):
		t.Fatal("chromium did not open its DevTools port in 20s")
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
	return nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// cdp is a minimal Chrome DevTools Protocol client on one page target:
// one request at a time, events ignored.
type cdp struct {
	conn *websocket.Conn
	id   int
}

func (b *browser) page(ctx context.Context, t testing.TB) *cdp {
	t.Helper()
	var targets []struct {
		Type, URL            string
		WebSocketDebuggerURL string `json:"webSocketDebuggerUrl"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(b.devtool + "/json/list")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&targets)
			resp.Body.Close()
		}
		for _, tg := range targets {
			if tg.Type == "page" && strings.Contains(tg.URL, "/phone") {
				conn, _, err := websocket.DefaultDialer.DialContext(ctx, tg.WebSocketDebuggerURL, nil)
				if err != nil {
					t.Fatalf("devtools: %v", err)
				}
				conn.SetReadLimit(16 << 20)
				t.Cleanup(func() { conn.Close() })
				return &cdp{conn: conn}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no /phone page target in chromium (err %v, targets %+v)", err, targets)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// call sends one DevTools command and returns its result.
func (c *cdp) call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	c.id++
	id := c.id
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(30 * time.Second)
	}
	_ = c.conn.SetWriteDeadline(dl)
	if err := c.conn.WriteJSON(map[string]any{"id": id, "method": method, "params": params}); err != nil {
		return nil, err
	}
	_ = c.conn.SetReadDeadline(dl)
	for {
		var msg struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := c.conn.ReadJSON(&msg); err != nil {
			return nil, err
		}
		if msg.ID != id {
			continue // an event
		}
		if msg.Error != nil {
			return nil, errors.New(msg.Error.Message)
		}
		return msg.Result, nil
	}
}

// evalJS evaluates expr in the page as if the user had acted (a click
// counts as a user gesture) and returns its value as JSON.
func (c *cdp) evalJS(ctx context.Context, expr string) (json.RawMessage, error) {
	res, err := c.call(ctx, "Runtime.evaluate", map[string]any{
		"expression": expr, "returnByValue": true, "awaitPromise": true, "userGesture": true,
	})
	if err != nil {
		return nil, err
	}
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return nil, err
	}
	if e := r.ExceptionDetails; e != nil {
		return nil, fmt.Errorf("%s %s", e.Text, e.Exception.Description)
	}
	return r.Result.Value, nil
}

func (c *cdp) eval(ctx context.Context, t testing.TB, expr string) json.RawMessage {
	t.Helper()
	v, err := c.evalJS(ctx, expr)
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func (c *cdp) evalString(ctx context.Context, t testing.TB, expr string) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(c.eval(ctx, t, expr), &s); err != nil {
		t.Fatalf("evaluate %s: not a string: %v", expr, err)
	}
	return s
}

// waitJS polls a boolean expression until it holds; on timeout it fails
// with the page's state and status line.
func (c *cdp) waitJS(ctx context.Context, t testing.TB, expr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		v, err := c.evalJS(ctx, expr)
		if err == nil && string(v) == "true" {
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			state, _ := c.evalJS(ctx, `JSON.stringify({frontdesk: window.frontdesk, status: document.getElementById("status") && document.getElementById("status").textContent})`)
			t.Fatalf("waited %v for %s (last %s, err %v); page: %s", timeout, expr, v, err, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
