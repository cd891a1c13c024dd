package redis

import (
	"context"
	"fmt"

	goredis "github.com/redis/go-redis/v9"
)

// deleteApptScript removes an appointment and its index entries if it is
// still the record read:
//
//	KEYS: 1 record, 2 busy, 3 ends, 4 all, 5 idempotency key (or the record)
//	ARGV: 1 id, 2 expected record
var deleteApptScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[2] then return {'stale'} end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
if KEYS[5] ~= KEYS[1] and redis.call('GET', KEYS[5]) == ARGV[1] then redis.call('DEL', KEYS[5]) end
return {'ok'}
`)

func (s *appointments) Delete(ctx context.Context, businessID, id string) error {
	const op = "delete appointment"
	for range maxAttempts {
		cur, raw, err := s.getRaw(ctx, businessID, id)
		if err != nil {
			return fmt.Errorf("redis: %s: %w", op, err)
		}
		keys := []string{s.key(businessID, id), (*Store)(s).bkey(businessID, "busy"), (*Store)(s).bkey(businessID, "ends"),
			(*Store)(s).bkey(businessID, "apts"), s.key(businessID, id)}
		if cur.IdempotencyKey != "" {
			keys[4] = s.idemKey(businessID, cur.IdempotencyKey)
		}
		res, err := (*Store)(s).result(ctx, deleteApptScript, keys, id, raw)
		if err != nil {
			return fmt.Errorf("redis: %s: %w", op, err)
		}
		if res[0] == "ok" {
			return nil
		}
	}
	return tooBusy(op)
}
