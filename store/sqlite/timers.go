package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/store"
)

type timers Store

var _ store.Timers = (*timers)(nil)

const timerColumns = `id, business_id, kind, target, due_ns`

func scanTimer(row rowScanner) (store.Timer, error) {
	var t store.Timer
	var kind string
	var due int64
	if err := row.Scan(&t.ID, &t.BusinessID, &kind, &t.Target, &due); err != nil {
		return store.Timer{}, err
	}
	t.Kind, t.Due = store.TimerKind(kind), fromNS(due)
	return t, nil
}

func (s *timers) Schedule(ctx context.Context, t store.Timer) error {
	if err := store.CheckTimer(t); err != nil {
		return fmt.Errorf("sqlite: schedule timer: %w", err)
	}
	return (*Store)(s).write(ctx, "schedule timer", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO timers (`+timerColumns+`) VALUES (?,?,?,?,?)
			ON CONFLICT (id) DO UPDATE SET due_ns = excluded.due_ns`,
			t.ID, t.BusinessID, string(t.Kind), t.Target, dueNS(t.Due))
		return err
	})
}

// dueNS stores MaxTime (beyond int64 nanoseconds) as the largest value.
func dueNS(t time.Time) int64 {
	if t.After(maxNSTime) {
		return maxNSTime.UnixNano()
	}
	return t.UnixNano()
}

var maxNSTime = time.Unix(0, 1<<63-1)

func (s *timers) Get(ctx context.Context, id string) (store.Timer, error) {
	if err := store.CheckTimerID(id); err != nil {
		return store.Timer{}, fmt.Errorf("sqlite: get timer: %w", store.NotFound("timer", id))
	}
	t, err := scanTimer(s.r.QueryRowContext(ctx, `SELECT `+timerColumns+` FROM timers WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.NotFound("timer", id)
	}
	if err != nil {
		return store.Timer{}, fmt.Errorf("sqlite: get timer: %w", err)
	}
	return t, nil
}

func (s *timers) Cancel(ctx context.Context, id string) error {
	if err := store.CheckTimerID(id); err != nil {
		return fmt.Errorf("sqlite: cancel timer: %w", err)
	}
	return (*Store)(s).write(ctx, "cancel timer", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM timers WHERE id = ?`, id)
		return err
	})
}

func (s *timers) Reschedule(ctx context.Context, id string, due time.Time) error {
	if err := store.CheckTimerID(id); err != nil {
		return fmt.Errorf("sqlite: reschedule timer: %w", err)
	}
	return (*Store)(s).write(ctx, "reschedule timer", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE timers SET due_ns = ? WHERE id = ?`, dueNS(due), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return err
			}
			return store.NotFound("timer", id)
		}
		return nil
	})
}

func (s *timers) Due(ctx context.Context, now time.Time, limit int) ([]store.Timer, error) {
	if limit < 1 || limit > store.MaxLimit {
		limit = store.MaxLimit
	}
	return s.query(ctx, "due timers", `SELECT `+timerColumns+` FROM timers WHERE due_ns <= ? ORDER BY due_ns, id LIMIT ?`, dueNS(now), limit)
}

func (s *timers) List(ctx context.Context, businessID string, p store.Page) ([]store.Timer, string, error) {
	const op = "list timers"
	limit, err := p.Size()
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
	}
	after := ""
	if p.Cursor != "" {
		key, err := store.DecodeCursor(p.Cursor, "timer", 1)
		if err != nil {
			return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
		}
		after = key[0]
	}
	out, err := s.query(ctx, op, `SELECT `+timerColumns+` FROM timers WHERE business_id = ? AND id > ? ORDER BY id LIMIT ?`,
		businessID, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = store.EncodeCursor("timer", out[limit-1].ID)
	}
	return out, next, nil
}

func (s *timers) query(ctx context.Context, op, q string, args ...any) ([]store.Timer, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer rows.Close()
	var out []store.Timer
	for rows.Next() {
		t, err := scanTimer(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %s: %w", op, err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return out, nil
}
