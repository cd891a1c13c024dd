package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/configs"
	"github.com/frontdesk/frontdesk/internal/chromium"
	"github.com/frontdesk/frontdesk/internal/leaktest"
	"github.com/frontdesk/frontdesk/internal/servertest"
	"github.com/frontdesk/frontdesk/media/twilio/sim"
	"github.com/frontdesk/frontdesk/server"
	"github.com/frontdesk/frontdesk/store/sqlite"
)

const dashOperatorKey = "operator-key-for-the-dashboard-test"

// TestDashboardPage checks what /dashboard serves: the page, its assets,
// and headers that keep it to its own origin and out of frames.
func TestDashboardPage(t *testing.T) {
	ts := servertest.Start(t, "echo")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct {
		path     string
		status   int
		ctype    string
		contains string
	}{
		{"/dashboard", 200, "text/html; charset=utf-8", `<label for="key">API key</label>`},
		{"/dashboard/dashboard.js", 200, "text/javascript; charset=utf-8", "v1/live/tokens"},
		{"/dashboard/jitter.js", 200, "text/javascript; charset=utf-8", `registerProcessor("jitter-buffer"`},
		{"/dashboard/dashboard.css", 200, "text/css; charset=utf-8", "prefers-color-scheme"},
		{"/dashboard/", 301, "", ""},
		{"/dashboard/index.html", 301, "", ""},
		{"/dashboard/nope.js", 404, "", ""},
	} {
		resp, err := noRedirect.Get(ts.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("GET %s: %d, want %d", tc.path, resp.StatusCode, tc.status)
			continue
		}
		if tc.ctype != "" && resp.Header.Get("Content-Type") != tc.ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.path, resp.Header.Get("Content-Type"), tc.ctype)
		}
		if !strings.Contains(string(body), tc.contains) {
			t.Errorf("GET %s: body lacks %q", tc.path, tc.contains)
		}
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP %q lacks %q", tc.path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("GET %s: CSP %q allows inline code", tc.path, csp)
		}
		if tc.status == 301 && resp.Header.Get("Location") != "/dashboard" {
			t.Errorf("GET %s: Location %q, want /dashboard", tc.path, resp.Header.Get("Location"))
		}
	}
}

// businessKey makes a key of business with role through the operator API.
func businessKey(t testing.TB, base, business, role string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"role": role, "name": "dashboard test"})
	req, _ := http.NewRequest("POST", base+"/v1/businesses/"+business+"/keys", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+dashOperatorKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct{ Key string }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != http.StatusCreated || v.Key == "" {
		t.Fatalf("make a %s key: %d %v", role, resp.StatusCode, err)
	}
	return v.Key
}

// startDashboard starts the example businesses' server with the
// receptionist, an operator key and a supervisor key of Bright Smile.
func startDashboard(t *testing.T) (ts *servertest.Server, key string) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() }) // after the server has stopped
	ts = servertest.StartWith(t, "receptionist", servertest.Options{
		Example:   true,
		Configure: func(c *configs.Config) { c.Server.OperatorKey = dashOperatorKey },
		Server:    []server.Option{server.WithStore(st)},
	})
	return ts, businessKey(t, ts.URL, "bright-smile", "supervisor")
}

// openDashboard starts Chromium on /dashboard and waits for the page.
func openDashboard(ctx context.Context, t *testing.T, base string) *chromium.Page {
	t.Helper()
	b := chromium.Start(ctx, t, chromium.Options{URL: base + "/dashboard", Flags: []string{"--window-size=1280,1000"}})
	page := b.Page(ctx, t, "/dashboard")
	page.Debug = `JSON.stringify({state: window.dashboard && dashboard.state(), audio: window.dashboard && dashboard.audio(),
		status: document.getElementById("status").textContent, signin: document.getElementById("signin-error").textContent,
		live: document.getElementById("live-list").innerText, transcript: document.getElementById("live-transcript").innerText,
		past: document.getElementById("past-list").innerText})`
	page.WaitJS(ctx, t, `document.readyState === "complete" && !!window.dashboard`, 10*time.Second)
	return page
}

