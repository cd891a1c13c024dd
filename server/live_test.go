package server_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/configs"
	"github.com/frontdesk/frontdesk/internal/leaktest"
	"github.com/frontdesk/frontdesk/live"
	"github.com/frontdesk/frontdesk/media"
	"github.com/frontdesk/frontdesk/media/twilio/sim"
	"github.com/frontdesk/frontdesk/server"
	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/store/sqlite"
)

const (
	liveToken   = "0123456789abcdef0123456789abcdef"
	liveNumber  = "+12125550100"
	salonNumber = "+12125550111"
	liveAccount = "AC0123456789abcdef0123456789abcdef"
)

// liveEnv is a real server (SQLite store, echo agent unless configured
// otherwise) with keys of two businesses.
type liveEnv struct {
	base string
	srv  *server.Server
	st   store.Store
	keys map[string]string // "clinic/supervisor" → secret
}

func startLive(t *testing.T, configure func(*configs.Config), opts ...server.Option) *liveEnv {
	t.Helper()
	dataDir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg, err := configs.Parse("live.yaml", []byte(fmt.Sprintf(`
server: {listen: "127.0.0.1:0", public_url: %q, shutdown_timeout: 3s, data_dir: %q}
twilio: {auth_token: %q, account_sid: %q}
agent: {mode: echo, echo_delay: 200ms}
businesses:
  - {id: clinic, name: Clinic, numbers: [%q], time_zone: America/New_York, plan: starter, transfer_number: "+12125550199"}
  - {id: salon, name: Salon, numbers: [%q], time_zone: America/New_York, plan: starter}
`, base, dataDir, liveToken, liveAccount, liveNumber, salonNumber)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if configure != nil {
		configure(cfg)
	}
	sq, err := sqlite.Open(context.Background(), dataDir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), append([]server.Option{server.WithStore(sq)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		srv.Force()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		sq.Close()
		http.DefaultClient.CloseIdleConnections()
	})
	e := &liveEnv{base: base, srv: srv, st: sq, keys: map[string]string{}}
	for _, biz := range []string{"clinic", "salon"} {
		for _, role := range []store.Role{store.RoleReadonly, store.RoleSupervisor, store.RoleOwner} {
			secret, k, err := store.NewAPIKey(biz, role, "live test")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := sq.APIKeys().Create(context.Background(), k); err != nil {
				t.Fatal(err)
			}
			e.keys[biz+"/"+string(role)] = secret
		}
	}
	return e
}

func (e *liveEnv) ws(path string) string { return "ws" + strings.TrimPrefix(e.base, "http") + path }

// dial opens a WebSocket with the key (Bearer) or none.
func (e *liveEnv) dial(t *testing.T, path, key string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	if key != "" {
		h.Set("Authorization", "Bearer "+key)
	}
	return websocket.DefaultDialer.Dial(e.ws(path), h)
}

// post sends a JSON body with key and returns the status and body.
func (e *liveEnv) post(t *testing.T, path, key string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest("POST", e.base+path, rd)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (e *liveEnv) token(t *testing.T, key string) string {
	t.Helper()
	code, b := e.post(t, "/v1/live/tokens", key, nil)
	var v struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if code != 201 || json.Unmarshal(b, &v) != nil || !strings.HasPrefix(v.Token, "lt_") {
		t.Fatalf("POST /v1/live/tokens: %d %s", code, b)
	}
	return v.Token
}

// startCall places a simulated call in the background; wait returns its
// result.
func startCall(t *testing.T, e *liveEnv, o sim.Options) (wait func() *sim.Result) {
	t.Helper()
	o.Server, o.AuthToken, o.From = e.base, liveToken, "+12125550123"
	if o.To == "" {
		o.To = liveNumber
	}
	type out struct {
		res *sim.Result
		err error
	}
	ch := make(chan out, 1)
	go func() {
		res, err := sim.Call(context.Background(), o)
		ch <- out{res, err}
	}()
	return func() *sim.Result {
		select {
		case o := <-ch:
			if o.err != nil {
				t.Fatalf("sim call: %v", o.err)
			}
			return o.res
		case <-time.After(60 * time.Second):
			t.Fatal("sim call did not end")
			return nil
		}
	}
}

// watchCall follows GET /v1/live until a call starts and returns its ID.
func watchCall(t *testing.T, e *liveEnv, key string) (id string, w *websocket.Conn) {
	t.Helper()
	w, _, err := e.dial(t, "/v1/live", key)
	if err != nil {
		t.Fatal(err)
	}
	_ = w.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		var u struct {
			Type  string      `json:"type"`
			Calls []live.Info `json:"calls"`
			Call  *live.Info  `json:"call"`
		}
		if err := w.ReadJSON(&u); err != nil {
			t.Fatalf("GET /v1/live: %v", err)
		}
		switch {
		case u.Type == "snapshot" && len(u.Calls) > 0:
			return u.Calls[0].ID, w
		case u.Type == "call.started":
			return u.Call.ID, w
		}
	}
}

type liveMsg struct {
	at     time.Time
	binary []byte
	event  map[string]any
}

func (m liveMsg) typ() string { s, _ := m.event["type"].(string); return s }

// readAll reads a listen WebSocket until it closes; it returns the
// messages and the close code.
func readAll(t *testing.T, c *websocket.Conn, each func(liveMsg)) ([]liveMsg, int) {
	var out []liveMsg
	_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
	for {
		kind, b, err := c.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if ok := asClose(err, &ce); ok {
				return out, ce.Code
			}
			t.Errorf("listen: %v", err)
			return out, 0
		}
		m := liveMsg{at: time.Now()}
		if kind == websocket.BinaryMessage {
			m.binary = b
		} else if err := json.Unmarshal(b, &m.event); err != nil {
			t.Errorf("text message %s: %v", b, err)
		}
		if each != nil {
			each(m)
		}
		out = append(out, m)
	}
}

func asClose(err error, ce **websocket.CloseError) bool {
	c, ok := err.(*websocket.CloseError)
	*ce = c
	return ok
}

func tone(rate int, d time.Duration) []int16 {
	out := make([]int16, media.Samples(rate, d))
	for i := range out {
		out[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/float64(rate)))
	}
	return out
}

