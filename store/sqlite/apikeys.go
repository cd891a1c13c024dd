package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
)

type apiKeys Store

var _ store.APIKeys = (*apiKeys)(nil)

const keyColumns = `id, business_id, hash, role, name, created_ns, revoked_ns`

func scanKey(row rowScanner) (store.APIKey, error) {
	var k store.APIKey
	var hash []byte
	var role string
	var created, revoked int64
	if err := row.Scan(&k.ID, &k.BusinessID, &hash, &role, &k.Name, &created, &revoked); err != nil {
		return store.APIKey{}, err
	}
	if len(hash) != len(k.Hash) {
		return store.APIKey{}, fmt.Errorf("API key %s has a %d-byte hash", k.ID, len(hash))
	}
	copy(k.Hash[:], hash)
	k.Role, k.CreatedAt, k.RevokedAt = store.Role(role), fromNS(created), fromNS(revoked)
	return k, nil
}

func (s *apiKeys) get(ctx context.Context, q queryer, id string) (store.APIKey, error) {
	if !store.ValidID(id) {
		return store.APIKey{}, store.NotFound("API key", id)
	}
	k, err := scanKey(q.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.APIKey{}, store.NotFound("API key", id)
	}
	return k, err
}

func (s *apiKeys) Create(ctx context.Context, k store.APIKey) (store.APIKey, error) {
	const op = "create API key"
	if err := k.Validate(); err != nil {
		return store.APIKey{}, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	k.CreatedAt, k.RevokedAt = s.now(), time.Time{}
	err := (*Store)(s).write(ctx, op, func(tx *sql.Tx) error {
		if _, err := s.get(ctx, tx, k.ID); err == nil {
			return fmt.Errorf("%w: API key %s exists", scheduling.ErrDuplicate, k.ID)
		} else if !errors.Is(err, scheduling.ErrNotFound) {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?, 0)`,
			k.ID, k.BusinessID, k.Hash[:], string(k.Role), k.Name, toNS(k.CreatedAt))
		return err
	})
	if err != nil {
		return store.APIKey{}, err
	}
	return k, nil
}

func (s *apiKeys) Lookup(ctx context.Context, id string) (store.APIKey, error) {
	k, err := s.get(ctx, s.r, id)
	if err != nil {
		return store.APIKey{}, fmt.Errorf("sqlite: look up API key: %w", err)
	}
	return k, nil
}

func (s *apiKeys) List(ctx context.Context, businessID string, p store.Page) ([]store.APIKey, string, error) {
	const op = "list API keys"
	limit, err := p.Size()
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
	}
	after := ""
	if p.Cursor != "" {
		key, err := store.DecodeCursor(p.Cursor, "key", 1)
		if err != nil {
			return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
		}
		after = key[0]
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE business_id = ? AND id > ? ORDER BY id LIMIT ?`,
		businessID, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer rows.Close()
	var out []store.APIKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = store.EncodeCursor("key", out[limit-1].ID)
	}
	return out, next, nil
}

func (s *apiKeys) Revoke(ctx context.Context, businessID, id string) (store.APIKey, error) {
	var out store.APIKey
	err := (*Store)(s).write(ctx, "revoke API key", func(tx *sql.Tx) error {
		k, err := s.get(ctx, tx, id)
		if err != nil {
			return err
		}
		if k.BusinessID != businessID {
			return store.NotFound("API key", id)
		}
		out = k
		if k.Revoked() {
			return nil
		}
		out.RevokedAt = s.now()
		_, err = tx.ExecContext(ctx, `UPDATE api_keys SET revoked_ns = ? WHERE id = ?`, toNS(out.RevokedAt), id)
		return err
	})
	if err != nil {
		return store.APIKey{}, err
	}
	return out, nil
}
