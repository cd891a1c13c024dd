package live

import (
	"context"
	"slices"
	"strings"
	"sync"
)

// Update types, as in GET /v1/live.
const (
	UpdateSnapshot = "snapshot"
	UpdateStarted  = "call.started"
	UpdateUpdated  = "call.updated"
	UpdateEnded    = "call.ended"
)

// Update is one message of a Watcher. Its JSON is the message of GET /v1/live.
type Update struct {
	Type    string  `json:"type"`
	Calls   *[]Info `json:"calls,omitempty"` // snapshot (never nil there)
	Call    *Info   `json:"call,omitempty"`  // call.started, call.updated
	CallID  string  `json:"call_id,omitempty"`
	Outcome string  `json:"outcome,omitempty"` // call.ended

	business string // of a call.ended update, for routing
}

func (u Update) businessOf() string {
	if u.Call != nil {
		return u.Call.Business
	}
	return u.business
}

// Watcher follows the live calls of one business: a snapshot first, then
// changes. A watcher that falls behind by more than its queue gets a fresh
// snapshot in place of the lost updates. Read it from one goroutine; Close is
// idempotent and safe for concurrent use.
type Watcher struct {
	// Immutable after Watch.
	hub      *Hub
	business string
	ready    chan struct{}
	stop     func() bool

	mu     sync.Mutex
	queue  []Update // guarded by mu
	resync bool     // guarded by mu: next Next is a snapshot
	closed bool     // guarded by mu
}

// Watch returns a watcher of business's live calls; it is closed when ctx
// ends or on Close.
func (h *Hub) Watch(ctx context.Context, business string) *Watcher {
	w := &Watcher{hub: h, business: business, ready: make(chan struct{}, 1), resync: true}
	w.ready <- struct{}{}
	h.mu.Lock()
	h.watchers[w] = struct{}{}
	h.mu.Unlock()
	h.watchers_.Add(1)
	w.stop = context.AfterFunc(ctx, w.Close)
	return w
}

func (h *Hub) notifyLocked(u Update) {
	b := u.businessOf()
	for w := range h.watchers {
		if w.business == b {
			w.push(u)
		}
	}
}

func (w *Watcher) push(u Update) {
	w.mu.Lock()
	switch {
	case w.closed || w.resync:
	case len(w.queue) >= w.hub.opts.WatchQueue:
		w.queue = w.queue[:0]
		w.resync = true
		w.hub.droppedW.Add(1)
	default:
		w.queue = append(w.queue, u)
	}
	w.mu.Unlock()
	select {
	case w.ready <- struct{}{}:
	default:
	}
}

// Ready returns a channel that receives after an update was queued.
func (w *Watcher) Ready() <-chan struct{} { return w.ready }

// Next returns the next update: a snapshot first (and after falling
// behind), then call.started, call.updated and call.ended in order.
func (w *Watcher) Next() (Update, bool) {
	w.hub.mu.Lock() // before w.mu: a snapshot must not miss or repeat an update
	defer w.hub.mu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return Update{}, false
	}
	if w.resync {
		w.resync = false
		w.queue = w.queue[:0]
		calls := w.hub.callsLocked(w.business)
		return Update{Type: UpdateSnapshot, Calls: &calls}, true
	}
	if len(w.queue) == 0 {
		return Update{}, false
	}
	u := w.queue[0]
	w.queue = slices.Delete(w.queue, 0, 1)
	return u, true
}

// Close detaches the watcher; it is idempotent.
func (w *Watcher) Close() {
	w.hub.mu.Lock()
	delete(w.hub.watchers, w)
	w.hub.mu.Unlock()
	w.mu.Lock()
	already := w.closed
	w.closed = true
	w.mu.Unlock()
	if already {
		return
	}
	if w.stop != nil {
		w.stop()
	}
	w.hub.watchers_.Add(-1)
	select {
	case w.ready <- struct{}{}:
	default:
	}
}

// Closed reports whether the watcher was closed.
func (w *Watcher) Closed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closed
}

func sortInfos(s []Info) {
	slices.SortFunc(s, func(a, b Info) int {
		if c := a.StartedAt.Compare(b.StartedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}
