package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/internal/leaktest"
)

func frame(n int, v int16) []int16 {
	f := make([]int16, n)
	for i := range f {
		f[i] = v
	}
	return f
}

type decoded struct {
	Type    string `json:"type"`
	Seq     int64  `json:"seq"`
	T       int64  `json:"t"`
	Text    string `json:"text"`
	Outcome string `json:"outcome"`
	Replay  bool   `json:"replay"`
}

func drainEvents(t *testing.T, l *Listener) []decoded {
	t.Helper()
	var out []decoded
	for {
		raw, ok := l.NextEvent()
		if !ok {
			return out
		}
		var d decoded
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("event %s: %v", raw, err)
		}
		out = append(out, d)
	}
}

func TestListenHistoryThenLiveThenEnd(t *testing.T) {
	leaktest.Check(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h := NewHub(Options{Node: "n1", Now: clock})
	tp := h.Open(Info{ID: "call_1", Business: "clinic", Transport: "twilio"})
	tp.Event(Event{Type: EventFinal, Speaker: "agent", Text: "hello"})
	mu.Lock()
	now = now.Add(1500 * time.Millisecond)
	mu.Unlock()
	tp.Event(Event{Type: EventPartial, Speaker: "caller", Text: "what are"})

	l, err := h.Listen(t.Context(), "call_1", "clinic", ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tp.Event(Event{Type: EventFinal, Speaker: "caller", Text: "what are your hours"})
	tp.Audio(frame(160, 100), frame(160, -7))
	tp.Audio(frame(160, 200), nil)
	tp.Close("completed")

	got := drainEvents(t, l)
	want := []decoded{
		{Type: EventFinal, Seq: 1, T: 0, Text: "hello", Replay: true},
		{Type: EventPartial, Seq: 2, T: 1500, Text: "what are", Replay: true},
		{Type: EventFinal, Seq: 3, T: 1500, Text: "what are your hours"},
		{Type: EventCallEnded, Seq: 4, T: 1500, Outcome: "completed"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("events:\ngot  %+v\nwant %+v", got, want)
	}
	var f Frame
	for i, w := range []struct{ caller, agent int16 }{{100, -7}, {200, 0}} {
		if !l.NextAudio(&f) {
			t.Fatalf("frame %d missing", i)
		}
		if f.Rate != 8000 || len(f.Caller) != 160 || len(f.Agent) != 160 || f.Caller[159] != w.caller || f.Agent[0] != w.agent {
			t.Errorf("frame %d: rate %d, %d/%d samples, caller %d agent %d; want 8000, 160/160, %d %d",
				i, f.Rate, len(f.Caller), len(f.Agent), f.Caller[159], f.Agent[0], w.caller, w.agent)
		}
	}
	if l.NextAudio(&f) {
		t.Error("a third frame")
	}
	if !l.Done() {
		t.Error("listener not done after the call ended and was drained")
	}
	if _, err := h.Listen(t.Context(), "call_1", "clinic", ListenOptions{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("listen to an ended call: %v, want ErrNotFound", err)
	}
	l.Close()
	l.Close()
	if s := h.Stats(); s.Listeners != 0 {
		t.Errorf("listeners after close: %d", s.Listeners)
	}
}

func TestListenOtherBusinessOrUnknown(t *testing.T) {
	h := NewHub(Options{})
	tp := h.Open(Info{ID: "call_1", Business: "clinic"})
	defer tp.Close("completed")
	for _, c := range []struct{ id, business string }{{"call_1", "bakery"}, {"call_2", "clinic"}, {"", ""}} {
		if l, err := h.Listen(t.Context(), c.id, c.business, ListenOptions{}); !errors.Is(err, ErrNotFound) {
			t.Errorf("Listen(%q, %q) = %v, %v; want ErrNotFound", c.id, c.business, l, err)
		}
	}
}

// A listener that never reads loses its oldest frames, counted; the call's
// Audio neither blocks nor allocates, and memory stays flat.
func TestStuckListenerDropsOldest(t *testing.T) {
	h := NewHub(Options{AudioQueue: 10, EventQueue: 4})
	tp := h.Open(Info{ID: "call_1", Business: "clinic"})
	defer tp.Close("completed")
	l, err := h.Listen(t.Context(), "call_1", "clinic", ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	caller, agent := frame(160, 0), frame(160, 0)
	for i := range 100 {
		caller[0] = int16(i)
		tp.Audio(caller, agent)
	}
	for i := range 6 {
		tp.Event(Event{Type: EventDTMF, Digits: fmt.Sprint(i)})
	}
	frames, events := l.Dropped()
	if frames != 90 || events != 2 {
		t.Errorf("dropped %d frames, %d events; want 90, 2", frames, events)
	}
	if s := h.Stats(); s.DroppedFrames != 90 || s.DroppedEvents != 2 {
		t.Errorf("hub stats %+v; want 90 frames, 2 events dropped", s)
	}
	var f Frame
	for want := 90; want < 100; want++ {
		if !l.NextAudio(&f) || f.Caller[0] != int16(want) {
			t.Fatalf("queued frame %d: caller[0] = %d (ok=%v)", want, f.Caller[0], len(f.Caller) > 0)
		}
	}
	allocs := testing.AllocsPerRun(1000, func() { tp.Audio(caller, agent) })
	if allocs != 0 {
		t.Errorf("Audio with a stuck listener: %.1f allocs per frame, want 0", allocs)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range 50000 { // 1000 s of audio
		tp.Audio(caller, agent)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 1<<20 {
		t.Errorf("heap grew %d bytes over 50,000 frames to a stuck listener", grew)
	}
}

func TestAudioZeroAllocs(t *testing.T) {
	h := NewHub(Options{Publish: func(string, []byte) {}})
	tp := h.Open(Info{ID: "call_1", Business: "clinic", Rate: 16000})
	defer tp.Close("completed")
	for range 10 {
		l, err := h.Listen(t.Context(), "call_1", "clinic", ListenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
	}
	caller, agent := frame(320, 1), frame(320, 2)
	for range 5000 { // fill queues and grow publish slots: steady state
		tp.Audio(caller, agent)
	}
	if allocs := testing.AllocsPerRun(1000, func() { tp.Audio(caller, agent) }); allocs != 0 {
		t.Errorf("Audio to 10 listeners and Publish: %.1f allocs per frame, want 0", allocs)
	}
}

func TestListenerClosedByContext(t *testing.T) {
	leaktest.Check(t)
	h := NewHub(Options{})
	tp := h.Open(Info{ID: "call_1", Business: "clinic"})
	defer tp.Close("completed")
	ctx, cancel := context.WithCancel(t.Context())
	l, err := h.Listen(ctx, "call_1", "clinic", ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-l.Ready():
	case <-time.After(5 * time.Second):
		t.Fatal("no wake-up after cancel")
	}
	if !l.Done() {
		t.Error("listener not done after its context ended")
	}
	if n := len(*tp.listeners.Load()); n != 0 {
		t.Errorf("topic still has %d listeners", n)
	}
}

func TestWatch(t *testing.T) {
	h := NewHub(Options{Node: "n1", WatchQueue: 3})
	a := h.Open(Info{ID: "call_a", Business: "clinic", From: "+12125550123"})
	h.Open(Info{ID: "call_x", Business: "bakery"})
	w := h.Watch(t.Context(), "clinic")
	defer w.Close()
	next := func() Update {
		t.Helper()
		u, ok := w.Next()
		if !ok {
			t.Fatal("no update")
		}
		return u
	}
	if u := next(); u.Type != UpdateSnapshot || len(*u.Calls) != 1 || (*u.Calls)[0].ID != "call_a" || (*u.Calls)[0].Node != "n1" || (*u.Calls)[0].State != StateListening {
		t.Fatalf("first update %+v", u)
	}
	a.Event(Event{Type: EventState, State: StateSpeaking})
	b := h.Open(Info{ID: "call_b", Business: "clinic"})
	h.Announce(Info{ID: "call_r", Business: "clinic", Node: "n2"})
	if u := next(); u.Type != UpdateUpdated || u.Call.ID != "call_a" || u.Call.State != StateSpeaking {
		t.Errorf("got %+v, want call_a updated to speaking", u)
	}
	if u := next(); u.Type != UpdateStarted || u.Call.ID != "call_b" {
		t.Errorf("got %+v, want call_b started", u)
	}
	if u := next(); u.Type != UpdateStarted || u.Call.ID != "call_r" || u.Call.Node != "n2" {
		t.Errorf("got %+v, want remote call_r started", u)
	}
	b.Close("completed")
	h.Gone("call_r", "transferred")
	if u := next(); u.Type != UpdateEnded || u.CallID != "call_b" || u.Outcome != "completed" {
		t.Errorf("got %+v, want call_b ended", u)
	}
	if u := next(); u.Type != UpdateEnded || u.CallID != "call_r" || u.Outcome != "transferred" {
		t.Errorf("got %+v, want call_r ended", u)
	}
	if u, ok := w.Next(); ok {
		t.Errorf("extra update %+v", u)
	}
	// Falling behind: a snapshot replaces the lost updates.
	for i := range 10 {
		a.Event(Event{Type: EventState, State: []string{StateThinking, StateSpeaking}[i%2]})
	}
	if u := next(); u.Type != UpdateSnapshot || len(*u.Calls) != 1 || (*u.Calls)[0].State != StateSpeaking {
		t.Errorf("after overflow got %+v, want a snapshot with call_a speaking", u)
	}
	if h.Stats().DroppedUpdates == 0 {
		t.Error("overflow not counted")
	}
	j, _ := json.Marshal(Update{Type: UpdateSnapshot, Calls: &[]Info{}})
	if string(j) != `{"type":"snapshot","calls":[]}` {
		t.Errorf("empty snapshot JSON %s", j)
	}
}

func TestPublishOrderAndWireForm(t *testing.T) {
	leaktest.Check(t)
	type pub struct {
		id string
		m  Message
	}
	ch := make(chan pub, 100)
	h := NewHub(Options{Node: "n1", Publish: func(id string, msg []byte) {
		var m Message
		if err := m.UnmarshalBinary(msg); err != nil {
			t.Errorf("published message does not decode: %v", err)
		}
		ch <- pub{id, m}
	}})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- h.Run(ctx) }()
	defer func() { cancel(); <-done }()

	tp := h.Open(Info{ID: "call_1", Business: "clinic"})
	tp.Audio(frame(160, 5), frame(160, 6))
	tp.Event(Event{Type: EventBargeIn})
	tp.Close("completed")
	var kinds []Kind
	for len(kinds) < 5 {
		select {
		case p := <-ch:
			if p.id != "call_1" {
				t.Errorf("published for %q", p.id)
			}
			kinds = append(kinds, p.m.Kind)
			if p.m.Kind == KindAudio && (p.m.Rate != 8000 || p.m.Caller[3] != 5 || p.m.Agent[3] != 6) {
				t.Errorf("audio message %+v", p.m)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("published only %v", kinds)
		}
	}
	want := []Kind{KindInfo, KindAudio, KindEvent, KindEvent, KindEnd}
	if !slices.Equal(kinds, want) {
		t.Errorf("published kinds %v, want %v", kinds, want)
	}
}

func TestPublishQueueDropsOldest(t *testing.T) {
	var got []string
	h := NewHub(Options{PublishQueue: 2, Publish: func(id string, msg []byte) { got = append(got, id) }})
	h.Open(Info{ID: "a", Business: "b"})
	h.Open(Info{ID: "c", Business: "b"})
	h.Open(Info{ID: "d", Business: "b"})
	for {
		id, msg, ok := h.pub.pop()
		if !ok {
			break
		}
		h.opts.Publish(id, msg)
	}
	if !slices.Equal(got, []string{"c", "d"}) || h.Stats().DroppedPublish != 1 {
		t.Errorf("published %v, dropped %d; want [c d], 1", got, h.Stats().DroppedPublish)
	}
}

// A listener on node B attaches to a call on node A through Options.Remote;
// here the "relay" is a listener on A whose items are shipped as wire
// messages, which is how a relay can serve history.
func TestRemoteListen(t *testing.T) {
	leaktest.Check(t)
	a := NewHub(Options{Node: "a"})
	tp := a.Open(Info{ID: "call_1", Business: "clinic", Rate: 16000})
	tp.Event(Event{Type: EventFinal, Speaker: "agent", Text: "hello"})

	var relays sync.WaitGroup
	defer relays.Wait()
	remote := func(ctx context.Context, id, business string) (<-chan []byte, Info, error) {
		l, err := a.Listen(ctx, id, business, ListenOptions{})
		if err != nil {
			return nil, Info{}, err
		}
		ch := make(chan []byte, 16)
		relays.Add(1)
		go func() {
			defer relays.Done()
			defer close(ch)
			defer l.Close()
			var f Frame
			for {
				// Audio first: the two queues are separate, and the end
				// event must not overtake the last frames.
				for l.NextAudio(&f) {
					b, _ := (&Message{Kind: KindAudio, Rate: f.Rate, Caller: f.Caller, Agent: f.Agent}).MarshalBinary()
					ch <- b
				}
				for {
					raw, ok := l.NextEvent()
					if !ok {
						break
					}
					b, _ := (&Message{Kind: KindEvent, Event: raw}).MarshalBinary()
					ch <- b
				}
				if l.Done() {
					return
				}
				select {
				case <-ctx.Done():
					return
				case <-l.Ready():
				}
			}
		}()
		return ch, l.Info(), nil
	}
	b := NewHub(Options{Node: "b", Remote: remote})
	bctx, bcancel := context.WithCancel(t.Context())
	bdone := make(chan error)
	go func() { bdone <- b.Run(bctx) }()
	defer func() { bcancel(); <-bdone }()

	if _, err := b.Listen(t.Context(), "call_1", "bakery", ListenOptions{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("other business through remote: %v", err)
	}
	l, err := b.Listen(t.Context(), "call_1", "clinic", ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info := l.Info(); info.Node != "a" || info.Rate != 16000 {
		t.Errorf("remote info %+v", info)
	}
	tp.Audio(frame(320, 9), frame(320, 8))
	tp.Event(Event{Type: EventBargeIn})
	tp.Close("completed")

	var evs []decoded
	var frames int
	deadline := time.After(10 * time.Second)
	for !l.Done() {
		select {
		case <-l.Ready():
		case <-deadline:
			t.Fatalf("remote listener not done: %d events, %d frames", len(evs), frames)
		}
		evs = append(evs, drainEvents(t, l)...)
		var f Frame
		for l.NextAudio(&f) {
			frames++
			if f.Rate != 16000 || len(f.Caller) != 320 || f.Caller[0] != 9 || f.Agent[0] != 8 {
				t.Errorf("remote frame rate %d len %d %d/%d", f.Rate, len(f.Caller), f.Caller[0], f.Agent[0])
			}
		}
	}
	types := []string{}
	for _, e := range evs {
		types = append(types, fmt.Sprintf("%s/%d/%v", e.Type, e.Seq, e.Replay))
	}
	want := []string{"transcript.final/1/true", "barge_in/2/false", "call.ended/3/false"}
	if !slices.Equal(types, want) || frames != 1 {
		t.Errorf("remote listener got %v and %d frames; want %v and 1", types, frames, want)
	}
	l.Close()
}

func TestReplayedMarksOnce(t *testing.T) {
	raw := []byte(`{"type":"x","seq":1,"t":0}`)
	once := replayed(raw)
	if string(once) != `{"type":"x","seq":1,"t":0,"replay":true}` || string(replayed(once)) != string(once) {
		t.Errorf("replayed: %s, twice %s", once, replayed(once))
	}
}
