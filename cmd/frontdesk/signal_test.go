package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/media/twilio/sim"
)

// TestMain lets a test re-run this binary as the real frontdesk command.
func TestMain(m *testing.M) {
	if os.Getenv("FRONTDESK_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestServeTwoStepShutdown starts `frontdesk serve` as a real process: the
// first SIGTERM drains (readyz 503, the live call goes on), the second cuts
// the call with 1001 and the process exits cleanly.
func TestServeTwoStepShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	cfg := filepath.Join(t.TempDir(), "serve.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`
server: {listen: %q, public_url: %q, shutdown_timeout: 1m, data_dir: %q}
twilio: {auth_token: signal-test-token}
agent: {mode: echo}
businesses:
  - {id: clinic, name: Clinic, numbers: ["+12125550100"], time_zone: America/New_York, plan: starter}
`, addr, base, t.TempDir())), 0o600)

	cmd := exec.Command(os.Args[0], "serve", "-config", cfg, "-log-level", "warn")
	cmd.Env = append(os.Environ(), "FRONTDESK_RUN_MAIN=1")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	ready := func() int {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitFor(t, "server ready", func() bool { return ready() == http.StatusOK })

	got := make(chan *sim.Result, 1)
	go func() {
		res, _ := sim.Call(context.Background(), sim.Options{Server: base, AuthToken: "signal-test-token",
			To: "+12125550100", Audio: make([]int16, 8000*60)})
		got <- res
	}()
	waitFor(t, "call live", func() bool { return metricValue(base, "frontdesk_calls_active") == 1 })

	cmd.Process.Signal(syscall.SIGTERM)
	waitFor(t, "draining", func() bool { return ready() == http.StatusServiceUnavailable })
	if n := metricValue(base, "frontdesk_calls_active"); n != 1 {
		t.Errorf("live calls while draining = %v, want 1", n)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("process exit: %v, want success", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("process did not exit after the second signal")
	}
	if res := <-got; res == nil || res.CloseCode != 1001 {
		t.Errorf("call result %+v, want closed with 1001", res)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func metricValue(base, name string) float64 {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	m, err := sim.ParseMetrics(resp.Body)
	if err != nil {
		return -1
	}
	return m[name]
}
