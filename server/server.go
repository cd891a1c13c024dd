package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/frontdesk/frontdesk/configs"
	"github.com/frontdesk/frontdesk/live"
	"github.com/frontdesk/frontdesk/media/twilio"
)

// Server is one Frontdesk node. New builds it and starts nothing; Run serves
// until its context ends, then drains. Safe for concurrent use.
type Server struct {
	// immutable after New
	cfg        *configs.Config
	log        *slog.Logger
	public     *url.URL
	validator  *twilio.Validator
	tokens     *streamTokens
	metrics    *metrics
	handler    http.Handler
	now        func() time.Time
	rtc        *rtcServer // WebRTC signaling (webrtc.go)
	hub        *live.Hub  // supervisors' live hub (live*.go)
	liveTokens *liveTokens
	liveCtx    context.Context // parent of supervisor WebSockets; ends when Serve stops the hub
	liveStop   context.CancelFunc
	callsAPI   twilioREST // Twilio's Calls API for transfers (actions.go)

	// callsCtx is the parent of every call; Force cancels it.
	callsCtx context.Context
	force    context.CancelFunc

	draining atomic.Bool
	calls    sync.WaitGroup

	mu   sync.Mutex
	live map[string]*call // guarded by mu; by call ID

	api      apiState      // the /v1 API: store, businesses, SMS (api.go)
	agent    agentState    // the voice agent's shared engines (agent.go)
	calldata callDataState // recordings, transcripts, retention (calldata*.go)
	cluster  clusterState  // registry, heartbeats, relay with a Redis store (cluster.go)
	limits   limitState    // connection caps of the listener (limits.go)
}

// Option changes a Server built by New.
type Option func(*Server)

// WithClock replaces the wall clock (tests).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// New builds a server from a validated configuration.
func New(cfg *configs.Config, log *slog.Logger, opts ...Option) (*Server, error) {
	public, err := url.Parse(cfg.Server.PublicURL)
	if err != nil || (public.Scheme != "http" && public.Scheme != "https") || public.Host == "" {
		return nil, fmt.Errorf("server: public URL %q: must be an absolute http(s) URL", cfg.Server.PublicURL)
	}
	if cfg.Twilio.AuthToken == "" {
		return nil, errors.New("server: twilio auth token is empty")
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg:       cfg,
		log:       log,
		public:    public,
		validator: twilio.NewValidator(cfg.Twilio.AuthToken),
		tokens:    newStreamTokens(cfg.Twilio.AuthToken, time.Minute),
		metrics:   newMetrics(),
		now:       time.Now,
		callsCtx:  ctx,
		force:     cancel,
		live:      make(map[string]*call),
	}
	for _, o := range opts {
		o(s)
	}
	if err := s.setupCluster(); err != nil {
		return nil, err
	}
	if err := s.setupCallData(); err != nil {
		return nil, err
	}
	s.setupLive()
	lim := edgeLimits(cfg.Server.Limits)
	s.handler = limitBodies(s.forwardActions(s.routes()), int64(lim.MaxBody), lim.BodyTimeout)
	return s, nil
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /twilio/voice", s.handle(s.handleVoice))
	mux.Handle("POST /twilio/status", s.handle(s.handleStreamStatus))
	mux.Handle("GET /twilio/media", s.handle(s.handleMedia))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if s.draining.Load() {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	s.webrtcRoutes(mux)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	s.apiRoutes(mux)
	return mux
}

// Handler returns the server's HTTP handler (for tests and embedding).
func (s *Server) Handler() http.Handler { return s.handler }

// ActiveCalls returns the number of calls in progress.
func (s *Server) ActiveCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.live)
}

// Run listens on the configured address and serves until ctx ends; then it
// drains: new calls are refused and live calls may finish for up to the
// shutdown timeout (or until Force), after which they are cut.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("server: listen: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve is Run on a listener the caller opened.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	lim := edgeLimits(s.cfg.Server.Limits)
	ln = s.limitListener(ln)
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: lim.HeaderTimeout,
		IdleTimeout:       lim.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.log.Info("listening", "addr", ln.Addr().String(), "public_url", s.public.String(), "agent", s.cfg.Agent.Mode)
	// Files a crash left unfinished are repaired, their calls marked
	// interrupted, before the first new call.
	if ids, err := s.recoverCallData(ctx); err != nil {
		s.log.Error("recovering call data", "err", err)
	} else if len(ids) > 0 {
		s.log.Warn("recovered call data of interrupted calls", "calls", ids)
	}
	defer s.runHub()()
	retCtx, stopRetention := context.WithCancel(context.Background())
	retDone := make(chan error, 1)
	go func() { retDone <- s.runRetention(retCtx) }()
	defer func() {
		stopRetention()
		if err := <-retDone; err != nil && !errors.Is(err, context.Canceled) {
			s.log.Error("retention timers", "err", err)
		}
	}()
	// The node leaves the cluster after the drain: its calls have ended.
	clCtx, stopCluster := context.WithCancel(context.Background())
	clDone := make(chan error, 1)
	go func() { clDone <- s.runCluster(clCtx) }()
	defer func() {
		stopCluster()
		if err := <-clDone; err != nil {
			s.log.Error("cluster", "err", err)
		}
	}()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		s.Force()
		return fmt.Errorf("server: serve: %w", err)
	case <-ctx.Done():
	}
	s.Drain(s.cfg.Server.ShutdownTimeout)
	// Hijacked WebSockets are not tracked by Shutdown; calls are gone by now.
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
	}
	<-errc
	s.agent.background.Wait()
	s.agent.close()
	return nil
}

// Drain refuses new calls and waits for live ones to end, up to timeout or
// until Force; then it cuts the rest and waits for them to release.
func (s *Server) Drain(timeout time.Duration) {
	s.draining.Store(true)
	n := s.ActiveCalls()
	s.log.Info("draining", "live_calls", n, "timeout", timeout)
	done := make(chan struct{})
	go func() { s.calls.Wait(); close(done) }()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
		s.log.Warn("drain timeout: ending live calls", "live_calls", s.ActiveCalls())
	case <-s.callsCtx.Done():
		s.log.Warn("forced shutdown: ending live calls", "live_calls", s.ActiveCalls())
	}
	s.force()
	<-done
}

// Force ends every live call now. It is idempotent.
func (s *Server) Force() { s.force() }
