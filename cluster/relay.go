package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/frontdesk/frontdesk/live"
	"github.com/frontdesk/frontdesk/store"
)

// Hub is the part of the live hub (package live) the relay serves from.
type Hub interface {
	Listen(ctx context.Context, callID, business string, opts live.ListenOptions) (*live.Listener, error)
}

// Relay carries live calls between nodes for supervisors: a supervisor on
// node B listening to a call on node A gets the call's history, events and
// audio as if the call were on B.
//
// It works on demand. B's hub asks Remote (live.Options.Remote) for a call
// it does not have; Remote finds the call's node in the registry,
// subscribes to the call's channel (P cluster:live:<call>) and asks that
// node, on its watch channel (P cluster:watch:<node>), to serve the call.
// A listens to the call on its own hub (history first) and publishes what
// the listener yields, as live.Message wire forms, on the call's channel,
// for as long as somebody asks again within the node timeout and the
// channel has subscribers. So a call nobody listens to elsewhere costs
// Redis nothing, and a slow Redis only fills A's bounded, drop-oldest
// listener queue: the call itself never waits (its hub never blocks).
//
// When Redis restarts, both sides reconnect by themselves: B's renewal
// reaches A within a heartbeat, and A serves the call afresh (its history
// again: B's hub skips events it has, by sequence number). When the call's
// node dies, B sees the call leave the registry and ends the mirror with
// outcome "interrupted".
type Relay struct {
	// immutable
	node   *Node
	c      goredis.UniversalClient
	base   context.Context // ends remote feeds when Run returns
	cancel context.CancelFunc

	hubMu sync.Mutex
	hub   Hub // guarded by hubMu: set by SetHub before Run

	mu      sync.Mutex
	serving map[string]*serving // guarded by mu: calls this node serves to others
	wg      sync.WaitGroup      // serving goroutines and remote feeds
}

// serving is one call this node publishes for other nodes.
type serving struct {
	cancel   context.CancelFunc
	deadline time.Time // guarded by Relay.mu: stop unless asked again by then
}

// NewRelay returns a relay for node's cluster. It starts nothing.
func NewRelay(node *Node) *Relay {
	ctx, cancel := context.WithCancel(context.Background())
	return &Relay{node: node, c: node.c, base: ctx, cancel: cancel, serving: map[string]*serving{}}
}

// SetHub sets the hub calls are served from; call it before Run.
func (r *Relay) SetHub(h Hub) {
	r.hubMu.Lock()
	r.hub = h
	r.hubMu.Unlock()
}

func (r *Relay) getHub() Hub {
	r.hubMu.Lock()
	defer r.hubMu.Unlock()
	return r.hub
}

func (r *Relay) liveChannel(callID string) string { return r.node.key("live", callID) }
func (r *Relay) watchChannel(node string) string  { return r.node.key("watch", node) }

// watchRequest asks a node to serve one of its calls.
type watchRequest struct {
	Call     string `json:"call"`
	Business string `json:"business"`
	Fresh    bool   `json:"fresh"` // a new listener: send the history again
}

// Run serves this node's calls to the nodes that ask until ctx ends, then
// waits for everything the relay started.
func (r *Relay) Run(ctx context.Context) error {
	defer r.wg.Wait()
	defer r.cancel()
	ps := r.c.Subscribe(ctx, r.watchChannel(r.node.ID()))
	defer ps.Close()
	ch := ps.Channel(goredis.WithChannelSize(256))
	for {
		select {
		case <-ctx.Done():
			return nil
		case m, ok := <-ch:
			if !ok {
				return nil
			}
			var req watchRequest
			if err := json.Unmarshal([]byte(m.Payload), &req); err != nil || !store.ValidCallID(req.Call) || req.Business == "" {
				continue
			}
			r.serve(ctx, req)
		}
	}
}

