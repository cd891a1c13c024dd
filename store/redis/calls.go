package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	goredis "github.com/redis/go-redis/v9"

	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
)

type calls Store

var _ store.Calls = (*calls)(nil)

// Calls are JSON records under {biz}:call:<id>, indexed by a per-business
// sorted set whose members (all score 0, ordered as strings) are
// "<started ns, 19 digits>:<id>", so that a range of start times and the
// (StartedAt, ID) page cursor are lexicographic ranges. "call-owner:<id>"
// names the business of each call ID: IDs are unique across businesses
// because they name files.
type callRec struct {
	ID                  string `json:"id"`
	BusinessID          string `json:"business_id"`
	Transport           string `json:"transport"`
	CarrierSID          string `json:"carrier_sid"`
	From                string `json:"from"`
	To                  string `json:"to"`
	LeadID              string `json:"lead_id"`
	StartedNS           int64  `json:"started_ns"`
	EndedNS             int64  `json:"ended_ns"`
	Outcome             string `json:"outcome"`
	RecordingID         string `json:"recording_id"`
	TranscriptID        string `json:"transcript_id"`
	RecordingExpiresNS  int64  `json:"recording_expires_ns"`
	TranscriptExpiresNS int64  `json:"transcript_expires_ns"`
	Disclosed           bool   `json:"disclosed"`
	RecordingStoppedNS  int64  `json:"recording_stopped_ns"`
	CreatedNS           int64  `json:"created_ns"`
	UpdatedNS           int64  `json:"updated_ns"`
}

func encodeCall(c store.Call) string {
	b, _ := json.Marshal(callRec{ // strings, integers and booleans always encode
		ID: c.ID, BusinessID: c.BusinessID, Transport: string(c.Transport), CarrierSID: c.CarrierSID, From: c.From, To: c.To,
		LeadID: c.LeadID, StartedNS: toNS(c.StartedAt), EndedNS: toNS(c.EndedAt), Outcome: string(c.Outcome),
		RecordingID: c.RecordingID, TranscriptID: c.TranscriptID, RecordingExpiresNS: toNS(c.RecordingExpires),
		TranscriptExpiresNS: toNS(c.TranscriptExpires), Disclosed: c.Disclosed, RecordingStoppedNS: toNS(c.RecordingStoppedAt),
		CreatedNS: toNS(c.CreatedAt), UpdatedNS: toNS(c.UpdatedAt),
	})
	return string(b)
}

func decodeCall(raw string) (store.Call, error) {
	var r callRec
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return store.Call{}, fmt.Errorf("decode call: %w", err)
	}
	return store.Call{
		ID: r.ID, BusinessID: r.BusinessID, Transport: store.Transport(r.Transport), CarrierSID: r.CarrierSID, From: r.From, To: r.To,
		LeadID: r.LeadID, StartedAt: fromNS(r.StartedNS), EndedAt: fromNS(r.EndedNS), Outcome: store.Outcome(r.Outcome),
		RecordingID: r.RecordingID, TranscriptID: r.TranscriptID, RecordingExpires: fromNS(r.RecordingExpiresNS),
		TranscriptExpires: fromNS(r.TranscriptExpiresNS), Disclosed: r.Disclosed, RecordingStoppedAt: fromNS(r.RecordingStoppedNS),
		CreatedAt: fromNS(r.CreatedNS), UpdatedAt: fromNS(r.UpdatedNS),
	}, nil
}

func (s *calls) key(businessID, id string) string { return (*Store)(s).bkey(businessID, "call", id) }
func (s *calls) index(businessID string) string   { return (*Store)(s).bkey(businessID, "calls") }
func (s *calls) owner(id string) string           { return s.prefix + "call-owner:" + id }

// member is a call's entry in the index.
func member(startedNS int64, id string) string { return fmt.Sprintf("%019d:%s", startedNS, id) }

var (
	// KEYS: 1 owner, 2 record, 3 index; ARGV: 1 business, 2 record, 3 member
	createCallScript = goredis.NewScript(`
if redis.call('SETNX', KEYS[1], ARGV[1]) == 0 then return {'exists'} end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], 0, ARGV[3])
return {'ok'}
`)
	// KEYS: 1 owner, 2 record, 3 index; ARGV: 1 expected record, 2 member
	deleteCallScript = goredis.NewScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return {'stale'} end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[2])
