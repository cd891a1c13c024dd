package cluster

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/store/redis"
	"github.com/frontdesk/frontdesk/store/redis/redistest"
)

// Short heartbeats keep the tests fast; every wait below polls with a
// generous deadline, never a fixed sleep that a loaded machine could miss.
const (
	testBeat    = 50 * time.Millisecond
	testTimeout = 300 * time.Millisecond
)

// countingCalls counts the calls the reapers actually changed.
type countingCalls struct {
	store.Calls
	marked atomic.Int32
}

func (c *countingCalls) Update(ctx context.Context, biz, id string, change func(*store.Call) error) (store.Call, error) {
	var did bool
	out, err := c.Calls.Update(ctx, biz, id, func(cl *store.Call) error {
		before := cl.Outcome
		err := change(cl)
		did = before == "" && cl.Outcome == store.OutcomeInterrupted
		return err
	})
	if err == nil && did {
		c.marked.Add(1)
	}
	return out, err
}

// peerLog records what a node heard about other nodes' calls.
type peerLog struct {
	mu     sync.Mutex
	live   map[string]Call
	ended  map[string]string
	timers int
}

func newPeerLog() *peerLog { return &peerLog{live: map[string]Call{}, ended: map[string]string{}} }

func (p *peerLog) opts(o Options) Options {
	o.Announce = func(c Call) { p.mu.Lock(); p.live[c.ID] = c; p.mu.Unlock() }
	o.Gone = func(id, outcome string) { p.mu.Lock(); delete(p.live, id); p.ended[id] = outcome; p.mu.Unlock() }
	o.Timers = func() { p.mu.Lock(); p.timers++; p.mu.Unlock() }
	return o
}

func (p *peerLog) has(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.live[id]
	return ok
}
func (p *peerLog) endedAs(id string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	o, ok := p.ended[id]
	return o, ok
}

type testNode struct {
	*Node
	client *goredis.Client
	cancel context.CancelFunc
	done   chan struct{}
}

func startNode(t testing.TB, addr, id string, calls Calls, o Options) *testNode {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1})
	st := redis.New(c, redis.Options{Prefix: "t:"})
	o.ID, o.Prefix, o.Heartbeat, o.Timeout = id, "t:", testBeat, testTimeout
	o.Calls, o.Leases = calls, st.Leases()
	if o.Calls == nil {
		o.Calls = st.Calls()
	}
	o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	n, err := New(c, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tn := &testNode{Node: n, client: c, cancel: cancel, done: make(chan struct{})}
	go func() { defer close(tn.done); _ = n.Run(ctx) }()
	t.Cleanup(func() { tn.stop(); _ = c.Close() })
	return tn
}

// stop ends Run (a clean shutdown) and waits for it.
func (n *testNode) stop() { n.cancel(); <-n.done }

// kill makes the node die as a killed process would: its connection goes
// away first, so nothing it does on the way out reaches Redis.
func (n *testNode) kill() { _ = n.client.Close(); n.stop() }

func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func createCall(t *testing.T, st *redis.Store, id string) {
	t.Helper()
	if _, err := st.Calls().Create(context.Background(), "clinic", store.Call{ID: id, Transport: store.TransportTwilio}); err != nil {
		t.Fatal(err)
	}
}

func TestCallsSeenAcrossNodes(t *testing.T) {
	addr := redistest.Start(t)
	peersB := newPeerLog()
	a := startNode(t, addr, "node-a", nil, Options{})
	b := startNode(t, addr, "node-b", nil, peersB.opts(Options{}))

	a.Register(Call{ID: "call_1", Business: "clinic", Transport: "twilio", StartedAt: time.Now()})
	waitUntil(t, "node B to hear of call_1", func() bool { return peersB.has("call_1") })
	c, err := b.Lookup(context.Background(), "call_1")
	if err != nil || c.Node != "node-a" || c.Business != "clinic" {
		t.Fatalf("B looks up call_1: %+v, %v; want it on node-a for clinic", c, err)
	}
	if live, err := b.Live(context.Background(), "other"); err != nil || len(live) != 0 {
		t.Errorf("live calls of another business: %+v, %v; want none", live, err)
	}

	a.TimersChanged()
	waitUntil(t, "node B to hear of a timer", func() bool { peersB.mu.Lock(); defer peersB.mu.Unlock(); return peersB.timers > 0 })

	a.Unregister("call_1", "completed")
	waitUntil(t, "node B to hear call_1 ended", func() bool { o, ok := peersB.endedAs("call_1"); return ok && o == "completed" })
	if _, err := b.Lookup(context.Background(), "call_1"); err != ErrNotLive {
		t.Errorf("B looks up an ended call: %v, want ErrNotLive", err)
	}
}

