package server_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/configs"
	"github.com/frontdesk/frontdesk/internal/leaktest"
	"github.com/frontdesk/frontdesk/internal/servertest"
	"github.com/frontdesk/frontdesk/media"
	"github.com/frontdesk/frontdesk/media/twilio"
	"github.com/frontdesk/frontdesk/media/twilio/sim"
)

// Abuse tests: a real server on loopback under a flood, with a real
// simulated call going on at the same time. The call must keep its frame
// timing, /healthz must answer, and memory and goroutines must stay
// bounded. Attackers connect from 127.0.0.2 so that the per-address cap
// applies to them and not to the real caller on 127.0.0.1.

var attackerAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}

func startLimited(t *testing.T, configure func(*configs.Limits)) *testServer {
	t.Helper()
	logs := &syncBuffer{}
	ts := &testServer{Server: servertest.StartWith(t, "echo", servertest.Options{Logs: logs, Configure: func(c *configs.Config) {
		configure(&c.Server.Limits)
	}}), logs: logs}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log (tail):\n%s", lastBytes(logs.String(), 4000))
		}
	})
	return ts
}

func lastBytes(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// raiseFileLimit lifts the soft limit on open files to want (or the hard
// limit): each idle upgrade holds two descriptors in this process.
func raiseFileLimit(t *testing.T, want uint64) {
	t.Helper()
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	if rl.Cur >= want {
		return
	}
	rl.Cur = min(want, rl.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatalf("raise RLIMIT_NOFILE to %d: %v", rl.Cur, err)
	}
	if rl.Cur < want {
		t.Fatalf("open-file limit %d (hard) is below the %d this test needs", rl.Max, want)
	}
}

// realCall runs a simulated echo call of d in the background; wait returns
// its result.
func (ts *testServer) realCall(t *testing.T, d time.Duration) (wait func() *sim.Result) {
	t.Helper()
	o := ts.callOpts()
	o.Audio = speech(d)
	o.Tail = 1500 * time.Millisecond
	var (
		res *sim.Result
		err error
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(context.Background(), d+30*time.Second)
		defer cancel()
		res, err = sim.Call(ctx, o)
	}()
	return func() *sim.Result {
		<-done
		if err != nil {
			t.Fatalf("real call during the abuse: %v", err)
		}
		return res
	}
}

// checkCallTiming asserts that the call heard its audio with ordinary frame
// timing: nearly every frame came back, late frames (a gap over 40 ms,
// audible) are rare and the stream never stalled. The bounds are generous:
// `make test` shares the 2 cores with other packages' tests, and a quiet
// run has 0–3 late gaps in ~280.
func checkCallTiming(t *testing.T, res *sim.Result) {
	t.Helper()
	late := 0
	for _, g := range res.Gaps {
		if g > 40*time.Millisecond {
			late++
		}
	}
	t.Logf("real call: sent %d, received %d frames; gap p50 %v p99 %v max %v; %d of %d gaps over 40 ms",
		res.FramesSent, res.FramesReceived, res.GapPercentile(50), res.GapPercentile(99), res.MaxGap(), late, len(res.Gaps))
	if res.FramesReceived < res.FramesSent*9/10 {
		t.Errorf("the real call received %d frames of %d sent", res.FramesReceived, res.FramesSent)
	}
	if len(res.Gaps) == 0 || late*10 > len(res.Gaps) {
		t.Errorf("the real call had %d of %d gaps over 40 ms, want under 10 %%", late, len(res.Gaps))
	}
	if res.MaxGap() > time.Second {
		t.Errorf("the real call stalled for %v", res.MaxGap())
	}
}

func (ts *testServer) healthy(t *testing.T) {
	t.Helper()
	resp, err := http.Get(ts.URL + "/healthz")
	if err != nil {
		t.Fatalf("healthz during the abuse: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz during the abuse: %s", resp.Status)
	}
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

func (ts *testServer) streamURL() string {
	return "ws" + strings.TrimPrefix(ts.URL, "http") + "/twilio/media"
}

// TestAbuseIdleUpgrades opens 1,000 signed media-stream upgrades that then
// say nothing (a replayed signature: Twilio signs the URL only), from one
// address, during a real call. The per-address cap lets the first 200 in
// and answers the rest 429 with Retry-After; the call keeps its timing.
func TestAbuseIdleUpgrades(t *testing.T) {
	leaktest.Check(t)
	const attempts, perIP = 1000, 200
	raiseFileLimit(t, 4*attempts+1024)
	ts := startLimited(t, func(l *configs.Limits) { l.MaxConnsPerIP = perIP })
	heap0, g0 := heapInUse(), runtime.NumGoroutine()
	wait := ts.realCall(t, 4*time.Second)

	d := &websocket.Dialer{
		NetDialContext:   (&net.Dialer{LocalAddr: attackerAddr}).DialContext,
		HandshakeTimeout: 30 * time.Second,
		ReadBufferSize:   256, WriteBufferSize: 256,
	}
	u := ts.streamURL()
	h := http.Header{"X-Twilio-Signature": {signed(u)}}
	var (
		mu       sync.Mutex
		conns    []*websocket.Conn
		upgraded int
		statuses = map[int]int{}
		other    []string
		wg       sync.WaitGroup
		sem      = make(chan struct{}, 50)
	)
	for range attempts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			c, resp, err := d.Dial(u, h)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				upgraded++
				conns = append(conns, c)
			case resp != nil:
				statuses[resp.StatusCode]++
				if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") != "1" {
					other = append(other, "429 without Retry-After: 1")
				}
			default:
				other = append(other, err.Error())
			}
		}()
	}
	wg.Wait()
	ts.healthy(t)
	heap1, g1 := heapInUse(), runtime.NumGoroutine()
	res := wait()
	for _, c := range conns {
		c.Close()
	}

	t.Logf("upgrades: %d upgraded, refused %v, other %d; heap %d → %d KiB, goroutines %d → %d",
		upgraded, statuses, len(other), heap0>>10, heap1>>10, g0, g1)
	if upgraded != perIP || statuses[http.StatusTooManyRequests] != attempts-perIP || len(other) > 0 {
		t.Errorf("upgraded %d, refused %v, other errors %q; want %d upgraded and %d refused with 429",
			upgraded, statuses, other[:min(len(other), 5)], perIP, attempts-perIP)
	}
	if got := ts.metric(t, `frontdesk_rejected_total{reason="conn_limit_ip"}`); got != attempts-perIP {
		t.Errorf("rejected{conn_limit_ip} = %v, want %d", got, attempts-perIP)
	}
	// Each idle upgrade costs a few goroutines and buffers on both ends in
	// this process; 64 MiB and 10 goroutines a connection are far above
	// that and far below unbounded growth.
	if heap1 > heap0+64<<20 {
		t.Errorf("heap grew %d MiB with %d idle upgrades", (heap1-heap0)>>20, upgraded)
	}
	if g1 > g0+10*perIP+100 {
		t.Errorf("goroutines %d → %d with %d idle upgrades", g0, g1, upgraded)
	}
	checkCallTiming(t, res)
	// The server lets go of every slot once the clients close.
	waitFor(t, "connections to close", func() bool {
		return ts.metric(t, "frontdesk_connections_open") <= 2
	})
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAbuseConnectionCap fills the overall cap: the next connection gets
// 503 with Retry-After, and a slot freed by a closing client is usable.
func TestAbuseConnectionCap(t *testing.T) {
	leaktest.Check(t)
	ts := startLimited(t, func(l *configs.Limits) { l.MaxConns = 5; l.MaxConnsPerIP = 0 })
	addr := strings.TrimPrefix(ts.URL, "http://")
	var held []net.Conn
	for range 5 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	// Accept is asynchronous: wait until the server counts all five.
	waitFor(t, "five open connections", func() bool {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return false
		}
		defer c.Close()
		resp, err := rawGet(c, "/healthz")
		return err == nil && resp.StatusCode == http.StatusServiceUnavailable
	})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := rawGet(c, "/healthz")
	c.Close()
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("over the cap: %v %v, want 503 with Retry-After: 1", resp, err)
	}
	held[0].Close()
	waitFor(t, "a freed slot", func() bool {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return false
		}
		defer c.Close()
		resp, err := rawGet(c, "/healthz")
		return err == nil && resp.StatusCode == http.StatusOK
	})
	for _, c := range held[1:] {
		c.Close()
	}
}

