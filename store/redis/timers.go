package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/frontdesk/frontdesk/store"
)

type timers Store

var _ store.Timers = (*timers)(nil)

// Timers are JSON records in one hash, "timers" (ID → record), indexed by
// due time in the sorted set "timers:due" (score: due in whole ms, rounded
// up, so that a timer listed as due at now is due) and by business in
// {biz}:timers (members ordered by ID). Writes go through scripts so that
// the three stay in step.
type timerRec struct {
	BusinessID string `json:"business_id"`
	Kind       string `json:"kind"`
	Target     string `json:"target"`
	Due        string `json:"due"` // RFC 3339 with nanoseconds: MaxTime does not fit in int64 ns
}

func (s *timers) hash() string                   { return s.prefix + "timers" }
func (s *timers) due() string                    { return s.prefix + "timers:due" }
func (s *timers) index(businessID string) string { return (*Store)(s).bkey(businessID, "timers") }

func encodeTimer(t store.Timer) string {
	b, _ := json.Marshal(timerRec{BusinessID: t.BusinessID, Kind: string(t.Kind), Target: t.Target, Due: t.Due.UTC().Format(time.RFC3339Nano)})
	return string(b)
}

func decodeTimer(id, raw string) (store.Timer, error) {
	var r timerRec
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return store.Timer{}, fmt.Errorf("decode timer %s: %w", id, err)
	}
	due, err := time.Parse(time.RFC3339Nano, r.Due)
	if err != nil {
		return store.Timer{}, fmt.Errorf("decode timer %s: %w", id, err)
	}
	return store.Timer{ID: id, BusinessID: r.BusinessID, Kind: store.TimerKind(r.Kind), Target: r.Target, Due: due}, nil
}

// businessOf returns the business part of a TimerID.
func businessOf(id string) (string, bool) {
	_, rest, ok := strings.Cut(id, ":")
	if !ok {
		return "", false
	}
	biz, _, ok := strings.Cut(rest, ":")
	return biz, ok && store.ValidID(biz)
}

