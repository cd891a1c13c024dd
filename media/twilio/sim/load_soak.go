package sim

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/media/twilio"
)

// SoakOptions describe a soak: Calls calls kept up at all times for
// Duration, each CallDuration long and replaced by a new one when it ends,
// so that call set-up and tear-down run all the while.
type SoakOptions struct {
	Call         Options // template for every call
	Calls        int
	Duration     time.Duration
	CallDuration time.Duration // default 60s
	// Sample is how often the server's memory and goroutines are read.
	// Default 30s.
	Sample     time.Duration
	MetricsURL string // default Call.Server + "/metrics"
	// Settle bounds the wait, after the last call, for the server's
	// goroutines to come back to where they started. Default 30s.
	Settle time.Duration
}

// SoakSample is one reading of the server during a soak.
type SoakSample struct {
	At         time.Duration // since the start
	RSS, Heap  float64       // bytes
	Goroutines float64
	Active     float64 // calls
}

// SoakReport is what a soak measured.
type SoakReport struct {
	Calls, Completed, Failed int
	Errors                   []string

	FramesSent, FramesReceived int
	GapP50, GapP99, GapMax     time.Duration
	Gaps, Late                 int // late: over 40 ms
	ServerFramesLost           float64
	ServerFramesDropped        float64

	Samples []SoakSample
	// RSSWarm is the RSS once every call slot has run a whole call;
	// RSSEnd the last reading with calls up. Growth is the difference.
	RSSWarm, RSSEnd   float64
	HeapWarm, HeapEnd float64
	// Goroutines before the first call and after the last one ended.
	GoroutinesBefore, GoroutinesAfter float64
	LoadCPU                           float64 // cores used by this process over the soak
}

// gapHist counts gaps in 1 ms buckets up to 2 s: a soak sees millions.
type gapHist struct {
	mu      sync.Mutex
	buckets [2001]int
	n, late int
	max     time.Duration
}

func (h *gapHist) add(gaps []time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, g := range gaps {
		i := min(int(g/time.Millisecond), len(h.buckets)-1)
		h.buckets[i]++
		h.n++
		h.max = max(h.max, g)
		if g > LateGap {
			h.late++
		}
	}
}

// percentile is the upper bound of the bucket holding the p-th percentile.
func (h *gapHist) percentile(p float64) time.Duration {
	want := int(float64(h.n) * p / 100)
	seen := 0
	for i, c := range h.buckets {
		seen += c
		if seen > want {
			return time.Duration(i+1) * time.Millisecond
		}
	}
	return h.max
}

// Soak runs the soak and returns its report.
func Soak(ctx context.Context, o SoakOptions) (*SoakReport, error) {
	if o.Calls <= 0 || o.Duration <= 0 {
		return nil, fmt.Errorf("sim: soak: calls and duration must be positive")
	}
	if o.CallDuration <= 0 {
		o.CallDuration = time.Minute
	}
	if o.Sample <= 0 {
		o.Sample = 30 * time.Second
	}
	if o.Settle <= 0 {
		o.Settle = 30 * time.Second
	}
	if o.MetricsURL == "" {
		o.MetricsURL = strings.TrimSuffix(o.Call.Server, "/") + "/metrics"
	}
	if o.Call.Tail == 0 {
		o.Call.Tail = 1500 * time.Millisecond
	}
	if o.Call.HTTPClient == nil {
		o.Call.HTTPClient = defaultLoadClient()
	}
	if o.Call.Dialer == nil {
		o.Call.Dialer = &websocket.Dialer{ReadBufferSize: 1024, WriteBufferSize: 1024, HandshakeTimeout: 30 * time.Second}
	}
	if o.Call.Audio == nil && o.Call.Turns == nil {
		o.Call.Audio = speechLike(twilio.Rate, o.CallDuration)
	}
	before, err := scrape(ctx, o.Call.HTTPClient, o.MetricsURL)
	if err != nil {
		return nil, err
	}
	rep := &SoakReport{Calls: o.Calls, GoroutinesBefore: before.value("go_goroutines")}
	var (
		mu   sync.Mutex
		hist gapHist
		wg   sync.WaitGroup
	)
	start := time.Now()
	end := start.Add(o.Duration)
	r0 := rusage()
	stagger := min(5*time.Second, o.CallDuration/2)
	for i := range o.Calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sleepUntil(ctx, start.Add(time.Duration(int64(stagger)*int64(i)/int64(o.Calls))))
			// A new call starts while there is time for it to finish.
			for ctx.Err() == nil && time.Until(end) >= o.CallDuration {
				res, err := Call(ctx, o.Call)
				mu.Lock()
				if err != nil {
					rep.Failed++
					if len(rep.Errors) < 5 {
						rep.Errors = append(rep.Errors, err.Error())
					}
				} else {
					rep.Completed++
				}
				if res != nil {
					rep.FramesSent += res.FramesSent
					rep.FramesReceived += res.FramesReceived
				}
				mu.Unlock()
				if res != nil {
					hist.add(res.Gaps)
				}
				if err != nil {
					// Do not hammer a server that refuses.
					sleepUntil(ctx, time.Now().Add(time.Second))
				}
			}
		}()
	}
	callsDone := make(chan struct{})
	go func() { wg.Wait(); close(callsDone) }()
	tick := time.NewTicker(o.Sample)
	warmAt := start.Add(stagger + o.CallDuration + o.Call.Tail)
