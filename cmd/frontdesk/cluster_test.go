package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/media"
	"github.com/frontdesk/frontdesk/media/twilio/sim"
	"github.com/frontdesk/frontdesk/store/redis/redistest"
)

// clusterNode is one real `frontdesk serve` process of a two-node cluster.
type clusterNode struct {
	id     string
	base   string
	cmd    *exec.Cmd
	exited chan error
}

const (
	clusterToken  = "cluster-test-token"
	clusterOpKey  = "cluster-test-operator-key-0123456789"
	clinicNumber  = "+12125550100"
	briefNumber   = "+12125550111"
	clusterCaller = "+12125550123"
)

// startClusterNode starts a node on a free loopback port with the
// cluster's shared Redis and data directory.
func startClusterNode(t *testing.T, id, redisAddr, shared string, env []string) *clusterNode {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	hours := "{monday: [08:00-17:00], tuesday: [08:00-17:00], wednesday: [08:00-17:00], thursday: [08:00-17:00], " +
		"friday: [08:00-17:00], saturday: [08:00-17:00], sunday: [08:00-17:00]}"
	cfg := filepath.Join(t.TempDir(), id+".yaml")
	// Short heartbeats so that a dead node is noticed within seconds.
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`
server: {listen: %q, public_url: %q, shutdown_timeout: 5s, data_dir: %q, operator_key: %q, node_id: %q}
twilio: {auth_token: %q}
agent: {mode: echo, echo_delay: 200ms}
store: {backend: redis, redis_url: "redis://%s", redis_prefix: "two:", heartbeat: 250ms, node_timeout: 1500ms}
plans:
  starter: {recordings: 180d, transcripts: 365d}
  brief: {recordings: 3s, transcripts: 3s}
businesses:
  - {id: clinic, name: Clinic, numbers: [%q], time_zone: America/New_York, plan: starter, hours: %s,
     services: [{name: Cleaning, duration: 60m}]}
  - {id: brief, name: Brief, numbers: [%q], time_zone: America/New_York, plan: brief}
`, addr, base, shared, clusterOpKey, id, clusterToken, redisAddr, clinicNumber, hours, briefNumber)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "serve", "-config", cfg, "-log-level", "warn")
	cmd.Env = env
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n := &clusterNode{id: id, base: base, cmd: cmd, exited: make(chan error, 1)}
	go func() { n.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-n.exited
		n.exited <- nil // for a second cleanup reader
	})
	waitFor(t, id+" ready", func() bool { return status(base+"/readyz") == http.StatusOK })
	return n
}

