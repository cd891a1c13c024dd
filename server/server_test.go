package server_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/internal/leaktest"
	"github.com/frontdesk/frontdesk/internal/servertest"
	"github.com/frontdesk/frontdesk/media"
	"github.com/frontdesk/frontdesk/media/twilio"
	"github.com/frontdesk/frontdesk/media/twilio/sim"
	"github.com/frontdesk/frontdesk/server"
)

const (
	authToken = servertest.AuthToken
	clinicNum = servertest.Number
)

// syncBuffer is a log sink tests can read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testServer struct {
	*servertest.Server
	logs *syncBuffer
}

// start runs a real server on a loopback port with the test configuration.
func start(t *testing.T, agent string, opts ...server.Option) *testServer {
	t.Helper()
	logs := &syncBuffer{}
	ts := &testServer{Server: servertest.StartWith(t, agent, servertest.Options{Logs: logs, Server: opts}), logs: logs}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return ts
}

// speech is a test signal with the rhythm of speech: voiced bursts of a few
// harmonics with pauses, so that echo timing shows up in a correlation.
func speech(d time.Duration) []int16 {
	n := int(d.Seconds() * twilio.Rate)
	out := make([]int16, n)
	for i := range out {
		t := float64(i) / twilio.Rate
		seg := int(t / 0.3)
		if seg%3 == 2 {
			continue
		}
		f0 := 120 + 35*float64(seg%7)
		env := math.Sin(math.Pi * math.Mod(t, 0.3) / 0.3)
		v := 0.5*math.Sin(2*math.Pi*f0*t) + 0.3*math.Sin(2*math.Pi*2.1*f0*t) + 0.2*math.Sin(2*math.Pi*3.3*f0*t)
		out[i] = int16(10000 * env * v)
	}
	return out
}

func (ts *testServer) callOpts() sim.Options {
	return sim.Options{Server: ts.URL, AuthToken: authToken, From: "+12125550123", To: clinicNum}
}

func (ts *testServer) waitIdle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for ts.ActiveCalls() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls still live", ts.ActiveCalls())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (ts *testServer) metric(t *testing.T, name string) float64 {
	t.Helper()
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			var f float64
			fmt.Sscan(v, &f)
			return f
		}
	}
	return 0
}

// TestEchoCall drives the real server through the real simulator and
// checks what the caller heard: their own speech, one second later.
func TestEchoCall(t *testing.T) {
	leaktest.Check(t)
	ts := start(t, "echo")
	in := speech(3 * time.Second)
	o := ts.callOpts()
	o.Audio, o.Tail = in, 2*time.Second
	res, err := sim.Call(context.Background(), o)
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	if want := 250; res.FramesSent != want {
		t.Errorf("frames sent %d, want %d", res.FramesSent, want)
	}
	// Everything but the last second comes back, after a second of silence.
	if res.FramesReceived < 240 {
		t.Errorf("frames received %d, want at least 240", res.FramesReceived)
	}
	lag, coeff := media.CrossCorrelate(in, res.Out, 2*twilio.Rate)
	lagDur := time.Duration(lag) * time.Second / twilio.Rate
	t.Logf("echo lag %v, correlation %.3f, gaps p50 %v max %v", lagDur, coeff, res.GapPercentile(50), res.MaxGap())
	if lagDur < time.Second-5*time.Millisecond || lagDur > time.Second+300*time.Millisecond {
		t.Errorf("echo heard %v after the caller spoke, want about 1s", lagDur)
	}
	if coeff < 0.9 {
		t.Errorf("echo correlates %.3f with what the caller said, want > 0.9", coeff)
	}
	// The first second the caller hears is silence.
	if rms := media.RMS(res.Out[:twilio.Rate*9/10]); rms > 10 {
		t.Errorf("first 0.9 s has RMS %.1f, want silence", rms)
	}
	ts.waitIdle(t)
	if got := ts.metric(t, "frontdesk_frames_in_total"); got != 250 {
		t.Errorf("server frames in = %v, want 250", got)
	}
	if got := ts.metric(t, "frontdesk_frames_lost_total"); got != 0 {
		t.Errorf("server frames lost = %v, want 0", got)
	}
	if got := ts.metric(t, `frontdesk_calls_total{outcome="completed",transport="twilio"}`); got != 1 {
		t.Errorf("completed calls = %v, want 1", got)
	}
}

// TestGreetingCall checks the greeting placeholder plays tones and a mark
// that the simulator echoes once its audio has played.
func TestGreetingCall(t *testing.T) {
	leaktest.Check(t)
	ts := start(t, "greeting")
	o := ts.callOpts()
	o.Tail = 2 * time.Second
	res, err := sim.Call(context.Background(), o)
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	if len(res.Marks) != 1 || res.Marks[0] != "greeting" || len(res.MarksEchoed) != 1 {
		t.Errorf("marks %v echoed %v, want greeting once each", res.Marks, res.MarksEchoed)
	}
	if rms := media.RMS(res.Out); rms < 1000 {
		t.Errorf("greeting RMS %.0f, want audible tones", rms)
	}
	// 3 × (250 ms tone + 100 ms pause) = 1.05 s = 52.5 frames.
	if res.FramesReceived != 53 {
		t.Errorf("frames received %d, want 53", res.FramesReceived)
	}
}

