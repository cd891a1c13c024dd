package sim

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/media/twilio"
)

// LoadOptions describe a load run: Calls concurrent simulated calls, each
// streaming Duration of audio, against a server in echo mode.
type LoadOptions struct {
	Call     Options       // template for every call (Server, AuthToken, To, …)
	Calls    int           // concurrent calls
	Duration time.Duration // audio each call streams
	// Stagger spreads call starts evenly over this window, as real traffic
	// arrives; default min(5s, Duration/4).
	Stagger time.Duration
	// MetricsURL is scraped for the server's CPU, memory and frame
	// counters; default Call.Server + "/metrics".
	MetricsURL string
}

// LoadReport is what a load run measured.
type LoadReport struct {
	Calls, Completed, Failed int
	Errors                   []string // the first few failures

	FramesSent, FramesReceived int
	// Gaps between consecutive frames received, over every call.
	GapP50, GapP99, GapMax time.Duration
	GapsOver40ms           int
	// Late counts the gaps a caller hears as a break in the audio: over
	// 40 ms. With scripted calls (agent mode) the server is silent between
	// replies, so only gaps up to 1 s count: longer ones are the caller's
	// own turns. LateFraction is Late over all gaps.
	Late         int
	LateFraction float64

	// Scripted calls (Call.Turns): end of the caller's speech → first
	// audio of the reply, as the caller heard it.
	Replies            int
	NoReply            int
	ReplyP50, ReplyP95 time.Duration

	// Measured over the steady window, when every call was up.
	Window           time.Duration
	ServerCPU        float64 // cores used by the server process
	ServerCPUPerCall float64 // ServerCPU / Calls
	ServerRSS        float64 // bytes, at the end of the window
	ServerGoroutines float64
	LoadCPU          float64 // cores used by this load process
	// Counters from the server for the whole run.
	ServerFramesLost    float64
	ServerFramesDropped float64
	ServerLatenessP99   time.Duration // from the outbound lateness histogram, bucket bound
}

// LateGap is the gap between two frames a caller hears as a break.
const LateGap = 40 * time.Millisecond

// Load runs the calls and returns the report. It stops by itself: every
// call ends after Duration plus its tail.
func Load(ctx context.Context, o LoadOptions) (*LoadReport, error) {
	if o.Calls <= 0 {
		return nil, fmt.Errorf("sim: load: calls must be positive")
	}
	if o.Stagger == 0 {
		o.Stagger = min(5*time.Second, o.Duration/4)
	}
	if o.MetricsURL == "" {
		o.MetricsURL = strings.TrimSuffix(o.Call.Server, "/") + "/metrics"
	}
	if o.Call.Tail == 0 {
		o.Call.Tail = 1500 * time.Millisecond
	}
	if o.Call.Dialer == nil {
		o.Call.Dialer = &websocket.Dialer{ReadBufferSize: 1024, WriteBufferSize: 1024, HandshakeTimeout: 30 * time.Second}
	}
	if o.Call.HTTPClient == nil {
		o.Call.HTTPClient = defaultLoadClient()
	}
	if o.Call.Audio == nil && o.Call.Turns == nil {
		o.Call.Audio = speechLike(twilio.Rate, o.Duration)
	}
	before, err := scrape(ctx, o.Call.HTTPClient, o.MetricsURL)
	if err != nil {
		return nil, err
	}

	rep := &LoadReport{Calls: o.Calls}
	var (
		mu   sync.Mutex
		gaps []time.Duration
		lats []time.Duration
		wg   sync.WaitGroup
	)
	start := time.Now()
	for i := range o.Calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			delay := time.Duration(int64(o.Stagger) * int64(i) / int64(o.Calls))
			select {
			case <-time.After(time.Until(start.Add(delay))):
			case <-ctx.Done():
				return
			}
			res, err := Call(ctx, o.Call)
			mu.Lock()
			defer mu.Unlock()
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
				gaps = append(gaps, res.Gaps...)
				for _, l := range res.ReplyLatency {
					if l >= 0 {
						lats = append(lats, l)
					} else {
						rep.NoReply++
					}
				}
			}
		}()
	}

	// The steady window: every call has started and none has ended.
	winStart := start.Add(o.Stagger + time.Second)
	winEnd := start.Add(o.Duration - 500*time.Millisecond)
	if winEnd.After(winStart) {
		sleepUntil(ctx, winStart)
		m0, err0 := scrape(ctx, o.Call.HTTPClient, o.MetricsURL)
		r0 := rusage()
		sleepUntil(ctx, winEnd)
		m1, err1 := scrape(ctx, o.Call.HTTPClient, o.MetricsURL)
		r1 := rusage()
		if err0 == nil && err1 == nil {
			rep.Window = winEnd.Sub(winStart)
			secs := rep.Window.Seconds()
			rep.ServerCPU = (m1.value("process_cpu_seconds_total") - m0.value("process_cpu_seconds_total")) / secs
			rep.ServerCPUPerCall = rep.ServerCPU / float64(o.Calls)
			rep.ServerRSS = m1.value("process_resident_memory_bytes")
			rep.ServerGoroutines = m1.value("go_goroutines")
			rep.LoadCPU = (r1 - r0).Seconds() / secs
		}
	}
	wg.Wait()
	after, err := scrape(ctx, o.Call.HTTPClient, o.MetricsURL)
	if err == nil {
		rep.ServerFramesLost = after.value("frontdesk_frames_lost_total") - before.value("frontdesk_frames_lost_total")
		rep.ServerFramesDropped = after.value("frontdesk_frames_dropped_total") - before.value("frontdesk_frames_dropped_total")
		rep.ServerLatenessP99 = after.histogramQuantile(before, "frontdesk_outbound_frame_lateness_seconds", 0.99)
	}
	rep.Replies = len(lats)
	rep.ReplyP50, rep.ReplyP95 = Percentile(lats, 50), Percentile(lats, 95)
	rep.GapP50 = Percentile(gaps, 50)
	rep.GapP99 = Percentile(gaps, 99)
	for _, g := range gaps {
		rep.GapMax = max(rep.GapMax, g)
		if g > LateGap {
			rep.GapsOver40ms++
			if o.Call.Turns == nil || g <= time.Second {
				rep.Late++
			}
		}
	}
	if len(gaps) > 0 {
		rep.LateFraction = float64(rep.Late) / float64(len(gaps))
	}
	return rep, ctx.Err()
}

