package server

import (
	"math"
	"sync"
	"time"
)

// rateLimiter is a set of token buckets, one per key (a client address, a
// business): each holds up to burst tokens and refills perMinute a minute.
// Full buckets are forgotten, so memory follows the keys active in the last
// minute or so. Safe for concurrent use.
type rateLimiter struct {
	// immutable
	perSec float64
	burst  float64
	now    func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket // guarded by mu
	lastSweep time.Time          // guarded by mu
}

type bucket struct {
	tokens float64
	at     time.Time
}

// newRateLimiter allows perMinute events a minute per key with a burst of
// as many; perMinute < 0 allows everything.
func newRateLimiter(perMinute int, now func() time.Time) *rateLimiter {
	return &rateLimiter{
		perSec:  float64(perMinute) / 60,
		burst:   float64(perMinute),
		now:     now,
		buckets: make(map[string]*bucket),
	}
}

// allow takes a token from key's bucket. When there is none it returns
// false and how long until there will be one.
func (l *rateLimiter) allow(key string) (bool, time.Duration) {
	if l.burst < 0 {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > time.Minute {
		l.sweepLocked(now)
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = l.refill(b, now)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	if l.perSec <= 0 {
		return false, time.Hour
	}
	wait := time.Duration((1 - b.tokens) / l.perSec * float64(time.Second))
	return false, wait
}

func (l *rateLimiter) refill(b *bucket, now time.Time) float64 {
	el := now.Sub(b.at).Seconds()
	if el <= 0 {
		return b.tokens
	}
	return math.Min(l.burst, b.tokens+el*l.perSec)
}

// sweepLocked forgets buckets that have refilled: a new one starts full.
func (l *rateLimiter) sweepLocked(now time.Time) {
	l.lastSweep = now
	for k, b := range l.buckets {
		if l.refill(b, now) >= l.burst {
			delete(l.buckets, k)
		}
	}
}

// retryAfterSeconds rounds a wait up to whole seconds for Retry-After.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
