package redis

import (
	"context"
	"fmt"
	"strconv"

	goredis "github.com/redis/go-redis/v9"

	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
)

type audit Store

var _ store.Audit = (*audit)(nil)

// The audit log of a business is a Redis stream, {biz}:audit: append-only
// by nature (the store never calls XDEL or XTRIM on it), ordered by the
// server, and paged by stream entry ID.

func (s *audit) key(businessID string) string { return (*Store)(s).bkey(businessID, "audit") }

func (s *audit) Append(ctx context.Context, r store.AuditRecord) (store.AuditRecord, error) {
	const op = "append audit record"
	if err := store.CheckAudit(r); err != nil {
		return store.AuditRecord{}, fmt.Errorf("redis: %s: %w", op, err)
	}
	now := s.now()
	if r.At.IsZero() {
		r.At = now
	}
	r.ID = store.NewID("aud", now)
	err := s.c.XAdd(ctx, &goredis.XAddArgs{Stream: s.key(r.BusinessID), Values: []any{
		"id", r.ID, "at_ns", strconv.FormatInt(toNS(r.At), 10), "actor", r.Actor, "action", string(r.Action),
		"target", r.Target, "reason", r.Reason,
	}}).Err()
	if err != nil {
		return store.AuditRecord{}, fmt.Errorf("redis: %s: %w", op, err)
	}
	return r, nil
}

func (s *audit) List(ctx context.Context, businessID string, p store.Page) ([]store.AuditRecord, string, error) {
	const op = "list audit records"
	limit, err := p.Size()
	if err == nil {
		err = store.CheckBusinessID(businessID)
	}
	if err != nil {
		return nil, "", fmt.Errorf("redis: %s: %w", op, err)
	}
	max := "+"
	if p.Cursor != "" {
		key, err := store.DecodeCursor(p.Cursor, "audit", 1)
		if err != nil {
			return nil, "", fmt.Errorf("redis: %s: %w", op, err)
		}
		if !validStreamID(key[0]) {
			return nil, "", fmt.Errorf("redis: %s: %w: malformed page cursor", op, scheduling.ErrInvalid)
		}
		max = "(" + key[0]
	}
	msgs, err := s.c.XRevRangeN(ctx, s.key(businessID), max, "-", int64(limit+1)).Result()
	if err != nil {
		return nil, "", fmt.Errorf("redis: %s: %w", op, err)
	}
	out := make([]store.AuditRecord, 0, len(msgs))
	for _, m := range msgs {
		str := func(k string) string { v, _ := m.Values[k].(string); return v }
		at, err := strconv.ParseInt(str("at_ns"), 10, 64)
		if err != nil {
			return nil, "", fmt.Errorf("redis: %s: entry %s: bad time: %w", op, m.ID, err)
		}
		out = append(out, store.AuditRecord{ID: str("id"), BusinessID: businessID, At: fromNS(at), Actor: str("actor"),
			Action: store.AuditAction(str("action")), Target: str("target"), Reason: str("reason")})
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = store.EncodeCursor("audit", msgs[limit-1].ID)
	}
	return out, next, nil
}

// validStreamID reports whether id looks like "<ms>-<seq>".
func validStreamID(id string) bool {
	dash := -1
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c == '-' && dash < 0 && i > 0:
			dash = i
		case c < '0' || c > '9':
			return false
		}
	}
	return dash > 0 && dash < len(id)-1 && len(id) <= 41
}
