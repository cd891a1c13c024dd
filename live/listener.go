package live

import (
	"sync"
)

// Frame is one aligned frame pair a listener received.
type Frame struct {
	Rate   int
	Caller []int16
	Agent  []int16 // same length as Caller
}

// Listener receives one call's events and audio through bounded queues that
// drop the oldest item when full and count the drops. Read it from one
// goroutine: wait on Ready, then drain NextEvent and NextAudio; Done reports
// when the call has ended and everything queued was read. Close is
// idempotent and safe for concurrent use.
type Listener struct {
	// Immutable after newListener.
	topic   *Topic
	ready   chan struct{} // capacity 1: "something was queued"
	noAudio bool
	stop    func() bool // stops the context.AfterFunc of Listen

	mu sync.Mutex
	// Audio ring, guarded by mu: slot i holds caller then agent samples.
	slot   int // samples per channel a slot holds
	frames []int16
	lens   []int
	rates  []int
	ahead  int
	an     int
	// Events, guarded by mu: replay (history) first, then the ring.
	replay        [][]byte
	events        [][]byte
	ehead, en     int
	droppedFrames uint64
	droppedEvents uint64
	ended         bool
	closed        bool
}

func newListener(t *Topic, o ListenOptions) *Listener {
	l := &Listener{
		topic:   t,
		ready:   make(chan struct{}, 1),
		noAudio: o.NoAudio,
		events:  make([][]byte, o.EventQueue),
	}
	if !o.NoAudio {
		l.slot = t.info.Rate / 50
		l.frames = make([]int16, o.AudioQueue*2*l.slot)
		l.lens = make([]int, o.AudioQueue)
		l.rates = make([]int, o.AudioQueue)
	}
	return l
}

func (l *Listener) notify() {
	select {
	case l.ready <- struct{}{}:
	default:
	}
}

// pushAudio queues a frame pair, dropping the oldest queued frame when full.
func (l *Listener) pushAudio(rate int, caller, agent []int16) {
	if l.noAudio {
		return
	}
	l.mu.Lock()
	if l.closed || l.ended {
		l.mu.Unlock()
		return
	}
	n := len(caller)
	if n > l.slot {
		// A frame longer than the call's rate promised (a remote call whose
		// Info was wrong): widen the slots, dropping what was queued. Never
		// in steady state.
		l.droppedFrames += uint64(l.an)
		l.topic.hub.droppedFrames.Add(uint64(l.an))
		l.slot = n
		l.frames = make([]int16, len(l.lens)*2*n)
		l.ahead, l.an = 0, 0
	}
	capacity := len(l.lens)
	if l.an == capacity {
		l.ahead = (l.ahead + 1) % capacity
		l.an--
		l.droppedFrames++
		l.topic.hub.droppedFrames.Add(1)
	}
	i := (l.ahead + l.an) % capacity
	s := l.frames[i*2*l.slot : (i+1)*2*l.slot]
	copy(s[:n], caller)
	a := s[l.slot : l.slot+n]
	m := copy(a, agent)
	clear(a[m:])
	l.lens[i], l.rates[i] = n, rate
	l.an++
	l.mu.Unlock()
	l.notify()
}

// pushEvent queues an encoded event, dropping the oldest queued one when full.
func (l *Listener) pushEvent(raw []byte) {
	l.mu.Lock()
	if l.closed || l.ended {
		l.mu.Unlock()
		return
	}
	capacity := len(l.events)
	if l.en == capacity {
		l.events[l.ehead] = nil
		l.ehead = (l.ehead + 1) % capacity
		l.en--
		l.droppedEvents++
		l.topic.hub.droppedEvents.Add(1)
	}
	l.events[(l.ehead+l.en)%capacity] = raw
	l.en++
	l.mu.Unlock()
	l.notify()
}

// end marks the call ended: nothing more will be queued.
func (l *Listener) end() {
	l.mu.Lock()
	l.ended = true
	l.mu.Unlock()
	l.notify()
}

// Ready returns a channel that receives after something was queued (or the
// call ended). One receive may stand for several items: drain them all.
func (l *Listener) Ready() <-chan struct{} { return l.ready }

// NextEvent returns the next event's JSON: the history first (each marked
// "replay":true), then live events in order. The bytes are shared: do not
// modify them.
func (l *Listener) NextEvent() ([]byte, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.replay) > 0 {
		raw := l.replay[0]
		l.replay[0] = nil
		l.replay = l.replay[1:]
		return raw, true
	}
	if l.en == 0 {
		return nil, false
	}
	raw := l.events[l.ehead]
	l.events[l.ehead] = nil
	l.ehead = (l.ehead + 1) % len(l.events)
	l.en--
	return raw, true
}

// NextAudio copies the oldest queued frame pair into f, reusing its
// buffers, and reports whether there was one.
func (l *Listener) NextAudio(f *Frame) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.an == 0 {
		return false
	}
	i := l.ahead
	n := l.lens[i]
	s := l.frames[i*2*l.slot : (i+1)*2*l.slot]
	f.Rate = l.rates[i]
	f.Caller = append(f.Caller[:0], s[:n]...)
	f.Agent = append(f.Agent[:0], s[l.slot:l.slot+n]...)
	l.ahead = (l.ahead + 1) % len(l.lens)
	l.an--
	return true
}

// Done reports whether the call has ended (or the listener was closed) and
// every queued item has been read.
func (l *Listener) Done() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed || (l.ended && l.an == 0 && l.en == 0 && len(l.replay) == 0)
}

// Dropped returns how many audio frames and events this listener lost to
// its full queues.
func (l *Listener) Dropped() (frames, events uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.droppedFrames, l.droppedEvents
}

// Info returns the call's current Info.
func (l *Listener) Info() Info { return l.topic.Info() }

// Close detaches the listener; it is idempotent.
func (l *Listener) Close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	l.frames, l.events, l.replay = nil, nil, nil
	l.an, l.en = 0, 0
	l.mu.Unlock()
	if l.stop != nil {
		l.stop()
	}
	l.topic.detach(l)
	l.topic.hub.listeners.Add(-1)
	l.notify()
}
