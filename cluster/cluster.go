// Package cluster lets several Frontdesk nodes behind one load balancer,
// sharing one Redis, act as one service.
//
// A Node keeps this process's membership: a heartbeat key with a TTL
// (Options.Timeout) renewed every Options.Heartbeat, and a registry of the
// calls live on it. Every node runs a reaper: when a node's heartbeat key
// has lapsed, one node (the holder of a store lease named after the dead
// node) marks the dead node's live calls interrupted in the store and
// removes them from the registry, exactly once. A node that comes back
// under the same ID first reaps what its previous life left.
//
// Nothing here is on a call's media path: Register and Unregister only
// note the change under a mutex and wake the Node's own goroutine, which
// writes to Redis and retries until Redis answers. A node whose writes
// failed reaps nobody until it has been connected again for a whole
// Timeout, so that a Redis outage that let every heartbeat lapse does not
// make the nodes declare each other dead.
//
// Nodes tell each other about calls starting and ending, and about
// retention timers scheduled, over one pub/sub channel; each heartbeat
// also re-reads the registry, so a message lost during an outage is made
// good within one heartbeat. Relay (relay.go) carries supervisor audio
// and events of live calls between nodes.
//
// Redis layout, under the store's key prefix P:
//
//	P cluster:node:<id>        the node's heartbeat (JSON NodeInfo), expires after Timeout
//	P cluster:nodes            hash: node ID → its last heartbeat (Unix ms), until reaped
//	P cluster:calls            hash: call ID → Call (JSON), the live calls of every node
//	P cluster:node-calls:<id>  set: the IDs of node id's live calls
//	P cluster:events           pub/sub channel: calls started and ended, timers scheduled
package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
)

// Defaults of Options.
const (
	DefaultHeartbeat = 2 * time.Second
	DefaultTimeout   = 6 * time.Second
)

// Call is a live call in the registry. It is a plain value.
type Call struct {
	ID        string    `json:"id"`
	Business  string    `json:"business"`
	Node      string    `json:"node"`
	Transport string    `json:"transport"`
	From      string    `json:"from,omitempty"`
	StartedAt time.Time `json:"started_at"`
}

// NodeInfo is what a node's heartbeat key holds.
type NodeInfo struct {
	ID      string    `json:"id"`
	Started time.Time `json:"started"`
	Beat    time.Time `json:"beat"`
}

// Calls is the part of the store the reaper writes (store.Calls).
type Calls interface {
	Lookup(ctx context.Context, id string) (store.Call, error)
	Update(ctx context.Context, businessID, id string, change func(*store.Call) error) (store.Call, error)
}