// signIn types key into the sign-in form and submits it.
func signIn(ctx context.Context, t *testing.T, page *chromium.Page, key string) {
	t.Helper()
	page.Eval(ctx, t, fmt.Sprintf(`document.getElementById("key").value = %q; document.getElementById("signin-button").click()`, key))
}

// js quotes s as a JavaScript string.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// checkConsole fails the test for every error or warning the page logged,
// except the refused sign-in the test made on purpose.
func checkConsole(t *testing.T, page *chromium.Page) {
	t.Helper()
	for _, m := range page.Messages() {
		if m.Source == "network" && strings.Contains(m.Text, "401") && strings.Contains(m.Text, "/v1/calls") {
			continue // the wrong key
		}
		t.Errorf("page logged %s", m)
	}
}

// TestDashboardBrowser is the check of the dashboard, in a real
// headless Chromium against a real server with the embedded receptionist:
// a wrong key is refused with the server's reason; a supervisor key signs
// in; a simulated Twilio call appears in the live list; listening plays its
// audio (an AnalyserNode after the jitter buffer sees energy) and shows its
// transcript lines as they are said; a whisper reaches the call; End call
// ends it; then the call is in the past calls with a playable recording
// (fetched with the key, played from a blob: URL) and its transcript. The
// key appears in no URL, and the page logs no errors or warnings.
func TestDashboardBrowser(t *testing.T) {
	leaktest.Check(t)
	ts, key := startDashboard(t)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()

	// The caller waits for the greeting, asks, hears the answer, then stays
	// on the line (silence) until the supervisor ends the call.
	o := exampleCall(ts)
	o.Turns = append(speak(t, "what are your opening hours"), make([]int16, 60*8000))
	o.MaxWait = 60 * time.Second

	page := openDashboard(ctx, t, ts.URL)
	checkJitterBuffer(ctx, t, page)
	signIn(ctx, t, page, "fdk_0123456789abcdef_"+strings.Repeat("x", 43))
	page.WaitJS(ctx, t, `!document.getElementById("signin-error").hidden`, 10*time.Second)
	if got := page.EvalString(ctx, t, `document.getElementById("signin-error").textContent`); !strings.Contains(got, "invalid or revoked API key") {
		t.Errorf("wrong key: error %q, want the server's reason", got)
	}
	if page.EvalString(ctx, t, `String(dashboard.state().signedIn)`) != "false" || string(page.Eval(ctx, t, `document.getElementById("app").hidden`)) != "true" {
		t.Error("a wrong key signed in")
	}

	signIn(ctx, t, page, key)
	page.WaitJS(ctx, t, `dashboard.state().signedIn && !document.getElementById("app").hidden`, 10*time.Second)

	id := liveCall(ctx, t, page, o)

	past := pastCall(ctx, t, page, id)
	if !strings.Contains(past.transcript, "Bright Smile Dental") || !strings.Contains(past.transcript, "Saturday") {
		t.Errorf("past transcript lacks the greeting or the hours:\n%s", past.transcript)
	}
	checkNoKeyInURLs(ctx, t, page, key)
	checkConsole(t, page)
}

type pastView struct {
	transcript string
}

// pastCall waits for call id to be listed as finished, opens it and waits
// for its recording and transcript.
func pastCall(ctx context.Context, t *testing.T, page *chromium.Page, id string) pastView {
	t.Helper()
	row := `document.querySelector("#past-list tr[data-id=" + ` + js(id) + ` + "]")`
	// The list refreshes itself after a live call ends.
	page.WaitJS(ctx, t, `!!`+row+` && `+row+`.querySelector(".outcome").textContent !== "live"`, 20*time.Second)
	t.Logf("past call outcome: %s", page.EvalString(ctx, t, row+`.querySelector(".outcome").textContent`))
	page.Eval(ctx, t, row+`.querySelector("button").click()`)
	page.WaitJS(ctx, t, `dashboard.state().recording === "ready"`, 15*time.Second)
	page.WaitJS(ctx, t, `document.getElementById("player").duration > 1`, 10*time.Second)
	if src := page.EvalString(ctx, t, `document.getElementById("player").src`); !strings.HasPrefix(src, "blob:") {
		t.Errorf("player src %q, want a blob: URL", src)
	}
	page.WaitJS(ctx, t, `document.querySelectorAll("#past-transcript li.agent").length > 0`, 10*time.Second)
	// A turn's time seeks the recording.
	page.Eval(ctx, t, `[...document.querySelectorAll("#past-transcript li.agent button")].pop().click()`)
	page.WaitJS(ctx, t, `document.getElementById("player").currentTime > 0.5`, 10*time.Second)
	shot(ctx, t, page, "dash-past.png")
	return pastView{transcript: page.EvalString(ctx, t, `document.getElementById("past-transcript").innerText`)}
}