// String formats the report for people.
func (r *LoadReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "calls: %d (completed %d, failed %d)\n", r.Calls, r.Completed, r.Failed)
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "  error: %s\n", e)
	}
	fmt.Fprintf(&b, "frames: sent %d, received %d; server lost %.0f, dropped %.0f\n",
		r.FramesSent, r.FramesReceived, r.ServerFramesLost, r.ServerFramesDropped)
	fmt.Fprintf(&b, "outbound frame gap at the caller: p50 %v, p99 %v, max %v, over 40 ms: %d (late: %d, %.3f%%)\n",
		r.GapP50.Round(10*time.Microsecond), r.GapP99.Round(10*time.Microsecond), r.GapMax.Round(10*time.Microsecond), r.GapsOver40ms,
		r.Late, 100*r.LateFraction)
	fmt.Fprintf(&b, "server pacing lateness p99 ≤ %v\n", r.ServerLatenessP99)
	if r.Replies+r.NoReply > 0 {
		fmt.Fprintf(&b, "agent replies: %d (none: %d); end of caller speech → first reply audio: p50 %v, p95 %v\n",
			r.Replies, r.NoReply, r.ReplyP50.Round(time.Millisecond), r.ReplyP95.Round(time.Millisecond))
	}
	if r.Window > 0 {
		fmt.Fprintf(&b, "steady window %v: server CPU %.1f%% of a core (%.3f%% per call), RSS %.0f MiB, goroutines %.0f; load tool CPU %.1f%%\n",
			r.Window.Round(time.Millisecond), 100*r.ServerCPU, 100*r.ServerCPUPerCall, r.ServerRSS/(1<<20), r.ServerGoroutines, 100*r.LoadCPU)
	}
	return b.String()
}

// defaultLoadClient posts webhooks and scrapes metrics for a load run:
// connections are reused, and capped so that hundreds of calls starting
// together do not open hundreds of sockets at once.
func defaultLoadClient() *http.Client {
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 256},
	}
}

func sleepUntil(ctx context.Context, t time.Time) {
	select {
	case <-time.After(time.Until(t)):
	case <-ctx.Done():
	}
}

func rusage() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// speechLike is a test signal with the rhythm of speech: half-second
// syllable-like bursts of a few harmonics with pauses between, so that echo
// timing and content can be checked by correlation.
func speechLike(rate int, d time.Duration) []int16 {
	n := int(d.Seconds() * float64(rate))
	out := make([]int16, n)
	for i := range out {
		t := float64(i) / float64(rate)
		seg := int(t / 0.5)
		if seg%3 == 2 {
			continue // a pause
		}
		f0 := 140 + 40*float64(seg%5)
		env := math.Sin(math.Pi * math.Mod(t, 0.5) / 0.5)
		v := 0.5*math.Sin(2*math.Pi*f0*t) + 0.3*math.Sin(2*math.Pi*2*f0*t) + 0.2*math.Sin(2*math.Pi*3*f0*t)
		out[i] = int16(9000 * env * v)
	}
	return out
}

// metricSet is a scrape of Prometheus text exposition: series → value.
type metricSet map[string]float64

func (m metricSet) value(name string) float64 { return m[name] }

// histogramQuantile estimates the q quantile of the histogram's increase
// between before and m, as the upper bound of the bucket it falls in.
func (m metricSet) histogramQuantile(before metricSet, name string, q float64) time.Duration {
	type bucket struct {
		le    float64
		count float64
	}
	var bs []bucket
	for k, v := range m {
		rest, ok := strings.CutPrefix(k, name+`_bucket{le="`)
		if !ok {
			continue
		}
		le, err := strconv.ParseFloat(strings.TrimSuffix(rest, `"}`), 64)
		if err != nil {
			continue
		}
		bs = append(bs, bucket{le, v - before[k]})
	}
	if len(bs) == 0 {
		return 0
	}
	var total float64
	for _, b := range bs {
		if math.IsInf(b.le, 1) {
			total = b.count
		}
	}
	best := math.Inf(1)
	for _, b := range bs {
		if b.count >= q*total && b.le < best {
			best = b.le
		}
	}
	if math.IsInf(best, 1) {
		return -1
	}
	return time.Duration(best * float64(time.Second))
}

func scrape(ctx context.Context, hc *http.Client, url string) (metricSet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("sim: scrape %s: %w", url, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sim: scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("sim: scrape %s: %s", url, resp.Status)
	}
	m, err := ParseMetrics(resp.Body)
	return metricSet(m), err
}

// ParseMetrics reads Prometheus text exposition into series → value.
func ParseMetrics(r io.Reader) (map[string]float64, error) {
	m := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		m[line[:i]] = v
	}
	return m, sc.Err()
}
