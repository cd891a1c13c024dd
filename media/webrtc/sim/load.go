package sim

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/frontdesk/frontdesk/media"
)

// LoadOptions describe a load run: Calls concurrent callers, each speaking
// Duration of audio (Call.Audio, or a speech-like signal for an echo
// server).
type LoadOptions struct {
	Call     Options       // template for every call (Server, Business, Codec, …)
	Calls    int           // concurrent calls
	Duration time.Duration // audio each call sends
	// Stagger spreads call starts evenly over this window; default
	// min(5s, Duration/4).
	Stagger time.Duration
	// ReplyAfter, if set, is where on each caller's timeline its question
	// ends: the callers then record what they hear (decoding costs the
	// load process CPU) and the report has the reply latency, from there
	// to the first speech heard after it.
	ReplyAfter time.Duration
}

// LoadReport is what a load run measured.
type LoadReport struct {
	Calls, Completed, Failed int
	Errors                   []string // the first few failures

	FramesSent, FramesReceived int
	// Intervals between consecutive packets each caller received, over
	// every call: the server sends one every 20 ms.
	GapP50, GapP99, GapMax time.Duration
	GapsOver40ms           int
	Connect                time.Duration // slowest signaling + ICE + DTLS

	// Measured over the steady window, when every call was up, from the
	// server's /metrics (the whole process: callers too when they share it).
	Window     time.Duration
	CPU        float64 // cores
	RSS        float64 // bytes
	Goroutines float64
	// From the server's counters for the whole run.
	FramesLost, FramesDropped float64
	// LatenessP99 is the server pacer's own lateness against its 20 ms
	// grid (the upper bound of the histogram bucket holding the p99).
	LatenessP99 time.Duration
	// The server's CPU time over the whole run (set-up, greeting and
	// replies included), and the run's wall time.
	CPUSeconds float64
	Elapsed    time.Duration

	// With ReplyAfter: the reply latency at the caller, over the calls
	// that heard a reply, and how many heard none.
	ReplyP50, ReplyP95, ReplyMax time.Duration
	NoReply                      int
}

// Load runs the calls and returns the report. Every call ends by itself
// after Duration plus its tail.
func Load(ctx context.Context, o LoadOptions) (*LoadReport, error) {
	if o.Calls <= 0 {
		return nil, fmt.Errorf("sim: load: calls must be positive")
	}
	if o.Stagger == 0 {
		o.Stagger = min(5*time.Second, o.Duration/4)
	}
	if o.Call.Tail == 0 {
		o.Call.Tail = 1500 * time.Millisecond
	}
	if o.Call.HTTPClient == nil {
		o.Call.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if o.Call.Codec == "" {
		o.Call.Codec = Opus
	}
	o.Call.Record = o.Call.Record || o.ReplyAfter > 0
	if o.Call.Packets == nil {
		audio := o.Call.Audio
		if audio == nil {
			audio = SpeechLike(Rate, o.Duration)
		}
		p, err := Encode(o.Call.Codec, audio)
		if err != nil {
			return nil, err
		}
		o.Call.Packets = p // encoded once for every caller
	}
	metricsURL := strings.TrimSuffix(o.Call.Server, "/") + "/metrics"
	before, err := scrape(ctx, o.Call.HTTPClient, metricsURL)
	if err != nil {
		return nil, err
	}
	rep := &LoadReport{Calls: o.Calls}
	var (
		mu      sync.Mutex
		gaps    []time.Duration
		replies []time.Duration
		wg      sync.WaitGroup
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
				rep.Connect = max(rep.Connect, res.Connect)
				gaps = append(gaps, res.Gaps...)
				if o.ReplyAfter > 0 && err == nil {
					if d, ok := FirstSpeech(res.Out, o.ReplyAfter); ok {
						replies = append(replies, d)
					} else {
						rep.NoReply++
					}
				}
			}
		}()
	}
	// The steady window: every call has started and none has ended.
	winStart := start.Add(o.Stagger + time.Second)
	winEnd := start.Add(o.Duration - 300*time.Millisecond)
	if winEnd.After(winStart) {
		sleepUntil(ctx, winStart)
		m0, err0 := scrape(ctx, o.Call.HTTPClient, metricsURL)
		sleepUntil(ctx, winEnd)
		m1, err1 := scrape(ctx, o.Call.HTTPClient, metricsURL)
		if err0 == nil && err1 == nil {
			rep.Window = winEnd.Sub(winStart)
			rep.CPU = (m1["process_cpu_seconds_total"] - m0["process_cpu_seconds_total"]) / rep.Window.Seconds()
			rep.RSS = m1["process_resident_memory_bytes"]
			rep.Goroutines = m1["go_goroutines"]
		}
	}
	wg.Wait()
	rep.Elapsed = time.Since(start)
	if after, err := scrape(ctx, o.Call.HTTPClient, metricsURL); err == nil {
		rep.CPUSeconds = after["process_cpu_seconds_total"] - before["process_cpu_seconds_total"]
		rep.FramesLost = after["frontdesk_frames_lost_total"] - before["frontdesk_frames_lost_total"]
		rep.FramesDropped = after["frontdesk_frames_dropped_total"] - before["frontdesk_frames_dropped_total"]
		rep.LatenessP99 = histogramQuantile(after, before, "frontdesk_outbound_frame_lateness_seconds", 0.99)
	}
	if len(replies) > 0 {
		rep.ReplyP50, rep.ReplyP95 = Percentile(replies, 50), Percentile(replies, 95)
		rep.ReplyMax = slices.Max(replies)
	}
	rep.GapP50 = Percentile(gaps, 50)
	rep.GapP99 = Percentile(gaps, 99)
	for _, g := range gaps {
		rep.GapMax = max(rep.GapMax, g)
		if g > 40*time.Millisecond {
			rep.GapsOver40ms++
		}
	}
	return rep, ctx.Err()
}