// serve starts or renews publishing call req.Call.
func (r *Relay) serve(ctx context.Context, req watchRequest) {
	deadline := time.Now().Add(r.node.opts.Timeout)
	r.mu.Lock()
	s := r.serving[req.Call]
	if s != nil && !req.Fresh {
		s.deadline = deadline
		r.mu.Unlock()
		return
	}
	if s != nil {
		s.cancel() // start again, history first, for the new listener
	}
	hub := r.getHub()
	if hub == nil {
		r.mu.Unlock()
		return
	}
	sctx, cancel := context.WithCancel(ctx)
	l, err := hub.Listen(sctx, req.Call, req.Business, live.ListenOptions{})
	if err != nil {
		cancel()
		delete(r.serving, req.Call)
		r.mu.Unlock()
		return // not ours (any more), or another business's
	}
	s = &serving{cancel: cancel, deadline: deadline}
	r.serving[req.Call] = s
	r.mu.Unlock()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer cancel()
		defer l.Close()
		r.publish(sctx, req.Call, l, s)
		r.mu.Lock()
		if r.serving[req.Call] == s {
			delete(r.serving, req.Call)
		}
		r.mu.Unlock()
	}()
}

// publish ships what listener l yields to the call's channel until the
// call ends, nobody asks for it any more, or ctx ends.
func (r *Relay) publish(ctx context.Context, callID string, l *live.Listener, s *serving) {
	channel := r.liveChannel(callID)
	info, err := (&live.Message{Kind: live.KindInfo, Info: l.Info()}).MarshalBinary()
	if err != nil {
		return
	}
	pending := [][]byte{info}
	var f live.Frame
	tick := time.NewTicker(r.node.opts.Heartbeat)
	defer tick.Stop()
	for {
		// Audio first: the two queues are separate and the end event must
		// not overtake the last frames.
		for l.NextAudio(&f) {
			b, err := (&live.Message{Kind: live.KindAudio, Rate: f.Rate, Caller: f.Caller, Agent: f.Agent}).MarshalBinary()
			if err == nil {
				pending = append(pending, b)
			}
		}
		for {
			raw, ok := l.NextEvent()
			if !ok {
				break
			}
			b, _ := (&live.Message{Kind: live.KindEvent, Event: raw}).MarshalBinary()
			pending = append(pending, b)
		}
		if len(pending) > 0 {
			heard := r.flush(ctx, channel, pending)
			pending = pending[:0]
			if heard == 0 {
				return // nobody subscribes any more (or Redis is away: the sink asks again)
			}
		}
		if l.Done() {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-l.Ready():
		case <-tick.C:
			r.mu.Lock()
			expired := time.Now().After(s.deadline)
			r.mu.Unlock()
			if expired {
				return
			}
		}
	}
}

// flush publishes msgs in one round trip and returns how many subscribers
// the last one reached (-1 when unknown).
func (r *Relay) flush(ctx context.Context, channel string, msgs [][]byte) int64 {
	fctx, cancel := context.WithTimeout(ctx, r.node.opts.Timeout/2)
	defer cancel()
	cmds, err := r.c.Pipelined(fctx, func(p goredis.Pipeliner) error {
		for _, m := range msgs {
			p.Publish(fctx, channel, m)
		}
		return nil
	})
	if err != nil || len(cmds) == 0 {
		return 0
	}
	n, err := cmds[len(cmds)-1].(*goredis.IntCmd).Result()
	if err != nil {
		return 0
	}
	return n
}

// attachTimeout bounds how long Remote waits for the call's node to start
// serving.
const attachTimeout = 5 * time.Second

