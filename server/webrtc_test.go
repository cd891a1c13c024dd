package server_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/internal/leaktest"
	"github.com/frontdesk/frontdesk/internal/servertest"
	"github.com/frontdesk/frontdesk/media"
	"github.com/frontdesk/frontdesk/media/webrtc"
	"github.com/frontdesk/frontdesk/media/webrtc/sim"
	"github.com/frontdesk/frontdesk/server"
)

// startRTC starts a test server whose WebRTC side gathers on loopback only.
func startRTC(t testing.TB, mode string, cfg webrtc.Config) *servertest.Server {
	t.Helper()
	if cfg.IPs == nil {
		cfg.IPs = []string{"127.0.0.1"}
	}
	return servertest.StartWith(t, mode, servertest.Options{Server: []server.Option{server.WithWebRTC(cfg)}})
}

// checkPCs fails t if PeerConnections made during the test are still open
// when it ends. Call it before starting the server, so that it runs after
// the server's own cleanup.
func checkPCs(t testing.TB) {
	t.Helper()
	before := webrtc.Live()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for webrtc.Live() != before && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if got := webrtc.Live(); got != before {
			t.Errorf("%d PeerConnections left open, want %d", got, before)
		}
	})
}

// scrape reads the server's metrics: series → value.
func scrape(t testing.TB, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			m[line[:i]] = v
		}
	}
	return m
}

// waitMetric waits until the series reaches want.
func waitMetric(t testing.TB, base, series string, want float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var got float64
	for time.Now().Before(deadline) {
		if got = scrape(t, base)[series]; got >= want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s = %v, want %v", series, got, want)
}

func TestWebRTCEcho(t *testing.T) {
	for _, tc := range []struct {
		name  string
		codec string
		whip  bool
		mime  string
	}{
		{"opus", sim.Opus, false, "audio/opus"},
		{"pcmu-whip", sim.PCMU, true, "audio/PCMU"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaktest.Check(t)
			checkPCs(t)
			ts := startRTC(t, "echo", webrtc.Config{})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()

			audio := sim.SpeechLike(sim.Rate, 3*time.Second)
			res, err := sim.Call(ctx, sim.Options{
				Server: ts.URL, Business: "clinic", Codec: tc.codec, WHIP: tc.whip,
				Audio: audio, Tail: 1500 * time.Millisecond, Record: true,
			})
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if !strings.EqualFold(res.Codec, tc.mime) {
				t.Errorf("server sends %s, want %s", res.Codec, tc.mime)
			}
			if res.FramesSent != len(audio)/media.SamplesPerFrame(sim.Rate) {
				t.Errorf("sent %d frames, want %d", res.FramesSent, len(audio)/320)
			}
			// The echo is the caller's audio one second (the echo delay)
			// later, through two codecs and the resamplers.
			lag, coeff := media.CrossCorrelate(audio, res.Out, 2*sim.Rate)
			lagT := media.Duration(sim.Rate, lag)
			t.Logf("%s: connect %v, echo lag %v (coeff %.2f), frames received %d, gap p50 %v p99 %v max %v",
				tc.name, res.Connect.Round(time.Millisecond), lagT, coeff, res.FramesReceived,
				sim.Percentile(res.Gaps, 50), sim.Percentile(res.Gaps, 99), res.MaxGap())
			// Generous bounds: the machine may be busy (CI, -race).
			if lagT < 950*time.Millisecond || lagT > 1250*time.Millisecond {
				t.Errorf("echo lag %v, want 1s (+ up to 250ms)", lagT)
			}
			if coeff < 0.4 {
				t.Errorf("echo correlation %.2f, want > 0.4", coeff)
			}
			if lag > 0 && lag+len(audio) <= len(res.Out) {
				in, out := media.RMS(audio), media.RMS(res.Out[lag:lag+len(audio)])
				if out < in/3 || out > in*2 {
					t.Errorf("echo RMS %.0f, caller's %.0f: want about the same", out, in)
				}
			} else {
				t.Errorf("heard %v of audio, want the whole echo", media.Duration(sim.Rate, len(res.Out)))
			}
			// The server sends a steady stream: a packet every 20 ms.
			if p50 := sim.Percentile(res.Gaps, 50); p50 < 15*time.Millisecond || p50 > 25*time.Millisecond {
				t.Errorf("gap p50 %v, want 20ms", p50)
			}

			// The hang-up ends the call as completed, with frames counted.
			waitMetric(t, ts.URL, `frontdesk_calls_total{outcome="completed",transport="webrtc"}`, 1)
			m := scrape(t, ts.URL)
			if in := m["frontdesk_frames_in_total"]; in < 140 {
				t.Errorf("server frames in %v, want ≥ 140", in)
			}
			if out := m["frontdesk_frames_out_total"]; out < 140 {
				t.Errorf("server frames out %v, want ≥ 140", out)
			}
			if ts.ActiveCalls() != 0 {
				t.Errorf("%d calls still active", ts.ActiveCalls())
			}
		})
	}
}