// checkNoKeyInURLs checks that the key's secret went into no URL the page
// loaded (WebSockets take a short-lived token instead).
func checkNoKeyInURLs(ctx context.Context, t *testing.T, page *chromium.Page, key string) {
	t.Helper()
	var urls []string
	page.EvalInto(ctx, t, `performance.getEntriesByType("resource").map((e) => e.name).concat([location.href])`, &urls)
	// fdk_<id>_<secret>: the secret is base64url and may itself hold "_".
	parts := strings.SplitN(key, "_", 3)
	if len(parts) != 3 || len(parts[2]) < 20 {
		t.Fatalf("key %q is not fdk_<id>_<secret>", key)
	}
	secret := parts[2]
	for _, u := range urls {
		if strings.Contains(u, secret) {
			t.Errorf("the key is in a URL: %s", u)
		}
	}
}

// checkJitterBuffer runs the page's JitterBuffer (web/dashboard/jitter.js,
// the same class the audio worklet runs) through jitter, a dry spell, a
// burst and a rate change.
func checkJitterBuffer(ctx context.Context, t *testing.T, page *chromium.Page) {
	t.Helper()
	var got struct {
		SilentWhileBuffering, PlaysAtTarget, ResampleConsumed bool
		Dry, Burst                                            struct {
			State                            string
			BufferedMs, Underruns, DroppedMs int
		}
	}
	page.EvalInto(ctx, t, `(() => {
		const frame = new Int16Array(320).fill(1000), out = new Float32Array(128);
		const jb = new JitterBuffer(16000, 16000, 120, 400);
		for (let i = 0; i < 5; i++) jb.push(frame); // 100 ms: below the target
		jb.pull(out);
		const SilentWhileBuffering = out.every((v) => v === 0);
		jb.push(frame); jb.push(frame); // 140 ms
		jb.pull(out);
		const PlaysAtTarget = out.every((v) => Math.abs(v - 1000 / 32768) < 1e-6);
		for (let i = 0; i < 30; i++) jb.pull(out); // runs dry
		const Dry = jb.stats();
		for (let i = 0; i < 50; i++) jb.push(frame); // a second at once
		const Burst = jb.stats();
		const up = new JitterBuffer(16000, 48000, 20, 400); // 48 kHz out
		for (let i = 0; i < 10; i++) up.push(frame);
		up.pull(new Float32Array(480)); // 10 ms at 48 kHz: 160 samples in
		const ResampleConsumed = up.size === 3200 - 160;
		return {SilentWhileBuffering, PlaysAtTarget, Dry, Burst, ResampleConsumed};
	})()`, &got)
	if !got.SilentWhileBuffering || !got.PlaysAtTarget {
		t.Errorf("jitter buffer: silent below the target %v, plays at it %v", got.SilentWhileBuffering, got.PlaysAtTarget)
	}
	if got.Dry.State != "buffering" || got.Dry.Underruns != 1 || got.Dry.BufferedMs != 0 {
		t.Errorf("jitter buffer after running dry: %+v, want buffering, 1 underrun, empty", got.Dry)
	}
	if got.Burst.BufferedMs < 120 || got.Burst.BufferedMs > 400 || got.Burst.DroppedMs < 600 {
		t.Errorf("jitter buffer after a 1 s burst: %+v, want 120–400 ms buffered and ≥ 600 ms dropped", got.Burst)
	}
	if !got.ResampleConsumed {
		t.Error("jitter buffer at 48 kHz out: 480 samples out did not take 160 in")
	}
}

