package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
)

type leads Store

var _ store.Leads = (*leads)(nil)

const leadColumns = `business_id, id, name, phone, email, company, notes, source, status, score,
	call_ids, appointment_ids, created_ns, updated_ns`

func scanLead(row rowScanner) (scheduling.Lead, error) {
	var l scheduling.Lead
	var source, status, calls, appts string
	var created, updated int64
	if err := row.Scan(&l.BusinessID, &l.ID, &l.Name, &l.Phone, &l.Email, &l.Company, &l.Notes, &source, &status, &l.Score,
		&calls, &appts, &created, &updated); err != nil {
		return scheduling.Lead{}, err
	}
	l.Source, l.Status = scheduling.LeadSource(source), scheduling.LeadStatus(status)
	if err := json.Unmarshal([]byte(calls), &l.CallIDs); err != nil {
		return scheduling.Lead{}, fmt.Errorf("decode call IDs of lead %s: %w", l.ID, err)
	}
	if err := json.Unmarshal([]byte(appts), &l.AppointmentIDs); err != nil {
		return scheduling.Lead{}, fmt.Errorf("decode appointment IDs of lead %s: %w", l.ID, err)
	}
	l.CreatedAt, l.UpdatedAt = fromNS(created), fromNS(updated)
	return l, nil
}

func idList(ids []string) string {
	if ids == nil {
		ids = []string{}
	}
	b, _ := json.Marshal(ids) // a []string always encodes
	return string(b)
}

func (s *leads) get(ctx context.Context, q queryer, businessID, id string) (scheduling.Lead, error) {
	if !store.ValidID(id) {
		return scheduling.Lead{}, store.NotFound("lead", id)
	}
	l, err := scanLead(q.QueryRowContext(ctx, `SELECT `+leadColumns+` FROM leads WHERE business_id = ? AND id = ?`, businessID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return scheduling.Lead{}, store.NotFound("lead", id)
	}
	return l, err
}

func insertLead(ctx context.Context, tx *sql.Tx, l scheduling.Lead) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO leads (`+leadColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		l.BusinessID, l.ID, l.Name, l.Phone, l.Email, l.Company, l.Notes, string(l.Source), string(l.Status), l.Score,
		idList(l.CallIDs), idList(l.AppointmentIDs), toNS(l.CreatedAt), toNS(l.UpdatedAt))
	return err
}

func updateLead(ctx context.Context, tx *sql.Tx, l scheduling.Lead) error {
	_, err := tx.ExecContext(ctx, `UPDATE leads SET name = ?, phone = ?, email = ?, company = ?, notes = ?, source = ?,
		status = ?, score = ?, call_ids = ?, appointment_ids = ?, updated_ns = ? WHERE business_id = ? AND id = ?`,
		l.Name, l.Phone, l.Email, l.Company, l.Notes, string(l.Source), string(l.Status), l.Score,
		idList(l.CallIDs), idList(l.AppointmentIDs), toNS(l.UpdatedAt), l.BusinessID, l.ID)
	return err
}

func (s *leads) Upsert(ctx context.Context, businessID string, in scheduling.Lead) (scheduling.Lead, bool, error) {
	const op = "upsert lead"
	if err := store.CheckBusinessID(businessID); err != nil {
		return scheduling.Lead{}, false, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	in, err := in.Normalize("")
	if err != nil {
		return scheduling.Lead{}, false, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	now := s.now()
	var out scheduling.Lead
	created := false
	err = (*Store)(s).write(ctx, op, func(tx *sql.Tx) error {
		if in.Phone != "" {
			cur, err := scanLead(tx.QueryRowContext(ctx, `SELECT `+leadColumns+` FROM leads WHERE business_id = ? AND phone = ?`, businessID, in.Phone))
			if err == nil {
				out = cur.Merge(in)
				out.UpdatedAt = now
				if err := out.Validate(); err != nil {
					return err
				}
				return updateLead(ctx, tx, out)
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		out = in
		out.ID, out.BusinessID, out.CreatedAt, out.UpdatedAt = store.NewID("lead", now), businessID, now, now
		created = true
		return insertLead(ctx, tx, out)
	})
	if err != nil {
		return scheduling.Lead{}, false, err
	}
	return out, created, nil
}

func (s *leads) Get(ctx context.Context, businessID, id string) (scheduling.Lead, error) {
	l, err := s.get(ctx, s.r, businessID, id)
	if err != nil {
		return scheduling.Lead{}, fmt.Errorf("sqlite: get lead: %w", err)
	}
	return l, nil
}

func (s *leads) Update(ctx context.Context, businessID string, in scheduling.Lead) (scheduling.Lead, error) {
	const op = "update lead"
	keepSource, keepStatus := in.Source == "", in.Status == ""
	in, err := in.Normalize("")
	if err != nil {
		return scheduling.Lead{}, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	var out scheduling.Lead
	err = (*Store)(s).write(ctx, op, func(tx *sql.Tx) error {
		cur, err := s.get(ctx, tx, businessID, in.ID)
		if err != nil {
			return err
		}
		if in.Phone != "" {
			var other string
			err := tx.QueryRowContext(ctx, `SELECT id FROM leads WHERE business_id = ? AND phone = ? AND id <> ?`, businessID, in.Phone, in.ID).Scan(&other)
			if err == nil {
				return fmt.Errorf("%w: lead %s already has this phone number", scheduling.ErrDuplicate, other)
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		out = cur
		out.Name, out.Phone, out.Email, out.Company, out.Notes = in.Name, in.Phone, in.Email, in.Company, in.Notes
		out.Score, out.UpdatedAt = in.Score, s.now()
		if !keepSource {
			out.Source = in.Source
		}
		if !keepStatus {
			out.Status = in.Status
		}
		return updateLead(ctx, tx, out)
	})
	if err != nil {
		return scheduling.Lead{}, err
	}
	return out, nil
}

func (s *leads) Delete(ctx context.Context, businessID, id string) error {
	return (*Store)(s).write(ctx, "delete lead", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM leads WHERE business_id = ? AND id = ?`, businessID, id)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return store.NotFound("lead", id)
		}
		return nil
	})
}

