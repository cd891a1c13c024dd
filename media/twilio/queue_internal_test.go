package twilio

import (
	"testing"
	"time"
)

// TestQueueStaysBounded: a queue that never drains (echo keeps a second
// of audio waiting) must not grow with the length of the call.
func TestQueueStaysBounded(t *testing.T) {
	now := time.Unix(0, 0)
	s := &Session{opts: SessionOptions{QueueLimit: time.Hour, Now: func() time.Time { return now }}, wake: make(chan struct{}, 1)}
	frame := make([]int16, FrameSamples)
	for range 50 { // one second waiting
		s.Play(frame)
	}
	for range 30000 { // ten minutes: one frame in, one frame out
		s.Play(frame)
		s.mu.Lock()
		s.head++
		s.queued -= samplesDur(FrameSamples)
		s.mu.Unlock()
	}
	if c := s.queueLen(); c > 400 {
		t.Errorf("queue capacity %d after ten minutes of echo, want it bounded near 100", c)
	}
}
