package live

import (
	"sync"
	"sync/atomic"
)

// pubQueue is the bounded drop-oldest queue between calls and
// Options.Publish. Slots keep their buffers, so pushing allocates nothing in
// steady state; pop copies a message out for Publish to own.
type pubQueue struct {
	ready chan struct{}

	mu      sync.Mutex
	slots   []pubSlot // guarded by mu
	head, n int       // guarded by mu

	dropped, popped atomic.Uint64
}

type pubSlot struct {
	id  string
	buf []byte
}

func (q *pubQueue) init(n int) {
	q.ready = make(chan struct{}, 1)
	q.slots = make([]pubSlot, n)
}

func (q *pubQueue) push(id string, m *Message) {
	q.mu.Lock()
	if q.n == len(q.slots) {
		q.head = (q.head + 1) % len(q.slots)
		q.n--
		q.dropped.Add(1)
	}
	s := &q.slots[(q.head+q.n)%len(q.slots)]
	buf, err := m.AppendBinary(s.buf[:0])
	if err != nil {
		q.mu.Unlock()
		return
	}
	s.id, s.buf = id, buf
	q.n++
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

func (q *pubQueue) pop() (string, []byte, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		return "", nil, false
	}
	s := &q.slots[q.head]
	msg := append([]byte(nil), s.buf...)
	q.head = (q.head + 1) % len(q.slots)
	q.n--
	q.popped.Add(1)
	return s.id, msg, true
}
