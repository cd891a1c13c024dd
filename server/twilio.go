package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/twilio/twilio-go/twiml"

	"github.com/frontdesk/frontdesk/media/twilio"
)

const (
	maxWebhookBody = 64 << 10
	startTimeout   = 10 * time.Second
	mediaPath      = "/twilio/media"
	statusPath     = "/twilio/status"
)

var upgrader = websocket.Upgrader{
	ReadBufferSize:    1024,
	WriteBufferSize:   1024,
	HandshakeTimeout:  10 * time.Second,
	EnableCompression: false,
	// Twilio sends no Origin; the signature, not the origin, authenticates.
	CheckOrigin: func(*http.Request) bool { return true },
}

// publicURL is the URL Twilio requested for r, rebuilt from the configured
// public base URL because a proxy in front of us changes scheme and host.
func (s *Server) publicURL(r *http.Request, scheme string) string {
	u := *s.public
	if scheme != "" {
		u.Scheme = scheme
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + r.URL.Path
	u.RawQuery = r.URL.RawQuery
	return u.String()
}

// checkSignature checks X-Twilio-Signature against each URL Twilio may have
// signed for this request.
func (s *Server) checkSignature(r *http.Request, params map[string]string, urls ...string) error {
	sig := r.Header.Get("X-Twilio-Signature")
	if sig == "" {
		s.metrics.rejected.WithLabelValues("unsigned").Inc()
		return errorf(http.StatusForbidden, "forbidden", "missing X-Twilio-Signature", nil)
	}
	for _, u := range urls {
		if s.validator.Validate(u, params, sig) {
			return nil
		}
	}
	s.metrics.rejected.WithLabelValues("bad_signature").Inc()
	return errorf(http.StatusForbidden, "forbidden", "invalid X-Twilio-Signature", nil)
}

func formParams(r *http.Request) (map[string]string, error) {
	r.Body = http.MaxBytesReader(nil, r.Body, maxWebhookBody)
	if err := r.ParseForm(); err != nil {
		return nil, errorf(http.StatusBadRequest, "bad_request", "invalid form body", err)
	}
	params := make(map[string]string, len(r.PostForm))
	for k, v := range r.PostForm {
		if len(v) > 0 {
			params[k] = v[0]
		}
	}
	return params, nil
}

func writeTwiML(w http.ResponseWriter, verbs ...twiml.Element) error {
	doc, err := twiml.Voice(verbs)
	if err != nil {
		return fmt.Errorf("build TwiML: %w", err)
	}
	w.Header().Set("Content-Type", "application/xml")
	_, _ = w.Write([]byte(doc))
	return nil
}

// handleVoice answers Twilio's incoming-call webhook with a bidirectional
// stream to this server, carrying the business and a token bound to the call.
func (s *Server) handleVoice(w http.ResponseWriter, r *http.Request) error {
	params, err := formParams(r)
	if err != nil {
		return err
	}
	if err := s.checkSignature(r, params, s.publicURL(r, "")); err != nil {
		return err
	}
	callSID, to := params["CallSid"], params["To"]
	log := s.log.With("call_sid", callSID)
	if callSID == "" {
		return errorf(http.StatusBadRequest, "bad_request", "CallSid is required", nil)
	}
	if s.draining.Load() {
		// 503 makes Twilio use the number's fallback URL (another node).
		w.Header().Set("Retry-After", "1")
		return errorf(http.StatusServiceUnavailable, "draining", "this node is shutting down", nil)
	}
	biz, ok := s.businessByNumber(r.Context(), to)
	if !ok {
		log.Warn("call to unknown number", "to", redactNumber(to))
		return writeTwiML(w,
			twiml.VoiceSay{Message: "Sorry, this number is not in service. Goodbye."},
			twiml.VoiceHangup{})
	}
	s.prewarm(biz)
	token := s.tokens.issue(biz.ID, callSID, s.now())
	stream := twiml.VoiceStream{
		Url:                  s.streamURL(),
		StatusCallback:       s.absURL(statusPath),
		StatusCallbackMethod: "POST",
		InnerElements: []twiml.Element{
			twiml.VoiceParameter{Name: "business", Value: biz.ID},
			twiml.VoiceParameter{Name: "token", Value: token},
			twiml.VoiceParameter{Name: "from", Value: params["From"]},
		},
	}
	log.Info("incoming call", "business", biz.ID)
	return writeTwiML(w, twiml.VoiceConnect{InnerElements: []twiml.Element{stream}})
}

// streamURL is the wss:// (ws:// for a plain-http dev server) stream URL.
func (s *Server) streamURL() string {
	u := *s.public
	u.Scheme = "wss"
	if s.public.Scheme == "http" {
		u.Scheme = "ws"
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + mediaPath
	return u.String()
}

func (s *Server) absURL(path string) string {
	u := *s.public
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	return u.String()
}

// handleStreamStatus records Twilio's stream status callbacks.
func (s *Server) handleStreamStatus(w http.ResponseWriter, r *http.Request) error {
	params, err := formParams(r)
	if err != nil {
		return err
	}
	if err := s.checkSignature(r, params, s.publicURL(r, "")); err != nil {
		return err
	}
	ev := params["StreamEvent"]
	switch ev {
	case "stream-started", "stream-stopped", "stream-error":
	default:
		ev = "other"
	}
	s.metrics.streamEvents.WithLabelValues(ev).Inc()
	s.log.Info("twilio stream event", "event", params["StreamEvent"], "call_sid", params["CallSid"],
		"stream_sid", params["StreamSid"], "error", params["StreamError"])
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleMedia terminates a Media Streams WebSocket. The upgrade's signature
// is checked before upgrading and the call token before any call state.
func (s *Server) handleMedia(w http.ResponseWriter, r *http.Request) error {
	// Twilio signs the upgrade with the stream URL as the TwiML gave it
	// (wss://); accept its https:// form too, as Twilio's libraries do.
	if err := s.checkSignature(r, nil, s.streamURL(), s.publicURL(r, "")); err != nil {
		return err
	}
	if s.draining.Load() {
		return errorf(http.StatusServiceUnavailable, "draining", "this node is shutting down", nil)
	}
	if max := s.cfg.Server.MaxCalls; max > 0 && s.ActiveCalls() >= max {
		s.metrics.rejected.WithLabelValues("capacity").Inc()
		w.Header().Set("Retry-After", "1")
		return errorf(http.StatusServiceUnavailable, "busy", "too many calls", nil)
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return nil // Upgrade has replied to the client already.
	}
	ctx, cancel := context.WithTimeout(s.callsCtx, startTimeout)
	tap := &recorderTap{log: s.log}
	sess, err := twilio.Accept(ctx, conn, twilio.SessionOptions{Metrics: s.metrics, Logger: s.log, Sent: tap.sent})
	cancel()
	if err != nil {
		s.metrics.rejected.WithLabelValues("no_start").Inc()
		s.log.Warn("media stream ended before start", "err", err)
		return nil
	}
	st := sess.Start()
	biz, ok := s.businessByID(r.Context(), st.CustomParameters["business"])
	if !ok || s.tokens.check(st.CustomParameters["token"], biz.ID, st.CallSID, s.now()) != nil {
		s.metrics.rejected.WithLabelValues("bad_token").Inc()
		s.log.Warn("media stream with invalid call token", "call_sid", st.CallSID, "stream_sid", st.StreamSID)
		sess.CloseWith(websocket.ClosePolicyViolation, "invalid call token")
		return nil
	}
	c := s.newCall(biz, "twilio", st.CallSID, st.CustomParameters["from"], sess)
	if c == nil {
		sess.CloseWith(websocket.CloseTryAgainLater, "server shutting down")
		return nil
	}
	tap.attach(c.data)
	err = c.Run(s.callsCtx)
	if err != nil && !errors.Is(err, context.Canceled) {
		c.log.Warn("call ended with error", "err", err)
	}
	return nil
}
