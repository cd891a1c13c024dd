// Package sim is a WebRTC caller for tests and load runs: a real pion
// PeerConnection that signals through Frontdesk's offer endpoint (or WHIP),
// speaks given audio in real time in Opus or PCMU and records what it hears,
// with the intervals between the packets it receives.
package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	pion "github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"

	"github.com/frontdesk/frontdesk/media"
	"github.com/frontdesk/frontdesk/media/webrtc"
)

// Rate is the rate of Options.Audio and Result.Out.
const Rate = 16000

// Codecs a caller may offer.
const (
	Opus = webrtc.CodecOpus
	PCMU = webrtc.CodecPCMU
)

// Options describe one simulated call. Zero values take the defaults noted.
type Options struct {
	// Server is the base URL, e.g. http://127.0.0.1:8080.
	Server   string
	Business string
	// Codec is Opus (default; PCMU is offered second, as browsers do) or
	// PCMU (offered alone).
	Codec string
	// WHIP signals with POST /v1/whip/{business} (application/sdp) instead
	// of the JSON offer endpoint.
	WHIP bool
	// Audio is what the caller says: 16 kHz PCM16, sent in real time from
	// the moment the connection is up.
	Audio []int16
	// Packets, if set, are sent instead of encoding Audio: 20 ms payloads
	// in the offered codec (load runs encode once for every caller).
	Packets [][]byte
	// Tail is how long the caller stays on the line after its audio,
	// listening. It sends silence meanwhile, as a browser with an open
	// microphone does. Default 2s.
	Tail time.Duration
	// Quiet sends nothing during Tail, as a sender in discontinuous
	// transmission or a WHIP client that stops does.
	Quiet bool
	// Record decodes what the caller hears into Result.Out; load runs turn
	// it off and only time the packets.
	Record bool
	// NoHangup skips the DELETE at the end: the caller only closes its
	// PeerConnection, as a browser tab that goes away does.
	NoHangup bool
	// IPs are the local addresses ICE may use. Default 127.0.0.1.
	IPs []string
	// HTTPClient posts the offer; default http.DefaultClient.
	HTTPClient *http.Client
}

// Result is what the caller experienced.
type Result struct {
	CallID   string
	Location string // the session URL to DELETE, absolute
	Codec    string // the codec the server sends (MIME type)
	// Out is the audio the caller heard, 16 kHz, on the caller's timeline:
	// sample 0 plays when the caller's first frame was sent.
	Out []int16
	// Connect is how long signaling and ICE took.
	Connect time.Duration

	FramesSent     int // of Audio (or Packets); the silence of Tail is not counted
	FramesReceived int
	// Gaps are the intervals between consecutive packets received.
	Gaps []time.Duration
}

// MaxGap returns the largest interval between received packets.
func (r *Result) MaxGap() time.Duration {
	if len(r.Gaps) == 0 {
		return 0
	}
	return slices.Max(r.Gaps)
}

// Percentile returns the p-th percentile (0–100) of ds without changing ds.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p / 100 * float64(len(s)-1))
	return s[max(0, min(i, len(s)-1))]
}

// HTTPError is a signaling request the server refused.
type HTTPError struct {
	Status     int
	Body       string
	RetryAfter string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("sim: signaling: %d %s", e.Status, strings.TrimSpace(e.Body))
}