// Remote is live.Options.Remote: it attaches this node's hub to a call
// live on another node. The channel carries the call's wire messages
// until ctx ends (the hub lets the mirror go) or the call ends.
func (r *Relay) Remote(ctx context.Context, callID, business string) (<-chan []byte, live.Info, error) {
	c, err := r.node.Lookup(ctx, callID)
	if errors.Is(err, ErrNotLive) || (err == nil && (c.Business != business || c.Node == r.node.ID())) {
		return nil, live.Info{}, live.ErrNotFound
	}
	if err != nil {
		return nil, live.Info{}, err
	}
	ps := r.c.Subscribe(ctx, r.liveChannel(callID))
	if _, err := ps.Receive(ctx); err != nil { // the subscription is confirmed
		ps.Close()
		return nil, live.Info{}, fmt.Errorf("cluster: subscribe to call %s: %w", callID, err)
	}
	msgs := ps.Channel(goredis.WithChannelSize(1024))
	ask := func(fresh bool) error {
		req, _ := json.Marshal(watchRequest{Call: callID, Business: business, Fresh: fresh})
		actx, cancel := context.WithTimeout(ctx, r.node.opts.Timeout/2)
		defer cancel()
		return r.c.Publish(actx, r.watchChannel(c.Node), req).Err()
	}
	if err := ask(true); err != nil {
		ps.Close()
		return nil, live.Info{}, fmt.Errorf("cluster: ask node %s for call %s: %w", c.Node, callID, err)
	}
	// The node answers with the call's Info first.
	var info live.Info
	wait := time.NewTimer(attachTimeout)
	defer wait.Stop()
	for info.ID == "" {
		select {
		case <-ctx.Done():
			ps.Close()
			return nil, live.Info{}, ctx.Err()
		case <-wait.C:
			ps.Close()
			return nil, live.Info{}, live.ErrNotFound // it ended meanwhile, or its node is gone
		case m, ok := <-msgs:
			if !ok {
				ps.Close()
				return nil, live.Info{}, live.ErrNotFound
			}
			var msg live.Message
			if msg.UnmarshalBinary([]byte(m.Payload)) == nil && msg.Kind == live.KindInfo && msg.Info.ID == callID {
				info = msg.Info
			}
		}
	}
	if info.Business != business {
		ps.Close()
		return nil, live.Info{}, live.ErrNotFound
	}
	out := make(chan []byte, 1024)
	// The feed ends with the hub's interest (ctx) or with the relay.
	fctx, stop := context.WithCancel(ctx)
	unhook := context.AfterFunc(r.base, stop)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer close(out)
		defer ps.Close()
		defer unhook()
		defer stop()
		r.feed(fctx, callID, c.Node, msgs, out, ask)
	}()
	return out, info, nil
}

// feed forwards the call's messages to out and keeps asking the call's
// node to serve it, until ctx ends or the call is no longer live.
func (r *Relay) feed(ctx context.Context, callID, node string, msgs <-chan *goredis.Message, out chan<- []byte, ask func(bool) error) {
	tick := time.NewTicker(r.node.opts.Heartbeat)
	defer tick.Stop()
	send := func(b []byte) bool {
		select {
		case out <- b:
			return true
		case <-ctx.Done():
			return false
		}
	}
	missing := 0 // ticks the call was not in the registry
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-msgs:
			if !ok {
				return
			}
			if !send([]byte(m.Payload)) {
				return
			}
		case <-tick.C:
			c, err := r.node.Lookup(ctx, callID)
			gone := errors.Is(err, ErrNotLive) || (err == nil && c.Node != node)
			if gone {
				missing++
			} else {
				missing = 0
			}
			switch {
			case gone && missing < 2:
				// The call's end event may still be on its way.
			case gone:
				// The call ended and its end never came through (Redis
				// restarted), or its node died: end the mirror.
				outcome := ""
				if sc, err := r.node.opts.Calls.Lookup(ctx, callID); err == nil {
					outcome = string(sc.Outcome)
				}
				if outcome == "" {
					outcome = string(store.OutcomeInterrupted)
				}
				b, _ := (&live.Message{Kind: live.KindEnd, Outcome: outcome}).MarshalBinary()
				send(b)
				return
			case err != nil:
				continue // Redis is away: keep waiting, the subscription reconnects
			}
			_ = ask(false) // a failure is retried on the next tick
		}
	}
}