// Options configure a Node. Calls, Leases and ID are required.
type Options struct {
	// ID names this node; unique in the cluster.
	ID string
	// Prefix starts every key (the store's prefix). Default "fd:".
	Prefix string
	// Heartbeat is how often the node renews its presence. Default 2s.
	Heartbeat time.Duration
	// Timeout is how long a heartbeat lasts: a node silent for longer is
	// dead. Default 6s; at least twice Heartbeat.
	Timeout time.Duration
	// Calls and Leases are the shared store's.
	Calls  Calls
	Leases store.Leases
	// Recover, if set, runs on the node that reaps a dead node, before
	// its calls are marked: the server finishes the dead node's files in
	// the shared directories (and marks their calls with the files' end).
	Recover func(ctx context.Context, node string, callIDs []string)
	// Announce and Gone, if set, hear about the live calls of the other
	// nodes (for the live-calls list): Announce once per call, Gone when
	// it ended (outcome may be "" when it is not known).
	Announce func(Call)
	Gone     func(id, outcome string)
	// Timers, if set, is called when another node scheduled a retention
	// timer: the local scheduler should look at the store again.
	Timers func()
	// Serve, if set, answers requests other nodes forward to this one
	// (see Forward): supervisors' actions on this node's calls.
	Serve func(ctx context.Context, req Request) Reply
	// Log receives the node's reports. Default slog.Default().
	Log *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Node is this process's place in the cluster. New builds it; Run keeps
// it alive. Register, Unregister, TimersChanged, Lookup and Live are safe
// for concurrent use, before, during and after Run.
type Node struct {
	// immutable
	c       goredis.UniversalClient
	opts    Options
	log     *slog.Logger
	started time.Time
	kick    chan struct{} // capacity 1: changes to write

	mu      sync.Mutex
	local   map[string]Call   // guarded by mu: this node's live calls
	added   map[string]bool   // guarded by mu: registered, not yet written
	removed map[string]string // guarded by mu: ended (ID → outcome), not yet written
	timers  bool              // guarded by mu: a timer-scheduled message to send
	remote  map[string]Call   // guarded by mu: other nodes' calls told to Announce

	// owned by Run's heartbeat loop
	healthySince time.Time // zero while Redis does not answer
	lastFull     time.Time // the last full beat that Redis took
	outage       bool      // an outage was logged
}

// New returns a node on c. It starts nothing.
func New(c goredis.UniversalClient, opts Options) (*Node, error) {
	if opts.ID == "" || opts.Calls == nil || opts.Leases == nil {
		return nil, errors.New("cluster: node needs an ID, Calls and Leases")
	}
	if opts.Prefix == "" {
		opts.Prefix = "fd:"
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = DefaultHeartbeat
	}
	if opts.Timeout <= 0 {
		opts.Timeout = max(DefaultTimeout, 3*opts.Heartbeat)
	}
	if opts.Timeout < 2*opts.Heartbeat {
		return nil, fmt.Errorf("cluster: timeout %s must be at least twice the heartbeat %s", opts.Timeout, opts.Heartbeat)
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Node{
		c: c, opts: opts, log: opts.Log.With("node", opts.ID), started: opts.Now(),
		kick:  make(chan struct{}, 1),
		local: map[string]Call{}, added: map[string]bool{}, removed: map[string]string{}, remote: map[string]Call{},
	}, nil
}

// ID returns the node's ID.
func (n *Node) ID() string { return n.opts.ID }

func (n *Node) key(parts ...string) string {
	k := n.opts.Prefix + "cluster"
	for _, p := range parts {
		k += ":" + p
	}
	return k
}

func (n *Node) nodeKey(id string) string   { return n.key("node", id) }
func (n *Node) callsOf(id string) string   { return n.key("node-calls", id) }
func (n *Node) nodesKey() string           { return n.key("nodes") }
func (n *Node) callsKey() string           { return n.key("calls") }
func (n *Node) eventsChannel() string      { return n.key("events") }
func (n *Node) reapLease(id string) string { return "cluster:reap:" + id }

func (n *Node) wake() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// Register adds a call live on this node to the registry. It never
// waits on Redis.
func (n *Node) Register(c Call) {
	c.Node = n.opts.ID
	n.mu.Lock()
	n.local[c.ID] = c
	n.added[c.ID] = true
	delete(n.removed, c.ID)
	n.mu.Unlock()
	n.wake()
}

// Unregister removes a call that ended from the registry. It never
// waits on Redis.
func (n *Node) Unregister(id, outcome string) {
	n.mu.Lock()
	if _, ok := n.local[id]; !ok {
		n.mu.Unlock()
		return
	}
	delete(n.local, id)
	if n.added[id] {
		delete(n.added, id) // never written: nothing to remove
	} else {
		n.removed[id] = outcome
	}
	n.mu.Unlock()
	n.wake()
}

// TimersChanged tells the other nodes that a retention timer was
// scheduled, so that their schedulers look at the store again.
func (n *Node) TimersChanged() {
	n.mu.Lock()
	n.timers = true
	n.mu.Unlock()
	n.wake()
}

// ErrNotLive means a call is not live on any node.
var ErrNotLive = errors.New("cluster: call not live")

// Lookup returns a live call of any node from the registry.
func (n *Node) Lookup(ctx context.Context, id string) (Call, error) {
	n.mu.Lock()
	c, ok := n.local[id]
	n.mu.Unlock()
	if ok {
		return c, nil
	}
	raw, err := n.c.HGet(ctx, n.callsKey(), id).Result()
	if errors.Is(err, goredis.Nil) {
		return Call{}, ErrNotLive
	}
	if err != nil {
		return Call{}, fmt.Errorf("cluster: look up call %s: %w", id, err)
	}
	c, err = decodeCall(raw)
	if err != nil || c.ID != id {
		return Call{}, fmt.Errorf("cluster: look up call %s: bad registry entry", id)
	}
	return c, nil
}

// Live returns the live calls of every node (of business, or all when
// business is ""), from the registry.
func (n *Node) Live(ctx context.Context, business string) ([]Call, error) {
	all, err := n.c.HGetAll(ctx, n.callsKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("cluster: live calls: %w", err)
	}
	var out []Call
	for _, raw := range all {
		c, err := decodeCall(raw)
		if err != nil {
			continue
		}
		if business == "" || c.Business == business {
			out = append(out, c)
		}
	}
	return out, nil
}

func decodeCall(raw string) (Call, error) {
	var c Call
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return Call{}, err
	}
	if !store.ValidCallID(c.ID) || c.Node == "" {
		return Call{}, errors.New("incomplete call")
	}
	return c, nil
}

func encode(v any) string {
	b, _ := json.Marshal(v) // strings and times always encode
	return string(b)
}

// event is a message on the events channel.
type event struct {
	Type    string `json:"type"` // "started", "ended", "timers"
	Node    string `json:"node"`
	Call    *Call  `json:"call,omitempty"`    // started
	ID      string `json:"id,omitempty"`      // ended
	Outcome string `json:"outcome,omitempty"` // ended
}

// Run keeps the node in the cluster until ctx ends: heartbeats, registry
// writes, the reaper and the events subscription. On the way out it
// leaves the cluster (its heartbeat and registry entries are removed), so
// call it after the node's calls have ended. It returns nil when ctx ends.
func (n *Node) Run(ctx context.Context) error {
	n.log.Info("cluster node started", "heartbeat", n.opts.Heartbeat, "timeout", n.opts.Timeout)
	subDone := make(chan struct{}, 2)
	go func() { defer func() { subDone <- struct{}{} }(); n.subscribe(ctx) }()
	go func() { defer func() { subDone <- struct{}{} }(); n.serveForwarded(ctx) }()
	// Calls a previous life of this node left in the registry died with it.
	if err := n.reap(ctx, n.opts.ID, true); err != nil && ctx.Err() == nil {
		n.log.Warn("cluster: reaping this node's previous life", "err", err)
	}
	t := time.NewTicker(n.opts.Heartbeat)
	defer t.Stop()
	full := true
	for {
		n.beat(ctx, full)
		if full && ctx.Err() == nil {
			n.reapDead(ctx)
			n.resync(ctx)
		}
		select {
		case <-ctx.Done():
			<-subDone
			<-subDone
			n.leave()
			return nil
		case <-t.C:
			full = true
		case <-n.kick:
			full = false
		}
	}
}

// beat writes what changed; a full beat renews the heartbeat and rewrites
// every local call (Redis may have lost them in a restart).
func (n *Node) beat(ctx context.Context, full bool) {
	now := n.opts.Now()
	n.mu.Lock()
	var added []Call
	for id := range n.added {
		added = append(added, n.local[id])
	}
	var all []Call
	if full {
		for _, c := range n.local {
			all = append(all, c)
		}
	}
	removed := make(map[string]string, len(n.removed))
	for id, o := range n.removed {
		removed[id] = o
	}
	timers := n.timers
	n.mu.Unlock()
	if !full && len(added) == 0 && len(removed) == 0 && !timers {
		return
	}
	// A beat that cannot reach Redis gives up before the heartbeat lapses
	// (go-redis would otherwise keep redialling).
	bctx, cancel := context.WithTimeout(ctx, n.opts.Timeout/2)
	defer cancel()
	_, err := n.c.Pipelined(bctx, func(p goredis.Pipeliner) error {
		ctx := bctx
		if full {
			p.Set(ctx, n.nodeKey(n.opts.ID), encode(NodeInfo{ID: n.opts.ID, Started: n.started, Beat: now}), n.opts.Timeout)
			p.HSet(ctx, n.nodesKey(), n.opts.ID, strconv.FormatInt(now.UnixMilli(), 10))
			for _, c := range all {
				p.HSet(ctx, n.callsKey(), c.ID, encode(c))
				p.SAdd(ctx, n.callsOf(n.opts.ID), c.ID)
			}
		}
		for _, c := range added {
			p.HSet(ctx, n.callsKey(), c.ID, encode(c))
			p.SAdd(ctx, n.callsOf(n.opts.ID), c.ID)
			c := c
			p.Publish(ctx, n.eventsChannel(), encode(event{Type: "started", Node: n.opts.ID, Call: &c}))
		}
		for id, o := range removed {
			p.HDel(ctx, n.callsKey(), id)
			p.SRem(ctx, n.callsOf(n.opts.ID), id)
			p.Publish(ctx, n.eventsChannel(), encode(event{Type: "ended", Node: n.opts.ID, ID: id, Outcome: o}))
		}
		if timers {
			p.Publish(ctx, n.eventsChannel(), encode(event{Type: "timers", Node: n.opts.ID}))
		}
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		n.healthySince = time.Time{}
		if !n.outage {
			n.outage = true
			n.log.Warn("cluster: Redis does not answer; calls go on, the registry catches up when it is back", "err", err)
		}
		return
	}
	end := n.opts.Now()
	if full {
		// A full beat later than two periods means this node could not
		// renew its heartbeat for a while (a slow or blocked Redis), and
		// so, maybe, could no other node: start counting again.
		if n.lastFull.IsZero() || end.Sub(n.lastFull) > 2*n.opts.Heartbeat {
			n.healthySince = time.Time{}
		}
		n.lastFull = end
	}
	if n.healthySince.IsZero() {
		n.healthySince = end
		if n.outage {
			n.outage = false
			n.log.Info("cluster: Redis answers again")
		}
	}
	n.mu.Lock()
	for _, c := range added {
		if n.local[c.ID] == c {
			delete(n.added, c.ID)
		}
	}
	for id := range removed {
		if _, again := n.local[id]; !again {
			delete(n.removed, id)
		}
	}
	if timers {
		n.timers = false
	}
	n.mu.Unlock()
}

// reapDead reaps every node whose heartbeat lapsed, once this node has
// itself been connected for a whole Timeout (so that the others had the
// time to renew theirs after an outage).
func (n *Node) reapDead(ctx context.Context) {
	if n.healthySince.IsZero() || n.opts.Now().Sub(n.healthySince) < n.opts.Timeout {
		return
	}
	nodes, err := n.c.HKeys(ctx, n.nodesKey()).Result()
	if err != nil {
		return // the next beat notices the outage
	}
	for _, id := range nodes {
		if id == n.opts.ID {
			continue
		}
		alive, err := n.c.Exists(ctx, n.nodeKey(id)).Result()
		if err != nil || alive == 1 {
			continue
		}
		if err := n.reap(ctx, id, false); err != nil && ctx.Err() == nil {
			n.log.Error("cluster: reaping a dead node", "dead_node", id, "err", err)
		}
	}
}

// reap marks the live calls of node id interrupted and removes the node
// from the registry, if this node gets the node's reap lease. self is
// set when a node reaps its own previous life at start-up.
func (n *Node) reap(ctx context.Context, id string, self bool) error {
	ids, err := n.c.SMembers(ctx, n.callsOf(id)).Result()
	if err != nil {
		return fmt.Errorf("read calls of node %s: %w", id, err)
	}
	if self && len(ids) == 0 {
		return nil
	}
	ok, err := n.opts.Leases.Acquire(ctx, n.reapLease(id), n.opts.ID, n.opts.Timeout)
	if err != nil || !ok {
		return err // another node is at it
	}
	// Read again under the lease: another node may have reaped it
	// between our first read and the lease.
	if ids, err = n.c.SMembers(ctx, n.callsOf(id)).Result(); err != nil {
		return fmt.Errorf("read calls of node %s: %w", id, err)
	}
	last := n.opts.Now()
	if ms, err := n.c.HGet(ctx, n.nodesKey(), id).Int64(); err == nil && !self {
		last = time.UnixMilli(ms).UTC() // the node died after its last heartbeat
	}
	if len(ids) > 0 && n.opts.Recover != nil {
		n.opts.Recover(ctx, id, ids)
	}
	var errs []error
	marked := 0
	for _, cid := range ids {
		changed, err := n.interrupt(ctx, cid, last)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if changed {
			marked++
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err // the lease lapses and the next beat tries again
	}
	_, err = n.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for _, cid := range ids {
			p.HDel(ctx, n.callsKey(), cid)
			p.Publish(ctx, n.eventsChannel(), encode(event{Type: "ended", Node: id, ID: cid, Outcome: string(store.OutcomeInterrupted)}))
		}
		p.Del(ctx, n.callsOf(id))
		if !self {
			p.HDel(ctx, n.nodesKey(), id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("remove node %s from the registry: %w", id, err)
	}
	n.mu.Lock()
	for _, cid := range ids {
		delete(n.remote, cid)
	}
	n.mu.Unlock()
	if n.opts.Gone != nil {
		for _, cid := range ids {
			n.opts.Gone(cid, string(store.OutcomeInterrupted))
		}
	}
	n.log.Warn("cluster: node is gone; its live calls were marked interrupted", "dead_node", id,
		"calls", len(ids), "marked", marked, "last_heartbeat", last)
	return nil
}

// interrupt marks call id interrupted (ended at last) unless it has an
// outcome already; changed reports whether it did.
func (n *Node) interrupt(ctx context.Context, id string, last time.Time) (changed bool, err error) {
	c, err := n.opts.Calls.Lookup(ctx, id)
	if errors.Is(err, scheduling.ErrNotFound) {
		return false, nil // never stored (its node could not write it) or erased
	}
	if err != nil {
		return false, fmt.Errorf("look up call %s: %w", id, err)
	}
	_, err = n.opts.Calls.Update(ctx, c.BusinessID, id, func(c *store.Call) error {
		changed = false
		if c.Outcome != "" {
			return nil
		}
		changed = true
		c.Outcome = store.OutcomeInterrupted
		c.EndedAt = last
		if last.Before(c.StartedAt) {
			c.EndedAt = c.StartedAt
		}
		return nil
	})
	if errors.Is(err, scheduling.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mark call %s interrupted: %w", id, err)
	}
	return changed, nil
}

// resync brings the view of other nodes' calls in line with the registry,
// in case an event was lost (the subscription reconnects, Redis restarts).
func (n *Node) resync(ctx context.Context) {
	if n.opts.Announce == nil && n.opts.Gone == nil {
		return
	}
	all, err := n.Live(ctx, "")
	if err != nil {
		return
	}
	seen := map[string]bool{}
	for _, c := range all {
		if c.Node == n.opts.ID {
			continue
		}
		seen[c.ID] = true
		n.announce(c)
	}
	n.mu.Lock()
	var gone []string
	for id := range n.remote {
		if !seen[id] {
			gone = append(gone, id)
		}
	}
	n.mu.Unlock()
	for _, id := range gone {
		outcome := ""
		if c, err := n.opts.Calls.Lookup(ctx, id); err == nil {
			outcome = string(c.Outcome)
		}
		n.gone(id, outcome)
	}
}

func (n *Node) announce(c Call) {
	n.mu.Lock()
	_, known := n.remote[c.ID]
	n.remote[c.ID] = c
	n.mu.Unlock()
	if !known && n.opts.Announce != nil {
		n.opts.Announce(c)
	}
}

func (n *Node) gone(id, outcome string) {
	n.mu.Lock()
	_, known := n.remote[id]
	delete(n.remote, id)
	n.mu.Unlock()
	if known && n.opts.Gone != nil {
		n.opts.Gone(id, outcome)
	}
}

// subscribe handles the events channel until ctx ends. go-redis
// resubscribes by itself after a connection is lost.
func (n *Node) subscribe(ctx context.Context) {
	ps := n.c.Subscribe(ctx, n.eventsChannel())
	defer ps.Close()
	ch := ps.Channel(goredis.WithChannelSize(1024))
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-ch:
			if !ok {
				return
			}
			n.handle(m.Payload)
		}
	}
}

// handle acts on one message of the events channel. Malformed messages
// are ignored: they come from Redis, not from callers, but are decoded
// with the same care.
func (n *Node) handle(payload string) {
	var e event
	if err := json.Unmarshal([]byte(payload), &e); err != nil || e.Node == n.opts.ID {
		return
	}
	switch e.Type {
	case "started":
		if e.Call != nil && store.ValidCallID(e.Call.ID) && e.Call.Node == e.Node {
			n.announce(*e.Call)
		}
	case "ended":
		if store.ValidCallID(e.ID) {
			n.gone(e.ID, e.Outcome)
		}
	case "timers":
		if n.opts.Timers != nil {
			n.opts.Timers()
		}
	}
}

// leave removes the node from the registry on a clean shutdown. Calls
// still registered (a drain that timed out ended them) are removed too:
// they have ended, with outcome "cut", in the store.
func (n *Node) leave() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n.mu.Lock()
	var ids []string
	for id := range n.local {
		ids = append(ids, id)
	}
	for id := range n.removed {
		ids = append(ids, id)
	}
	n.mu.Unlock()
	_, err := n.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for _, id := range ids {
			p.HDel(ctx, n.callsKey(), id)
			p.Publish(ctx, n.eventsChannel(), encode(event{Type: "ended", Node: n.opts.ID, ID: id}))
		}
		p.Del(ctx, n.nodeKey(n.opts.ID), n.callsOf(n.opts.ID))
		p.HDel(ctx, n.nodesKey(), n.opts.ID)
		return nil
	})
	if err != nil {
		n.log.Warn("cluster: leaving: registry not cleaned up; the other nodes reap it", "err", err)
		return
	}
	n.log.Info("cluster node left")
}
