package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/store"
)

type leases Store

var _ store.Leases = (*leases)(nil)

func (s *leases) Acquire(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if err := store.CheckLease(name, holder, ttl); err != nil {
		return false, fmt.Errorf("sqlite: acquire lease: %w", err)
	}
	got := false
	err := (*Store)(s).write(ctx, "acquire lease", func(tx *sql.Tx) error {
		now := s.now()
		var cur string
		var expires int64
		err := tx.QueryRowContext(ctx, `SELECT holder, expires_ns FROM leases WHERE name = ?`, name).Scan(&cur, &expires)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err == nil && cur != holder && expires > now.UnixNano() {
			return nil
		}
		got = true
		_, err = tx.ExecContext(ctx, `INSERT INTO leases (name, holder, expires_ns) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_ns = excluded.expires_ns`,
			name, holder, now.Add(ttl).UnixNano())
		return err
	})
	return got, err
}

func (s *leases) Release(ctx context.Context, name, holder string) error {
	if err := store.CheckLease(name, holder, 1); err != nil {
		return fmt.Errorf("sqlite: release lease: %w", err)
	}
	return (*Store)(s).write(ctx, "release lease", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM leases WHERE name = ? AND holder = ?`, name, holder)
		return err
	})
}
