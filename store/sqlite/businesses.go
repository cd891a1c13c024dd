package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
)

type businesses Store

var _ store.Businesses = (*businesses)(nil)

const maxBusinessData = 1 << 20

func checkBusinessRecord(rec store.BusinessRecord) error {
	if err := store.CheckBusinessID(rec.ID); err != nil {
		return err
	}
	if len(rec.Data) > maxBusinessData || !json.Valid(rec.Data) {
		return fmt.Errorf("%w: business data must be a JSON document of at most %d bytes", scheduling.ErrInvalid, maxBusinessData)
	}
	return nil
}

func (s *businesses) get(ctx context.Context, q queryer, id string) (store.BusinessRecord, error) {
	if !store.ValidID(id) {
		return store.BusinessRecord{}, store.NotFound("business", id)
	}
	var r store.BusinessRecord
	var created, updated int64
	err := q.QueryRowContext(ctx, `SELECT id, version, data, created_ns, updated_ns FROM businesses WHERE id = ?`, id).
		Scan(&r.ID, &r.Version, &r.Data, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return store.BusinessRecord{}, store.NotFound("business", id)
	}
	r.CreatedAt, r.UpdatedAt = fromNS(created), fromNS(updated)
	return r, err
}

func (s *businesses) Create(ctx context.Context, rec store.BusinessRecord) (store.BusinessRecord, error) {
	const op = "create business"
	if err := checkBusinessRecord(rec); err != nil {
		return store.BusinessRecord{}, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	now := s.now()
	rec.Version, rec.CreatedAt, rec.UpdatedAt = 1, now, now
	err := (*Store)(s).write(ctx, op, func(tx *sql.Tx) error {
		if _, err := s.get(ctx, tx, rec.ID); err == nil {
			return fmt.Errorf("%w: business %q exists", scheduling.ErrDuplicate, rec.ID)
		} else if !errors.Is(err, scheduling.ErrNotFound) {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO businesses (id, version, data, created_ns, updated_ns) VALUES (?, ?, ?, ?, ?)`,
			rec.ID, rec.Version, rec.Data, toNS(now), toNS(now))
		return err
	})
	if err != nil {
		return store.BusinessRecord{}, err
	}
	return rec, nil
}

func (s *businesses) Get(ctx context.Context, businessID string) (store.BusinessRecord, error) {
	r, err := s.get(ctx, s.r, businessID)
	if err != nil {
		return store.BusinessRecord{}, fmt.Errorf("sqlite: get business: %w", err)
	}
	return r, nil
}

func (s *businesses) Update(ctx context.Context, rec store.BusinessRecord) (store.BusinessRecord, error) {
	const op = "update business"
	if err := checkBusinessRecord(rec); err != nil {
		return store.BusinessRecord{}, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	var out store.BusinessRecord
	err := (*Store)(s).write(ctx, op, func(tx *sql.Tx) error {
		cur, err := s.get(ctx, tx, rec.ID)
		if err != nil {
			return err
		}
		if cur.Version != rec.Version {
			return fmt.Errorf("%w: business %q is at version %d, not %d", scheduling.ErrConflict, rec.ID, cur.Version, rec.Version)
		}
		out = cur
		out.Version, out.Data, out.UpdatedAt = cur.Version+1, rec.Data, s.now()
		_, err = tx.ExecContext(ctx, `UPDATE businesses SET version = ?, data = ?, updated_ns = ? WHERE id = ?`,
			out.Version, out.Data, toNS(out.UpdatedAt), out.ID)
		return err
	})
	if err != nil {
		return store.BusinessRecord{}, err
	}
	return out, nil
}

func (s *businesses) Delete(ctx context.Context, businessID string, version int64) error {
	return (*Store)(s).write(ctx, "delete business", func(tx *sql.Tx) error {
		cur, err := s.get(ctx, tx, businessID)
		if err != nil {
			return err
		}
		if version != 0 && cur.Version != version {
			return fmt.Errorf("%w: business %q is at version %d, not %d", scheduling.ErrConflict, businessID, cur.Version, version)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM businesses WHERE id = ?`, businessID)
		return err
	})
}

func (s *businesses) List(ctx context.Context, p store.Page) ([]store.BusinessRecord, string, error) {
	const op = "list businesses"
	limit, err := p.Size()
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
	}
	after := ""
	if p.Cursor != "" {
		key, err := store.DecodeCursor(p.Cursor, "biz", 1)
		if err != nil {
			return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
		}
		after = key[0]
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, version, data, created_ns, updated_ns FROM businesses
		WHERE id > ? ORDER BY id LIMIT ?`, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer rows.Close()
	var out []store.BusinessRecord
	for rows.Next() {
		var r store.BusinessRecord
		var created, updated int64
		if err := rows.Scan(&r.ID, &r.Version, &r.Data, &created, &updated); err != nil {
			return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
		}
		r.CreatedAt, r.UpdatedAt = fromNS(created), fromNS(updated)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = store.EncodeCursor("biz", out[limit-1].ID)
	}
	return out, next, nil
}