func (s *leads) List(ctx context.Context, businessID string, f store.LeadFilter, p store.Page) ([]scheduling.Lead, string, error) {
	const op = "list leads"
	limit, err := p.Size()
	if err == nil {
		err = store.CheckLeadFilter(f)
	}
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
	}
	var where strings.Builder
	args := []any{businessID}
	where.WriteString(`business_id = ?`)
	if f.Status != "" {
		where.WriteString(` AND status = ?`)
		args = append(args, string(f.Status))
	}
	if f.Query != "" {
		where.WriteString(` AND (name LIKE ? ESCAPE '\' OR phone LIKE ? ESCAPE '\' OR email LIKE ? ESCAPE '\')`)
		pat := likePattern(f.Query)
		args = append(args, pat, pat, pat)
	}
	if p.Cursor != "" {
		key, err := store.DecodeCursor(p.Cursor, "lead", 1)
		if err != nil {
			return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
		}
		where.WriteString(` AND id < ?`)
		args = append(args, key[0])
	}
	args = append(args, limit+1)
	rows, err := s.r.QueryContext(ctx, `SELECT `+leadColumns+` FROM leads WHERE `+where.String()+` ORDER BY id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer rows.Close()
	var out []scheduling.Lead
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = store.EncodeCursor("lead", out[limit-1].ID)
	}
	return out, next, nil
}

func (s *leads) LinkCall(ctx context.Context, businessID, id, callID string) (scheduling.Lead, error) {
	return s.link(ctx, "link call to lead", businessID, id, callID, scheduling.Lead.WithCall)
}

func (s *leads) LinkAppointment(ctx context.Context, businessID, id, appointmentID string) (scheduling.Lead, error) {
	return s.link(ctx, "link appointment to lead", businessID, id, appointmentID, scheduling.Lead.WithAppointment)
}

func (s *leads) link(ctx context.Context, op, businessID, id, other string, with func(scheduling.Lead, string) scheduling.Lead) (scheduling.Lead, error) {
	if other == "" || len(other) > 200 {
		return scheduling.Lead{}, fmt.Errorf("sqlite: %s: %w: ID must be 1-200 bytes", op, scheduling.ErrInvalid)
	}
	var out scheduling.Lead
	err := (*Store)(s).write(ctx, op, func(tx *sql.Tx) error {
		cur, err := s.get(ctx, tx, businessID, id)
		if err != nil {
			return err
		}
		out = with(cur, other)
		out.UpdatedAt = s.now()
		if err := out.Validate(); err != nil {
			return err
		}
		return updateLead(ctx, tx, out)
	})
	if err != nil {
		return scheduling.Lead{}, err
	}
	return out, nil
}
