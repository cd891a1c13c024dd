package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/frontdesk/frontdesk/internal/leaktest"
	"github.com/frontdesk/frontdesk/live"
	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/store/redis"
	"github.com/frontdesk/frontdesk/store/redis/redistest"
)

// hubNode is a node with its hub and relay, as a server wires them.
type hubNode struct {
	*testNode
	hub   *live.Hub
	relay *Relay
}

func startHubNode(t testing.TB, addr, id string) *hubNode {
	t.Helper()
	var hub *live.Hub
	tn := startNode(t, addr, id, nil, Options{
		Announce: func(c Call) {
			hub.Announce(live.Info{ID: c.ID, Business: c.Business, Transport: c.Transport, StartedAt: c.StartedAt, Node: c.Node})
		},
		Gone: func(id, outcome string) { hub.Gone(id, outcome) },
	})
	relay := NewRelay(tn.Node)
	hub = live.NewHub(live.Options{Node: id, Remote: relay.Remote})
	relay.SetHub(hub)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { _ = hub.Run(ctx); done <- struct{}{} }()
	go func() { _ = relay.Run(ctx); done <- struct{}{} }()
	t.Cleanup(func() { cancel(); <-done; <-done })
	return &hubNode{testNode: tn, hub: hub, relay: relay}
}

// tone fills a 20 ms frame at 8 kHz with v.
func tone(v int16) []int16 {
	f := make([]int16, 160)
	for i := range f {
		f[i] = v
	}
	return f
}

type heard struct {
	types  []string
	seqs   []int64
	frames []int16 // first caller sample of each frame
	ended  string
}

// drain reads l until cond holds of what was heard, or fails after 20 s.
func drain(t *testing.T, l *live.Listener, h *heard, what string, cond func(*heard) bool) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	var f live.Frame
	for !cond(h) {
		for l.NextAudio(&f) {
			h.frames = append(h.frames, f.Caller[0])
		}
		for {
			raw, ok := l.NextEvent()
			if !ok {
				break
			}
			var e live.Event
			if err := json.Unmarshal(raw, &e); err != nil {
				t.Fatalf("event %s: %v", raw, err)
			}
			h.types = append(h.types, e.Type)
			h.seqs = append(h.seqs, e.Seq)
			if e.Type == live.EventCallEnded {
				h.ended = e.Outcome
			}
		}
		if cond(h) {
			return
		}
		if l.Done() {
			t.Fatalf("listener done before %s: %+v", what, h)
		}
		select {
		case <-l.Ready():
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s: heard %d events %v, %d frames", what, len(h.types), h.types, len(h.frames))
		}
	}
}

func has(xs []int16, v int16) bool {
	for _, x := range xs {
		if x == v {
			return true
		}
	}
	return false
}