func status(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// apiStatus sends a JSON request with a bearer key and returns the status.
func apiStatus(url, key, body string) int {
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

type callItem struct {
	ID        string          `json:"id"`
	Outcome   string          `json:"outcome"`
	EndedAt   *time.Time      `json:"ended_at"`
	Recording json.RawMessage `json:"recording"`
}

// TestTwoNodes runs a cluster of two real `frontdesk serve` processes on
// loopback sharing one real redis-server and one data directory, and shows
// what several nodes must do: the same slot booked concurrently through A
// and B has one winner; a supervisor on B hears a call on A; a retention timer (both nodes run the scheduler)
// fires exactly once; Redis restarted mid-call leaves the call unharmed
// and the supervisor's listener recovers;
// node A killed mid-call has its call marked interrupted by B once A's
// heartbeat lapses, and B serves the call's recording from the shared
// directory.
func TestTwoNodes(t *testing.T) {
	rdb := redistest.StartServer(t)
	shared := filepath.Join(t.TempDir(), "shared")
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i*5 + 3)
	}
	env := append(os.Environ(), "FRONTDESK_RUN_MAIN=1", "FRONTDESK_RECORDING_KEYS=k1:"+base64.StdEncoding.EncodeToString(key))
	a := startClusterNode(t, "node-a", rdb.Addr, shared, env)
	b := startClusterNode(t, "node-b", rdb.Addr, shared, env)

	newKey := func(biz string) string {
		var k struct {
			Key string `json:"key"`
		}
		apiDo(t, "POST", a.base+"/v1/businesses/"+biz+"/keys", clusterOpKey, `{"role": "owner", "name": "cluster test"}`, 201, &k)
		return k.Key
	}
	clinicKey, briefKey := newKey("clinic"), newKey("brief")

	t.Run("booking has one winner across nodes", func(t *testing.T) {
		ny, _ := time.LoadLocation("America/New_York")
		day := time.Now().In(ny).AddDate(0, 0, 2)
		for i := range 4 {
			start := time.Date(day.Year(), day.Month(), day.Day(), 9+2*i, 0, 0, 0, ny).Format("2006-01-02T15:04")
			body := fmt.Sprintf(`{"service": "cleaning", "start": %q, "customer_name": "Caller %d"}`, start, i)
			var wg sync.WaitGroup
			got := make([]int, 2)
			release := make(chan struct{})
			for j, n := range []*clusterNode{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-release
					got[j] = apiStatus(n.base+"/v1/appointments", clinicKey, body)
				}()
			}
			close(release)
			wg.Wait()
			slices.Sort(got)
			if !slices.Equal(got, []int{201, 409}) {
				t.Errorf("slot %s booked through A and B at once: statuses %v, want one 201 and one 409", start, got)
			}
		}
	})

	t.Run("retention timer fires once", func(t *testing.T) {
		// A short call on A under the 3-second plan: its recording and
		// transcript timers fall due while both nodes' schedulers run.
		res, err := sim.Call(context.Background(), sim.Options{Server: a.base, AuthToken: clusterToken, From: clusterCaller,
			To: briefNumber, Audio: tone440(8000), Tail: 300 * time.Millisecond})
		if err != nil {
			t.Fatalf("call: %v", err)
		}
		_ = res
		var calls struct{ Items []callItem }
		apiDo(t, "GET", b.base+"/v1/calls", briefKey, "", 200, &calls)
		if len(calls.Items) != 1 {
			t.Fatalf("brief calls %+v, want one", calls.Items)
		}
		id := calls.Items[0].ID
		expiries := func() []string {
			var audit struct {
				Items []struct {
					Action string `json:"action"`
					Target string `json:"target"`
				} `json:"items"`
			}
			apiDo(t, "GET", b.base+"/v1/audit", briefKey, "", 200, &audit)
			var out []string
			for _, e := range audit.Items {
				if e.Action == "expire" {
					out = append(out, e.Target)
				}
			}
			slices.Sort(out)
			return out
		}
		want := []string{"recording:" + id, "transcript:" + id}
		waitFor(t, "both timers fired", func() bool { return len(expiries()) >= 2 })
		time.Sleep(time.Second) // several heartbeats: a second firing would show now
		if got := expiries(); !slices.Equal(got, want) {
			t.Errorf("expiry audit records %v, want exactly %v", got, want)
		}
		var c callItem
		apiDo(t, "GET", a.base+"/v1/calls/"+id, briefKey, "", 200, &c)
		if string(c.Recording) != "null" {
			t.Errorf("recording after expiry: %s, want null", c.Recording)
		}
		if entries, _ := os.ReadDir(filepath.Join(shared, "recordings")); hasFile(entries, id) {
			t.Errorf("recording file of %s still in the shared directory", id)
		}
	})

	t.Run("Redis restart mid-call, then node A killed", func(t *testing.T) {
		audio := tone440(60 * 8000)
		callCtx, cancelCall := context.WithCancel(context.Background())
		defer cancelCall()
		type result struct {
			res *sim.Result
			err error
		}
		done := make(chan result, 1)
		go func() {
			res, err := sim.Call(callCtx, sim.Options{Server: a.base, AuthToken: clusterToken, From: clusterCaller,
				To: clinicNumber, Audio: audio, Tail: 10 * time.Second})
			done <- result{res, err}
		}()
		waitFor(t, "call live on A", func() bool { return metricValue(a.base, "frontdesk_calls_active") == 1 })
		live := time.Now()
		var calls struct{ Items []callItem }
		apiDo(t, "GET", b.base+"/v1/calls", clinicKey, "", 200, &calls)
		id := ""
		for _, c := range calls.Items {
			if c.Outcome == "" {
				id = c.ID
			}
		}
		if id == "" {
			t.Fatalf("no live call in %+v", calls.Items)
		}

		// B lists the call of A, and a supervisor on B hears it.
		snap := liveSnapshot(t, b.base, clinicKey)
		if len(snap) != 1 || snap[0].ID != id || snap[0].Node != "node-a" {
			t.Errorf("GET /v1/live on B: %+v, want call %s on node-a", snap, id)
		}
		sup := listen(t, b.base, id, clinicKey)
		waitFor(t, "the supervisor on B to hear the call", func() bool { return sup.loudAfter(time.Time{}) > 10 })
		// A supervisor's action through B reaches the call on A: an echo
		// call has no agent to whisper to (409 from A, not 404 from B);
		// another business's key finds no such call.
		whisper := `{"text": "offer the discount"}`
		if got := apiStatus(b.base+"/v1/calls/"+id+"/whisper", clinicKey, whisper); got != http.StatusConflict {
			t.Errorf("whisper through B to the call on A: %d, want 409 no_agent from A", got)
		}
		if got := apiStatus(b.base+"/v1/calls/"+id+"/whisper", briefKey, whisper); got != http.StatusNotFound {
			t.Errorf("whisper with another business's key: %d, want 404", got)
		}
		if got := apiStatus(b.base+"/v1/calls/"+id+"/whisper", "", whisper); got != http.StatusUnauthorized {
			t.Errorf("whisper without a key: %d, want 401", got)
		}

		time.Sleep(time.Second)
		rdb.Restart()
		restarted := time.Since(live)
		back := time.Now()
		// The supervisor's listener recovers: audio made after the restart
		// reaches it.
		waitFor(t, "the supervisor on B to hear the call after the Redis restart", func() bool { return sup.loudAfter(back) > 10 })
		recovered := time.Since(back)
		time.Sleep(time.Second) // the call goes on with Redis back
		if err := a.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		killed := time.Since(live)
		<-a.exited
		a.exited <- nil
		cancelCall()
		r := <-done
		if r.res == nil {
			t.Fatalf("call on A: %v", r.err)
		}
		// The caller heard the echo without a hole through the Redis
		// restart: every 250 ms window up to shortly before the kill holds
		// the tone (the media path never waits on Redis).
		out := r.res.Out
		win := 2000
		end := min(len(out), int((killed-700*time.Millisecond).Seconds()*8000))
		t.Logf("Redis restarted %v into the call, supervisor on B heard it again %v later, node A killed at %v; caller heard %.2f s",
			restarted.Round(time.Millisecond), recovered.Round(time.Millisecond), killed.Round(time.Millisecond), float64(len(out))/8000)
		if end < int(restarted.Seconds()*8000)+win {
			t.Fatalf("caller heard %d samples, not past the restart at %v", len(out), restarted)
		}
		for w := 4000; w+win <= end; w += win {
			if e := media.RMS(out[w : w+win]); e < 2000 {
				t.Errorf("echo at %.2f s: RMS %.0f, want the tone (Redis restarted at %.2f s)", float64(w)/8000, e, restarted.Seconds())
			}
		}

		// B notices A's heartbeat lapse and marks the call interrupted.
		var c callItem
		waitFor(t, "B to mark A's call interrupted", func() bool {
			apiDo(t, "GET", b.base+"/v1/calls/"+id, clinicKey, "", 200, &c)
			return c.Outcome != ""
		})
		if c.Outcome != "interrupted" || c.EndedAt == nil {
			t.Fatalf("A's call after A died: outcome %q ended %v, want interrupted with an end", c.Outcome, c.EndedAt)
		}
		// B finished the dead node's recording in the shared directory.
		wav := apiDo(t, "GET", b.base+"/v1/calls/"+id+"/recording", clinicKey, "", 200, nil)
		rec, err := media.ReadWAV(bytes.NewReader(wav))
		if err != nil {
			t.Fatalf("recording of A's call through B: %v", err)
		}
		if got := time.Duration(rec.Frames()) * time.Second / time.Duration(rec.Rate); got < killed-2*time.Second {
			t.Errorf("recording holds %v of a call killed after %v", got, killed)
		}
		// The supervisor on B is told the call ended, interrupted.
		waitFor(t, "the supervisor's listener to end", sup.closed)
		if o, code := sup.end(); o != "interrupted" || code != websocket.CloseNormalClosure {
			t.Errorf("supervisor's listener ended with outcome %q, close %d; want interrupted, 1000", o, code)
		}
		if snap := liveSnapshot(t, b.base, clinicKey); len(snap) != 0 {
			t.Errorf("GET /v1/live on B after A died: %+v, want no calls", snap)
		}
		if status(b.base+"/readyz") != http.StatusOK {
			t.Error("B is not ready after A died")
		}
	})
}