// A peer that goes away without a DELETE (a closed tab) ends the call too.
func TestWebRTCPeerCloses(t *testing.T) {
	leaktest.Check(t)
	checkPCs(t)
	ts := startRTC(t, "greeting", webrtc.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := sim.Call(ctx, sim.Options{
		Server: ts.URL, Business: "clinic", Audio: sim.SpeechLike(sim.Rate, 200*time.Millisecond),
		Tail: 1500 * time.Millisecond, Record: true, NoHangup: true,
	})
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	// The greeting is three tones in the first second.
	if rms := media.RMS(res.Out); rms < 1000 {
		t.Errorf("greeting RMS %.0f, want tones", rms)
	}
	waitMetric(t, ts.URL, `frontdesk_calls_total{outcome="completed",transport="webrtc"}`, 1)
}

// A session whose peer never connects is cleaned up after the timeout.
func TestWebRTCNeverConnects(t *testing.T) {
	leaktest.Check(t)
	checkPCs(t)
	ts := startRTC(t, "echo", webrtc.Config{ConnectTimeout: 500 * time.Millisecond})
	pc, err := sim.NewPeerConnection(sim.Opus, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTransceiverFromKind(pionAudio, sendRecv); err != nil {
		t.Fatal(err)
	}
	offer := gatheredOffer(t, pc)
	_ = pc.GracefulClose() // the caller is gone before ICE starts
	status, body, _ := postOffer(t, ts.URL, "clinic", offer)
	if status != http.StatusOK {
		t.Fatalf("offer: %d %s", status, body)
	}
	waitMetric(t, ts.URL, `frontdesk_calls_total{outcome="error",transport="webrtc"}`, 1)
	if ts.ActiveCalls() != 0 {
		t.Errorf("%d calls still active", ts.ActiveCalls())
	}
}

func TestWebRTCPhonePage(t *testing.T) {
	ts := startRTC(t, "echo", webrtc.Config{ICEServers: []webrtc.ICEServer{{URLs: []string{"stun:stun.example.test:3478"}}}})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct {
		path     string
		status   int
		ctype    string
		contains string
	}{
		{"/phone", 200, "text/html; charset=utf-8", `<button id="call"`},
		{"/phone?business=clinic", 200, "text/html; charset=utf-8", `aria-live="polite"`},
		{"/phone/phone.js", 200, "text/javascript; charset=utf-8", "v1/webrtc/offer"},
		{"/phone/phone.css", 200, "text/css; charset=utf-8", "prefers-color-scheme"},
		{"/phone/", 301, "", ""},
		{"/phone/nope.js", 404, "", ""},
		{"/v1/webrtc/ice-servers", 200, "application/json", `"stun:stun.example.test:3478"`},
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
		if strings.HasPrefix(tc.path, "/phone") && tc.status == 200 &&
			!strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("GET %s: CSP %q", tc.path, resp.Header.Get("Content-Security-Policy"))
		}
		if tc.status == 301 && resp.Header.Get("Location") != "/phone" {
			t.Errorf("GET %s: Location %q, want /phone", tc.path, resp.Header.Get("Location"))
		}
	}
}
