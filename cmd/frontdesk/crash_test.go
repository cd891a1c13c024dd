package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/media"
	"github.com/frontdesk/frontdesk/media/twilio/sim"
)

// TestServeKill9MidCall SIGKILLs a real `frontdesk serve` process in the
// middle of a recorded call, starts it again on the same data directory
// and keys, and reads the call back through the API: marked interrupted,
// its recording decrypts and plays as stereo WAV holding everything but
// at most the last second before the kill, and its transcript answers.
func TestServeKill9MidCall(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	const (
		token  = "crash-test-token"
		opKey  = "crash-test-operator-key-0123456789"
		number = "+12125550100"
	)
	cfg := filepath.Join(dir, "serve.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`
server: {listen: %q, public_url: %q, shutdown_timeout: 2s, data_dir: %q, operator_key: %q}
twilio: {auth_token: %q}
agent: {mode: echo, echo_delay: 300ms}
businesses:
  - {id: clinic, name: Clinic, numbers: [%q], time_zone: America/New_York, plan: starter}
`, addr, base, dataDir, opKey, token, number)), 0o600); err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i*7 + 1)
	}
	env := append(os.Environ(), "FRONTDESK_RUN_MAIN=1", "FRONTDESK_RECORDING_KEYS=k1:"+base64.StdEncoding.EncodeToString(key))

	start := func() (*exec.Cmd, chan struct{}) {
		cmd := exec.Command(os.Args[0], "serve", "-config", cfg, "-log-level", "warn")
		cmd.Env = env
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
		waitFor(t, "server ready", func() bool {
			resp, err := http.Get(base + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
		return cmd, exited
	}

	// First life: a call with 20 s of a 440 Hz tone, killed after ~3.5 s.
	cmd, exited := start()
	const rate = 8000
	audio := make([]int16, 20*rate)
	for i := range audio {
		audio[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/rate))
	}
	callCtx, cancelCall := context.WithCancel(context.Background())
	defer cancelCall()
	simDone := make(chan struct{})
	go func() {
		defer close(simDone)
		_, _ = sim.Call(callCtx, sim.Options{Server: base, AuthToken: token, From: "+12125550123", To: number,
			Audio: audio, Tail: 10 * time.Second})
	}()
	waitFor(t, "call live", func() bool { return metricValue(base, "frontdesk_calls_active") == 1 })
	live := time.Now()
	time.Sleep(3500 * time.Millisecond)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killedAfter := time.Since(live)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("killed process did not exit")
	}
	cancelCall()
	<-simDone
	http.DefaultClient.CloseIdleConnections()

	// Second life: same config, data directory and keys.
	start()
	var k struct {
		Key string `json:"key"`
	}
	apiDo(t, "POST", base+"/v1/businesses/clinic/keys", opKey, `{"role": "readonly", "name": "crash test"}`, 201, &k)
	if k.Key == "" {
		t.Fatal("no key made")
	}
	var calls struct {
		Items []struct {
			ID        string `json:"id"`
			Outcome   string `json:"outcome"`
			Recording *struct {
				ID string `json:"id"`
			} `json:"recording"`
		} `json:"items"`
	}
	apiDo(t, "GET", base+"/v1/calls", k.Key, "", 200, &calls)
	if len(calls.Items) != 1 {
		t.Fatalf("calls after restart: %+v, want one", calls.Items)
	}
	c := calls.Items[0]
	if c.Outcome != "interrupted" {
		t.Errorf("outcome %q, want interrupted", c.Outcome)
	}

	wav := apiDo(t, "GET", base+"/v1/calls/"+c.ID+"/recording", k.Key, "", 200, nil)
	a, err := media.ReadWAV(bytes.NewReader(wav))
	if err != nil {
		t.Fatalf("recording does not decode: %v (%d bytes)", err, len(wav))
	}
	if a.Channels != 2 || a.Rate != rate {
		t.Fatalf("recording: %d channels at %d Hz, want stereo at %d", a.Channels, a.Rate, rate)
	}
	frames := a.Frames()
	recorded := time.Duration(frames) * time.Second / rate
	loss := killedAfter - recorded
	t.Logf("killed %v after the call went live; recording holds %v: lost %v", killedAfter.Round(time.Millisecond),
		recorded, loss.Round(time.Millisecond))
	if recorded < killedAfter-time.Second {
		t.Errorf("recording holds %v of a call killed after %v: lost more than the last second", recorded, killedAfter)
	}
	// The caller's tone fills the left channel throughout (250 ms windows);
	// the echo (after its 300 ms delay) the right one.
	win := rate / 4
	for w := 0; w+win <= frames; w += win {
		if e := rms(a.Samples, w, win, 0); e < 2000 {
			t.Errorf("caller channel at %.2fs: rms %.0f, want the tone", float64(w)/rate, e)
		}
	}
	if e := rms(a.Samples, rate, frames-rate, 1); frames > 2*rate && e < 1000 {
		t.Errorf("agent channel after 1 s: rms %.0f, want the echo", e)
	}

	tr := apiDo(t, "GET", base+"/v1/calls/"+c.ID+"/transcript", k.Key, "", 200, nil)
	var doc map[string]any
	if err := json.Unmarshal(tr, &doc); err != nil {
		t.Errorf("transcript is not JSON: %v: %s", err, tr)
	}
}

// apiDo sends a request with a bearer key, checks the status and decodes a
// JSON answer into out (if given); it returns the body.
func apiDo(t *testing.T, method, url, key, body string, want int, out any) []byte {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, url, resp.StatusCode, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, b)
		}
	}
	return b
}

// rms is the root mean square of channel ch of interleaved stereo
// samples over n frames from frame off.
func rms(s []int16, off, n, ch int) float64 {
	if n <= 0 {
		return 0
	}
	var sum float64
	for i := off; i < off+n; i++ {
		v := float64(s[2*i+ch])
		sum += v * v
	}
	return math.Sqrt(sum / float64(n))
}