sampling:
	for {
		select {
		case <-callsDone:
			break sampling
		case <-ctx.Done():
			break sampling
		case <-tick.C:
		}
		m, err := scrape(ctx, o.Call.HTTPClient, o.MetricsURL)
		if err != nil {
			continue
		}
		s := SoakSample{At: time.Since(start), RSS: m.value("process_resident_memory_bytes"),
			Heap: m.value("go_memstats_heap_inuse_bytes"), Goroutines: m.value("go_goroutines"),
			Active: m.value("frontdesk_calls_active")}
		rep.Samples = append(rep.Samples, s)
		if rep.RSSWarm == 0 && !time.Now().Before(warmAt) {
			rep.RSSWarm, rep.HeapWarm = s.RSS, s.Heap
		}
		if s.Active > 0 {
			rep.RSSEnd, rep.HeapEnd = s.RSS, s.Heap
		}
	}
	tick.Stop()
	<-callsDone
	rep.LoadCPU = (rusage() - r0).Seconds() / time.Since(start).Seconds()
	// Goroutines back to where they started: poll while they settle.
	deadline := time.Now().Add(o.Settle)
	for {
		m, err := scrape(ctx, o.Call.HTTPClient, o.MetricsURL)
		if err == nil {
			rep.GoroutinesAfter = m.value("go_goroutines")
			rep.ServerFramesLost = m.value("frontdesk_frames_lost_total") - before.value("frontdesk_frames_lost_total")
			rep.ServerFramesDropped = m.value("frontdesk_frames_dropped_total") - before.value("frontdesk_frames_dropped_total")
		}
		if rep.GoroutinesSettled() || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		sleepUntil(ctx, time.Now().Add(250*time.Millisecond))
	}
	rep.Gaps, rep.Late, rep.GapMax = hist.n, hist.late, hist.max
	rep.GapP50, rep.GapP99 = hist.percentile(50), hist.percentile(99)
	return rep, ctx.Err()
}

// GoroutinesSettled reports whether the server's goroutines came back to
// within a few of where they started (timers and pools may keep a few).
func (r *SoakReport) GoroutinesSettled() bool {
	return r.GoroutinesAfter > 0 && r.GoroutinesAfter <= r.GoroutinesBefore+5
}

// String formats the report for people.
func (r *SoakReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "soak: %d call slots; calls completed %d, failed %d\n", r.Calls, r.Completed, r.Failed)
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "  error: %s\n", e)
	}
	fmt.Fprintf(&b, "frames: sent %d, received %d; server lost %.0f, dropped %.0f\n",
		r.FramesSent, r.FramesReceived, r.ServerFramesLost, r.ServerFramesDropped)
	late := 0.0
	if r.Gaps > 0 {
		late = 100 * float64(r.Late) / float64(r.Gaps)
	}
	fmt.Fprintf(&b, "outbound frame gap at the caller: p50 ≤ %v, p99 ≤ %v, max %v; over 40 ms: %d of %d (%.3f%%)\n",
		r.GapP50, r.GapP99, r.GapMax.Round(10*time.Microsecond), r.Late, r.Gaps, late)
	fmt.Fprintf(&b, "server RSS: %.0f MiB warm → %.0f MiB at the end (%+.1f MiB); heap in use %.0f → %.0f MiB\n",
		r.RSSWarm/(1<<20), r.RSSEnd/(1<<20), (r.RSSEnd-r.RSSWarm)/(1<<20), r.HeapWarm/(1<<20), r.HeapEnd/(1<<20))
	settled := "back to baseline"
	if !r.GoroutinesSettled() {
		settled = "NOT back to baseline"
	}
	fmt.Fprintf(&b, "server goroutines: %.0f before, %.0f after the calls (%s); load tool CPU %.0f%%\n",
		r.GoroutinesBefore, r.GoroutinesAfter, settled, 100*r.LoadCPU)
	fmt.Fprintf(&b, "samples (t, RSS MiB, heap MiB, goroutines, calls):")
	for _, s := range r.Samples {
		fmt.Fprintf(&b, " [%v %.0f %.0f %.0f %.0f]", s.At.Round(time.Second), s.RSS/(1<<20), s.Heap/(1<<20), s.Goroutines, s.Active)
	}
	b.WriteString("\n")
	return b.String()
}
