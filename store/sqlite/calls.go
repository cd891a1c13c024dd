package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
)

type calls Store

var _ store.Calls = (*calls)(nil)

const callColumns = `business_id, id, transport, carrier_sid, from_number, to_number, lead_id, started_ns, ended_ns,
	outcome, recording_id, transcript_id, recording_expires_ns, transcript_expires_ns, disclosed, recording_stopped_ns,
	created_ns, updated_ns`

func scanCall(row rowScanner) (store.Call, error) {
	var c store.Call
	var transport, outcome string
	var started, ended, recExp, trExp, stopped, created, updated int64
	if err := row.Scan(&c.BusinessID, &c.ID, &transport, &c.CarrierSID, &c.From, &c.To, &c.LeadID, &started, &ended,
		&outcome, &c.RecordingID, &c.TranscriptID, &recExp, &trExp, &c.Disclosed, &stopped, &created, &updated); err != nil {
		return store.Call{}, err
	}
	c.Transport, c.Outcome = store.Transport(transport), store.Outcome(outcome)
	c.StartedAt, c.EndedAt = fromNS(started), fromNS(ended)
	c.RecordingExpires, c.TranscriptExpires, c.RecordingStoppedAt = fromNS(recExp), fromNS(trExp), fromNS(stopped)
	c.CreatedAt, c.UpdatedAt = fromNS(created), fromNS(updated)
	return c, nil
}

func callArgs(c store.Call) []any {
	return []any{c.BusinessID, c.ID, string(c.Transport), c.CarrierSID, c.From, c.To, c.LeadID, toNS(c.StartedAt), toNS(c.EndedAt),
		string(c.Outcome), c.RecordingID, c.TranscriptID, toNS(c.RecordingExpires), toNS(c.TranscriptExpires), c.Disclosed,
		toNS(c.RecordingStoppedAt), toNS(c.CreatedAt), toNS(c.UpdatedAt)}
}

func (s *calls) get(ctx context.Context, q queryer, businessID, id string) (store.Call, error) {
	if !store.ValidCallID(id) {
		return store.Call{}, store.NotFound("call", id)
	}
	c, err := scanCall(q.QueryRowContext(ctx, `SELECT `+callColumns+` FROM calls WHERE business_id = ? AND id = ?`, businessID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Call{}, store.NotFound("call", id)
	}
	return c, err
}

func (s *calls) Create(ctx context.Context, businessID string, in store.Call) (store.Call, error) {
	const op = "create call"
	c, err := store.PrepareCall(businessID, in, s.now())
	if err != nil {
		return store.Call{}, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	err = (*Store)(s).write(ctx, op, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM calls WHERE id = ?`, c.ID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%w: call %s exists", scheduling.ErrDuplicate, c.ID)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO calls (`+callColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, callArgs(c)...)
		return err
	})
	if err != nil {
		return store.Call{}, err
	}
	return c, nil
}

func (s *calls) Lookup(ctx context.Context, id string) (store.Call, error) {
	if !store.ValidCallID(id) {
		return store.Call{}, fmt.Errorf("sqlite: look up call: %w", store.NotFound("call", id))
	}
	c, err := scanCall(s.r.QueryRowContext(ctx, `SELECT `+callColumns+` FROM calls WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.NotFound("call", id)
	}
	if err != nil {
		return store.Call{}, fmt.Errorf("sqlite: look up call: %w", err)
	}
	return c, nil
}

func (s *calls) Get(ctx context.Context, businessID, id string) (store.Call, error) {
	c, err := s.get(ctx, s.r, businessID, id)
	if err != nil {
		return store.Call{}, fmt.Errorf("sqlite: get call: %w", err)
	}
	return c, nil
}

// errChange marks an error returned by an Update's change function, which
// Update returns unwrapped.
type errChange struct{ err error }

func (e errChange) Error() string { return e.err.Error() }

func (s *calls) Update(ctx context.Context, businessID, id string, change func(*store.Call) error) (store.Call, error) {
	const op = "update call"
	var out store.Call
	err := (*Store)(s).write(ctx, op, func(tx *sql.Tx) error {
		cur, err := s.get(ctx, tx, businessID, id)
		if err != nil {
			return err
		}
		out, err = store.ApplyCallChange(cur, func(c *store.Call) error {
			if err := change(c); err != nil {
				return errChange{err}
			}
			return nil
		}, s.now())
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE calls SET transport = ?, carrier_sid = ?, from_number = ?, to_number = ?, lead_id = ?,
			ended_ns = ?, outcome = ?, recording_id = ?, transcript_id = ?, recording_expires_ns = ?, transcript_expires_ns = ?,
			disclosed = ?, recording_stopped_ns = ?, updated_ns = ? WHERE business_id = ? AND id = ?`,
			string(out.Transport), out.CarrierSID, out.From, out.To, out.LeadID, toNS(out.EndedAt), string(out.Outcome),
			out.RecordingID, out.TranscriptID, toNS(out.RecordingExpires), toNS(out.TranscriptExpires), out.Disclosed,
			toNS(out.RecordingStoppedAt), toNS(out.UpdatedAt), businessID, id)
		return err
	})
	var ce errChange
	if errors.As(err, &ce) {
		return store.Call{}, ce.err
	}
	if err != nil {
		return store.Call{}, err
	}
	return out, nil
}

func (s *calls) Delete(ctx context.Context, businessID, id string) error {
	return (*Store)(s).write(ctx, "delete call", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM calls WHERE business_id = ? AND id = ?`, businessID, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return err
			}
			return store.NotFound("call", id)
		}
		return nil
	})
}

func (s *calls) List(ctx context.Context, businessID string, f store.CallFilter, p store.Page) ([]store.Call, string, error) {
	const op = "list calls"
	limit, err := p.Size()
	if err == nil {
		err = store.CheckCallFilter(f)
	}
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
	}
	var where strings.Builder
	args := []any{businessID}
	where.WriteString(`business_id = ?`)
	if !f.From.IsZero() {
		where.WriteString(` AND started_ns >= ?`)
		args = append(args, f.From.UnixNano())
	}
	if !f.To.IsZero() {
		where.WriteString(` AND started_ns < ?`)
		args = append(args, f.To.UnixNano())
	}
	if f.Number != "" {
		where.WriteString(` AND from_number = ?`)
		args = append(args, f.Number)
	}
	if f.Outcome != "" {
		where.WriteString(` AND outcome = ?`)
		args = append(args, string(f.Outcome))
	}
	if f.LeadID != "" {
		where.WriteString(` AND lead_id = ?`)
		args = append(args, f.LeadID)
	}
	if p.Cursor != "" {
		key, err := store.DecodeCursor(p.Cursor, "call", 2)
		if err != nil {
			return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
		}
		ns, err := strconv.ParseInt(key[0], 10, 64)
		if err != nil {
			return nil, "", fmt.Errorf("sqlite: %s: %w: malformed page cursor", op, scheduling.ErrInvalid)
		}
		where.WriteString(` AND (started_ns < ? OR (started_ns = ? AND id < ?))`)
		args = append(args, ns, ns, key[1])
	}
	args = append(args, limit+1)
	rows, err := s.r.QueryContext(ctx, `SELECT `+callColumns+` FROM calls WHERE `+where.String()+
		` ORDER BY started_ns DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer rows.Close()
	var out []store.Call
	for rows.Next() {
		c, err := scanCall(rows)
		if err != nil {
			return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = store.EncodeCursor("call", strconv.FormatInt(last.StartedAt.UnixNano(), 10), last.ID)
	}
	return out, next, nil
}
