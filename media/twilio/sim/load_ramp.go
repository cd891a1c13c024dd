package sim

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// RampOptions describe a ramp: load steps of growing size, each a fresh
// Load of StepDuration, until a step's callers hear their audio break up
// (or Max is reached). The last good step is the knee.
type RampOptions struct {
	// Load is the template of every step: Call, Stagger, MetricsURL.
	// Calls and Duration are set per step.
	Load LoadOptions
	// Start is the first step's calls (default Step); each step adds Step.
	Start, Step int
	// Max is the largest step tried.
	Max int
	// StepDuration is the audio each call of a step streams.
	StepDuration time.Duration
	// LateLimit is the largest fraction of late frames (LoadReport.Late) a
	// good step may have. Default 0.001: one frame in a thousand; negative:
	// not judged.
	LateLimit float64
	// PacingLimit, if set, also fails a step whose server pacing lateness
	// p99 exceeds it. Agent calls are judged by it: the server sends
	// replies with a lead of Twilio-side buffer, so a gap at the caller's
	// socket inside a reply is not a break in what the caller hears.
	PacingLimit time.Duration
	// ReplyLimit, if set, also fails a step of scripted calls whose reply
	// latency p95 exceeds it.
	ReplyLimit time.Duration
	// Retries re-runs a failing step this many times before calling it the
	// end (a shared machine has bad seconds). Default 0.
	Retries int
	// Step, if set, is called after each step (to print it as it comes).
	OnStep func(RampStep)
}

// RampStep is one step of a ramp.
type RampStep struct {
	Calls   int
	Report  *LoadReport
	OK      bool
	Why     string // why a step failed
	LoadAvg string // the machine's 1-minute load average after the step
	Attempt int    // 1, or more when the step was re-run
	Err     error  // a Load error (the step failed)
}

// RampReport is the result of a ramp.
type RampReport struct {
	Steps []RampStep
	// Knee is the calls of the last good step before the first bad one;
	// 0 when the first step was bad. KneeReached is false when every step
	// up to Max was good (the knee is above Max).
	Knee        int
	KneeReached bool
}

// Ramp runs the ramp. Between steps it waits for the server to report no
// calls active, so each step starts from an idle server.
func Ramp(ctx context.Context, o RampOptions) (*RampReport, error) {
	if o.Step <= 0 || o.Max <= 0 || o.StepDuration <= 0 {
		return nil, fmt.Errorf("sim: ramp: step, max and step duration must be positive")
	}
	if o.Start <= 0 {
		o.Start = o.Step
	}
	if o.LateLimit == 0 {
		o.LateLimit = 0.001
	}
	rep := &RampReport{}
	for n := o.Start; n <= o.Max; n += o.Step {
		var st RampStep
		for attempt := 1; attempt <= 1+o.Retries; attempt++ {
			if err := waitIdle(ctx, o.Load); err != nil {
				return rep, err
			}
			lo := o.Load
			lo.Calls, lo.Duration = n, o.StepDuration
			r, err := Load(ctx, lo)
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
			st = RampStep{Calls: n, Report: r, Err: err, Attempt: attempt, LoadAvg: loadAvg()}
			st.OK, st.Why = judge(r, err, o)
			if o.OnStep != nil {
				o.OnStep(st)
			}
			rep.Steps = append(rep.Steps, st)
			if st.OK {
				break
			}
		}
		if !st.OK {
			rep.KneeReached = true
			return rep, nil
		}
		rep.Knee = n
	}
	return rep, nil
}

