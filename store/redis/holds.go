package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	goredis "github.com/redis/go-redis/v9"

	"github.com/frontdesk/frontdesk/store"
)

type holds Store

var _ store.Holds = (*holds)(nil)

// Holds are one hash per business, {biz}:holds, field "<scope>:<target>"
// → JSON record.
type holdRec struct {
	Scope  string `json:"scope"`
	Target string `json:"target"`
	Reason string `json:"reason"`
	By     string `json:"by"`
	AtNS   int64  `json:"at_ns"`
}

func (s *holds) key(businessID string) string { return (*Store)(s).bkey(businessID, "holds") }

func decodeHold(businessID, raw string) (store.Hold, error) {
	var r holdRec
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return store.Hold{}, fmt.Errorf("decode hold: %w", err)
	}
	return store.Hold{BusinessID: businessID, Scope: store.HoldScope(r.Scope), Target: r.Target, Reason: r.Reason, By: r.By, At: fromNS(r.AtNS)}, nil
}

// KEYS: 1 hash; ARGV: 1 field. Returns the removed record, or nothing.
var releaseHoldScript = goredis.NewScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return {'missing'} end
redis.call('HDEL', KEYS[1], ARGV[1])
return {'ok', cur}
`)

func (s *holds) Place(ctx context.Context, h store.Hold) (store.Hold, bool, error) {
	const op = "place hold"
	if err := store.CheckHold(h); err != nil {
		return store.Hold{}, false, fmt.Errorf("redis: %s: %w", op, err)
	}
	if h.At.IsZero() {
		h.At = s.now()
	}
	raw, _ := json.Marshal(holdRec{Scope: string(h.Scope), Target: h.Target, Reason: h.Reason, By: h.By, AtNS: toNS(h.At)})
	field := string(h.Scope) + ":" + h.Target
	created, err := s.c.HSetNX(ctx, s.key(h.BusinessID), field, raw).Result()
	if err != nil {
		return store.Hold{}, false, fmt.Errorf("redis: %s: %w", op, err)
	}
	if created {
		return h, true, nil
	}
	cur, err := s.c.HGet(ctx, s.key(h.BusinessID), field).Result()
	if err != nil {
		return store.Hold{}, false, fmt.Errorf("redis: %s: %w", op, err)
	}
	out, err := decodeHold(h.BusinessID, cur)
	return out, false, err
}

func (s *holds) Release(ctx context.Context, businessID string, scope store.HoldScope, target string) (store.Hold, error) {
	const op = "release hold"
	if !store.ValidID(businessID) {
		return store.Hold{}, fmt.Errorf("redis: %s: %w", op, store.NotFound("hold", string(scope)+":"+target))
	}
	res, err := (*Store)(s).result(ctx, releaseHoldScript, []string{s.key(businessID)}, string(scope)+":"+target)
	if err != nil {
		return store.Hold{}, fmt.Errorf("redis: %s: %w", op, err)
	}
	if res[0] != "ok" || len(res) < 2 {
		return store.Hold{}, fmt.Errorf("redis: %s: %w", op, store.NotFound("hold", string(scope)+":"+target))
	}
	return decodeHold(businessID, res[1])
}

func (s *holds) List(ctx context.Context, businessID string) ([]store.Hold, error) {
	if !store.ValidID(businessID) {
		return nil, nil
	}
	all, err := s.c.HGetAll(ctx, s.key(businessID)).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: list holds: %w", err)
	}
	out := make([]store.Hold, 0, len(all))
	for _, raw := range all {
		h, err := decodeHold(businessID, raw)
		if err != nil {
			return nil, fmt.Errorf("redis: list holds: %w", err)
		}
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Scope != out[j].Scope {
			return out[i].Scope < out[j].Scope
		}
		return out[i].Target < out[j].Target
	})
	return out, nil
}
