package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
)

type audit Store

var _ store.Audit = (*audit)(nil)

func (s *audit) Append(ctx context.Context, r store.AuditRecord) (store.AuditRecord, error) {
	const op = "append audit record"
	if err := store.CheckAudit(r); err != nil {
		return store.AuditRecord{}, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	now := s.now()
	if r.At.IsZero() {
		r.At = now
	}
	r.ID = store.NewID("aud", now)
	err := (*Store)(s).write(ctx, op, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO audit (business_id, id, at_ns, actor, action, target, reason) VALUES (?,?,?,?,?,?,?)`,
			r.BusinessID, r.ID, toNS(r.At), r.Actor, string(r.Action), r.Target, r.Reason)
		return err
	})
	if err != nil {
		return store.AuditRecord{}, err
	}
	return r, nil
}

func (s *audit) List(ctx context.Context, businessID string, p store.Page) ([]store.AuditRecord, string, error) {
	const op = "list audit records"
	limit, err := p.Size()
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
	}
	before := int64(-1)
	if p.Cursor != "" {
		key, err := store.DecodeCursor(p.Cursor, "audit", 1)
		if err == nil {
			before, err = strconv.ParseInt(key[0], 10, 64)
		}
		if err != nil {
			return nil, "", fmt.Errorf("sqlite: %s: %w: malformed page cursor", op, scheduling.ErrInvalid)
		}
	}
	rows, err := s.r.QueryContext(ctx, `SELECT seq, business_id, id, at_ns, actor, action, target, reason FROM audit
		WHERE business_id = ? AND (? < 0 OR seq < ?) ORDER BY seq DESC LIMIT ?`, businessID, before, before, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer rows.Close()
	var out []store.AuditRecord
	var seqs []int64
	for rows.Next() {
		var r store.AuditRecord
		var seq, at int64
		var action string
		if err := rows.Scan(&seq, &r.BusinessID, &r.ID, &at, &r.Actor, &action, &r.Target, &r.Reason); err != nil {
			return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
		}
		r.At, r.Action = fromNS(at), store.AuditAction(action)
		out, seqs = append(out, r), append(seqs, seq)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = store.EncodeCursor("audit", strconv.FormatInt(seqs[limit-1], 10))
	}
	return out, next, nil
}