var (
	// KEYS: 1 hash, 2 due, 3 business index; ARGV: 1 id, 2 record, 3 score
	scheduleTimerScript = goredis.NewScript(`
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[3], 0, ARGV[1])
return {'ok'}
`)
	// KEYS: 1 hash, 2 due; ARGV: 1 id, 2 expected record, 3 new record, 4 score
	rescheduleTimerScript = goredis.NewScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return {'missing'} end
if cur ~= ARGV[2] then return {'stale'} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
return {'ok'}
`)
	// KEYS: 1 hash, 2 due, 3 business index; ARGV: 1 id
	cancelTimerScript = goredis.NewScript(`
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return {'ok'}
`)
)

func (s *timers) Schedule(ctx context.Context, t store.Timer) error {
	if err := store.CheckTimer(t); err != nil {
		return fmt.Errorf("redis: schedule timer: %w", err)
	}
	if _, err := (*Store)(s).result(ctx, scheduleTimerScript, []string{s.hash(), s.due(), s.index(t.BusinessID)},
		t.ID, encodeTimer(t), ceilMS(t.Due)); err != nil {
		return fmt.Errorf("redis: schedule timer: %w", err)
	}
	return nil
}

func (s *timers) getRaw(ctx context.Context, id string) (store.Timer, string, error) {
	if store.CheckTimerID(id) != nil {
		return store.Timer{}, "", store.NotFound("timer", id)
	}
	raw, err := s.c.HGet(ctx, s.hash(), id).Result()
	if errors.Is(err, goredis.Nil) {
		return store.Timer{}, "", store.NotFound("timer", id)
	}
	if err != nil {
		return store.Timer{}, "", err
	}
	t, err := decodeTimer(id, raw)
	return t, raw, err
}

func (s *timers) Get(ctx context.Context, id string) (store.Timer, error) {
	t, _, err := s.getRaw(ctx, id)
	if err != nil {
		return store.Timer{}, fmt.Errorf("redis: get timer: %w", err)
	}
	return t, nil
}

func (s *timers) Cancel(ctx context.Context, id string) error {
	if err := store.CheckTimerID(id); err != nil {
		return fmt.Errorf("redis: cancel timer: %w", err)
	}
	biz, ok := businessOf(id)
	if !ok {
		return nil // no timer has this ID
	}
	if _, err := (*Store)(s).result(ctx, cancelTimerScript, []string{s.hash(), s.due(), s.index(biz)}, id); err != nil {
		return fmt.Errorf("redis: cancel timer: %w", err)
	}
	return nil
}

func (s *timers) Reschedule(ctx context.Context, id string, due time.Time) error {
	const op = "reschedule timer"
	for range maxAttempts {
		cur, raw, err := s.getRaw(ctx, id)
		if err != nil {
			return fmt.Errorf("redis: %s: %w", op, err)
		}
		cur.Due = due
		if err := store.CheckTimer(cur); err != nil {
			return fmt.Errorf("redis: %s: %w", op, err)
		}
		res, err := (*Store)(s).result(ctx, rescheduleTimerScript, []string{s.hash(), s.due()}, id, raw, encodeTimer(cur), ceilMS(due))
		if err != nil {
			return fmt.Errorf("redis: %s: %w", op, err)
		}
		switch res[0] {
		case "ok":
			return nil
		case "missing":
			return fmt.Errorf("redis: %s: %w", op, store.NotFound("timer", id))
		}
	}
	return tooBusy(op)
}

func (s *timers) Due(ctx context.Context, now time.Time, limit int) ([]store.Timer, error) {
	const op = "due timers"
	if limit < 1 || limit > store.MaxLimit {
		limit = store.MaxLimit
	}
	var out []store.Timer
	for range maxAttempts {
		ids, err := s.c.ZRangeByScore(ctx, s.due(), &goredis.ZRangeBy{Min: "-inf", Max: strconv.FormatInt(now.UnixMilli(), 10), Count: int64(limit)}).Result()
		if err != nil {
			return nil, fmt.Errorf("redis: %s: %w", op, err)
		}
		if out, err = s.load(ctx, op, ids); err != nil {
			return nil, err
		}
		if len(out) == len(ids) {
			break
		}
		// Some were cancelled between the two reads: read again, so that
		// a short answer always means there are no more due timers.
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Due.Equal(out[j].Due) {
			return out[i].Due.Before(out[j].Due)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

func (s *timers) load(ctx context.Context, op string, ids []string) ([]store.Timer, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	vals, err := s.c.HMGet(ctx, s.hash(), ids...).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: %s: %w", op, err)
	}
	out := make([]store.Timer, 0, len(ids))
	for i, v := range vals {
		raw, ok := v.(string)
		if !ok {
			continue // cancelled between the two reads
		}
		t, err := decodeTimer(ids[i], raw)
		if err != nil {
			return nil, fmt.Errorf("redis: %s: %w", op, err)
		}
		out = append(out, t)
	}
	return out, nil
}

func (s *timers) List(ctx context.Context, businessID string, p store.Page) ([]store.Timer, string, error) {
	const op = "list timers"
	limit, err := p.Size()
	if err == nil {
		err = store.CheckBusinessID(businessID)
	}
	if err != nil {
		return nil, "", fmt.Errorf("redis: %s: %w", op, err)
	}
	min := "-"
	if p.Cursor != "" {
		key, err := store.DecodeCursor(p.Cursor, "timer", 1)
		if err != nil {
			return nil, "", fmt.Errorf("redis: %s: %w", op, err)
		}
		min = "(" + key[0]
	}
	ids, err := s.c.ZRangeByLex(ctx, s.index(businessID), &goredis.ZRangeBy{Min: min, Max: "+", Count: int64(limit + 1)}).Result()
	if err != nil {
		return nil, "", fmt.Errorf("redis: %s: %w", op, err)
	}
	more := len(ids) > limit
	if more {
		ids = ids[:limit]
	}
	out, err := s.load(ctx, op, ids)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if more {
		next = store.EncodeCursor("timer", ids[limit-1])
	}
	return out, next, nil
}