// NewPeerConnection makes a caller-side PeerConnection offering codec and
// gathering on ips only (default 127.0.0.1), without mDNS. Tests use it for
// offers of their own.
func NewPeerConnection(codec string, ips []string) (*pion.PeerConnection, error) {
	if len(ips) == 0 {
		ips = []string{"127.0.0.1"}
	}
	me := &pion.MediaEngine{}
	var caps []pion.RTPCodecParameters
	if codec != PCMU {
		caps = append(caps, pion.RTPCodecParameters{
			RTPCodecCapability: pion.RTPCodecCapability{MimeType: pion.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"},
			PayloadType:        111,
		})
	}
	caps = append(caps, pion.RTPCodecParameters{
		RTPCodecCapability: pion.RTPCodecCapability{MimeType: pion.MimeTypePCMU, ClockRate: 8000, Channels: 1},
		PayloadType:        0,
	})
	for _, c := range caps {
		if err := me.RegisterCodec(c, pion.RTPCodecTypeAudio); err != nil {
			return nil, err
		}
	}
	se := pion.SettingEngine{}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	allowed := make([]net.IP, 0, len(ips))
	loopback := false
	for _, s := range ips {
		ip := net.ParseIP(s)
		if ip == nil {
			return nil, fmt.Errorf("sim: %q is not an IP address", s)
		}
		allowed = append(allowed, ip)
		loopback = loopback || ip.IsLoopback()
	}
	se.SetIPFilter(func(ip net.IP) bool { return slices.ContainsFunc(allowed, ip.Equal) })
	se.SetIncludeLoopbackCandidate(loopback)
	api := pion.NewAPI(pion.WithMediaEngine(me), pion.WithSettingEngine(se))
	return api.NewPeerConnection(pion.Configuration{})
}

// Call places one call and returns what the caller experienced. It hangs
// up (DELETE, then closing its PeerConnection) after Audio and Tail, or
// when ctx ends.
func Call(ctx context.Context, o Options) (*Result, error) {
	if o.Codec == "" {
		o.Codec = Opus
	}
	if o.Tail == 0 {
		o.Tail = 2 * time.Second
	}
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	packets := o.Packets
	if packets == nil {
		var err error
		if packets, err = Encode(o.Codec, o.Audio); err != nil {
			return nil, err
		}
	}
	var silence []byte
	if !o.Quiet {
		p, err := Encode(o.Codec, make([]int16, media.SamplesPerFrame(Rate)))
		if err != nil {
			return nil, err
		}
		silence = p[0]
	}
	pc, err := NewPeerConnection(o.Codec, o.IPs)
	if err != nil {
		return nil, fmt.Errorf("sim: peer connection: %w", err)
	}
	defer func() { _ = pc.GracefulClose() }()
	capab := pion.RTPCodecCapability{MimeType: pion.MimeTypeOpus, ClockRate: 48000, Channels: 2}
	if o.Codec == PCMU {
		capab = pion.RTPCodecCapability{MimeType: pion.MimeTypePCMU, ClockRate: 8000, Channels: 1}
	}
	track, err := pion.NewTrackLocalStaticSample(capab, "audio", "caller")
	if err != nil {
		return nil, err
	}
	sender, err := pc.AddTrack(track)
	if err != nil {
		return nil, err
	}
	c := &caller{
		o:         o,
		res:       &Result{},
		remote:    make(chan *pion.TrackRemote, 1),
		connected: make(chan struct{}),
		ended:     make(chan struct{}),
	}
	pc.OnTrack(func(t *pion.TrackRemote, _ *pion.RTPReceiver) {
		select {
		case c.remote <- t:
		default:
		}
	})
	var connOnce, endOnce sync.Once
	pc.OnConnectionStateChange(func(s pion.PeerConnectionState) {
		switch s {
		case pion.PeerConnectionStateConnected:
			connOnce.Do(func() { close(c.connected) })
		case pion.PeerConnectionStateFailed, pion.PeerConnectionStateClosed:
			endOnce.Do(func() { close(c.ended) })
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return nil, err
	}
	gathered := pion.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return nil, err
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	t0 := time.Now()
	answer, err := c.signal(ctx, pc.LocalDescription().SDP)
	if err != nil {
		return nil, err
	}
	if err := pc.SetRemoteDescription(pion.SessionDescription{Type: pion.SDPTypeAnswer, SDP: answer}); err != nil {
		c.hangup()
		return c.res, fmt.Errorf("sim: set answer: %w", err)
	}
	select {
	case <-c.connected:
		c.res.Connect = time.Since(t0)
	case <-c.ended:
		c.hangup()
		return c.res, errors.New("sim: connection failed")
	case <-ctx.Done():
		c.hangup()
		return c.res, ctx.Err()
	case <-time.After(15 * time.Second):
		c.hangup()
		return c.res, errors.New("sim: not connected after 15s")
	}

	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		buf := make([]byte, 1500)
		for {
			if _, _, err := sender.Read(buf); err != nil {
				return
			}
		}
	}()
	go func() { defer wg.Done(); c.receive(rctx) }()
	sendErr := c.send(ctx, track, packets, silence)
	if !o.NoHangup {
		c.hangup()
	}
	cancel()
	_ = pc.GracefulClose() // ends the reads
	wg.Wait()
	if sendErr != nil {
		return c.res, sendErr
	}
	return c.res, ctx.Err()
}

type caller struct {
	o         Options
	remote    chan *pion.TrackRemote
	connected chan struct{}
	ended     chan struct{}
	t0        time.Time // when the first frame was sent

	mu  sync.Mutex
	res *Result // guarded by mu after signaling
}

type offerResponse struct {
	SDP    string `json:"sdp"`
	Type   string `json:"type"`
	CallID string `json:"call_id"`
}

// signal posts the offer and returns the answer SDP.
func (c *caller) signal(ctx context.Context, offer string) (string, error) {
	base := strings.TrimSuffix(c.o.Server, "/")
	var req *http.Request
	var err error
	if c.o.WHIP {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/whip/"+c.o.Business, strings.NewReader(offer))
		if err == nil {
			req.Header.Set("Content-Type", "application/sdp")
		}
	} else {
		body, _ := json.Marshal(map[string]string{"sdp": offer, "type": "offer", "business": c.o.Business})
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/webrtc/offer", bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
	}
	if err != nil {
		return "", err
	}
	resp, err := c.o.HTTPClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("sim: signaling: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("sim: signaling: %w", err)
	}
	want := http.StatusOK
	if c.o.WHIP {
		want = http.StatusCreated
	}
	if resp.StatusCode != want {
		return "", &HTTPError{Status: resp.StatusCode, Body: string(data), RetryAfter: resp.Header.Get("Retry-After")}
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		u, err := resp.Request.URL.Parse(loc)
		if err == nil {
			c.res.Location = u.String()
		}
	}
	if c.o.WHIP {
		c.res.CallID = c.res.Location[strings.LastIndex(c.res.Location, "/")+1:]
		return string(data), nil
	}
	var ans offerResponse
	if err := json.Unmarshal(data, &ans); err != nil || ans.Type != "answer" || ans.SDP == "" {
		return "", fmt.Errorf("sim: signaling: not an answer: %.200s", data)
	}
	c.res.CallID = ans.CallID
	if c.res.Location == "" {
		c.res.Location = base + "/v1/webrtc/calls/" + ans.CallID
	}
	return ans.SDP, nil
}

// hangup deletes the session, as a WHIP client does.
func (c *caller) hangup() {
	if c.res.Location == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, c.res.Location, nil)
	if err != nil {
		return
	}
	resp, err := c.o.HTTPClient.Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// send writes one packet every 20 ms, on a deadline schedule, then
// silence (or, without it, nothing) for the tail.
func (c *caller) send(ctx context.Context, track *pion.TrackLocalStaticSample, packets [][]byte, silence []byte) error {
	start := time.Now()
	c.mu.Lock()
	c.t0 = start
	c.mu.Unlock()
	timer := time.NewTimer(0)
	defer timer.Stop()
	tail := len(packets) + int(c.o.Tail/media.FrameDuration)
	for i := 0; i < tail; i++ {
		if i >= len(packets) && silence == nil {
			timer.Reset(time.Until(start.Add(time.Duration(tail) * media.FrameDuration)))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-c.ended:
			return nil
		case <-timer.C:
		}
		p := silence
		if i < len(packets) {
			p = packets[i]
		} else if p == nil {
			return nil // the tail has passed in silence
		}
		if err := track.WriteSample(pmedia.Sample{Data: p, Duration: media.FrameDuration}); err != nil {
			return fmt.Errorf("sim: write: %w", err)
		}
		if i < len(packets) {
			c.mu.Lock()
			c.res.FramesSent++
			c.mu.Unlock()
		}
		timer.Reset(time.Until(start.Add(time.Duration(i+1) * media.FrameDuration)))
	}
	return nil
}

// receive reads the server's audio and plays it on the caller's timeline,
// as a deep enough jitter buffer would: the first packet when it arrives,
// every later one where its RTP timestamp puts it after the first.
func (c *caller) receive(ctx context.Context) {
	var t *pion.TrackRemote
	select {
	case t = <-c.remote:
	case <-ctx.Done():
		return
	}
	c.mu.Lock()
	c.res.Codec = t.Codec().MimeType
	c.mu.Unlock()
	dec, err := newDecoder(t.Codec().MimeType)
	if err != nil {
		return
	}
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	var last time.Time
	var first bool = true
	var anchor int    // Out index of the first packet
	var lastTS uint32 // RTP timestamp of the last packet
	var ext int64     // RTP timestamp since the first packet, unwrapped
	clock := int64(t.Codec().ClockRate)
	for {
		n, _, err := t.Read(buf)
		if err != nil {
			return
		}
		now := time.Now()
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			continue
		}
		var pcm []int16
		if c.o.Record {
			if pcm, err = dec.decode(pkt.Payload); err != nil {
				continue
			}
		}
		c.mu.Lock()
		if !last.IsZero() {
			c.res.Gaps = append(c.res.Gaps, now.Sub(last))
		}
		last = now
		c.res.FramesReceived++
		if first {
			first = false
			anchor = int(now.Sub(c.t0) * Rate / time.Second)
		} else {
			ext += int64(int32(pkt.Timestamp - lastTS))
		}
		lastTS = pkt.Timestamp
		if c.o.Record && !c.t0.IsZero() {
			c.place(anchor+int(ext*Rate/clock), pcm)
		}
		c.mu.Unlock()
	}
}

// place writes pcm into Out at sample index i.
func (c *caller) place(i int, pcm []int16) {
	i = max(i, 0)
	if need := i + len(pcm); need > len(c.res.Out) {
		c.res.Out = append(c.res.Out, make([]int16, need-len(c.res.Out))...)
	}
	copy(c.res.Out[i:], pcm)
}

type decoder struct {
	opus *webrtc.OpusDecoder
	rs   *media.Resampler
	buf  []int16
	out  []int16
}

func newDecoder(mime string) (*decoder, error) {
	if strings.EqualFold(mime, pion.MimeTypeOpus) {
		d, err := webrtc.NewOpusDecoder(Rate)
		if err != nil {
			return nil, err
		}
		return &decoder{opus: d, buf: make([]int16, d.MaxSamples())}, nil
	}
	rs, err := media.NewResampler(8000, Rate)
	if err != nil {
		return nil, err
	}
	return &decoder{rs: rs, buf: make([]int16, 1500)}, nil
}

func (d *decoder) decode(p []byte) ([]int16, error) {
	if d.opus != nil {
		n, err := d.opus.Decode(d.buf, p)
		return d.buf[:n], err
	}
	n := media.DecodeUlaw(d.buf, p)
	d.out = d.rs.Process(d.out[:0], d.buf[:n])
	return d.out, nil
}

// Encode cuts 16 kHz audio into 20 ms packets of codec (Opus or PCMU).
func Encode(codec string, pcm []int16) ([][]byte, error) {
	frame := media.SamplesPerFrame(Rate)
	var out [][]byte
	switch codec {
	case Opus:
		enc, err := webrtc.NewOpusEncoder(Rate)
		if err != nil {
			return nil, err
		}
		defer enc.Close()
		buf := make([]byte, 1500)
		f := make([]int16, frame)
		for i := 0; i < len(pcm); i += frame {
			clear(f)
			copy(f, pcm[i:min(i+frame, len(pcm))])
			n, err := enc.Encode(buf, f)
			if err != nil {
				return nil, err
			}
			out = append(out, slices.Clone(buf[:n]))
		}
	case PCMU:
		rs, err := media.NewResampler(Rate, 8000)
		if err != nil {
			return nil, err
		}
		frames := (len(pcm) + frame - 1) / frame
		pcm8 := rs.Process(nil, pcm)
		pcm8 = append(pcm8, make([]int16, frames*160)...)[:frames*160]
		for i := 0; i < frames; i++ {
			p := make([]byte, 160)
			media.EncodeUlaw(p, pcm8[i*160:(i+1)*160])
			out = append(out, p)
		}
	default:
		return nil, fmt.Errorf("sim: codec %q: want %q or %q", codec, Opus, PCMU)
	}
	return out, nil
}
