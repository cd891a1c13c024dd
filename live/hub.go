package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// ErrNotFound is returned by Listen for a call that is not live, or that
// belongs to another business (the two are indistinguishable on purpose).
var ErrNotFound = errors.New("live: call not found")

// Options configure a Hub. Zero values take the defaults given.
type Options struct {
	// Node names this process in Info.Node of local calls.
	Node string
	// AudioQueue is each listener's audio queue in frames (default 250 = 5 s).
	AudioQueue int
	// EventQueue is each listener's event queue (default 256).
	EventQueue int
	// History caps the events kept per call for late joiners (default 1000);
	// past it the oldest are forgotten.
	History int
	// WatchQueue is each watcher's update queue (default 256); a watcher that
	// falls behind gets a fresh snapshot instead of the lost updates.
	WatchQueue int
	// Now is the clock for event times (default time.Now).
	Now func() time.Time

	// Publish, if set, receives the wire form (Message) of every message of
	// every local call, in order per call, from the goroutine of Run, never
	// from a call's media path. Its queue holds PublishQueue messages
	// (default 4096) and drops the oldest when full. Publish owns msg.
	Publish      func(callID string, msg []byte)
	PublishQueue int

	// Remote, if set, is consulted by Listen for a call that is not on this
	// node: it returns the call's Info and a channel of its messages' wire
	// forms (history first), until the call ends, the channel is closed or
	// ctx is cancelled. It returns ErrNotFound when no node has the call for
	// that business.
	Remote func(ctx context.Context, callID, business string) (<-chan []byte, Info, error)
}

func (o *Options) defaults() {
	if o.AudioQueue <= 0 {
		o.AudioQueue = 250
	}
	if o.EventQueue <= 0 {
		o.EventQueue = 256
	}
	if o.History <= 0 {
		o.History = 1000
	}
	if o.WatchQueue <= 0 {
		o.WatchQueue = 256
	}
	if o.PublishQueue <= 0 {
		o.PublishQueue = 4096
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Stats are a hub's counters since NewHub.
type Stats struct {
	Listeners       int64  // attached now
	Watchers        int64  // attached now
	DroppedFrames   uint64 // audio frames dropped from listeners' queues
	DroppedEvents   uint64 // events dropped from listeners' queues
	DroppedUpdates  uint64 // watch updates replaced by a snapshot
	DroppedPublish  uint64 // messages dropped from the publish queue
	PublishedFrames uint64 // messages handed to Options.Publish
}

// Hub routes live calls' streams to listeners. Safe for concurrent use.
// NewHub starts nothing; Run serves Options.Publish and remote attachments.
type Hub struct {
	// Immutable after NewHub.
	opts   Options
	base   context.Context // parent of remote attachments; cancelled when Run returns
	cancel context.CancelFunc

	mu       sync.Mutex
	topics   map[string]*Topic // local and mirrored calls, guarded by mu
	calls    map[string]Info   // every live call Watch shows (local and announced), guarded by mu
	watchers map[*Watcher]struct{}
	remoteMu sync.Mutex // serialises Options.Remote attachments so a call is mirrored once

	wg  sync.WaitGroup // remote feeders
	pub pubQueue

	listeners, watchers_                   atomic.Int64
	droppedFrames, droppedEvents, droppedW atomic.Uint64
}

// NewHub returns a hub; it starts nothing.
func NewHub(opts Options) *Hub {
	opts.defaults()
	ctx, cancel := context.WithCancel(context.Background())
	h := &Hub{
		opts:     opts,
		base:     ctx,
		cancel:   cancel,
		topics:   make(map[string]*Topic),
		calls:    make(map[string]Info),
		watchers: make(map[*Watcher]struct{}),
	}
	h.pub.init(opts.PublishQueue)
	return h
}

// Run hands messages to Options.Publish until ctx ends, then detaches remote
// calls and waits for their feeders. It returns nil.
func (h *Hub) Run(ctx context.Context) error {
	defer func() {
		h.cancel()
		h.wg.Wait()
	}()
	if h.opts.Publish == nil {
		<-ctx.Done()
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-h.pub.ready:
		}
		for {
			id, msg, ok := h.pub.pop()
			if !ok {
				break
			}
			h.opts.Publish(id, msg)
		}
	}
}

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	return Stats{
		Listeners:       h.listeners.Load(),
		Watchers:        h.watchers_.Load(),
		DroppedFrames:   h.droppedFrames.Load(),
		DroppedEvents:   h.droppedEvents.Load(),
		DroppedUpdates:  h.droppedW.Load(),
		DroppedPublish:  h.pub.dropped.Load(),
		PublishedFrames: h.pub.popped.Load(),
	}
}

