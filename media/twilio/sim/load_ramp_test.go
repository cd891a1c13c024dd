package sim_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/configs"
	"github.com/frontdesk/frontdesk/internal/leaktest"
	"github.com/frontdesk/frontdesk/internal/servertest"
	"github.com/frontdesk/frontdesk/media/twilio/sim"
)

// TestRamp ramps against a real echo server that takes at most 3 calls:
// the step of 2 is good, the step of 4 is bad (a call is refused) and
// re-run once, and the knee is 2.
func TestRamp(t *testing.T) {
	srv := servertest.StartWith(t, "echo", servertest.Options{Configure: func(c *configs.Config) { c.Server.MaxCalls = 3 }})
	var seen []int
	rep, err := sim.Ramp(context.Background(), sim.RampOptions{
		Load: sim.LoadOptions{
			Call:    sim.Options{Server: srv.URL, AuthToken: servertest.AuthToken, From: "+12125550123", To: servertest.Number},
			Stagger: 100 * time.Millisecond,
		},
		Step: 2, Max: 6, StepDuration: 2 * time.Second,
		LateLimit: 0.2, // the frame timing is not what this test is about
		Retries:   1,
		OnStep:    func(s sim.RampStep) { seen = append(seen, s.Calls) },
	})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	sim.WriteRampHeader(&b)
	for _, s := range rep.Steps {
		sim.WriteRampStep(&b, s)
	}
	t.Logf("\n%s%s", b.String(), rep)
	if got, want := seen, []int{2, 4, 4}; !equal(got, want) {
		t.Errorf("steps run %v, want %v", got, want)
	}
	if !rep.KneeReached || rep.Knee != 2 {
		t.Errorf("knee %d (reached %v), want 2", rep.Knee, rep.KneeReached)
	}
	if s := rep.Steps[0]; !s.OK || s.Report.Completed != 2 || s.Report.ServerCPU <= 0 {
		t.Errorf("first step: %+v", s)
	}
	if s := rep.Steps[1]; s.OK || s.Report.Failed == 0 || !strings.Contains(s.Why, "calls failed") {
		t.Errorf("second step: ok %v, why %q; want failed calls", s.OK, s.Why)
	}
	if !strings.Contains(rep.String(), "knee: 2 calls") || !strings.Contains(b.String(), "| 2 | yes |") {
		t.Errorf("report text:\n%s%s", b.String(), rep)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestSoakShort is `make soak` in seconds: 3 call slots of 2 s calls for
// 7 s. Calls are replaced as they end, the server's memory is sampled, and
// its goroutines come back to where they were.
func TestSoakShort(t *testing.T) {
	leaktest.Check(t)
	srv := servertest.Start(t, "echo")
	rep, err := sim.Soak(context.Background(), sim.SoakOptions{
		Call:         sim.Options{Server: srv.URL, AuthToken: servertest.AuthToken, From: "+12125550123", To: servertest.Number},
		Calls:        3,
		Duration:     7 * time.Second,
		CallDuration: 2 * time.Second,
		Sample:       time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.String())
	if rep.Failed != 0 || rep.Completed < 6 {
		t.Errorf("completed %d, failed %d (%v); want at least 2 calls per slot", rep.Completed, rep.Failed, rep.Errors)
	}
	if rep.ServerFramesLost != 0 || rep.ServerFramesDropped != 0 {
		t.Errorf("server lost %v, dropped %v", rep.ServerFramesLost, rep.ServerFramesDropped)
	}
	if len(rep.Samples) < 4 || rep.RSSWarm <= 0 || rep.RSSEnd <= 0 {
		t.Errorf("samples %d, RSS warm %v end %v", len(rep.Samples), rep.RSSWarm, rep.RSSEnd)
	}
	if !rep.GoroutinesSettled() {
		t.Errorf("server goroutines %v before, %v after", rep.GoroutinesBefore, rep.GoroutinesAfter)
	}
	if rep.Gaps == 0 || rep.GapP50 < 10*time.Millisecond || rep.GapP50 > 30*time.Millisecond {
		t.Errorf("gaps %d, p50 %v; want about 20 ms", rep.Gaps, rep.GapP50)
	}
}