// liveCall follows a simulated call on the dashboard from its start: the
// live list shows it, Listen plays its audio (the page's AnalyserNode sees
// energy after the jitter buffer) and its transcript lines appear one by
// one while it lasts; a whisper shows in the transcript; End call ends it.
// It returns the call's ID.
func liveCall(ctx context.Context, t *testing.T, page *chromium.Page, o sim.Options) string {
	t.Helper()
	page.WaitJS(ctx, t, `dashboard.state().live === "connected"`, 10*time.Second)
	if n := page.EvalString(ctx, t, `String(dashboard.state().liveCalls.length)`); n != "0" {
		t.Fatalf("%s live calls before the call, want 0", n)
	}
	done := make(chan error, 1)
	go func() {
		_, err := sim.Call(ctx, o)
		done <- err
	}()
	page.WaitJS(ctx, t, `dashboard.state().liveCalls.length === 1`, 15*time.Second)
	id := page.EvalString(ctx, t, `dashboard.state().liveCalls[0]`)
	row := page.EvalString(ctx, t, `document.querySelector("#live-list tr").innerText`)
	if !strings.Contains(row, o.From) {
		t.Errorf("live row %q lacks the caller %s", row, o.From)
	}
	page.Eval(ctx, t, `document.querySelector("#live-list tr button").click()`)
	page.WaitJS(ctx, t, `dashboard.state().listening === `+js(id)+` && dashboard.audio().engine === "worklet"`, 10*time.Second)

	// The greeting: energy through the jitter buffer and the analyser, and
	// its line in the transcript.
	page.WaitJS(ctx, t, `dashboard.peak() > 0.01 && dashboard.audio().state === "playing"`, 20*time.Second)
	page.WaitJS(ctx, t, `dashboard.state().transcriptLines >= 1`, 20*time.Second)
	first := page.EvalString(ctx, t, `document.getElementById("live-transcript").innerText`)
	if !strings.Contains(first, "Bright Smile Dental") {
		t.Errorf("first transcript lines lack the greeting:\n%s", first)
	}
	// Then the caller's question and the answer arrive while the call goes
	// on: lines come as they are said, not at the end.
	page.WaitJS(ctx, t, `/hours/i.test(document.querySelector("#live-transcript").innerText) &&
		/Saturday/.test(document.querySelector("#live-transcript").innerText)`, 40*time.Second)
	if page.EvalString(ctx, t, `String(dashboard.state().callEnded)`) != "false" {
		t.Error("the transcript lines came only with the end of the call")
	}
	a := page.EvalString(ctx, t, `JSON.stringify(dashboard.audio())`)
	t.Logf("audio after the answer: %s, peak %s", a, page.EvalString(ctx, t, `String(dashboard.peak())`))

	shot(ctx, t, page, "dash-live.png")
	page.Eval(ctx, t, `document.getElementById("whisper").value = "offer the new patient discount"; document.querySelector("#whisper-form button").click()`)
	page.WaitJS(ctx, t, `/\(whisper\) offer the new patient discount/.test(document.getElementById("live-transcript").innerText)`, 10*time.Second)

	// End call takes a confirming second click.
	page.Eval(ctx, t, `document.getElementById("hangup").click()`)
	if page.EvalString(ctx, t, `String(dashboard.state().callEnded)`) != "false" {
		t.Error("one click on End call ended the call")
	}
	page.Eval(ctx, t, `document.getElementById("hangup").click()`)
	page.WaitJS(ctx, t, `dashboard.state().callEnded && dashboard.state().liveCalls.length === 0`, 15*time.Second)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("simulated call: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("the simulated call did not end after End call")
	}
	return id
}

// shot saves a screenshot of the page as name in $FRONTDESK_SHOTS, when
// that is set: for a person looking at what the test saw.
func shot(ctx context.Context, t *testing.T, page *chromium.Page, name string) {
	dir := os.Getenv("FRONTDESK_SHOTS")
	if dir == "" {
		return
	}
	res, err := page.Call(ctx, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true})
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Data []byte }
	if err := json.Unmarshal(res, &v); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), v.Data, 0o644); err != nil {
		t.Error(err)
	}
}
