package server_test

import (
	"context"
	"flag"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/media/webrtc"
	"github.com/frontdesk/frontdesk/media/webrtc/sim"
)

var (
	rtcLoadCalls    = flag.Int("webrtc.calls", 4, "concurrent calls of BenchmarkWebRTCEcho")
	rtcLoadDuration = flag.Duration("webrtc.duration", 4*time.Second, "audio each call of BenchmarkWebRTCEcho sends")
	rtcLoadCodec    = flag.String("webrtc.codec", sim.Opus, "codec of BenchmarkWebRTCEcho's callers: opus or PCMU")
)

// BenchmarkWebRTCEcho runs concurrent WebRTC echo calls against a server in
// this process (pion callers on loopback, sending pre-encoded packets and
// timing what they receive) and reports the gaps between the packets each
// caller receives: the server sends one every 20 ms, so gaps over 40 ms are
// audible. One run per invocation, whatever b.N:
//
//	go test ./server -run '^$' -bench WebRTCEcho -webrtc.calls=50 -webrtc.duration=20s
func BenchmarkWebRTCEcho(b *testing.B) {
	ts := startRTC(b, "echo", webrtc.Config{OffersPerIP: -1, OffersPerBusiness: -1})
	var rep *sim.LoadReport
	for b.Loop() {
		if rep != nil {
			continue // one load run is the measurement
		}
		ctx, cancel := context.WithTimeout(context.Background(), *rtcLoadDuration+2*time.Minute)
		var err error
		rep, err = sim.Load(ctx, sim.LoadOptions{
			Call:     sim.Options{Server: ts.URL, Business: "clinic", Codec: *rtcLoadCodec},
			Calls:    *rtcLoadCalls,
			Duration: *rtcLoadDuration,
		})
		cancel()
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%d %s calls of %v:\n%s", *rtcLoadCalls, *rtcLoadCodec, *rtcLoadDuration, rep)
	if rep.Failed > 0 {
		b.Errorf("%d calls failed: %v", rep.Failed, rep.Errors)
	}
	b.ReportMetric(float64(rep.GapP99)/1e6, "gap-p99-ms")
	b.ReportMetric(float64(rep.GapMax)/1e6, "gap-max-ms")
	b.ReportMetric(float64(rep.GapsOver40ms), "gaps>40ms")
	b.ReportMetric(100*rep.CPU, "cpu-%")
}
