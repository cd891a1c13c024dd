package server_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/agent/tts/flite"
	"github.com/frontdesk/frontdesk/media"
	"github.com/frontdesk/frontdesk/media/webrtc"
	"github.com/frontdesk/frontdesk/media/webrtc/sim"
)

var (
	rtcLoadCalls     = flag.Int("webrtc.calls", 4, "concurrent calls of BenchmarkWebRTCEcho")
	rtcLoadDuration  = flag.Duration("webrtc.duration", 4*time.Second, "audio each call of BenchmarkWebRTCEcho sends")
	rtcLoadCodec     = flag.String("webrtc.codec", sim.Opus, "codec of BenchmarkWebRTCEcho's callers: opus or PCMU")
	rtcLoadInProcess = flag.Bool("webrtc.inprocess", false, "run BenchmarkWebRTCEcho's server in the benchmark's process")
	rtcLoadServer    = flag.String("webrtc.server", "", "base URL of a running echo server for BenchmarkWebRTCEcho (business clinic, loopback ICE) instead of starting one")
)

const loadServerEnv = "FRONTDESK_WEBRTC_LOAD_SERVER"

// BenchmarkWebRTCEcho runs concurrent WebRTC echo calls (pion callers on
// loopback, sending pre-encoded packets and timing what they receive)
// against a server in a process of its own, as a real deployment has it, so
// that the server's /metrics measure the server alone. It reports the gaps
// between the packets each caller receives: the server sends one every
// 20 ms, so gaps over 40 ms are audible. One load run per invocation,
// whatever b.N:
//
//	go test ./server -run '^$' -bench WebRTCEcho -webrtc.calls=50 -webrtc.duration=20s
func BenchmarkWebRTCEcho(b *testing.B) {
	url := loadServer(b, "echo")
	var rep *sim.LoadReport
	for b.Loop() {
		if rep != nil {
			continue // one load run is the measurement
		}
		ctx, cancel := context.WithTimeout(context.Background(), *rtcLoadDuration+2*time.Minute)
		var err error
		rep, err = sim.Load(ctx, sim.LoadOptions{
			Call:     sim.Options{Server: url, Business: "clinic", Codec: *rtcLoadCodec},
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
	b.ReportMetric(100*rep.CPU, "server-cpu-%")
}

// loadServer starts a server in agent mode (echo or receptionist) for the
// load: this test binary again, running TestWebRTCLoadServer, unless
// -webrtc.inprocess.
func loadServer(b *testing.B, mode string) string {
	cfg := webrtc.Config{OffersPerIP: -1, OffersPerBusiness: -1}
	if *rtcLoadServer != "" {
		return *rtcLoadServer
	}
	if *rtcLoadInProcess {
		return startRTC(b, mode, cfg).URL
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestWebRTCLoadServer$", "-test.count=1")
	cmd.Env = append(os.Environ(), loadServerEnv+"="+mode)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close() // the server's cue to stop
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				b.Errorf("load server: %v", err)
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			b.Error("load server did not stop")
		}
	})
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if url, ok := strings.CutPrefix(sc.Text(), "LOAD_SERVER_URL "); ok {
			go func() { _, _ = io.Copy(io.Discard, stdout) }()
			return url
		}
	}
	b.Fatalf("load server exited before it was up: %v", sc.Err())
	return ""
}

// TestWebRTCLoadServer is the load benchmarks' server when they run this
// binary with FRONTDESK_WEBRTC_LOAD_SERVER set to an agent mode: a server
// on loopback that serves until its standard input closes. Otherwise it
// has nothing to do.
func TestWebRTCLoadServer(t *testing.T) {
	mode := os.Getenv(loadServerEnv)
	if mode == "" {
		return
	}
	ts := startRTC(t, mode, webrtc.Config{OffersPerIP: -1, OffersPerBusiness: -1})
	fmt.Println("LOAD_SERVER_URL", ts.URL)
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// BenchmarkWebRTCAgent is BenchmarkWebRTCEcho with the embedded agent
// (receptionist mode: recogniser, dialogue, flite): each caller listens to
// the greeting, asks "what are your hours?" and listens to the reply. It
// reports the gaps between the packets the callers receive, the reply
// latency at the caller (from the end of the question to the first speech
// heard) and the server's CPU per call. One load run per invocation:
//
//	go test ./server -run '^$' -bench WebRTCAgent -webrtc.calls=8
func BenchmarkWebRTCAgent(b *testing.B) {
	url := loadServer(b, "receptionist")
	tts, err := flite.New(flite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	var question []int16
	if err := tts.Synthesize(context.Background(), "What are your hours?", func(pcm []int16) error {
		question = append(question, pcm...)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	// The greeting (disclosure and the business's) lasts about 8 s.
	lead := media.Samples(sim.Rate, 9*time.Second)
	audio := append(make([]int16, lead), question...)
	asked := media.Duration(sim.Rate, len(audio))
	var rep *sim.LoadReport
	for b.Loop() {
		if rep != nil {
			continue // one load run is the measurement
		}
		ctx, cancel := context.WithTimeout(context.Background(), asked+3*time.Minute)
		rep, err = sim.Load(ctx, sim.LoadOptions{
			Call:       sim.Options{Server: url, Business: "clinic", Codec: *rtcLoadCodec, Audio: audio, Tail: 7 * time.Second},
			Calls:      *rtcLoadCalls,
			Duration:   asked,
			ReplyAfter: asked,
		})
		cancel()
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%d %s calls with the receptionist:\n%s", *rtcLoadCalls, *rtcLoadCodec, rep)
	if rep.Failed > 0 {
		b.Errorf("%d calls failed: %v", rep.Failed, rep.Errors)
	}
	b.ReportMetric(float64(rep.GapP50)/1e6, "gap-p50-ms")
	b.ReportMetric(float64(rep.GapP99)/1e6, "gap-p99-ms")
	b.ReportMetric(float64(rep.GapMax)/1e6, "gap-max-ms")
	b.ReportMetric(float64(rep.GapsOver40ms), "gaps>40ms")
	b.ReportMetric(float64(rep.ReplyP50)/1e6, "reply-p50-ms")
	b.ReportMetric(float64(rep.ReplyP95)/1e6, "reply-p95-ms")
	b.ReportMetric(float64(rep.NoReply), "no-reply")
	b.ReportMetric(rep.CPUSeconds/float64(rep.Calls), "cpu-s/call")
}
