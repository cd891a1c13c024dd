package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	goredis "github.com/redis/go-redis/v9"

	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
)

type businesses Store

var _ store.Businesses = (*businesses)(nil)

const maxBusinessData = 1 << 20

// Business records are hashes {v: version, data, c: created ns, u: updated ns}.
var (
	createBizScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return {'exists'} end
redis.call('HSET', KEYS[1], 'v', '1', 'data', ARGV[1], 'c', ARGV[2], 'u', ARGV[2])
redis.call('ZADD', KEYS[2], 0, ARGV[3])
return {'ok'}
`)
	// ARGV: 1 expected version, 2 new data, 3 updated ns
	updateBizScript = goredis.NewScript(`
local v = redis.call('HGET', KEYS[1], 'v')
if not v then return {'missing'} end
if v ~= ARGV[1] then return {'stale', v} end
local nv = tostring(tonumber(v) + 1)
redis.call('HSET', KEYS[1], 'v', nv, 'data', ARGV[2], 'u', ARGV[3])
return {'ok', nv, redis.call('HGET', KEYS[1], 'c')}
`)
	// ARGV: 1 expected version ("0" for any), 2 id
	deleteBizScript = goredis.NewScript(`
local v = redis.call('HGET', KEYS[1], 'v')
if not v then return {'missing'} end
if ARGV[1] ~= '0' and v ~= ARGV[1] then return {'stale', v} end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return {'ok'}
`)
)

func (s *businesses) key(id string) string { return s.prefix + "biz:" + id }
func (s *businesses) index() string        { return s.prefix + "bizs" }

func checkBusinessRecord(rec store.BusinessRecord) error {
	if err := store.CheckBusinessID(rec.ID); err != nil {
		return err
	}
	if len(rec.Data) > maxBusinessData || !json.Valid(rec.Data) {
		return fmt.Errorf("%w: business data must be a JSON document of at most %d bytes", scheduling.ErrInvalid, maxBusinessData)
	}
	return nil
}

func (s *businesses) Create(ctx context.Context, rec store.BusinessRecord) (store.BusinessRecord, error) {
	const op = "create business"
	if err := checkBusinessRecord(rec); err != nil {
		return store.BusinessRecord{}, fmt.Errorf("redis: %s: %w", op, err)
	}
	now := s.now()
	res, err := (*Store)(s).result(ctx, createBizScript, []string{s.key(rec.ID), s.index()}, rec.Data, toNS(now), rec.ID)
	if err != nil {
		return store.BusinessRecord{}, fmt.Errorf("redis: %s: %w", op, err)
	}
	if res[0] == "exists" {
		return store.BusinessRecord{}, fmt.Errorf("redis: %s: %w: business %q exists", op, scheduling.ErrDuplicate, rec.ID)
	}
	rec.Version, rec.CreatedAt, rec.UpdatedAt = 1, now, now
	return rec, nil
}

func (s *businesses) Get(ctx context.Context, businessID string) (store.BusinessRecord, error) {
	const op = "get business"
	if !store.ValidID(businessID) {
		return store.BusinessRecord{}, fmt.Errorf("redis: %s: %w", op, store.NotFound("business", businessID))
	}
	m, err := s.c.HGetAll(ctx, s.key(businessID)).Result()
	if err != nil {
		return store.BusinessRecord{}, fmt.Errorf("redis: %s: %w", op, err)
	}
	if len(m) == 0 {
		return store.BusinessRecord{}, fmt.Errorf("redis: %s: %w", op, store.NotFound("business", businessID))
	}
	return parseBusiness(businessID, m)
}

func parseBusiness(id string, m map[string]string) (store.BusinessRecord, error) {
	v, err1 := strconv.ParseInt(m["v"], 10, 64)
	c, err2 := strconv.ParseInt(m["c"], 10, 64)
	u, err3 := strconv.ParseInt(m["u"], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return store.BusinessRecord{}, fmt.Errorf("redis: decode business %q: %w", id, err)
	}
	return store.BusinessRecord{ID: id, Version: v, Data: []byte(m["data"]), CreatedAt: fromNS(c), UpdatedAt: fromNS(u)}, nil
}

func (s *businesses) Update(ctx context.Context, rec store.BusinessRecord) (store.BusinessRecord, error) {
	const op = "update business"
	if err := checkBusinessRecord(rec); err != nil {
		return store.BusinessRecord{}, fmt.Errorf("redis: %s: %w", op, err)
	}
	now := s.now()
	res, err := (*Store)(s).result(ctx, updateBizScript, []string{s.key(rec.ID)}, rec.Version, rec.Data, toNS(now))
	if err != nil {
		return store.BusinessRecord{}, fmt.Errorf("redis: %s: %w", op, err)
	}
	switch res[0] {
	case "missing":
		return store.BusinessRecord{}, fmt.Errorf("redis: %s: %w", op, store.NotFound("business", rec.ID))
	case "stale":
		return store.BusinessRecord{}, fmt.Errorf("redis: %s: %w: business %q is at version %s, not %d", op, scheduling.ErrConflict, rec.ID, res[1], rec.Version)
	}
	if len(res) != 3 {
		return store.BusinessRecord{}, fmt.Errorf("redis: %s: unexpected script reply %q", op, res)
	}
	v, err1 := strconv.ParseInt(res[1], 10, 64)
	c, err2 := strconv.ParseInt(res[2], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return store.BusinessRecord{}, fmt.Errorf("redis: %s: %w", op, err)
	}
	return store.BusinessRecord{ID: rec.ID, Version: v, Data: rec.Data, CreatedAt: fromNS(c), UpdatedAt: now}, nil
}

func (s *businesses) Delete(ctx context.Context, businessID string, version int64) error {
	const op = "delete business"
	if !store.ValidID(businessID) {
		return fmt.Errorf("redis: %s: %w", op, store.NotFound("business", businessID))
	}
	res, err := (*Store)(s).result(ctx, deleteBizScript, []string{s.key(businessID), s.index()}, version, businessID)
	if err != nil {
		return fmt.Errorf("redis: %s: %w", op, err)
	}
	switch res[0] {
	case "missing":
		return fmt.Errorf("redis: %s: %w", op, store.NotFound("business", businessID))
	case "stale":
		return fmt.Errorf("redis: %s: %w: business %q is at version %s, not %d", op, scheduling.ErrConflict, businessID, res[1], version)
	}
	return nil
}

func (s *businesses) List(ctx context.Context, p store.Page) ([]store.BusinessRecord, string, error) {
	const op = "list businesses"
	limit, err := p.Size()
	if err != nil {
		return nil, "", fmt.Errorf("redis: %s: %w", op, err)
	}
	min := "-"
	if p.Cursor != "" {
		key, err := store.DecodeCursor(p.Cursor, "biz", 1)
		if err != nil {
			return nil, "", fmt.Errorf("redis: %s: %w", op, err)
		}
		min = "(" + key[0]
	}
	ids, err := s.c.ZRangeByLex(ctx, s.index(), &goredis.ZRangeBy{Min: min, Max: "+", Count: int64(limit + 1)}).Result()
	if err != nil {
		return nil, "", fmt.Errorf("redis: %s: %w", op, err)
	}
	next := ""
	if len(ids) > limit {
		ids = ids[:limit]
		next = store.EncodeCursor("biz", ids[limit-1])
	}
	var out []store.BusinessRecord
	for _, id := range ids {
		m, err := s.c.HGetAll(ctx, s.key(id)).Result()
		if err != nil {
			return nil, "", fmt.Errorf("redis: %s: %w", op, err)
		}
		if len(m) == 0 {
			continue // deleted meanwhile
		}
		r, err := parseBusiness(id, m)
		if err != nil {
			return nil, "", err
		}
		out = append(out, r)
	}
	return out, next, nil
}