// String formats the report for people.
func (r *LoadReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "calls: %d (completed %d, failed %d), slowest connect %v\n", r.Calls, r.Completed, r.Failed, r.Connect.Round(time.Millisecond))
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "  error: %s\n", e)
	}
	fmt.Fprintf(&b, "frames: sent %d, received %d; server lost %.0f, dropped %.0f\n",
		r.FramesSent, r.FramesReceived, r.FramesLost, r.FramesDropped)
	fmt.Fprintf(&b, "packet gap at the caller: p50 %v, p99 %v, max %v, over 40 ms: %d (%.2f%%)\n",
		r.GapP50.Round(10*time.Microsecond), r.GapP99.Round(10*time.Microsecond), r.GapMax.Round(10*time.Microsecond),
		r.GapsOver40ms, 100*float64(r.GapsOver40ms)/math.Max(1, float64(r.FramesReceived)))
	fmt.Fprintf(&b, "server pacing lateness p99 ≤ %v\n", r.LatenessP99)
	if r.Window > 0 {
		fmt.Fprintf(&b, "steady window %v: CPU %.0f%% of a core (%.2f%% per call), RSS %.0f MiB, goroutines %.0f\n",
			r.Window.Round(time.Millisecond), 100*r.CPU, 100*r.CPU/float64(r.Calls), r.RSS/(1<<20), r.Goroutines)
	}
	if r.Elapsed > 0 && r.CPUSeconds > 0 {
		fmt.Fprintf(&b, "whole run %v: server CPU %.1f s (%.2f s per call, %.0f%% of a core on average)\n",
			r.Elapsed.Round(time.Millisecond), r.CPUSeconds, r.CPUSeconds/float64(r.Calls), 100*r.CPUSeconds/r.Elapsed.Seconds())
	}
	if r.ReplyP50 > 0 || r.NoReply > 0 {
		fmt.Fprintf(&b, "reply latency at the caller: p50 %v, p95 %v, max %v; calls with no reply: %d\n",
			r.ReplyP50.Round(time.Millisecond), r.ReplyP95.Round(time.Millisecond), r.ReplyMax.Round(time.Millisecond), r.NoReply)
	}
	return b.String()
}

// FirstSpeech finds the first 20 ms of speech-like energy (RMS over 300)
// in out (Rate, a caller's Result.Out) at or after after, and returns how
// long after after it starts.
func FirstSpeech(out []int16, after time.Duration) (time.Duration, bool) {
	frame := Rate / 50
	for i := media.Samples(Rate, after); i+frame <= len(out); i += frame {
		if media.RMS(out[i:i+frame]) > 300 {
			return media.Duration(Rate, i) - after, true
		}
	}
	return 0, false
}

func sleepUntil(ctx context.Context, t time.Time) {
	select {
	case <-time.After(time.Until(t)):
	case <-ctx.Done():
	}
}

// scrape reads Prometheus text exposition: series → value.
func scrape(ctx context.Context, c *http.Client, url string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sim: scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			m[line[:i]] = v
		}
	}
	return m, sc.Err()
}

// SpeechLike is a test signal with the rhythm of speech: syllable-like
// bursts of a few harmonics with a gliding pitch and pauses between, so
// that echo timing and content can be checked by correlation.
func SpeechLike(rate int, d time.Duration) []int16 {
	n := int(d.Seconds() * float64(rate))
	out := make([]int16, n)
	phase := 0.0
	for i := range out {
		t := float64(i) / float64(rate)
		seg := int(t / 0.3)
		if seg%4 == 3 {
			continue // a pause
		}
		u := math.Mod(t, 0.3) / 0.3
		f0 := 120 + 25*float64(seg%7) + 40*u // a glide within each syllable
		phase += 2 * math.Pi * f0 / float64(rate)
		env := math.Sin(math.Pi * u)
		v := 0.5*math.Sin(phase) + 0.3*math.Sin(2*phase) + 0.2*math.Sin(3*phase+0.5)
		out[i] = int16(9000 * env * v)
	}
	return out
}

// histogramQuantile estimates the q quantile of a histogram's increase
// between before and after, as the upper bound of the bucket it falls in;
// -1 when it is past the last finite bucket.
func histogramQuantile(after, before map[string]float64, name string, q float64) time.Duration {
	type bucket struct{ le, count float64 }
	var bs []bucket
	for k, v := range after {
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
	sort.Slice(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
	total := bs[len(bs)-1].count
	for _, b := range bs {
		if b.count >= q*total {
			if math.IsInf(b.le, 1) {
				return -1
			}
			return time.Duration(b.le * float64(time.Second))
		}
	}
	return -1
}