func rawGet(c net.Conn, path string) (*http.Response, error) {
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return resp, err
}

// TestAbuseSlowClients: clients that send half a header (slowloris) or a
// body a few bytes at a time are cut off by the header and body timeouts
// instead of holding their connections.
func TestAbuseSlowClients(t *testing.T) {
	leaktest.Check(t)
	ts := startLimited(t, func(l *configs.Limits) {
		l.HeaderTimeout = 300 * time.Millisecond
		l.BodyTimeout = 300 * time.Millisecond
	})
	addr := strings.TrimPrefix(ts.URL, "http://")
	const n = 100
	var wg sync.WaitGroup
	var closed atomic.Int32
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := (&net.Dialer{LocalAddr: attackerAddr}).Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			if i%2 == 0 {
				fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ") // never ends
			} else {
				fmt.Fprintf(c, "POST /twilio/voice HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nCallSid=CA")
			}
			// The server must end it; 10 s is only the test's own bound.
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, err = io.Copy(io.Discard, c)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Errorf("slow client %d: the server kept the connection open", i)
				return
			}
			closed.Add(1)
		}()
	}
	ts.healthy(t)
	wg.Wait()
	if closed.Load() != n {
		t.Errorf("%d of %d slow clients cut off", closed.Load(), n)
	}
}

