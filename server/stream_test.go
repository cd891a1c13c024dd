package server_test

import (
	"context"
	"encoding/xml"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/internal/leaktest"
	"github.com/frontdesk/frontdesk/media/twilio"
	"github.com/frontdesk/frontdesk/media/twilio/sim"
	"github.com/frontdesk/frontdesk/server"
)

// answer posts a signed voice webhook and returns the stream URL and the
// parameters the TwiML carries.
func (ts *testServer) answer(t *testing.T, callSID string) (string, map[string]string) {
	t.Helper()
	p := map[string]string{"CallSid": callSID, "From": "+12125550123", "To": clinicNum}
	resp, body := ts.postVoice(t, p, func(u string) string { return twilio.Sign(authToken, u, p) })
	var tw twimlResp
	if err := xml.Unmarshal(body, &tw); err != nil || resp.StatusCode != 200 || tw.Stream == nil {
		t.Fatalf("voice webhook: %d %s (%v)", resp.StatusCode, body, err)
	}
	params := map[string]string{}
	for _, x := range tw.Stream.Params {
		params[x.Name] = x.Value
	}
	return tw.Stream.URL, params
}

// dial opens the media stream, signed with sig (nil: unsigned).
func dial(t *testing.T, streamURL string, sig func(string) string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	if sig != nil {
		h.Set("X-Twilio-Signature", sig(streamURL))
	}
	c, resp, err := websocket.DefaultDialer.Dial(streamURL, h)
	if c != nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, resp, err
}

func signed(u string) string { return twilio.Sign(authToken, u, nil) }

func sendStart(t *testing.T, c *websocket.Conn, callSID string, params map[string]string) {
	t.Helper()
	for _, msg := range [][]byte{
		twilio.AppendConnected(nil),
		twilio.AppendStart(nil, 1, &twilio.Start{
			StreamSID: "MZ1", AccountSID: "AC1", CallSID: callSID, Tracks: []string{"inbound"},
			CustomParameters: params,
			MediaFormat:      twilio.MediaFormat{Encoding: "audio/x-mulaw", SampleRate: 8000, Channels: 1},
		}),
	} {
		if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
			t.Fatal(err)
		}
	}
}

// closeCode reads until the server closes and returns the close code.
func closeCode(c *websocket.Conn) int {
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			if ce, ok := err.(*websocket.CloseError); ok {
				return ce.Code
			}
			return -1
		}
	}
}

func TestUpgradeRejectedWithoutSignature(t *testing.T) {
	leaktest.Check(t)
	ts := start(t, "echo")
	streamURL, _ := ts.answer(t, "CA1")
	for name, sig := range map[string]func(string) string{
		"unsigned":    nil,
		"wrong token": func(u string) string { return twilio.Sign("nope", u, nil) },
		"other url":   func(string) string { return twilio.Sign(authToken, "wss://evil.example/twilio/media", nil) },
	} {
		t.Run(name, func(t *testing.T) {
			_, resp, err := dial(t, streamURL, sig)
			if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Errorf("dial: %v (%v), want 403", err, resp)
			}
		})
	}
	if n := ts.ActiveCalls(); n != 0 {
		t.Errorf("%d calls, want none", n)
	}
	if got := ts.metric(t, `frontdesk_rejected_total{reason="unsigned"}`); got != 1 {
		t.Errorf("unsigned rejections = %v, want 1", got)
	}
}

func TestStreamTokenChecked(t *testing.T) {
	leaktest.Check(t)
	var later atomic.Int64 // how far the server's clock is ahead
	ts := start(t, "echo", server.WithClock(func() time.Time { return time.Now().Add(time.Duration(later.Load())) }))
	streamURL, params := ts.answer(t, "CA1")
	tests := []struct {
		name    string
		callSID string
		params  map[string]string
		later   time.Duration
	}{
		{"no token", "CA1", map[string]string{"business": "clinic"}, 0},
		{"token of another call", "CA2", params, 0},
		{"token for another business", "CA1", map[string]string{"business": "other", "token": params["token"]}, 0},
		{"expired token", "CA1", params, 2 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			later.Store(int64(tt.later))
			c, _, err := dial(t, streamURL, signed)
			if err != nil {
				t.Fatal(err)
			}
			sendStart(t, c, tt.callSID, tt.params)
			if code := closeCode(c); code != websocket.ClosePolicyViolation {
				t.Errorf("close code %d, want 1008", code)
			}
			if n := ts.ActiveCalls(); n != 0 {
				t.Errorf("%d calls, want none", n)
			}
		})
	}
}