// judge says whether a step was good.
func judge(r *LoadReport, err error, o RampOptions) (bool, string) {
	switch {
	case err != nil:
		return false, err.Error()
	case r.Failed > 0:
		return false, fmt.Sprintf("%d calls failed", r.Failed)
	case o.LateLimit >= 0 && r.LateFraction > o.LateLimit:
		return false, fmt.Sprintf("%.3f%% of frames late (limit %.3f%%)", 100*r.LateFraction, 100*o.LateLimit)
	case o.PacingLimit > 0 && (r.ServerLatenessP99 < 0 || r.ServerLatenessP99 > o.PacingLimit):
		return false, fmt.Sprintf("pacing lateness p99 %v (limit %v)", r.ServerLatenessP99, o.PacingLimit)
	case r.NoReply > 0 && r.NoReply*20 > r.Replies+r.NoReply:
		return false, fmt.Sprintf("%d of %d turns got no reply", r.NoReply, r.Replies+r.NoReply)
	case o.ReplyLimit > 0 && r.Replies+r.NoReply > 0 && r.ReplyP95 > o.ReplyLimit:
		return false, fmt.Sprintf("reply p95 %v (limit %v)", r.ReplyP95.Round(time.Millisecond), o.ReplyLimit)
	}
	return true, ""
}

// waitIdle waits (up to a minute) until the server has no call active.
func waitIdle(ctx context.Context, o LoadOptions) error {
	url := o.MetricsURL
	if url == "" {
		url = strings.TrimSuffix(o.Call.Server, "/") + "/metrics"
	}
	hc := o.Call.HTTPClient
	if hc == nil {
		hc = defaultLoadClient()
	}
	deadline := time.Now().Add(time.Minute)
	for {
		m, err := scrape(ctx, hc, url)
		if err != nil {
			return err
		}
		if m.value("frontdesk_calls_active") == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sim: ramp: %v calls still active on the server after a minute", m.value("frontdesk_calls_active"))
		}
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// loadAvg is the 1-minute load average from /proc/loadavg, "" elsewhere.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// WriteRampHeader writes the column names of WriteRampStep's rows.
func WriteRampHeader(w io.Writer) {
	fmt.Fprintln(w, "| calls | ok | late > 40 ms | gap p99 | gap max | reply p50 / p95 | pacing p99 | server CPU (per call) | RSS | load tool CPU | load avg |")
	fmt.Fprintln(w, "|---:|:--|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
}

// WriteRampStep writes one step as a Markdown table row.
func WriteRampStep(w io.Writer, s RampStep) {
	r := s.Report
	ok := "yes"
	if !s.OK {
		ok = "no: " + s.Why
	}
	if r == nil {
		fmt.Fprintf(w, "| %d | %s | | | | | | | | | %s |\n", s.Calls, ok, s.LoadAvg)
		return
	}
	reply := "–"
	if r.Replies+r.NoReply > 0 {
		reply = fmt.Sprintf("%v / %v (%d none)", r.ReplyP50.Round(10*time.Millisecond), r.ReplyP95.Round(10*time.Millisecond), r.NoReply)
	}
	fmt.Fprintf(w, "| %d | %s | %d (%.3f%%) | %.1f ms | %.0f ms | %s | ≤ %v | %.0f%% (%.2f%%) | %.0f MiB | %.0f%% | %s |\n",
		s.Calls, ok, r.Late, 100*r.LateFraction, ms(r.GapP99), ms(r.GapMax), reply, r.ServerLatenessP99,
		100*r.ServerCPU, 100*r.ServerCPUPerCall, r.ServerRSS/(1<<20), 100*r.LoadCPU, s.LoadAvg)
}

// String formats the ramp's verdict.
func (r *RampReport) String() string {
	switch {
	case len(r.Steps) == 0:
		return "no steps run\n"
	case !r.KneeReached:
		return fmt.Sprintf("knee: above %d calls (every step was good)\n", r.Knee)
	case r.Knee == 0:
		return fmt.Sprintf("knee: below %d calls (the first step was bad)\n", r.Steps[0].Calls)
	}
	last := r.Steps[len(r.Steps)-1]
	return fmt.Sprintf("knee: %d calls (%d: %s)\n", r.Knee, last.Calls, last.Why)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