// Calls returns the live calls of business (local and announced).
func (h *Hub) Calls(business string) []Info {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.callsLocked(business)
}

func (h *Hub) callsLocked(business string) []Info {
	out := []Info{}
	for _, info := range h.calls {
		if info.Business == business {
			out = append(out, info)
		}
	}
	sortInfos(out)
	return out
}

// Open registers a local call and returns its topic. info.StartedAt defaults
// to now, info.Node to Options.Node, info.Rate to 8000, info.State to
// listening. Opening an ID that is already live replaces the old topic,
// which is closed with outcome "replaced".
func (h *Hub) Open(info Info) *Topic {
	if info.StartedAt.IsZero() {
		info.StartedAt = h.opts.Now()
	}
	if info.Node == "" {
		info.Node = h.opts.Node
	}
	if info.State == "" {
		info.State = StateListening
	}
	t := h.newTopic(info, true)
	h.mu.Lock()
	old := h.topics[info.ID]
	h.mu.Unlock()
	if old != nil {
		old.Close("replaced")
	}
	h.mu.Lock()
	h.topics[info.ID] = t
	h.calls[info.ID] = t.info
	h.notifyLocked(Update{Type: UpdateStarted, Call: &t.info})
	h.mu.Unlock()
	t.publish(&Message{Kind: KindInfo, Info: t.info})
	return t
}

// Mirror registers a remote call (one on another node) so that local
// listeners can attach to it; feed it with Topic.Inject. It does not appear
// in Watch (use Announce). A live local topic of the same ID is returned
// unchanged.
func (h *Hub) Mirror(info Info) *Topic {
	if info.Rate <= 0 {
		info.Rate = 8000
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if t := h.topics[info.ID]; t != nil {
		return t
	}
	t := h.newTopic(info, false)
	h.topics[info.ID] = t
	return t
}

// Inject feeds a wire-form message to the mirrored (or local) call callID.
func (h *Hub) Inject(callID string, msg []byte) error {
	h.mu.Lock()
	t := h.topics[callID]
	h.mu.Unlock()
	if t == nil {
		return ErrNotFound
	}
	return t.Inject(msg)
}

// Announce adds or updates a remote call in what Watch shows.
func (h *Hub) Announce(info Info) {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, known := h.calls[info.ID]
	h.calls[info.ID] = info
	typ := UpdateStarted
	if known {
		typ = UpdateUpdated
	}
	h.notifyLocked(Update{Type: typ, Call: &info})
}

// Gone removes a remote call from what Watch shows.
func (h *Hub) Gone(callID, outcome string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.goneLocked(callID, outcome)
}

func (h *Hub) goneLocked(callID, outcome string) {
	info, ok := h.calls[callID]
	if !ok {
		return
	}
	delete(h.calls, callID)
	h.notifyLocked(Update{Type: UpdateEnded, CallID: callID, Outcome: outcome, business: info.Business})
}

// ListenOptions tune one listener; zero values take the hub's defaults.
type ListenOptions struct {
	AudioQueue int  // frames
	EventQueue int  // events
	NoAudio    bool // events only
}

// Listen attaches a listener to the live call callID of business: first the
// call's event history (marked replay), then its events and audio as they
// happen. The listener is detached when ctx ends or on Close. A call that is
// not live, or belongs to another business, gives ErrNotFound; with
// Options.Remote a call on another node is attached on demand.
func (h *Hub) Listen(ctx context.Context, callID, business string, opts ListenOptions) (*Listener, error) {
	if opts.AudioQueue <= 0 {
		opts.AudioQueue = h.opts.AudioQueue
	}
	if opts.EventQueue <= 0 {
		opts.EventQueue = h.opts.EventQueue
	}
	h.mu.Lock()
	t := h.topics[callID]
	h.mu.Unlock()
	if t == nil && h.opts.Remote != nil {
		var err error
		if t, err = h.attachRemote(ctx, callID, business); err != nil {
			return nil, err
		}
	}
	if t == nil || t.info.Business != business {
		return nil, ErrNotFound
	}
	l := newListener(t, opts)
	if !t.attach(l) {
		return nil, ErrNotFound
	}
	h.listeners.Add(1)
	l.stop = context.AfterFunc(ctx, l.Close)
	return l, nil
}

// attachRemote mirrors a call from another node through Options.Remote. The
// mirror lives while it has listeners (or until the call ends).
func (h *Hub) attachRemote(ctx context.Context, callID, business string) (*Topic, error) {
	h.remoteMu.Lock()
	defer h.remoteMu.Unlock()
	h.mu.Lock()
	t := h.topics[callID]
	h.mu.Unlock()
	if t != nil {
		return t, nil
	}
	mctx, cancel := context.WithCancel(h.base)
	// Attaching may take a round trip; the caller's ctx bounds it.
	stop := context.AfterFunc(ctx, cancel)
	ch, info, err := h.opts.Remote(mctx, callID, business)
	stop()
	if err != nil {
		cancel()
		if errors.Is(err, ErrNotFound) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("live: attach remote call %s: %w", callID, err)
	}
	if info.ID != callID || info.Business != business {
		cancel()
		return nil, ErrNotFound
	}
	t = h.Mirror(info)
	t.mu.Lock()
	t.detachRemote = cancel
	t.mu.Unlock()
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		defer t.Close("")
		for {
			select {
			case <-mctx.Done():
				return
			case msg, ok := <-ch:
				if !ok {
					return
				}
				_ = t.Inject(msg) // a malformed message from the relay is skipped
				if t.isClosed() {
					return
				}
			}
		}
	}()
	return t, nil
}