// TestListenLive: a supervisor hears a simulated call live in stereo at
// 16 kHz (caller left, the echo agent right, 200 ms later as the recording
// aligns it), reads its events in order, and a late joiner (μ-law) first
// gets the history, marked replay, in the same order.
func TestListenLive(t *testing.T) {
	leaktest.Check(t)
	e := startLive(t, nil)
	sup := e.keys["clinic/supervisor"]
	// 1 s of silence, then 2 s of tone: the caller's speech starts at a known
	// position; then two keys; then 1.5 s on the line.
	audio := append(make([]int16, 8000), tone(8000, 2*time.Second)...)
	wait := startCall(t, e, sim.Options{Audio: audio, Digits: "12", Tail: 1500 * time.Millisecond})
	id, w := watchCall(t, e, sup)
	defer w.Close()

	a, resp, err := e.dial(t, "/v1/calls/"+id+"/listen?format=pcm16&channels=2&rate=16000", sup)
	if err != nil {
		t.Fatalf("listen: %v (%v)", err, resp)
	}
	defer a.Close()
	var late []liveMsg
	var lateDone sync.WaitGroup
	joined := false
	msgsA, codeA := readAll(t, a, func(m liveMsg) {
		if !joined && m.typ() == "dtmf" && m.event["digits"] == "2" {
			joined = true
			tok := e.token(t, sup) // the browser's way in
			b, resp, err := websocket.DefaultDialer.Dial(e.ws("/v1/calls/"+id+"/listen?format=mulaw&token="+url.QueryEscape(tok)), nil)
			if err != nil {
				t.Errorf("late joiner: %v (%v)", err, resp)
				return
			}
			lateDone.Add(1)
			go func() {
				defer lateDone.Done()
				defer b.Close()
				var code int
				late, code = readAll(t, b, nil)
				if code != websocket.CloseNormalClosure {
					t.Errorf("late joiner closed with %d, want 1000", code)
				}
			}()
		}
	})
	res := wait()
	lateDone.Wait()
	if codeA != websocket.CloseNormalClosure {
		t.Errorf("listener closed with %d, want 1000 after call.ended", codeA)
	}
	if len(msgsA) == 0 || msgsA[0].typ() != "hello" || msgsA[0].event["rate"] != 16000.0 || msgsA[0].event["channels"] != 2.0 {
		t.Fatalf("first message %+v, want hello at 16000 Hz stereo", msgsA[0].event)
	}
	// Audio: 20 ms stereo frames at 16 kHz, one per caller frame.
	var left, right []int16
	var events []map[string]any
	for _, m := range msgsA[1:] {
		if m.binary == nil {
			events = append(events, m.event)
			continue
		}
		if len(m.binary) != 320*2*2 {
			t.Fatalf("frame of %d bytes, want 1280 (20 ms, 16 kHz, stereo, 16-bit)", len(m.binary))
		}
		for i := 0; i < len(m.binary); i += 4 {
			left = append(left, int16(binary.LittleEndian.Uint16(m.binary[i:])))
			right = append(right, int16(binary.LittleEndian.Uint16(m.binary[i+2:])))
		}
	}
	frames := len(left) / 320
	if frames > res.FramesSent || frames < res.FramesSent-50 {
		t.Errorf("listener got %d frames; the caller sent %d (the listener joined within the first second)", frames, res.FramesSent)
	}
	// The echo plays the caller 200 ms later: the agent channel is the
	// caller channel shifted by about 200 ms (the recording's alignment:
	// agent audio placed when sent, within the pacer's lead).
	lag, coeff := media.CrossCorrelate(left, right, 16000*400/1000)
	if lagMS := lag * 1000 / 16000; coeff < 0.5 || lagMS < 150 || lagMS > 320 {
		t.Errorf("agent channel lags the caller by %d ms (correlation %.2f), want about 200 ms", lagMS, coeff)
	}
	if rms := media.RMS(left); rms < 1000 {
		t.Errorf("caller channel RMS %.0f: no tone", rms)
	}
	// Events: in order, seq from 1 without gaps, the keys, then the end.
	var types []string
	for i, ev := range events {
		if seq := int(ev["seq"].(float64)); seq != i+1 {
			t.Errorf("event %d has seq %d: %v", i, seq, ev)
		}
		if ev["type"] != "agent.state" {
			types = append(types, fmt.Sprint(ev["type"], ev["digits"], ev["outcome"]))
		}
	}
	if want := []string{"dtmf1<nil>", "dtmf2<nil>", "call.ended<nil>completed"}; fmt.Sprint(types) != fmt.Sprint(want) {
		t.Errorf("events %v, want %v", types, want)
	}
	// The late joiner: hello, then the history (replay) equal to what the
	// first listener got, then live events; μ-law frames of 160 bytes.
	if len(late) < 3 || late[0].typ() != "hello" || late[0].event["format"] != "mulaw" {
		t.Fatalf("late joiner got %d messages, first %+v", len(late), late)
	}
	var replay, after []map[string]any
	for _, m := range late[1:] {
		if m.binary != nil {
			if len(m.binary) != 160 {
				t.Errorf("μ-law frame of %d bytes, want 160", len(m.binary))
			}
			continue
		}
		if m.event["replay"] == true {
			if len(after) > 0 {
				t.Errorf("history after live events: %v", m.event)
			}
			replay = append(replay, m.event)
		} else {
			after = append(after, m.event)
		}
	}
	if len(replay) < 2 || len(replay) > len(events) {
		t.Fatalf("late joiner's history has %d events, first listener saw %d", len(replay), len(events))
	}
	for i, ev := range replay {
		if ev["seq"] != events[i]["seq"] || ev["type"] != events[i]["type"] {
			t.Errorf("history %d = %v, want %v", i, ev, events[i])
		}
	}
	if len(after) == 0 || after[len(after)-1]["type"] != "call.ended" {
		t.Errorf("late joiner's live events %v, want the end last", after)
	}
}

