package redis

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
)

type apiKeys Store

var _ store.APIKeys = (*apiKeys)(nil)

type keyRec struct {
	ID         string `json:"id"`
	BusinessID string `json:"business_id"`
	Hash       string `json:"hash"` // hex SHA-256
	Role       string `json:"role"`
	Name       string `json:"name"`
	CreatedNS  int64  `json:"created_ns"`
	RevokedNS  int64  `json:"revoked_ns"`
}

func encodeKey(k store.APIKey) string {
	b, _ := json.Marshal(keyRec{ID: k.ID, BusinessID: k.BusinessID, Hash: hex.EncodeToString(k.Hash[:]), Role: string(k.Role),
		Name: k.Name, CreatedNS: toNS(k.CreatedAt), RevokedNS: toNS(k.RevokedAt)})
	return string(b)
}

func decodeKey(raw string) (store.APIKey, error) {
	var r keyRec
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return store.APIKey{}, fmt.Errorf("decode API key: %w", err)
	}
	k := store.APIKey{ID: r.ID, BusinessID: r.BusinessID, Role: store.Role(r.Role), Name: r.Name,
		CreatedAt: fromNS(r.CreatedNS), RevokedAt: fromNS(r.RevokedNS)}
	if h, err := hex.DecodeString(r.Hash); err != nil || len(h) != len(k.Hash) {
		return store.APIKey{}, fmt.Errorf("decode API key %s: bad hash", r.ID)
	} else {
		copy(k.Hash[:], h)
	}
	return k, nil
}

// createKeyScript stores a new key and indexes it under its business.
var createKeyScript = goredis.NewScript(`
if not redis.call('SET', KEYS[1], ARGV[1], 'NX') then return {'exists'} end
redis.call('ZADD', KEYS[2], 0, ARGV[2])
return {'ok'}
`)

func (s *apiKeys) key(id string) string           { return s.prefix + "key:" + id }
func (s *apiKeys) index(businessID string) string { return (*Store)(s).bkey(businessID, "keys") }

func (s *apiKeys) getRaw(ctx context.Context, id string) (store.APIKey, string, error) {
	if !store.ValidID(id) {
		return store.APIKey{}, "", store.NotFound("API key", id)
	}
	raw, ok, err := (*Store)(s).getString(ctx, s.key(id))
	if err != nil {
		return store.APIKey{}, "", err
	}
	if !ok {
		return store.APIKey{}, "", store.NotFound("API key", id)
	}
	k, err := decodeKey(raw)
	return k, raw, err
}

func (s *apiKeys) Create(ctx context.Context, k store.APIKey) (store.APIKey, error) {
	const op = "create API key"
	if err := k.Validate(); err != nil {
		return store.APIKey{}, fmt.Errorf("redis: %s: %w", op, err)
	}
	k.CreatedAt, k.RevokedAt = s.now(), time.Time{}
	res, err := (*Store)(s).result(ctx, createKeyScript, []string{s.key(k.ID), s.index(k.BusinessID)}, encodeKey(k), k.ID)
	if err != nil {
		return store.APIKey{}, fmt.Errorf("redis: %s: %w", op, err)
	}
	if res[0] == "exists" {
		return store.APIKey{}, fmt.Errorf("redis: %s: %w: API key %s exists", op, scheduling.ErrDuplicate, k.ID)
	}
	return k, nil
}

func (s *apiKeys) Lookup(ctx context.Context, id string) (store.APIKey, error) {
	k, _, err := s.getRaw(ctx, id)
	if err != nil {
		return store.APIKey{}, fmt.Errorf("redis: look up API key: %w", err)
	}
	return k, nil
}

func (s *apiKeys) List(ctx context.Context, businessID string, p store.Page) ([]store.APIKey, string, error) {
	const op = "list API keys"
	limit, err := p.Size()
	if err == nil {
		err = store.CheckBusinessID(businessID)
	}
	if err != nil {
		return nil, "", fmt.Errorf("redis: %s: %w", op, err)
	}
	min := "-"
	if p.Cursor != "" {
		key, err := store.DecodeCursor(p.Cursor, "key", 1)
		if err != nil {
			return nil, "", fmt.Errorf("redis: %s: %w", op, err)
		}
		min = "(" + key[0]
	}
	ids, err := s.c.ZRangeByLex(ctx, s.index(businessID), &goredis.ZRangeBy{Min: min, Max: "+", Count: int64(limit + 1)}).Result()
	if err != nil {
		return nil, "", fmt.Errorf("redis: %s: %w", op, err)
	}
	var out []store.APIKey
	for _, id := range ids {
		k, _, err := s.getRaw(ctx, id)
		if err != nil {
			return nil, "", fmt.Errorf("redis: %s: %w", op, err)
		}
		out = append(out, k)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = store.EncodeCursor("key", out[limit-1].ID)
	}
	return out, next, nil
}

func (s *apiKeys) Revoke(ctx context.Context, businessID, id string) (store.APIKey, error) {
	const op = "revoke API key"
	for range maxAttempts {
		k, raw, err := s.getRaw(ctx, id)
		if err == nil && k.BusinessID != businessID {
			err = store.NotFound("API key", id)
		}
		if err != nil {
			return store.APIKey{}, fmt.Errorf("redis: %s: %w", op, err)
		}
		if k.Revoked() {
			return k, nil
		}
		k.RevokedAt = s.now()
		res, err := (*Store)(s).result(ctx, casScript, []string{s.key(id)}, raw, encodeKey(k))
		if err != nil {
			return store.APIKey{}, fmt.Errorf("redis: %s: %w", op, err)
		}
		if res[0] == "ok" {
			return k, nil
		}
	}
	return store.APIKey{}, tooBusy(op)
}
