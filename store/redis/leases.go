package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/frontdesk/frontdesk/store"
)

type leases Store

var _ store.Leases = (*leases)(nil)

// Leases are hashes {h: holder, e: expiry in ms of the store's clock}. The
// store's clock decides expiry (so that tests can drive it); PEXPIRE only
// collects leases nobody renews.
var (
	// ARGV: 1 holder, 2 now ms, 3 expiry ms, 4 ttl ms
	acquireScript = goredis.NewScript(`
local h = redis.call('HGET', KEYS[1], 'h')
if h and h ~= ARGV[1] then
  local e = tonumber(redis.call('HGET', KEYS[1], 'e'))
  if e and e > tonumber(ARGV[2]) then return {'held'} end
end
redis.call('HSET', KEYS[1], 'h', ARGV[1], 'e', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {'ok'}
`)
	releaseScript = goredis.NewScript(`
if redis.call('HGET', KEYS[1], 'h') == ARGV[1] then redis.call('DEL', KEYS[1]) end
return {'ok'}
`)
)

func (s *leases) key(name string) string { return s.prefix + "lease:" + name }

func (s *leases) Acquire(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if err := store.CheckLease(name, holder, ttl); err != nil {
		return false, fmt.Errorf("redis: acquire lease: %w", err)
	}
	now := s.now()
	ttlMS := max(ttl.Milliseconds(), 1)
	res, err := (*Store)(s).result(ctx, acquireScript, []string{s.key(name)}, holder,
		strconv.FormatInt(now.UnixMilli(), 10), strconv.FormatInt(now.UnixMilli()+ttlMS, 10), ttlMS)
	if err != nil {
		return false, fmt.Errorf("redis: acquire lease %q: %w", name, err)
	}
	return res[0] == "ok", nil
}

func (s *leases) Release(ctx context.Context, name, holder string) error {
	if err := store.CheckLease(name, holder, 1); err != nil {
		return fmt.Errorf("redis: release lease: %w", err)
	}
	if _, err := (*Store)(s).result(ctx, releaseScript, []string{s.key(name)}, holder); err != nil {
		return fmt.Errorf("redis: release lease %q: %w", name, err)
	}
	return nil
}
