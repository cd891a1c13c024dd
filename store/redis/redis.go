// Package redis is the store shared by several Frontdesk nodes, on one Redis
// server (standalone, or Sentinel-managed; not Redis Cluster, because
// businesses and API keys are looked up across businesses).
//
// A booking is one Lua script over a per-business sorted set of booked
// appointment starts and a hash of their block ends: the script checks for
// an overlap and writes the appointment in one atomic step, so no two nodes
// can book the same time. Other updates are compare-and-set scripts on the
// stored JSON record, retried when another writer got there first.
//
// Every key starts with Options.Prefix, and every key of one business
// contains "{businessID}", so tests (and deployments sharing a server) stay
// apart by prefix.
package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
)

// DefaultPrefix is the key prefix when Options.Prefix is empty.
const DefaultPrefix = "fd:"

// maxAttempts bounds compare-and-set retries under contention.
const maxAttempts = 100

// Options configure New.
type Options struct {
	Prefix string           // key prefix; default DefaultPrefix
	Now    func() time.Time // clock for timestamps, "in the past" checks and lease expiry; default time.Now
}

// Store is the Redis backend. It is safe for concurrent use, from any
// number of processes.
type Store struct {
	// immutable after New
	c      goredis.UniversalClient
	prefix string
	now    func() time.Time
}

var _ store.Store = (*Store)(nil)

// New returns a store on c. It starts nothing; the client stays the
// caller's to close.
func New(c goredis.UniversalClient, opts Options) *Store {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{c: c, prefix: opts.Prefix, now: opts.Now}
}

// Client returns the client the store was made with: the cluster
// registry and relay (package cluster) share it and the key prefix.
func (s *Store) Client() goredis.UniversalClient { return s.c }

// Prefix returns the key prefix.
func (s *Store) Prefix() string { return s.prefix }

// Close does nothing: the client belongs to the caller.
func (s *Store) Close() error { return nil }

func (s *Store) Appointments() store.Appointments { return (*appointments)(s) }
func (s *Store) Leads() store.Leads               { return (*leads)(s) }
func (s *Store) Businesses() store.Businesses     { return (*businesses)(s) }
func (s *Store) APIKeys() store.APIKeys           { return (*apiKeys)(s) }
func (s *Store) Leases() store.Leases             { return (*leases)(s) }
func (s *Store) Calls() store.Calls               { return (*calls)(s) }
func (s *Store) Holds() store.Holds               { return (*holds)(s) }
func (s *Store) Audit() store.Audit               { return (*audit)(s) }
func (s *Store) Timers() store.Timers             { return (*timers)(s) }

// bkey returns the key of a business's record; the braces make Redis
// hash-tag all of a business's keys together.
func (s *Store) bkey(businessID string, parts ...string) string {
	return s.prefix + "{" + businessID + "}:" + strings.Join(parts, ":")
}

// getString returns the string at key, or "" and found=false.
func (s *Store) getString(ctx context.Context, key string) (string, bool, error) {
	v, err := s.c.Get(ctx, key).Result()
	if errors.Is(err, goredis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return v, true, nil
}

// result runs a script and returns its reply as strings: scripts here
// return a status word and optional details.
func (s *Store) result(ctx context.Context, sc *goredis.Script, keys []string, args ...any) ([]string, error) {
	v, err := sc.Run(ctx, s.c, keys, args...).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("run script: %w", err)
	}
	if len(v) == 0 {
		return nil, errors.New("run script: empty reply")
	}
	return v, nil
}

// errStale means a compare-and-set lost to another writer; callers retry.
var errStale = errors.New("record changed concurrently")

func tooBusy(op string) error {
	return fmt.Errorf("redis: %s: gave up after %d concurrent changes", op, maxAttempts)
}

// casScript replaces the string at KEYS[1] with ARGV[2] if it is ARGV[1].
var casScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {'stale'} end
redis.call('SET', KEYS[1], ARGV[2])
return {'ok'}
`)

func ms(t time.Time) int64 { return t.UnixMilli() }

// ceilMS returns the smallest whole millisecond at or after t, so that a
// score bound in milliseconds selects the same starts as a bound in
// nanoseconds would.
func ceilMS(t time.Time) int64 {
	ns := t.UnixNano()
	m := ns / 1e6
	if ns%1e6 > 0 {
		m++
	}
	return m
}

func toNS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNS(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

func isNotFound(err error) bool { return errors.Is(err, scheduling.ErrNotFound) }