// TestRelayListensAcrossNodes: a supervisor on node B hears a call on
// node A (history first, then events and audio), through Redis; Redis
// restarts mid-call and the listener recovers; the call's end reaches B.
func TestRelayListensAcrossNodes(t *testing.T) {
	leaktest.Check(t)
	srv := redistest.StartServer(t)
	a := startHubNode(t, srv.Addr, "node-a")
	b := startHubNode(t, srv.Addr, "node-b")

	tp := a.hub.Open(live.Info{ID: "call_r", Business: "clinic", Transport: "twilio", Rate: 8000})
	a.Register(Call{ID: "call_r", Business: "clinic", Transport: "twilio", StartedAt: time.Now()})
	tp.Event(live.Event{Type: live.EventFinal, Speaker: "agent", Text: "hello"})
	waitUntil(t, "B to list the call", func() bool { return len(b.hub.Calls("clinic")) == 1 })
	if got := b.hub.Calls("clinic")[0]; got.Node != "node-a" {
		t.Errorf("B lists %+v, want the call on node-a", got)
	}

	if _, err := b.hub.Listen(t.Context(), "call_r", "bakery", live.ListenOptions{}); !errors.Is(err, live.ErrNotFound) {
		t.Errorf("another business's call through the relay: %v, want ErrNotFound", err)
	}
	if _, err := b.hub.Listen(t.Context(), "call_none", "clinic", live.ListenOptions{}); !errors.Is(err, live.ErrNotFound) {
		t.Errorf("an unknown call: %v, want ErrNotFound", err)
	}
	l, err := b.hub.Listen(t.Context(), "call_r", "clinic", live.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if info := l.Info(); info.Node != "node-a" || info.Rate != 8000 {
		t.Errorf("B's listener info %+v", info)
	}

	// Audio and events flow while the call goes on (the call's side keeps
	// producing frames in real time, as a call does).
	produce := func(ctx context.Context, v int16) {
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
				tp.Audio(tone(v), nil)
			}
		}
	}
	var h heard
	ctx1, stop1 := context.WithCancel(t.Context())
	go produce(ctx1, 1000)
	tp.Event(live.Event{Type: live.EventBargeIn})
	drain(t, l, &h, "history, live events and audio", func(h *heard) bool {
		return len(h.types) >= 2 && has(h.frames, 1000)
	})
	stop1()
	if h.types[0] != live.EventFinal || h.seqs[0] != 1 || h.types[1] != live.EventBargeIn {
		t.Errorf("events %v %v, want the history (transcript.final/1) then barge_in", h.types, h.seqs)
	}

	// Redis restarts mid-call: the call's hub never waits; the listener on
	// B recovers within seconds and hears audio produced after the restart.
	srv.Restart()
	ctx2, stop2 := context.WithCancel(t.Context())
	defer stop2()
	go produce(ctx2, 2000)
	drain(t, l, &h, "audio after the Redis restart", func(h *heard) bool { return has(h.frames, 2000) })
	stop2()

	tp.Event(live.Event{Type: live.EventFinal, Speaker: "caller", Text: "bye"})
	tp.Close("completed")
	a.Unregister("call_r", "completed")
	drain(t, l, &h, "the end", func(h *heard) bool { return h.ended != "" })
	if h.ended != "completed" {
		t.Errorf("ended %q, want completed", h.ended)
	}
	// No event twice although the history was served again after the restart.
	seen := map[int64]bool{}
	for _, s := range h.seqs {
		if seen[s] {
			t.Errorf("event seq %d heard twice: %v", s, h.seqs)
		}
		seen[s] = true
	}
	waitUntil(t, "B to drop the call from its list", func() bool { return len(b.hub.Calls("clinic")) == 0 })
}

// TestRelayNodeDies: the call's node dies mid-call; B's listener ends with
// outcome interrupted once the node's heartbeat lapses.
func TestRelayNodeDies(t *testing.T) {
	leaktest.Check(t)
	addr := redistest.Start(t)
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	st := redis.New(c, redis.Options{Prefix: "t:"})
	a := startHubNode(t, addr, "node-a")
	b := startHubNode(t, addr, "node-b")
	if _, err := st.Calls().Create(context.Background(), "clinic", store.Call{ID: "call_d", Transport: store.TransportTwilio}); err != nil {
		t.Fatal(err)
	}
	tp := a.hub.Open(live.Info{ID: "call_d", Business: "clinic", Transport: "twilio", Rate: 8000})
	defer tp.Close("")
	a.Register(Call{ID: "call_d", Business: "clinic", Transport: "twilio", StartedAt: time.Now()})
	waitUntil(t, "B to list the call", func() bool { return len(b.hub.Calls("clinic")) == 1 })
	l, err := b.hub.Listen(t.Context(), "call_d", "clinic", live.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tp.Audio(tone(7), nil)
	var h heard
	drain(t, l, &h, "audio", func(h *heard) bool { return has(h.frames, 7) })
	a.kill()
	drain(t, l, &h, "the end", func(h *heard) bool { return h.ended != "" })
	if h.ended != "interrupted" {
		t.Errorf("ended %q, want interrupted", h.ended)
	}
}
