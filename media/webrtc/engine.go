package webrtc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	pion "github.com/pion/webrtc/v4"
)

// Payload types we answer with; browsers use the same numbers.
const (
	ptOpus = 111
	ptPCMU = 0
)

var livePCs atomic.Int64

// Live returns how many PeerConnections this process has open: made by
// Answer and not yet closed. Leak tests check it returns to its start.
func Live() int { return int(livePCs.Load()) }

// Metrics receives counts from a Session's loops. Implementations must be
// safe for concurrent use and cheap: they are called once per frame. The
// server's Twilio metrics satisfy it.
type Metrics interface {
	FrameIn()
	FramesLost(n int)
	FrameOut(lateness time.Duration)
}

// SessionOptions tune one Session.
type SessionOptions struct {
	Metrics Metrics
	Logger  *slog.Logger
	// Sent, if set, is called by the pacer with each frame of queued audio
	// (PCM16 at OutputRate, 20 ms) right after it was written to the track:
	// what the caller hears, when they hear it (a recording taps here). at
	// is the frame's place on the call's clock: its slot's start, counted
	// from the moment the connection was up, where In's first frame of
	// caller audio sits too. Slots with nothing queued, which the pacer
	// fills with silence, are not reported. It must not block or keep the
	// slice.
	Sent func(pcm []int16, at time.Duration)
}

// Engine answers offers with PeerConnections that share one configuration.
// Safe for concurrent use.
type Engine struct {
	// immutable
	cfg Config
	api *pion.API
	ice []pion.ICEServer
}