// TestDeadNodeCallsInterruptedOnce kills a node with two live calls while
// two other nodes watch: the calls are marked interrupted exactly once,
// leave the registry, and the survivors hear they ended.
func TestDeadNodeCallsInterruptedOnce(t *testing.T) {
	addr := redistest.Start(t)
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	st := redis.New(c, redis.Options{Prefix: "t:"})
	counted := &countingCalls{Calls: st.Calls()}
	peersB := newPeerLog()
	a := startNode(t, addr, "node-a", nil, Options{})
	b := startNode(t, addr, "node-b", counted, peersB.opts(Options{}))
	startNode(t, addr, "node-c", counted, Options{})

	for _, id := range []string{"call_x", "call_y"} {
		createCall(t, st, id)
		a.Register(Call{ID: id, Business: "clinic", Transport: "twilio", StartedAt: time.Now()})
	}
	createCall(t, st, "call_done")
	waitUntil(t, "B to see both calls", func() bool { return peersB.has("call_x") && peersB.has("call_y") })
	killed := time.Now()
	a.kill()

	waitUntil(t, "both calls interrupted", func() bool {
		for _, id := range []string{"call_x", "call_y"} {
			cl, err := st.Calls().Get(context.Background(), "clinic", id)
			if err != nil || cl.Outcome != store.OutcomeInterrupted {
				return false
			}
		}
		return true
	})
	for _, id := range []string{"call_x", "call_y"} {
		cl, _ := st.Calls().Get(context.Background(), "clinic", id)
		if cl.EndedAt.IsZero() || cl.EndedAt.After(killed.Add(time.Second)) {
			t.Errorf("%s ended at %v; want about the last heartbeat before the kill at %v", id, cl.EndedAt, killed)
		}
		waitUntil(t, "B to hear "+id+" ended", func() bool { o, ok := peersB.endedAs(id); return ok && o == "interrupted" })
	}
	// Give the reapers more beats: nothing may be marked twice.
	time.Sleep(5 * testTimeout)
	if got := counted.marked.Load(); got != 2 {
		t.Errorf("calls marked interrupted %d times, want 2 (once each)", got)
	}
	if cl, _ := st.Calls().Get(context.Background(), "clinic", "call_done"); cl.Outcome != "" {
		t.Errorf("a call of no node got outcome %q", cl.Outcome)
	}
	if live, err := b.Live(context.Background(), ""); err != nil || len(live) != 0 {
		t.Errorf("registry after the reap: %+v, %v; want empty", live, err)
	}
	if n, _ := c.HExists(context.Background(), "t:cluster:nodes", "node-a").Result(); n {
		t.Error("the dead node is still listed")
	}
}

// TestRestartedNodeReapsItsPreviousLife: a node that comes back under the
// same ID before anyone reaped it marks its old calls interrupted itself.
func TestRestartedNodeReapsItsPreviousLife(t *testing.T) {
	addr := redistest.Start(t)
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	st := redis.New(c, redis.Options{Prefix: "t:"})
	a := startNode(t, addr, "node-a", nil, Options{})
	createCall(t, st, "call_old")
	a.Register(Call{ID: "call_old", Business: "clinic", Transport: "twilio", StartedAt: time.Now()})
	waitUntil(t, "call registered", func() bool { _, err := a.Lookup(context.Background(), "call_old"); return err == nil })
	waitUntil(t, "call written", func() bool {
		n, _ := c.SCard(context.Background(), "t:cluster:node-calls:node-a").Result()
		return n == 1
	})
	a.kill()
	startNode(t, addr, "node-a", nil, Options{})
	waitUntil(t, "old call interrupted", func() bool {
		cl, err := st.Calls().Get(context.Background(), "clinic", "call_old")
		return err == nil && cl.Outcome == store.OutcomeInterrupted
	})
}

// TestRedisOutageReapsNobody stops Redis for longer than the node timeout
// under two nodes with live calls: every heartbeat lapses, yet when Redis
// is back neither node takes the other for dead.
func TestRedisOutageReapsNobody(t *testing.T) {
	srv := redistest.StartServer(t)
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr})
	defer c.Close()
	st := redis.New(c, redis.Options{Prefix: "t:"})
	counted := &countingCalls{Calls: st.Calls()}
	a := startNode(t, srv.Addr, "node-a", counted, Options{})
	peersB := newPeerLog()
	b := startNode(t, srv.Addr, "node-b", counted, peersB.opts(Options{}))
	createCall(t, st, "call_a")
	a.Register(Call{ID: "call_a", Business: "clinic", Transport: "twilio", StartedAt: time.Now()})
	waitUntil(t, "B to see call_a", func() bool { return peersB.has("call_a") })

	srv.Stop()
	time.Sleep(3 * testTimeout) // every heartbeat key is past its TTL
	srv.Restart()
	// A call that starts during the outage's aftermath is registered too.
	createCall(t, st, "call_b")
	b.Register(Call{ID: "call_b", Business: "clinic", Transport: "twilio", StartedAt: time.Now()})
	waitUntil(t, "both calls in the registry", func() bool {
		live, err := a.Live(context.Background(), "clinic")
		return err == nil && len(live) == 2
	})
	time.Sleep(5 * testTimeout) // reapers have looked several times
	if got := counted.marked.Load(); got != 0 {
		t.Errorf("%d live calls marked interrupted after a Redis outage, want 0", got)
	}
	if _, ended := peersB.endedAs("call_a"); ended {
		t.Error("B was told call_a ended")
	}
	_ = b
}

func TestForward(t *testing.T) {
	addr := redistest.Start(t)
	a := startNode(t, addr, "node-a", nil, Options{Serve: func(ctx context.Context, req Request) Reply {
		return Reply{Status: 202, ContentType: "text/plain", Body: []byte(req.Method + " " + req.Path + " " + req.Authorization + " " + string(req.Body))}
	}})
	b := startNode(t, addr, "node-b", nil, Options{})
	var rep Reply
	waitUntil(t, "node A to answer", func() bool {
		var err error
		rep, err = b.Forward(context.Background(), "node-a", Request{Method: "POST", Path: "/v1/calls/x/hangup", Authorization: "Bearer k", Body: []byte("{}")})
		return err == nil
	})
	if rep.Status != 202 || string(rep.Body) != "POST /v1/calls/x/hangup Bearer k {}" {
		t.Errorf("reply %d %q", rep.Status, rep.Body)
	}
	if _, err := b.Forward(context.Background(), "node-gone", Request{Method: "POST", Path: "/"}); err != ErrNoNode {
		t.Errorf("forward to a node that is not there: %v, want ErrNoNode", err)
	}
	_ = a
}
