package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/frontdesk/frontdesk/cluster"
	"github.com/frontdesk/frontdesk/live"
	"github.com/frontdesk/frontdesk/store"
)

// clusterState is what cluster mode (a Redis store) adds to a Server.
// setupCluster fills it in New; it is immutable afterwards.
type clusterState struct {
	node  *cluster.Node  // nil on one node (SQLite)
	relay *cluster.Relay // carries live calls to supervisors on other nodes
}

// redisBacked is a store on Redis that lends its client (store/redis).
type redisBacked interface {
	Client() goredis.UniversalClient
	Prefix() string
}

// setupCluster puts the server in cluster mode when its store is Redis:
// a node in the live-call registry with heartbeats and a reaper, whose
// retention timers wake the other nodes' schedulers. It starts nothing.
func (s *Server) setupCluster() error {
	rs, ok := s.api.store.(redisBacked)
	if !ok {
		return nil
	}
	st := s.api.store
	id := s.cfg.Server.NodeID
	if id == "" {
		id = defaultNodeID(s.cfg.Server.Listen)
	}
	node, err := cluster.New(rs.Client(), cluster.Options{
		ID:        id,
		Prefix:    rs.Prefix(),
		Heartbeat: s.cfg.Store.Heartbeat,
		Timeout:   s.cfg.Store.NodeTimeout,
		Calls:     st.Calls(),
		Leases:    st.Leases(),
		Recover:   s.recoverDeadNode,
		Timers:    s.wakeRetention,
		Announce:  s.announceRemote,
		Gone:      s.goneRemote,
		Serve:     s.serveForwarded,
		Log:       s.log.With("component", "cluster"),
	})
	if err != nil {
		return err
	}
	s.cluster.node = node
	s.api.store = notifyingStore{Store: st, node: node}
	// The live hub names this node in its calls and asks the relay for
	// calls of other nodes (a hub given with WithLiveHub is used as is).
	s.cluster.relay = cluster.NewRelay(node)
	if s.hub == nil {
		s.hub = live.NewHub(live.Options{Node: id, Remote: s.cluster.relay.Remote})
	}
	s.cluster.relay.SetHub(s.hub)
	return nil
}

// announceRemote shows a call of another node in /v1/live.
func (s *Server) announceRemote(c cluster.Call) {
	s.hub.Announce(live.Info{ID: c.ID, Business: c.Business, Transport: c.Transport, From: c.From,
		StartedAt: c.StartedAt, State: live.StateListening, Node: c.Node})
}

// goneRemote removes a call of another node from /v1/live.
func (s *Server) goneRemote(id, outcome string) { s.hub.Gone(id, outcome) }

// defaultNodeID is the host name and the listen port (random when the
// port is chosen by the system).
func defaultNodeID(listen string) string {
	host, _ := os.Hostname()
	if host == "" {
		host = "node"
	}
	_, port, _ := net.SplitHostPort(listen)
	if port == "" || port == "0" {
		var b [3]byte
		_, _ = rand.Read(b[:])
		port = hex.EncodeToString(b[:])
	}
	id := host + ":" + port
	if len(id) > 64 {
		id = id[len(id)-64:]
	}
	return id
}

// NodeID returns the server's node ID in a cluster, "" on one node.
func (s *Server) NodeID() string {
	if s.cluster.node == nil {
		return ""
	}
	return s.cluster.node.ID()
}

// runCluster keeps the node in the cluster and serves its calls to the
// other nodes' supervisors until ctx ends (see cluster.Node.Run and
// cluster.Relay.Run); without a cluster it returns at once.
func (s *Server) runCluster(ctx context.Context) error {
	if s.cluster.node == nil {
		return nil
	}
	relayDone := make(chan error, 1)
	go func() { relayDone <- s.cluster.relay.Run(ctx) }()
	err := s.cluster.node.Run(ctx)
	return errors.Join(err, <-relayDone)
}

// clusterRegister puts a call that started in the live-call registry.
// It never waits on Redis.
func (s *Server) clusterRegister(c *call, from string) {
	if s.cluster.node == nil {
		return
	}
	s.cluster.node.Register(cluster.Call{ID: c.id, Business: c.business.ID, Transport: c.transport,
		From: e164OrEmpty(from), StartedAt: c.started})
}

// clusterUnregister removes a call that ended from the registry.
func (s *Server) clusterUnregister(id, outcome string) {
	if s.cluster.node != nil {
		s.cluster.node.Unregister(id, outcome)
	}
}

// recoverDeadNode runs on the node that reaps a dead one: the dead node's
// files in the shared directories are unlocked now (the kernel dropped
// its locks), so they are finished and their calls marked interrupted
// with the end their files show, as at a start-up.
func (s *Server) recoverDeadNode(ctx context.Context, node string, callIDs []string) {
	ids, err := s.recoverCallData(ctx)
	if err != nil {
		s.log.Error("recovering a dead node's call data", "dead_node", node, "err", err)
		return
	}
	if len(ids) > 0 {
		s.log.Warn("recovered a dead node's call data", "dead_node", node, "calls", ids)
	}
}