// NewEngine checks cfg and prepares the codecs and ICE settings. It starts
// nothing.
func NewEngine(cfg Config) (*Engine, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	me := &pion.MediaEngine{}
	codecs := []pion.RTPCodecParameters{
		{RTPCodecCapability: opusCapability, PayloadType: ptOpus},
		{RTPCodecCapability: pcmuCapability, PayloadType: ptPCMU},
	}
	for _, c := range codecs {
		if err := me.RegisterCodec(c, pion.RTPCodecTypeAudio); err != nil {
			return nil, fmt.Errorf("webrtc: register %s: %w", c.MimeType, err)
		}
	}
	ir := &interceptor.Registry{}
	// Sender and receiver reports only: audio needs no NACK or congestion
	// feedback, and every interceptor costs per packet.
	if err := pion.ConfigureRTCPReports(ir); err != nil {
		return nil, fmt.Errorf("webrtc: interceptors: %w", err)
	}

	se := pion.SettingEngine{}
	se.SetICETimeouts(cfg.DisconnectTimeout, cfg.FailTimeout, 2*time.Second)
	// Remote mDNS (.local) candidates are dropped rather than resolved by
	// multicast: the browser reaches our candidates and we learn its address
	// from its checks (a peer-reflexive candidate).
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if cfg.UDPPortMin != 0 {
		if err := se.SetEphemeralUDPPortRange(cfg.UDPPortMin, cfg.UDPPortMax); err != nil {
			return nil, fmt.Errorf("webrtc: udp port range: %w", err)
		}
	}
	if len(cfg.IPs) > 0 {
		allowed := make([]net.IP, 0, len(cfg.IPs))
		loopback := false
		for _, s := range cfg.IPs {
			ip := net.ParseIP(s)
			allowed = append(allowed, ip)
			loopback = loopback || ip.IsLoopback()
		}
		se.SetIPFilter(func(ip net.IP) bool {
			for _, a := range allowed {
				if a.Equal(ip) {
					return true
				}
			}
			return false
		})
		se.SetIncludeLoopbackCandidate(loopback)
	}
	if len(cfg.PublicIPs) > 0 {
		err := se.SetICEAddressRewriteRules(pion.ICEAddressRewriteRule{
			External:        cfg.PublicIPs,
			AsCandidateType: pion.ICECandidateTypeHost,
			Mode:            pion.ICEAddressRewriteReplace,
		})
		if err != nil {
			return nil, fmt.Errorf("webrtc: public ips: %w", err)
		}
	}
	e := &Engine{
		cfg: cfg,
		api: pion.NewAPI(pion.WithMediaEngine(me), pion.WithInterceptorRegistry(ir), pion.WithSettingEngine(se)),
	}
	for _, s := range cfg.ICEServers {
		e.ice = append(e.ice, pion.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	return e, nil
}

// Config returns the engine's configuration, defaults applied.
func (e *Engine) Config() Config { return e.cfg }

var (
	opusCapability = pion.RTPCodecCapability{
		MimeType: pion.MimeTypeOpus, ClockRate: opusClock, Channels: 2,
		SDPFmtpLine: "minptime=10;useinbandfec=1",
	}
	pcmuCapability = pion.RTPCodecCapability{MimeType: pion.MimeTypePCMU, ClockRate: pcmuRate, Channels: 1}
)

// Answer answers an SDP offer: it makes a PeerConnection, adds the local
// audio track (Opus when the offer has it and this build can encode it,
// else PCMU), gathers every ICE candidate and returns a Session whose
// Answer is the SDP to send back. The caller must Run or Close the Session.
// Offers a call cannot use give errors wrapping ErrBadOffer, ErrNoAudio or
// ErrNoCodec.
func (e *Engine) Answer(ctx context.Context, offer string, opts SessionOptions) (*Session, error) {
	o, err := CheckOffer(offer)
	if err != nil {
		return nil, err
	}
	capab, rate := pcmuCapability, pcmuRate
	switch {
	case o.Opus && OpusEncoderAvailable:
		// Opus takes the pipeline's 16 kHz as it is (wideband speech):
		// no resampling on the way out, and the encoder's cheapest mode.
		capab, rate = opusCapability, pipelineRate
	case !o.PCMU:
		return nil, fmt.Errorf("%w: this build sends PCMU only", ErrNoCodec)
	}
	pc, err := e.api.NewPeerConnection(pion.Configuration{ICEServers: e.ice})
	if err != nil {
		return nil, fmt.Errorf("webrtc: new peer connection: %w", err)
	}
	livePCs.Add(1)
	s, err := newSession(pc, e.cfg, opts, capab.MimeType, rate)
	if err != nil {
		s.closePC()
		return nil, err
	}
	if err := s.negotiate(ctx, offer, capab); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Session) negotiate(ctx context.Context, offer string, capab pion.RTPCodecCapability) error {
	s.pc.OnTrack(s.onTrack)
	s.pc.OnConnectionStateChange(s.onState)
	if err := s.pc.SetRemoteDescription(pion.SessionDescription{Type: pion.SDPTypeOffer, SDP: offer}); err != nil {
		return fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	track, err := pion.NewTrackLocalStaticSample(capab, "audio", "frontdesk")
	if err != nil {
		return fmt.Errorf("webrtc: local track: %w", err)
	}
	sender, err := s.pc.AddTrack(track)
	if err != nil {
		return fmt.Errorf("webrtc: add track: %w", err)
	}
	s.track, s.sender = track, sender
	answer, err := s.pc.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	// pion answers some offers it cannot use with no media section at all;
	// such a call would connect and stay silent.
	if !strings.Contains(answer.SDP, "\nm=audio ") || strings.Contains(answer.SDP, "\nm=audio 0 ") {
		return fmt.Errorf("%w: no audio section could be negotiated", ErrBadOffer)
	}
	gathered := pion.GatheringCompletePromise(s.pc)
	if err := s.pc.SetLocalDescription(answer); err != nil {
		return fmt.Errorf("webrtc: set local description: %w", err)
	}
	t := time.NewTimer(s.cfg.GatherTimeout)
	defer t.Stop()
	select {
	case <-gathered:
	case <-t.C: // answer with the candidates gathered so far
	case <-ctx.Done():
		return fmt.Errorf("webrtc: gather ICE candidates: %w", ctx.Err())
	}
	ld := s.pc.LocalDescription()
	if ld == nil {
		return errors.New("webrtc: no local description")
	}
	s.answer = limitOpusBandwidth(ld.SDP)
	return nil
}

// limitOpusBandwidth adds maxplaybackrate=16000 (RFC 7587) to the answer's
// Opus format parameters: the call's audio is 16 kHz, so the peer's encoder
// need not spend bits above 8 kHz. It also keeps a browser's encoder in
// SILK wideband: at 32 kbps Chromium otherwise sends hybrid super-wideband,
// which pion/opus decodes to 16 kHz badly enough that the recogniser loses
// words.
func limitOpusBandwidth(sdp string) string {
	lines := strings.Split(sdp, "\r\n")
	pts := map[string]bool{}
	for _, l := range lines {
		if rest, ok := strings.CutPrefix(l, "a=rtpmap:"); ok {
			pt, enc, _ := strings.Cut(rest, " ")
			if strings.HasPrefix(strings.ToLower(enc), "opus/") {
				pts[pt] = true
			}
		}
	}
	const params = "maxplaybackrate=16000;sprop-maxcapturerate=16000"
	out := make([]string, 0, len(lines)+len(pts))
	for _, l := range lines {
		if rest, ok := strings.CutPrefix(l, "a=fmtp:"); ok {
			pt, fmtp, _ := strings.Cut(rest, " ")
			if pts[pt] {
				delete(pts, pt)
				if !strings.Contains(fmtp, "maxplaybackrate") {
					l += ";" + params
				}
			}
		}
		out = append(out, l)
		if rest, ok := strings.CutPrefix(l, "a=rtpmap:"); ok {
			if pt, _, _ := strings.Cut(rest, " "); pts[pt] && !hasFmtp(lines, pt) {
				out = append(out, "a=fmtp:"+pt+" "+params)
				delete(pts, pt)
			}
		}
	}
	return strings.Join(out, "\r\n")
}

func hasFmtp(lines []string, pt string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, "a=fmtp:"+pt+" ") {
			return true
		}
	}
	return false
}