// TestListenStuckListener: a supervisor that stops reading does not change
// the call's outbound timing as the caller measures it; its queue drops the
// oldest frames, counted, instead of growing; when it reads again it is told
// what it lost.
func TestListenStuckListener(t *testing.T) {
	leaktest.Check(t)
	hub := live.NewHub(live.Options{AudioQueue: 10})
	e := startLive(t, nil, server.WithLiveHub(hub))
	sup := e.keys["clinic/supervisor"]
	audio := tone(8000, 4*time.Second)

	// The baseline is the same call to the other business, at the same
	// time, without a listener.
	waitBaseline := startCall(t, e, sim.Options{To: salonNumber, Audio: audio, Tail: time.Second})
	wait := startCall(t, e, sim.Options{Audio: audio, Tail: time.Second})
	id, w := watchCall(t, e, sup)
	defer w.Close()
	// A client that reads the hello and then nothing for 3.5 s, with a tiny
	// socket buffer: the server's writes stall within about 2 s (16 kHz
	// stereo is 64 KB/s; the server keeps its send buffer small).
	// The receive buffer is set before connecting, so the window the
	// client advertises is small from the start.
	nd := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return errors.Join(err, serr)
	}}
	d := websocket.Dialer{NetDialContext: nd.DialContext, ReadBufferSize: 1024}
	h := http.Header{"Authorization": {"Bearer " + sup}}
	stuck, _, err := d.Dial(e.ws("/v1/calls/"+id+"/listen?channels=2&rate=16000"), h)
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	if _, _, err := stuck.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3500 * time.Millisecond)
	msgs, code := readAll(t, stuck, nil)
	res, baseline := wait(), waitBaseline()

	dropped, metric := hub.Stats().DroppedFrames, metricOf(t, e.base, `frontdesk_live_dropped_total{kind="audio"}`)
	if dropped == 0 || metric != float64(dropped) {
		t.Errorf("%d frames dropped (metric %v) for a listener that stopped reading, want some, counted", dropped, metric)
	}
	var lost float64
	for _, m := range msgs {
		if m.typ() == "dropped" {
			lost += m.event["frames"].(float64)
		}
	}
	if lost == 0 || len(msgs) == 0 || msgs[len(msgs)-1].typ() != "call.ended" || code != websocket.CloseNormalClosure {
		t.Errorf("after the stall: %v frames reported dropped, close %d; want some, then call.ended and 1000", lost, code)
	}
	// The call's outbound audio, as the caller received it, is the same as
	// without the stuck listener: as many frames, the same pacing. (Where
	// the hang-up falls in the pacer's lead varies by a few frames.)
	if d := res.FramesReceived - baseline.FramesReceived; d < -10 || d > 10 {
		t.Errorf("caller received %d frames with a stuck listener, %d without", res.FramesReceived, baseline.FramesReceived)
	}
	for _, p := range []float64{50, 90} {
		b, s := baseline.GapPercentile(p), res.GapPercentile(p)
		if s > b+media.FrameDuration {
			t.Errorf("p%.0f gap between frames %v with a stuck listener, %v without", p, s, b)
		}
	}
	if n := metricOf(t, e.base, "frontdesk_live_listeners"); n > 1 {
		t.Errorf("%v listeners after the call", n)
	}
}