// Topic is one live call's stream. Audio, Event, SetState and Close are safe
// for concurrent use; Audio never blocks on listeners and allocates nothing
// per frame in steady state.
type Topic struct {
	// Immutable after newTopic.
	hub      *Hub
	id       string
	business string
	started  time.Time
	local    bool

	listeners atomic.Pointer[[]*Listener] // copy-on-write, written under mu

	audioMu sync.Mutex // serialises Audio; guards pubMsg
	pubMsg  Message

	mu           sync.Mutex
	info         Info     // guarded by mu
	history      [][]byte // guarded by mu: event JSON, oldest first
	seq          int64    // guarded by mu
	closed       bool     // guarded by mu
	detachRemote func()   // guarded by mu: for a remote mirror, ends its feed
}

func (h *Hub) newTopic(info Info, local bool) *Topic {
	if info.Rate <= 0 {
		info.Rate = 8000
	}
	t := &Topic{hub: h, id: info.ID, business: info.Business, started: info.StartedAt, local: local, info: info}
	t.listeners.Store(&[]*Listener{})
	return t
}

// ID returns the call's ID.
func (t *Topic) ID() string { return t.id }

// Info returns the call's current Info.
func (t *Topic) Info() Info {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.info
}

// Audio publishes one aligned frame pair (20 ms at the call's rate): what
// the caller said and what the agent played over the same span. agent may be
// nil or shorter (silence). It never blocks on a listener.
func (t *Topic) Audio(caller, agent []int16) {
	t.audioMu.Lock()
	defer t.audioMu.Unlock()
	rate := t.info.Rate // immutable for local topics after Open
	for _, l := range *t.listeners.Load() {
		l.pushAudio(rate, caller, agent)
	}
	if t.local && t.hub.opts.Publish != nil {
		t.pubMsg.Kind, t.pubMsg.Rate, t.pubMsg.Caller, t.pubMsg.Agent = KindAudio, rate, caller, agent
		t.publish(&t.pubMsg)
		t.pubMsg.Caller, t.pubMsg.Agent = nil, nil
	}
}

// Event publishes e; the hub sets e.Seq and e.T. An agent.state event also
// updates the call's Info.State (and so what Watch shows).
func (t *Topic) Event(e Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.seq++
	e.Seq = t.seq
	e.T = t.hub.opts.Now().Sub(t.started).Milliseconds()
	e.Replay = false
	raw, err := json.Marshal(e)
	if err != nil {
		return // RawMessage args that are not JSON: nothing sensible to send
	}
	t.eventLocked(raw)
	if e.Type == EventState && e.State != "" && e.State != t.info.State {
		t.setStateLocked(e.State)
	}
}

// SetState sets the agent's state shown in Info without an event.
func (t *Topic) SetState(state string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.closed && state != t.info.State {
		t.setStateLocked(state)
	}
}

func (t *Topic) setStateLocked(state string) {
	t.info.State = state
	info := t.info
	if t.local {
		t.hub.mu.Lock()
		if _, ok := t.hub.calls[t.id]; ok {
			t.hub.calls[t.id] = info
			t.hub.notifyLocked(Update{Type: UpdateUpdated, Call: &info})
		}
		t.hub.mu.Unlock()
		t.publish(&Message{Kind: KindInfo, Info: info})
	}
}

