package sim_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/internal/servertest"
	"github.com/frontdesk/frontdesk/media/twilio/sim"
)

// TestLoad runs a small load against a real echo server: every call
// completes, nothing is lost, and the report reads the server's metrics.
func TestLoad(t *testing.T) {
	srv := servertest.Start(t, "echo")
	rep, err := sim.Load(context.Background(), sim.LoadOptions{
		Call:     sim.Options{Server: srv.URL, AuthToken: servertest.AuthToken, From: "+12125550123", To: servertest.Number},
		Calls:    4,
		Duration: 3 * time.Second,
		Stagger:  200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.String())
	if rep.Completed != 4 || rep.Failed != 0 {
		t.Errorf("completed %d, failed %d (%v), want 4 and 0", rep.Completed, rep.Failed, rep.Errors)
	}
	// 3 s of audio and 1.5 s of tail per call.
	if want := 4 * 225; rep.FramesSent != want {
		t.Errorf("frames sent %d, want %d", rep.FramesSent, want)
	}
	if rep.FramesReceived < rep.FramesSent-4*10 {
		t.Errorf("frames received %d of %d sent", rep.FramesReceived, rep.FramesSent)
	}
	if rep.ServerFramesLost != 0 || rep.ServerFramesDropped != 0 {
		t.Errorf("server lost %v, dropped %v, want 0", rep.ServerFramesLost, rep.ServerFramesDropped)
	}
	if rep.Window <= 0 || rep.ServerRSS <= 0 || rep.ServerCPU <= 0 {
		t.Errorf("steady-window figures missing: %+v", rep)
	}
	if !strings.Contains(rep.String(), "calls: 4 (completed 4, failed 0)") {
		t.Errorf("report text:\n%s", rep)
	}
}

func TestCallUnknownNumber(t *testing.T) {
	srv := servertest.Start(t, "echo")
	res, err := sim.Call(context.Background(), sim.Options{Server: srv.URL, AuthToken: servertest.AuthToken, To: "+12125550177"})
	if err != sim.ErrNotConnected || len(res.Said) != 1 {
		t.Errorf("got %v, %+v; want ErrNotConnected with what the server said", err, res)
	}
}

func TestCallBadToken(t *testing.T) {
	srv := servertest.Start(t, "echo")
	_, err := sim.Call(context.Background(), sim.Options{Server: srv.URL, AuthToken: "wrong", To: servertest.Number})
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("got %v, want the webhook's 403", err)
	}
}