type twimlResp struct {
	XMLName xml.Name  `xml:"Response"`
	Say     []string  `xml:"Say"`
	Hangup  *struct{} `xml:"Hangup"`
	Stream  *struct {
		URL            string `xml:"url,attr"`
		StatusCallback string `xml:"statusCallback,attr"`
		Params         []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"Parameter"`
	} `xml:"Connect>Stream"`
}

func (ts *testServer) postVoice(t *testing.T, params map[string]string, sign func(string) string) (*http.Response, []byte) {
	t.Helper()
	form := url.Values{}
	for k, v := range params {
		form.Set(k, v)
	}
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/twilio/voice", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if sign != nil {
		req.Header.Set("X-Twilio-Signature", sign(ts.URL+"/twilio/voice"))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func TestVoiceWebhook(t *testing.T) {
	leaktest.Check(t)
	ts := start(t, "echo")
	params := map[string]string{"CallSid": "CA123", "From": "+12125550123", "To": clinicNum, "AccountSid": "AC1"}
	good := func(u string) string { return twilio.Sign(authToken, u, params) }

	t.Run("unsigned", func(t *testing.T) {
		resp, body := ts.postVoice(t, params, nil)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), `"code":"forbidden"`) {
			t.Errorf("got %d %s, want 403 forbidden", resp.StatusCode, body)
		}
	})
	t.Run("wrong token", func(t *testing.T) {
		resp, _ := ts.postVoice(t, params, func(u string) string { return twilio.Sign("other", u, params) })
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("got %d, want 403", resp.StatusCode)
		}
	})
	t.Run("tampered", func(t *testing.T) {
		tampered := map[string]string{"CallSid": "CA123", "From": "+12125550123", "To": "+12125550199", "AccountSid": "AC1"}
		resp, _ := ts.postVoice(t, tampered, good)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("got %d, want 403", resp.StatusCode)
		}
	})
	t.Run("unknown number", func(t *testing.T) {
		p := map[string]string{"CallSid": "CA9", "From": "+12125550123", "To": "+12125550177"}
		resp, body := ts.postVoice(t, p, func(u string) string { return twilio.Sign(authToken, u, p) })
		var tw twimlResp
		if err := xml.Unmarshal(body, &tw); err != nil || resp.StatusCode != 200 {
			t.Fatalf("got %d %s (%v)", resp.StatusCode, body, err)
		}
		if len(tw.Say) != 1 || tw.Hangup == nil || tw.Stream != nil {
			t.Errorf("TwiML %s: want a Say and a Hangup, no stream", body)
		}
	})
	t.Run("connects", func(t *testing.T) {
		resp, body := ts.postVoice(t, params, good)
		var tw twimlResp
		if err := xml.Unmarshal(body, &tw); err != nil || resp.StatusCode != 200 {
			t.Fatalf("got %d %s (%v)", resp.StatusCode, body, err)
		}
		if tw.Stream == nil {
			t.Fatalf("TwiML %s has no Connect/Stream", body)
		}
		wantURL := "ws" + strings.TrimPrefix(ts.URL, "http") + "/twilio/media"
		if tw.Stream.URL != wantURL || strings.Contains(tw.Stream.URL, "?") {
			t.Errorf("stream url %q, want %q with no query", tw.Stream.URL, wantURL)
		}
		got := map[string]string{}
		for _, p := range tw.Stream.Params {
			got[p.Name] = p.Value
		}
		if got["business"] != "clinic" || got["token"] == "" || got["from"] != "+12125550123" {
			t.Errorf("parameters %v, want business, token and from", got)
		}
	})
	if n := ts.ActiveCalls(); n != 0 {
		t.Errorf("%d calls after webhook tests, want 0", n)
	}
}

func TestStatusCallback(t *testing.T) {
	ts := start(t, "echo")
	p := map[string]string{"StreamEvent": "stream-error", "StreamError": "boom", "CallSid": "CA1", "StreamSid": "MZ1"}
	form := url.Values{}
	for k, v := range p {
		form.Set(k, v)
	}
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/twilio/status", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twilio.Sign(authToken, ts.URL+"/twilio/status", p))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("status %d, want 204", resp.StatusCode)
	}
	if got := ts.metric(t, `frontdesk_twilio_stream_events_total{event="stream-error"}`); got != 1 {
		t.Errorf("stream-error events = %v, want 1", got)
	}
}