// TestListenAuth: every refusal happens before the upgrade, as an HTTP
// error with the API's JSON body.
func TestListenAuth(t *testing.T) {
	leaktest.Check(t)
	var offset atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	e := startLive(t, nil, server.WithClock(clock))
	sup := e.keys["clinic/supervisor"]
	wait := startCall(t, e, sim.Options{Audio: tone(8000, time.Second), Tail: 2 * time.Second})
	id, w := watchCall(t, e, sup)
	defer w.Close()
	listen := "/v1/calls/" + id + "/listen"

	clinicTok := e.token(t, sup)
	salonTok := e.token(t, e.keys["salon/owner"])
	expired := e.token(t, e.keys["clinic/owner"])
	for _, c := range []struct {
		name, path, key string
		status          int
	}{
		{"no credential", listen, "", 401},
		{"a forged token", listen + "?token=lt_9999999999.abcdefabcdefabcd.AAAA", "", 401},
		{"the token of a key as a Bearer key", listen, clinicTok, 401},
		{"a readonly key", listen, e.keys["clinic/readonly"], 403},
		{"another business's key", listen, e.keys["salon/supervisor"], 404},
		{"another business's token", listen + "?token=" + salonTok, "", 404},
		{"an unknown format", listen + "?format=opus", sup, 400},
		{"stereo μ-law", listen + "?format=mulaw&channels=2", sup, 400},
		{"another business's watch", "/v1/live?token=bad", "", 401},
		{"a readonly watch", "/v1/live", e.keys["clinic/readonly"], 403},
	} {
		conn, resp, err := e.dial(t, c.path, c.key)
		if err == nil {
			conn.Close()
			t.Errorf("%s: upgraded, want %d before the upgrade", c.name, c.status)
			continue
		}
		if resp == nil || resp.StatusCode != c.status {
			t.Errorf("%s: %v, want HTTP %d", c.name, resp, c.status)
			continue
		}
		var body struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		b, _ := io.ReadAll(resp.Body)
		if json.Unmarshal(b, &body) != nil || body.Error.Code == "" {
			t.Errorf("%s: body %s, want the JSON error", c.name, b)
		}
	}
	// A readonly key cannot get a token; a token opens nothing but the
	// WebSockets.
	if code, _ := e.post(t, "/v1/live/tokens", e.keys["clinic/readonly"], nil); code != 403 {
		t.Errorf("readonly key got a token: %d", code)
	}
	req, _ := http.NewRequest("GET", e.base+"/v1/calls?token="+url.QueryEscape(clinicTok), nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Errorf("GET /v1/calls with a live token: %v %v, want 401", resp, err)
	} else {
		resp.Body.Close()
	}
	// The good token works; after 60 s it no longer does.
	if conn, resp, err := websocket.DefaultDialer.Dial(e.ws(listen+"?token="+url.QueryEscape(clinicTok)), nil); err != nil {
		t.Errorf("a fresh token: %v %v", err, resp)
	} else {
		conn.Close()
	}
	offset.Store(int64(61 * time.Second))
	if conn, resp, err := websocket.DefaultDialer.Dial(e.ws(listen+"?token="+url.QueryEscape(expired)), nil); err == nil {
		conn.Close()
		t.Error("an expired token upgraded")
	} else if resp == nil || resp.StatusCode != 401 {
		t.Errorf("an expired token: %v, want 401", resp)
	}
	offset.Store(0)
	wait()
	// An ended call is not live: 404.
	if _, resp, err := e.dial(t, listen, sup); err == nil || resp == nil || resp.StatusCode != 404 {
		t.Errorf("listening to an ended call: %v, want 404", resp)
	}
}
