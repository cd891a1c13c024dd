package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/frontdesk/frontdesk/store"
)

type holds Store

var _ store.Holds = (*holds)(nil)

const holdColumns = `business_id, scope, target, reason, by_actor, at_ns`

func scanHold(row rowScanner) (store.Hold, error) {
	var h store.Hold
	var scope string
	var at int64
	if err := row.Scan(&h.BusinessID, &scope, &h.Target, &h.Reason, &h.By, &at); err != nil {
		return store.Hold{}, err
	}
	h.Scope, h.At = store.HoldScope(scope), fromNS(at)
	return h, nil
}

func (s *holds) Place(ctx context.Context, h store.Hold) (store.Hold, bool, error) {
	const op = "place hold"
	if err := store.CheckHold(h); err != nil {
		return store.Hold{}, false, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if h.At.IsZero() {
		h.At = s.now()
	}
	out, created := h, false
	err := (*Store)(s).write(ctx, op, func(tx *sql.Tx) error {
		cur, err := scanHold(tx.QueryRowContext(ctx, `SELECT `+holdColumns+` FROM holds WHERE business_id = ? AND scope = ? AND target = ?`,
			h.BusinessID, string(h.Scope), h.Target))
		if err == nil {
			out = cur
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		created = true
		_, err = tx.ExecContext(ctx, `INSERT INTO holds (`+holdColumns+`) VALUES (?,?,?,?,?,?)`,
			h.BusinessID, string(h.Scope), h.Target, h.Reason, h.By, toNS(h.At))
		return err
	})
	if err != nil {
		return store.Hold{}, false, err
	}
	return out, created, nil
}

func (s *holds) Release(ctx context.Context, businessID string, scope store.HoldScope, target string) (store.Hold, error) {
	var out store.Hold
	err := (*Store)(s).write(ctx, "release hold", func(tx *sql.Tx) error {
		cur, err := scanHold(tx.QueryRowContext(ctx, `SELECT `+holdColumns+` FROM holds WHERE business_id = ? AND scope = ? AND target = ?`,
			businessID, string(scope), target))
		if errors.Is(err, sql.ErrNoRows) {
			return store.NotFound("hold", string(scope)+":"+target)
		}
		if err != nil {
			return err
		}
		out = cur
		_, err = tx.ExecContext(ctx, `DELETE FROM holds WHERE business_id = ? AND scope = ? AND target = ?`, businessID, string(scope), target)
		return err
	})
	if err != nil {
		return store.Hold{}, err
	}
	return out, nil
}

func (s *holds) List(ctx context.Context, businessID string) ([]store.Hold, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+holdColumns+` FROM holds WHERE business_id = ? ORDER BY scope, target`, businessID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list holds: %w", err)
	}
	defer rows.Close()
	var out []store.Hold
	for rows.Next() {
		h, err := scanHold(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list holds: %w", err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list holds: %w", err)
	}
	return out, nil
}