return {'ok'}
`)
)

func (s *calls) getRaw(ctx context.Context, businessID, id string) (store.Call, string, error) {
	if !store.ValidCallID(id) || !store.ValidID(businessID) {
		return store.Call{}, "", store.NotFound("call", id)
	}
	raw, ok, err := (*Store)(s).getString(ctx, s.key(businessID, id))
	if err != nil {
		return store.Call{}, "", err
	}
	if !ok {
		return store.Call{}, "", store.NotFound("call", id)
	}
	c, err := decodeCall(raw)
	return c, raw, err
}

func (s *calls) Create(ctx context.Context, businessID string, in store.Call) (store.Call, error) {
	const op = "create call"
	c, err := store.PrepareCall(businessID, in, s.now())
	if err != nil {
		return store.Call{}, fmt.Errorf("redis: %s: %w", op, err)
	}
	res, err := (*Store)(s).result(ctx, createCallScript, []string{s.owner(c.ID), s.key(businessID, c.ID), s.index(businessID)},
		businessID, encodeCall(c), member(c.StartedAt.UnixNano(), c.ID))
	if err != nil {
		return store.Call{}, fmt.Errorf("redis: %s: %w", op, err)
	}
	if res[0] != "ok" {
		return store.Call{}, fmt.Errorf("redis: %s: %w: call %s exists", op, scheduling.ErrDuplicate, c.ID)
	}
	return c, nil
}

func (s *calls) Lookup(ctx context.Context, id string) (store.Call, error) {
	if !store.ValidCallID(id) {
		return store.Call{}, fmt.Errorf("redis: look up call: %w", store.NotFound("call", id))
	}
	biz, ok, err := (*Store)(s).getString(ctx, s.owner(id))
	if err == nil && !ok {
		err = store.NotFound("call", id)
	}
	if err != nil {
		return store.Call{}, fmt.Errorf("redis: look up call: %w", err)
	}
	c, _, err := s.getRaw(ctx, biz, id)
	if err != nil {
		return store.Call{}, fmt.Errorf("redis: look up call: %w", err)
	}
	return c, nil
}

func (s *calls) Get(ctx context.Context, businessID, id string) (store.Call, error) {
	c, _, err := s.getRaw(ctx, businessID, id)
	if err != nil {
		return store.Call{}, fmt.Errorf("redis: get call: %w", err)
	}
	return c, nil
}

func (s *calls) Update(ctx context.Context, businessID, id string, change func(*store.Call) error) (store.Call, error) {
	const op = "update call"
	for range maxAttempts {
		cur, raw, err := s.getRaw(ctx, businessID, id)
		if err != nil {
			return store.Call{}, fmt.Errorf("redis: %s: %w", op, err)
		}
		var changeErr error
		next, err := store.ApplyCallChange(cur, func(c *store.Call) error {
			changeErr = change(c)
			return changeErr
		}, s.now())
		if changeErr != nil {
			return store.Call{}, changeErr
		}
		if err != nil {
			return store.Call{}, fmt.Errorf("redis: %s: %w", op, err)
		}
		res, err := (*Store)(s).result(ctx, casScript, []string{s.key(businessID, id)}, raw, encodeCall(next))
		if err != nil {
			return store.Call{}, fmt.Errorf("redis: %s: %w", op, err)
		}
		if res[0] == "ok" {
			return next, nil
		}
	}
	return store.Call{}, tooBusy(op)
}

func (s *calls) Delete(ctx context.Context, businessID, id string) error {
	const op = "delete call"
	for range maxAttempts {
		cur, raw, err := s.getRaw(ctx, businessID, id)
		if err != nil {
			return fmt.Errorf("redis: %s: %w", op, err)
		}
		res, err := (*Store)(s).result(ctx, deleteCallScript, []string{s.owner(id), s.key(businessID, id), s.index(businessID)},
			raw, member(cur.StartedAt.UnixNano(), id))
		if err != nil {
			return fmt.Errorf("redis: %s: %w", op, err)
		}
		if res[0] == "ok" {
			return nil
		}
	}
	return tooBusy(op)
}

func (s *calls) List(ctx context.Context, businessID string, f store.CallFilter, p store.Page) ([]store.Call, string, error) {
	const op = "list calls"
	limit, err := p.Size()
	if err == nil {
		err = store.CheckCallFilter(f)
	}
	if err == nil {
		err = store.CheckBusinessID(businessID)
	}
	if err != nil {
		return nil, "", fmt.Errorf("redis: %s: %w", op, err)
	}
	min, max := "-", "+"
	if !f.From.IsZero() {
		min = "[" + fmt.Sprintf("%019d", max64(f.From.UnixNano(), 0))
	}
	if !f.To.IsZero() {
		max = "(" + fmt.Sprintf("%019d", max64(f.To.UnixNano(), 0))
	}
	if p.Cursor != "" {
		key, err := store.DecodeCursor(p.Cursor, "call", 2)
		var ns int64
		if err == nil {
			ns, err = strconv.ParseInt(key[0], 10, 64)
		}
		if err != nil || ns < 0 {
			return nil, "", fmt.Errorf("redis: %s: %w: malformed page cursor", op, scheduling.ErrInvalid)
		}
		if c := "(" + member(ns, key[1]); max == "+" || c[1:] < max[1:] {
			max = c
		}
	}
	var out []store.Call
	const batch = 200
	for len(out) <= limit {
		members, err := s.c.ZRevRangeByLex(ctx, s.index(businessID), &goredis.ZRangeBy{Max: max, Min: min, Count: batch}).Result()
		if err != nil {
			return nil, "", fmt.Errorf("redis: %s: %w", op, err)
		}
		if len(members) == 0 {
			break
		}
		keys := make([]string, len(members))
		for i, m := range members {
			keys[i] = s.key(businessID, m[20:])
		}
		vals, err := s.c.MGet(ctx, keys...).Result()
		if err != nil {
			return nil, "", fmt.Errorf("redis: %s: %w", op, err)
		}
		for _, v := range vals {
			raw, ok := v.(string)
			if !ok {
				continue // deleted between the two reads
			}
			c, err := decodeCall(raw)
			if err != nil {
				return nil, "", fmt.Errorf("redis: %s: %w", op, err)
			}
			if store.MatchCall(c, f) {
				out = append(out, c)
			}
		}
		if len(members) < batch {
			break
		}
		max = "(" + members[len(members)-1]
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = store.EncodeCursor("call", strconv.FormatInt(last.StartedAt.UnixNano(), 10), last.ID)
	}
	return out, next, nil
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}
