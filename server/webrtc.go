package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/frontdesk/frontdesk/media/webrtc"
	"github.com/frontdesk/frontdesk/web"
)

// Paths of the WebRTC signaling endpoints.
const (
	webrtcOfferPath = "/v1/webrtc/offer"
	webrtcCallsPath = "/v1/webrtc/calls/"
	whipPath        = "/v1/whip/"
)

var _ transport = (*webrtc.Session)(nil)

// rtcServer is the WebRTC side of a server: the engine that answers offers,
// the rate limits and the sessions a DELETE may hang up. Safe for
// concurrent use.
type rtcServer struct {
	// immutable after webrtcRoutes
	cfg      webrtc.Config
	engine   *webrtc.Engine // nil when the configuration is invalid
	err      error          // why engine is nil
	perIP    *rateLimiter
	perBiz   *rateLimiter
	sessions sync.Map // call ID → *webrtc.Session
}

// WithWebRTC sets the WebRTC transport's configuration: ICE servers, the
// public IP of a 1:1 NAT, the UDP port range, rate limits. Without it the
// defaults of webrtc.Config apply.
func WithWebRTC(cfg webrtc.Config) Option {
	return func(s *Server) { s.rtc = &rtcServer{cfg: cfg} }
}

// webrtcRoutes registers the softphone page, the JSON offer endpoint and
// WHIP (RFC 9725).
func (s *Server) webrtcRoutes(mux *http.ServeMux) {
	if s.rtc == nil {
		s.rtc = &rtcServer{}
	}
	rtc := s.rtc
	rtc.engine, rtc.err = webrtc.NewEngine(rtc.cfg)
	if rtc.err != nil {
		s.log.Error("webrtc disabled: invalid configuration", "err", rtc.err)
	}
	rtc.cfg = rtc.cfg.WithDefaults()
	rtc.perIP = newRateLimiter(rtc.cfg.OffersPerIP, s.now)
	rtc.perBiz = newRateLimiter(rtc.cfg.OffersPerBusiness, s.now)

	mux.Handle("POST "+webrtcOfferPath, s.handle(s.handleWebRTCOffer))
	mux.Handle("POST "+whipPath+"{business}", s.handle(s.handleWHIP))
	mux.Handle("DELETE "+webrtcCallsPath+"{id}", s.handle(s.handleWebRTCHangup))
	mux.Handle("GET /v1/webrtc/ice-servers", s.handle(s.handleICEServers))
	phone := web.Phone()
	mux.Handle("GET /phone", phone)
	mux.Handle("GET /phone/", phone)
	dash := web.Dashboard()
	mux.Handle("GET /dashboard", dash)
	mux.Handle("GET /dashboard/", dash)
}

type offerRequest struct {
	SDP      string `json:"sdp"`
	Type     string `json:"type"`
	Business string `json:"business"`
}

type offerResponse struct {
	SDP      string `json:"sdp"`
	Type     string `json:"type"`
	CallID   string `json:"call_id"`
	Location string `json:"location"`
}

// handleWebRTCOffer answers POST /v1/webrtc/offer: {sdp, type, business} →
// {sdp, type: "answer", call_id, location}.
func (s *Server) handleWebRTCOffer(w http.ResponseWriter, r *http.Request) error {
	if err := s.rtcLimitIP(w, r); err != nil {
		return err
	}
	var req offerRequest
	body := http.MaxBytesReader(w, r.Body, s.rtc.cfg.MaxOfferBytes)
	if err := json.NewDecoder(body).Decode(&req); err != nil {
		s.metrics.rejected.WithLabelValues("bad_offer").Inc()
		return errorf(http.StatusBadRequest, "bad_request", "body must be JSON {sdp, type, business}", err)
	}
	if req.Type != "offer" {
		s.metrics.rejected.WithLabelValues("bad_offer").Inc()
		return errorf(http.StatusBadRequest, "bad_request", `type must be "offer"`, nil)
	}
	c, sess, err := s.startWebRTC(w, r, req.Business, req.SDP)
	if err != nil {
		return err
	}
	loc := webrtcCallsPath + c.id
	w.Header().Set("Location", loc)
	writeJSON(w, http.StatusOK, offerResponse{SDP: sess.Answer(), Type: "answer", CallID: c.id, Location: loc})
	return nil
}

// handleWHIP answers POST /v1/whip/{business} (RFC 9725): an SDP offer in,
// 201 Created with the answer and the session's Location out. ICE is not
// trickled: the answer carries every candidate.
func (s *Server) handleWHIP(w http.ResponseWriter, r *http.Request) error {
	if err := s.rtcLimitIP(w, r); err != nil {
		return err
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/sdp" {
		return errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "WHIP offers are application/sdp", nil)
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.rtc.cfg.MaxOfferBytes))
	if err != nil {
		s.metrics.rejected.WithLabelValues("bad_offer").Inc()
		return errorf(http.StatusRequestEntityTooLarge, "too_large", "offer too large", err)
	}
	c, sess, err := s.startWebRTC(w, r, r.PathValue("business"), string(data))
	if err != nil {
		return err
	}
	w.Header().Set("Location", webrtcCallsPath+c.id)
	w.Header().Set("Content-Type", "application/sdp")
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, sess.Answer())
	return nil
}

