// Package servertest starts a real Frontdesk server on a loopback port for
// tests outside the server package (the CLI, the simulator, the load tool).
package servertest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/configs"
	"github.com/frontdesk/frontdesk/server"
)

// Fixed values of the test configuration.
const (
	AuthToken = "test-auth-token"
	Number    = "+12125550100"
)

// Server is a running test server.
type Server struct {
	*server.Server
	URL string // http://127.0.0.1:PORT, also the public URL
	// Stop begins the drain, like a first SIGTERM.
	Stop context.CancelFunc
	// Done receives Serve's result; a test that reads it must send it back
	// for the cleanup.
	Done chan error
}

// Options tune a test server.
type Options struct {
	Logs   io.Writer // server log; default discarded
	Server []server.Option
	// Configure, if set, changes the configuration before the server is
	// built.
	Configure func(*configs.Config)
	// Example serves the businesses of configs/example.yaml (Bright Smile
	// Dental at ExampleNumber) instead of the one-business test config.
	Example bool
}

// ExampleNumber is the first number of the example config's first business.
const ExampleNumber = "+12125550100"

// repoRoot finds the module root from this file's location.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Start runs a server with one business and the given agent mode until the
// test ends.
func Start(t testing.TB, agentMode string) *Server {
	t.Helper()
	return StartWith(t, agentMode, Options{})
}

// StartWith is Start with options.
func StartWith(t testing.TB, agentMode string, o Options) *Server {
	t.Helper()
	if o.Logs == nil {
		o.Logs = io.Discard
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	yaml := fmt.Sprintf(`
server: {listen: "127.0.0.1:0", public_url: %q, shutdown_timeout: 3s, data_dir: %q}
twilio: {auth_token: %q}
agent: {mode: %s, echo_delay: 1s}
businesses:
  - id: clinic
    name: Test Clinic
    numbers: [%q]
    time_zone: America/New_York
    plan: starter
`, base, t.TempDir(), AuthToken, agentMode, Number)
	cfg, err := configs.Parse("servertest.yaml", []byte(yaml), nil)
	if o.Example {
		cfg, err = configs.Load(filepath.Join(repoRoot(), "configs", "example.yaml"))
		if err == nil {
			cfg.Server.Listen, cfg.Server.PublicURL = "127.0.0.1:0", base
			cfg.Server.ShutdownTimeout = 3 * time.Second
			cfg.Server.DataDir = t.TempDir()
			cfg.Twilio.AuthToken = AuthToken
			cfg.Agent.Mode = agentMode
		}
	}
	if err != nil {
		t.Fatalf("servertest: config: %v", err)
	}
	if o.Configure != nil {
		o.Configure(cfg)
	}
	log := slog.New(slog.NewTextHandler(o.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := server.New(cfg, log, o.Server...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &Server{Server: srv, URL: base, Stop: cancel, Done: make(chan error, 1)}
	go func() { ts.Done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		srv.Force()
		if err := <-ts.Done; err != nil {
			t.Errorf("servertest: Serve: %v", err)
		}
		http.DefaultClient.CloseIdleConnections()
	})
	return ts
}