// eventLocked records an encoded event and fans it out.
func (t *Topic) eventLocked(raw []byte) {
	if len(t.history) >= t.hub.opts.History {
		n := copy(t.history, t.history[1:])
		t.history[n] = nil
		t.history = t.history[:n]
	}
	t.history = append(t.history, raw)
	for _, l := range *t.listeners.Load() {
		l.pushEvent(raw)
	}
	if t.local {
		t.publish(&Message{Kind: KindEvent, Event: raw})
	}
}

// Close ends the call: listeners get a call.ended event and then end, the
// call leaves Watch. Idempotent.
func (t *Topic) Close(outcome string) {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.seq++
	raw, _ := json.Marshal(Event{Type: EventCallEnded, Seq: t.seq, T: t.hub.opts.Now().Sub(t.started).Milliseconds(), Outcome: outcome})
	t.eventLocked(raw)
	t.closeLocked(outcome)
	t.mu.Unlock()
}

func (t *Topic) closeLocked(outcome string) {
	t.closed = true
	ls := *t.listeners.Load()
	t.listeners.Store(&[]*Listener{})
	for _, l := range ls {
		l.end()
	}
	if t.detachRemote != nil {
		t.detachRemote()
	}
	if t.local {
		t.publish(&Message{Kind: KindEnd, Outcome: outcome})
	}
	h := t.hub
	h.mu.Lock()
	if h.topics[t.id] == t {
		delete(h.topics, t.id)
		if t.local {
			h.goneLocked(t.id, outcome)
		}
	}
	h.mu.Unlock()
}

func (t *Topic) isClosed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}

// Inject applies a wire-form message from another node to this (mirrored)
// call: audio and events reach listeners as if the call were local, Info
// updates the call's Info, End closes the topic.
func (t *Topic) Inject(msg []byte) error {
	var m Message
	if err := m.UnmarshalBinary(msg); err != nil {
		return err
	}
	switch m.Kind {
	case KindAudio:
		t.audioMu.Lock()
		for _, l := range *t.listeners.Load() {
			l.pushAudio(m.Rate, m.Caller, m.Agent)
		}
		t.audioMu.Unlock()
	case KindEvent:
		var head struct {
			Type    string `json:"type"`
			Seq     int64  `json:"seq"`
			Outcome string `json:"outcome"`
			State   string `json:"state"`
		}
		if err := json.Unmarshal(m.Event, &head); err != nil {
			return fmt.Errorf("%w: event: %w", ErrMessage, err)
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.closed || (head.Seq != 0 && head.Seq <= t.seq) {
			return nil // a duplicate (history overlapping the live stream)
		}
		t.seq = max(t.seq, head.Seq)
		t.eventLocked(m.Event)
		if head.Type == EventState && head.State != "" {
			t.info.State = head.State
		}
		if head.Type == EventCallEnded {
			t.closeLocked(head.Outcome)
		}
	case KindInfo:
		t.mu.Lock()
		if m.Info.ID == t.id && m.Info.Business == t.business {
			rate := t.info.Rate
			t.info = m.Info
			t.info.Rate = rate // audio messages carry their own rate
		}
		t.mu.Unlock()
	case KindEnd:
		t.Close(m.Outcome)
	}
	return nil
}

// attach adds l, with the history so far queued for replay. False if the
// call has ended.
func (t *Topic) attach(l *Listener) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	l.replay = make([][]byte, len(t.history))
	for i, raw := range t.history {
		l.replay[i] = replayed(raw)
	}
	old := *t.listeners.Load()
	ls := make([]*Listener, len(old), len(old)+1)
	copy(ls, old)
	ls = append(ls, l)
	t.listeners.Store(&ls)
	return true
}

// detach removes l; a remote mirror without listeners is let go.
func (t *Topic) detach(l *Listener) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := *t.listeners.Load()
	ls := make([]*Listener, 0, len(old))
	for _, x := range old {
		if x != l {
			ls = append(ls, x)
		}
	}
	t.listeners.Store(&ls)
	if len(ls) == 0 && !t.local && t.detachRemote != nil && !t.closed {
		// Nobody listens here any more: stop relaying the call to this node.
		t.detachRemote()
	}
}

// publish queues m for Options.Publish (local calls only).
func (t *Topic) publish(m *Message) {
	if !t.local || t.hub.opts.Publish == nil {
		return
	}
	t.hub.pub.push(t.id, m)
}