// handleWebRTCHangup ends a WebRTC call: DELETE on the Location an offer
// returned.
func (s *Server) handleWebRTCHangup(w http.ResponseWriter, r *http.Request) error {
	v, ok := s.rtc.sessions.Load(r.PathValue("id"))
	if !ok {
		return errorf(http.StatusNotFound, "not_found", "no such call", nil)
	}
	v.(*webrtc.Session).Hangup()
	w.WriteHeader(http.StatusOK)
	return nil
}

// handleICEServers tells the softphone page which STUN/TURN servers to use.
func (s *Server) handleICEServers(w http.ResponseWriter, r *http.Request) error {
	servers := s.rtc.cfg.ICEServers
	if servers == nil {
		servers = []webrtc.ICEServer{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"ice_servers": servers})
	return nil
}

// rtcLimitIP applies the per-address offer limit before any other work.
func (s *Server) rtcLimitIP(w http.ResponseWriter, r *http.Request) error {
	if ok, wait := s.rtc.perIP.allow(clientIP(r)); !ok {
		s.metrics.rejected.WithLabelValues("rate_limited").Inc()
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(wait)))
		return errorf(http.StatusTooManyRequests, "rate_limited", "too many calls from this address; try again later", nil)
	}
	return nil
}

// startWebRTC answers an offer for a business and starts the call. The
// returned call runs until the peer hangs up, fails to connect, or the
// server cuts it; its session holds the answer.
func (s *Server) startWebRTC(w http.ResponseWriter, r *http.Request, businessID, offer string) (*call, *webrtc.Session, error) {
	rtc := s.rtc
	if rtc.engine == nil {
		return nil, nil, errorf(http.StatusServiceUnavailable, "unavailable", "WebRTC calls are not configured on this node", rtc.err)
	}
	biz, ok := s.cfg.Business(businessID)
	if !ok {
		s.metrics.rejected.WithLabelValues("unknown_business").Inc()
		return nil, nil, errorf(http.StatusNotFound, "not_found", "unknown business", nil)
	}
	if ok, wait := rtc.perBiz.allow(biz.ID); !ok {
		s.metrics.rejected.WithLabelValues("rate_limited").Inc()
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(wait)))
		return nil, nil, errorf(http.StatusTooManyRequests, "rate_limited", "too many calls to this business; try again later", nil)
	}
	if s.draining.Load() {
		w.Header().Set("Retry-After", "1")
		return nil, nil, errorf(http.StatusServiceUnavailable, "draining", "this node is shutting down", nil)
	}
	if max := s.cfg.Server.MaxCalls; max > 0 && s.ActiveCalls() >= max {
		s.metrics.rejected.WithLabelValues("capacity").Inc()
		w.Header().Set("Retry-After", "1")
		return nil, nil, errorf(http.StatusServiceUnavailable, "busy", "too many calls", nil)
	}
	tap := newRTCTap(s.log)
	sess, err := rtc.engine.Answer(r.Context(), offer, webrtc.SessionOptions{Metrics: s.metrics, Logger: s.log, Sent: tap.sent})
	if err != nil {
		return nil, nil, s.offerError(err)
	}
	c := s.newCall(biz, "webrtc", "", "", sess)
	if c == nil {
		sess.Close()
		w.Header().Set("Retry-After", "1")
		return nil, nil, errorf(http.StatusServiceUnavailable, "draining", "this node is shutting down", nil)
	}
	if err := tap.attach(c.data, sess.OutputRate()); err != nil {
		c.log.Error("recording: no agent audio", "err", err)
	}
	rtc.sessions.Store(c.id, sess)
	go func() {
		defer rtc.sessions.Delete(c.id)
		err := c.Run(s.callsCtx)
		switch {
		case errors.Is(err, webrtc.ErrNotConnected):
			c.log.Info("webrtc peer never connected", "err", err)
		case err != nil && !errors.Is(err, context.Canceled):
			c.log.Warn("call ended with error", "err", err)
		}
	}()
	return c, sess, nil
}

// offerError maps Answer's errors to what the client is told.
func (s *Server) offerError(err error) error {
	switch {
	case errors.Is(err, webrtc.ErrBadOffer):
		s.metrics.rejected.WithLabelValues("bad_offer").Inc()
		return errorf(http.StatusBadRequest, "bad_sdp", "the SDP offer is malformed", err)
	case errors.Is(err, webrtc.ErrNoAudio):
		s.metrics.rejected.WithLabelValues("bad_offer").Inc()
		return errorf(http.StatusBadRequest, "no_audio", "the SDP offer has no audio", err)
	case errors.Is(err, webrtc.ErrNoCodec):
		s.metrics.rejected.WithLabelValues("bad_offer").Inc()
		return errorf(http.StatusBadRequest, "no_codec", "the SDP offer has no supported audio codec (Opus or PCMU)", err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return errorf(http.StatusServiceUnavailable, "timeout", "could not gather ICE candidates in time", err)
	}
	return err
}

// clientIP is the address a request came from. Behind a proxy that is the
// proxy's; rate limits then apply to it as a whole.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return strings.TrimPrefix(host, "::ffff:")
}