// wakeRetention makes the retention scheduler look at the store again:
// another node scheduled a timer.
func (s *Server) wakeRetention() {
	if err := s.setupCallData(); err == nil && s.cdState().sched != nil {
		s.cdState().sched.Wake()
	}
}

// notifyingStore tells the other nodes when a retention timer is
// scheduled or moved, so that every node's scheduler wakes for it and
// the first to take its lease fires it.
type notifyingStore struct {
	store.Store
	node *cluster.Node
}

func (n notifyingStore) Timers() store.Timers {
	return notifyingTimers{Timers: n.Store.Timers(), node: n.node}
}

type notifyingTimers struct {
	store.Timers
	node *cluster.Node
}

func (n notifyingTimers) Schedule(ctx context.Context, t store.Timer) error {
	if err := n.Timers.Schedule(ctx, t); err != nil {
		return err
	}
	n.node.TimersChanged()
	return nil
}

func (n notifyingTimers) Reschedule(ctx context.Context, id string, due time.Time) error {
	if err := n.Timers.Reschedule(ctx, id, due); err != nil {
		return err
	}
	n.node.TimersChanged()
	return nil
}

// forwardedKey marks a request another node forwarded here, so that it is
// never forwarded again.
type forwardedKey struct{}

// actionPath reports whether r is a supervisor's action on a call
// (POST /v1/calls/{id}/whisper|transfer|hangup) and returns the call ID.
func actionPath(r *http.Request) (string, bool) {
	if r.Method != http.MethodPost {
		return "", false
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1/calls/")
	if !ok {
		return "", false
	}
	id, action, ok := strings.Cut(rest, "/")
	if !ok || !store.ValidCallID(id) {
		return "", false
	}
	switch action {
	case "whisper", "transfer", "hangup":
		return id, true
	}
	return "", false
}

// forwardActions sends a supervisor's action on a call of another node to
// that node (over Redis), which authenticates it again and acts; its
// answer is this request's. Everything else goes to next.
func (s *Server) forwardActions(next http.Handler) http.Handler {
	if s.cluster.node == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := actionPath(r)
		if !ok || r.Context().Value(forwardedKey{}) != nil || r.Header.Get("Authorization") == "" {
			next.ServeHTTP(w, r)
			return
		}
		s.mu.Lock()
		_, local := s.live[id]
		s.mu.Unlock()
		if local {
			next.ServeHTTP(w, r)
			return
		}
		c, err := s.cluster.node.Lookup(r.Context(), id)
		if err != nil || c.Node == s.cluster.node.ID() {
			next.ServeHTTP(w, r) // not live anywhere: the handler answers 404
			return
		}
		s.handle(func(w http.ResponseWriter, r *http.Request) error {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
			if err != nil {
				return errorf(http.StatusRequestEntityTooLarge, "too_large", "request body too large", err)
			}
			rep, err := s.cluster.node.Forward(r.Context(), c.Node, cluster.Request{Method: r.Method, Path: r.URL.RequestURI(),
				Authorization: r.Header.Get("Authorization"), ContentType: r.Header.Get("Content-Type"), Body: body})
			if err != nil {
				return errorf(http.StatusBadGateway, "node_unreachable", "the node of this call does not answer", err)
			}
			if rep.ContentType != "" {
				w.Header().Set("Content-Type", rep.ContentType)
			}
			w.WriteHeader(rep.Status)
			_, _ = w.Write(rep.Body)
			return nil
		}).ServeHTTP(w, r)
	})
}

// serveForwarded runs a request another node forwarded through this
// node's own handler (authentication included).
func (s *Server) serveForwarded(ctx context.Context, req cluster.Request) cluster.Reply {
	if _, ok := actionPath(&http.Request{Method: req.Method, URL: &url.URL{Path: strings.SplitN(req.Path, "?", 2)[0]}}); !ok {
		return cluster.Reply{Status: http.StatusNotFound}
	}
	r, err := http.NewRequestWithContext(context.WithValue(ctx, forwardedKey{}, true), req.Method, req.Path, bytes.NewReader(req.Body))
	if err != nil {
		return cluster.Reply{Status: http.StatusBadRequest}
	}
	r.Header.Set("Authorization", req.Authorization)
	if req.ContentType != "" {
		r.Header.Set("Content-Type", req.ContentType)
	}
	r.RemoteAddr = "127.0.0.1:0" // another node of the cluster
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	s.handler.ServeHTTP(rec, r)
	return cluster.Reply{Status: rec.status, ContentType: rec.header.Get("Content-Type"), Body: rec.body.Bytes()}
}

// recorder is the ResponseWriter of a forwarded request.
type recorder struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	if r.body.Len()+len(b) > 64<<10 {
		return 0, errors.New("server: forwarded reply too large")
	}
	return r.body.Write(b)
}