// TestAbuseBodyLimit: a body over server.limits.max_body is refused up
// front (413) when its length is declared, and cut at the cap when it is
// chunked.
func TestAbuseBodyLimit(t *testing.T) {
	ts := startLimited(t, func(l *configs.Limits) { l.MaxBody = 4096 })
	big := strings.Repeat("a", 8192)
	resp, err := http.Post(ts.URL+"/v1/webrtc/offer", "application/sdp", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("declared 8 KiB body: %s, want 413", resp.Status)
	}
	// Chunked: no length up front. The webhook's own cap is 64 KiB, so
	// without the server-wide 4 KiB this form would parse and fail on its
	// signature (403); with it, parsing fails (400).
	req, _ := http.NewRequest("POST", ts.URL+"/twilio/voice", io.MultiReader(strings.NewReader("CallSid="), strings.NewReader(big)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", "forged")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("chunked 8 KiB body: %s, want 400", resp.Status)
	}
}

// wsFrame is a masked client frame, written raw so that tests can send
// what gorilla's writer never would.
func wsFrame(fin bool, opcode byte, payload []byte, declared uint64) []byte {
	b0 := opcode
	if fin {
		b0 |= 0x80
	}
	f := []byte{b0}
	switch {
	case declared < 126:
		f = append(f, 0x80|byte(declared))
	case declared <= 0xffff:
		f = append(f, 0x80|126, byte(declared>>8), byte(declared))
	default:
		f = append(f, 0x80|127)
		f = binary.BigEndian.AppendUint64(f, declared)
	}
	mask := [4]byte{1, 2, 3, 4}
	f = append(f, mask[:]...)
	for i, c := range payload {
		f = append(f, c^mask[i%4])
	}
	return f
}

// fragments splits msg into text fragments of size bytes.
func fragments(msg []byte, size int) []byte {
	var out []byte
	for i := 0; i < len(msg); i += size {
		op := byte(0) // continuation
		if i == 0 {
			op = websocket.TextMessage
		}
		end := min(i+size, len(msg))
		out = append(out, wsFrame(end == len(msg), op, msg[i:end], uint64(end-i))...)
	}
	return out
}

// TestAbuseFrames sends oversize and fragmented WebSocket frames on a
// signed media stream: a frame declaring 1 GiB, a message split into
// fragments that add up to more than the 4 KiB limit, and an oversized
// control frame are each closed with the right code before the server
// buffers them; a valid message in small fragments, with a ping between
// them, starts a real call whose audio comes back.
func TestAbuseFrames(t *testing.T) {
	leaktest.Check(t)
	ts := start(t, "echo")
	u := ts.streamURL()
	heap0 := heapInUse()
	for _, tc := range []struct {
		name string
		raw  []byte
		want int
	}{
		{"1 GiB frame", wsFrame(true, websocket.TextMessage, nil, 1<<30), websocket.CloseMessageTooBig},
		{"fragments over the limit", fragments([]byte(strings.Repeat("x", 64<<10)), 100), websocket.CloseMessageTooBig},
		{"oversized ping", wsFrame(true, websocket.PingMessage, make([]byte, 200), 200), websocket.CloseProtocolError},
		{"continuation without a start", wsFrame(true, 0, []byte("{}"), 2), websocket.CloseProtocolError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := dial(t, u, signed)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.WriteMessage(websocket.TextMessage, twilio.AppendConnected(nil)); err != nil {
				t.Fatal(err)
			}
			// The server may close before it has read everything.
			_, _ = c.UnderlyingConn().Write(tc.raw)
			if got := closeCode(c); got != tc.want {
				t.Errorf("close code %d, want %d", got, tc.want)
			}
		})
	}
	if heap1 := heapInUse(); heap1 > heap0+16<<20 {
		t.Errorf("heap grew %d MiB after the oversize frames", (heap1-heap0)>>20)
	}

	// A valid start in 7-byte fragments with a ping in the middle (control
	// frames may interleave), then audio: the echo comes back.
	streamURL, params := ts.answer(t, "CAfrag")
	c, _, err := dial(t, streamURL, signed)
	if err != nil {
		t.Fatal(err)
	}
	start := twilio.AppendStart(nil, 1, &twilio.Start{
		StreamSID: "MZfrag", AccountSID: "AC1", CallSID: "CAfrag", Tracks: []string{"inbound"},
		CustomParameters: params,
		MediaFormat:      twilio.MediaFormat{Encoding: "audio/x-mulaw", SampleRate: 8000, Channels: 1},
	})
	raw := fragments(start, 7)
	cut := len(wsFrame(false, 1, start[:7], 7)) * 3
	raw = append(raw[:cut:cut], append(wsFrame(true, websocket.PingMessage, []byte("p"), 1), raw[cut:]...)...)
	if err := c.WriteMessage(websocket.TextMessage, twilio.AppendConnected(nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UnderlyingConn().Write(raw); err != nil {
		t.Fatal(err)
	}
	pcm := speech(2 * time.Second)
	ulaw := make([]byte, twilio.FrameSamples)
	go func() {
		for i := 0; i+twilio.FrameSamples <= len(pcm); i += twilio.FrameSamples {
			media.EncodeUlaw(ulaw, pcm[i:i+twilio.FrameSamples])
			n := int64(i / twilio.FrameSamples)
			msg := twilio.AppendInboundMedia(nil, "MZfrag", n+2, n+1, n*20, ulaw)
			if c.WriteMessage(websocket.TextMessage, msg) != nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
	for {
		_, msg, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("no echo after a fragmented start: %v", err)
		}
		if strings.Contains(string(msg), `"event":"media"`) {
			break
		}
	}
	c.Close()
	ts.waitIdle(t)
}

// TestAbuseWebhookFlood posts webhooks with bad signatures from 4 clients,
// each sending one every 4 ms (up to 1,000 a second), during a real call:
// every one is refused (403) and counted, the call keeps its timing,
// /healthz answers and the heap stays bounded. The rate is bounded because
// the flooding clients share this process and its 2 cores with the server
// and the call: unbounded, they would measure the machine, not the server.
func TestAbuseWebhookFlood(t *testing.T) {
	leaktest.Check(t)
	ts := start(t, "echo")
	heap0 := heapInUse()
	wait := ts.realCall(t, 4*time.Second)
	form := url.Values{"CallSid": {"CAflood"}, "From": {"+12125550123"}, "To": {clinicNum}}.Encode()
	ctx, stop := context.WithCancel(context.Background())
	var (
		sent, refused atomic.Int64
		wg            sync.WaitGroup
	)
	tr := &http.Transport{
		DialContext:         (&net.Dialer{LocalAddr: attackerAddr}).DialContext,
		MaxIdleConnsPerHost: 4,
	}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(4 * time.Millisecond)
			defer tick.Stop()
			for i := 0; ctx.Err() == nil; i++ {
				<-tick.C
				req, _ := http.NewRequestWithContext(ctx, "POST", ts.URL+"/twilio/voice", strings.NewReader(form))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-Twilio-Signature", fmt.Sprintf("forged%d-%d", w, i))
				resp, err := hc.Do(req)
				if err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				sent.Add(1)
				if resp.StatusCode == http.StatusForbidden {
					refused.Add(1)
				}
			}
		}()
	}
	time.Sleep(time.Second) // let the flood build up under the call
	ts.healthy(t)
	heap1 := heapInUse()
	res := wait()
	stop()
	wg.Wait()
	t.Logf("flood: %d bad webhooks, %d refused; heap %d → %d KiB", sent.Load(), refused.Load(), heap0>>10, heap1>>10)
	if sent.Load() < 100 || refused.Load() != sent.Load() {
		t.Errorf("%d bad webhooks sent, %d refused with 403; want many, all refused", sent.Load(), refused.Load())
	}
	// Requests in flight when the flood stopped were refused and counted
	// by the server but never seen by their client: up to one a worker.
	if got := int64(ts.metric(t, `frontdesk_rejected_total{reason="bad_signature"}`)); got < refused.Load() || got > refused.Load()+4 {
		t.Errorf("rejected{bad_signature} = %v, want %d (+ up to 4 in flight)", got, refused.Load())
	}
	if heap1 > heap0+64<<20 {
		t.Errorf("heap grew %d MiB during the flood", (heap1-heap0)>>20)
	}
	checkCallTiming(t, res)
}
