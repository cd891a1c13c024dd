package server_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/configs"
	"github.com/frontdesk/frontdesk/server"
	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/store/sqlite"
)

// storeServer runs a real server with a SQLite store in a temporary data
// directory, on the configuration config(base URL, data dir) returns, until
// the test ends.
func storeServer(t *testing.T, config func(base, dataDir string) string) (base, dataDir string, st store.Store) {
	t.Helper()
	dataDir = t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base = "http://" + ln.Addr().String()
	cfg, err := configs.Parse("test.yaml", []byte(config(base, dataDir)), nil)
	if err != nil {
		t.Fatal(err)
	}
	sq, err := sqlite.Open(context.Background(), dataDir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), server.WithStore(sq))
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
	return base, dataDir, sq
}

// finishedCall waits for the business's only call to end in the store.
func finishedCall(t *testing.T, st store.Store, business string) store.Call {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		calls, _, err := st.Calls().List(context.Background(), business, store.CallFilter{}, store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(calls) > 1 {
			t.Fatalf("%d calls stored, want one", len(calls))
		}
		if len(calls) == 1 && calls[0].Outcome != "" {
			return calls[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("call not finished in the store: %+v", calls)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