type liveCall struct {
	ID   string `json:"id"`
	Node string `json:"node"`
}

// liveSnapshot reads the first message of GET /v1/live.
func liveSnapshot(t *testing.T, base, key string) []liveCall {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/v1/live",
		http.Header{"Authorization": {"Bearer " + key}})
	if err != nil {
		t.Fatalf("GET /v1/live: %v", err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var m struct {
		Type  string     `json:"type"`
		Calls []liveCall `json:"calls"`
	}
	if err := conn.ReadJSON(&m); err != nil || m.Type != "snapshot" {
		t.Fatalf("GET /v1/live: first message %+v, %v; want a snapshot", m, err)
	}
	return m.Calls
}

// supervisor is a listener on GET /v1/calls/{id}/listen.
type supervisor struct {
	mu      sync.Mutex
	loud    []time.Time // arrival of each binary frame that holds the tone
	outcome string      // of call.ended
	code    int         // close code; 0 while open
}

func listen(t *testing.T, base, id, key string) *supervisor {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/v1/calls/"+id+"/listen",
		http.Header{"Authorization": {"Bearer " + key}})
	if err != nil {
		t.Fatalf("listen to %s: %v", id, err)
	}
	s := &supervisor{}
	done := make(chan struct{})
	t.Cleanup(func() { conn.Close(); <-done })
	go func() {
		defer close(done)
		for {
			kind, b, err := conn.ReadMessage()
			if err != nil {
				code := -1
				var ce *websocket.CloseError
				if errors.As(err, &ce) {
					code = ce.Code
				}
				s.mu.Lock()
				s.code = code
				s.mu.Unlock()
				return
			}
			if kind == websocket.BinaryMessage {
				pcm := make([]int16, len(b)/2)
				for i := range pcm {
					pcm[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
				}
				if media.RMS(pcm) > 1000 {
					s.mu.Lock()
					s.loud = append(s.loud, time.Now())
					s.mu.Unlock()
				}
				continue
			}
			var e struct {
				Type    string `json:"type"`
				Outcome string `json:"outcome"`
			}
			if json.Unmarshal(b, &e) == nil && e.Type == "call.ended" {
				s.mu.Lock()
				s.outcome = e.Outcome
				s.mu.Unlock()
			}
		}
	}()
	return s
}

// loudAfter counts the frames holding the tone that arrived after since.
func (s *supervisor) loudAfter(since time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, at := range s.loud {
		if at.After(since) {
			n++
		}
	}
	return n
}

func (s *supervisor) closed() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.code != 0 }

func (s *supervisor) end() (string, int) { s.mu.Lock(); defer s.mu.Unlock(); return s.outcome, s.code }

func hasFile(entries []os.DirEntry, id string) bool {
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), id) {
			return true
		}
	}
	return false
}

// tone440 is n samples of a 440 Hz tone at 8 kHz.
func tone440(n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/8000))
	}
	return s
}