func TestStreamProtocolErrors(t *testing.T) {
	leaktest.Check(t)
	ts := start(t, "echo")
	tests := []struct {
		name string
		msg  func() (int, []byte)
		want int
		log  string
	}{
		{"oversize", func() (int, []byte) {
			return websocket.TextMessage, []byte(`{"event":"media","x":"` + strings.Repeat("a", 8000) + `"}`)
		}, websocket.CloseMessageTooBig, ""},
		{"binary", func() (int, []byte) { return websocket.BinaryMessage, []byte{0xff, 0x00} }, websocket.CloseUnsupportedData, ""},
		{"wrong streamSid", func() (int, []byte) {
			return websocket.TextMessage, twilio.AppendInboundMedia(nil, "MZother", 2, 1, 0, make([]byte, 160))
		}, websocket.ClosePolicyViolation, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			callSID := "CA" + string(rune('a'+i))
			streamURL, params := ts.answer(t, callSID)
			c, _, err := dial(t, streamURL, signed)
			if err != nil {
				t.Fatal(err)
			}
			sendStart(t, c, callSID, params)
			typ, data := tt.msg()
			if err := c.WriteMessage(typ, data); err != nil {
				t.Fatal(err)
			}
			if code := closeCode(c); code != tt.want {
				t.Errorf("close code %d, want %d", code, tt.want)
			}
		})
	}
	t.Run("media before start", func(t *testing.T) {
		streamURL, _ := ts.answer(t, "CAz")
		c, _, err := dial(t, streamURL, signed)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.WriteMessage(websocket.TextMessage, twilio.AppendInboundMedia(nil, "MZ1", 1, 1, 0, make([]byte, 160)))
		if code := closeCode(c); code != websocket.ClosePolicyViolation {
			t.Errorf("close code %d, want 1008", code)
		}
		ts.waitIdle(t)
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(ts.logs.String(), "media before start") {
			if time.Now().After(deadline) {
				t.Fatal("no log line names the problem")
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	t.Run("garbage and unknown events do not end the call", func(t *testing.T) {
		streamURL, params := ts.answer(t, "CAg")
		c, _, err := dial(t, streamURL, signed)
		if err != nil {
			t.Fatal(err)
		}
		sendStart(t, c, "CAg", params)
		for _, m := range []string{`{garbage`, `{"event":"media","streamSid":"MZ1","media":{"payload":"!!!"}}`, `{"event":"party"}`, `[]`, `""`} {
			_ = c.WriteMessage(websocket.TextMessage, []byte(m))
		}
		_ = c.WriteMessage(websocket.TextMessage, twilio.AppendInboundMedia(nil, "MZ1", 2, 1, 0, make([]byte, 160)))
		// The call is still up: echo sends its second of silence.
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, _, err := c.ReadMessage(); err != nil {
			t.Fatalf("call ended after bad messages: %v", err)
		}
		if n := ts.ActiveCalls(); n != 1 {
			t.Errorf("%d live calls, want 1", n)
		}
		_ = c.WriteMessage(websocket.TextMessage, twilio.AppendStop(nil, "MZ1", 3, "AC1", "CAg"))
		closeCode(c)
		ts.waitIdle(t)
	})
}

// TestDrainThenForce: the first stop refuses new calls but lets the live
// one go on; Force then cuts it with 1001 and every goroutine ends.
func TestDrainThenForce(t *testing.T) {
	leaktest.Check(t)
	ts := start(t, "echo")
	o := ts.callOpts()
	o.Audio, o.Tail = speech(30*time.Second), time.Second
	got := make(chan *sim.Result, 1)
	go func() {
		res, _ := sim.Call(context.Background(), o)
		got <- res
	}()
	deadline := time.Now().Add(10 * time.Second)
	for ts.ActiveCalls() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	ts.Stop() // first signal: drain
	for {
		resp, err := http.Get(ts.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusServiceUnavailable {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("readyz never reported draining")
		}
		time.Sleep(10 * time.Millisecond)
	}
	p := map[string]string{"CallSid": "CAnew", "From": "+12125550123", "To": clinicNum}
	resp, _ := ts.postVoice(t, p, func(u string) string { return twilio.Sign(authToken, u, p) })
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("new call while draining: %d, want 503", resp.StatusCode)
	}
	if n := ts.ActiveCalls(); n != 1 {
		t.Errorf("live calls while draining = %d, want 1", n)
	}
	ts.Force() // second signal
	res := <-got
	if res == nil || res.CloseCode != 1001 {
		t.Errorf("call result %+v, want close 1001", res)
	}
	if err := <-ts.Done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	ts.Done <- nil // for the cleanup
}
