package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/configs"
	"github.com/frontdesk/frontdesk/media/twilio/sim"
	"github.com/frontdesk/frontdesk/recording"
	"github.com/frontdesk/frontdesk/recording/crypt"
	"github.com/frontdesk/frontdesk/server"
	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/store/sqlite"
)

// TestOptOutByKey: the caller presses the business's opt-out key (the
// default "*") after 3 s of speech; the recording stops there for the rest
// of the call, and the call record says when.
func TestOptOutByKey(t *testing.T) {
	dataDir := t.TempDir()
	key := bytes.Repeat([]byte{7}, 32)
	t.Setenv(server.KeysEnv, "k1:"+base64.StdEncoding.EncodeToString(key))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	const token, number = "optout-token", "+12125550100"
	cfg, err := configs.Parse("optout.yaml", []byte(fmt.Sprintf(`
server: {listen: "127.0.0.1:0", public_url: %q, shutdown_timeout: 3s, data_dir: %q}
twilio: {auth_token: %q}
agent: {mode: echo, echo_delay: 200ms}
businesses:
  - {id: clinic, name: Clinic, numbers: [%q], time_zone: America/New_York, plan: starter}
`, base, dataDir, token, number)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := cfg.Business("clinic"); b.OptOutKey != "*" {
		t.Fatalf("default opt-out key %q, want *", b.OptOutKey)
	}
	st, err := sqlite.Open(context.Background(), dataDir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, err := server.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), server.WithStore(st))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	defer func() {
		cancel()
		srv.Force()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		http.DefaultClient.CloseIdleConnections()
	}()

	tone := make([]int16, 3*8000)
	for i := range tone {
		tone[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/8000))
	}
	if _, err := sim.Call(context.Background(), sim.Options{Server: base, AuthToken: token, From: "+12125550123", To: number,
		Audio: tone, Digits: "*", Tail: 3 * time.Second}); err != nil {
		t.Fatal(err)
	}
	var c store.Call
	deadline := time.Now().Add(10 * time.Second)
	for {
		calls, _, err := st.Calls().List(context.Background(), "clinic", store.CallFilter{}, store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(calls) == 1 && calls[0].Outcome != "" {
			c = calls[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("call not finished in the store: %+v", calls)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if c.RecordingStoppedAt.IsZero() {
		t.Fatal("recording_stopped_at not set after the opt-out key")
	}
	kr := crypt.NewKeyring()
	if err := kr.Add("k1", key); err != nil {
		t.Fatal(err)
	}
	pb, err := recording.Open(filepath.Join(dataDir, "recordings"), c.RecordingID, kr)
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Close()
	// 3 s of speech, then the key: the call lasted 6 s, the recording stops
	// near 3 s.
	if d := pb.Duration(); d < 2500*time.Millisecond || d > 4500*time.Millisecond {
		t.Errorf("recording lasts %v, want it to stop at the key, about 3 s into a 6 s call", d)
	}
}
