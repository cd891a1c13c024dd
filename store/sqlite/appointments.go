package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
)

type appointments Store

var _ store.Appointments = (*appointments)(nil)

const apptColumns = `business_id, id, service_id, service_name, duration_ns, buffer_ns, price, currency,
	start_ns, end_ns, block_end_ns, status, customer_name, phone, lead_id, idempotency_key,
	sms_status, sms_error, created_ns, updated_ns`

type rowScanner interface{ Scan(dest ...any) error }

func scanAppt(row rowScanner) (scheduling.Appointment, error) {
	var a scheduling.Appointment
	var dur, buf, start, end, blockEnd, created, updated int64
	var status, sms string
	err := row.Scan(&a.BusinessID, &a.ID, &a.Service.ID, &a.Service.Name, &dur, &buf, &a.Service.Price, &a.Service.Currency,
		&start, &end, &blockEnd, &status, &a.CustomerName, &a.Phone, &a.LeadID, &a.IdempotencyKey,
		&sms, &a.SMSError, &created, &updated)
	if err != nil {
		return scheduling.Appointment{}, err
	}
	a.Service.Duration, a.Service.Buffer = time.Duration(dur), time.Duration(buf)
	a.Start, a.End = fromNS(start), fromNS(end)
	a.Status, a.SMSStatus = scheduling.AppointmentStatus(status), scheduling.SMSStatus(sms)
	a.CreatedAt, a.UpdatedAt = fromNS(created), fromNS(updated)
	return a, nil
}

func apptArgs(a scheduling.Appointment) []any {
	return []any{a.BusinessID, a.ID, a.Service.ID, a.Service.Name, int64(a.Service.Duration), int64(a.Service.Buffer),
		a.Service.Price, a.Service.Currency, toNS(a.Start), toNS(a.End), toNS(a.BlockEnd()), string(a.Status),
		a.CustomerName, a.Phone, a.LeadID, a.IdempotencyKey, string(a.SMSStatus), a.SMSError,
		toNS(a.CreatedAt), toNS(a.UpdatedAt)}
}

func (s *appointments) get(ctx context.Context, q queryer, businessID, id string) (scheduling.Appointment, error) {
	if !store.ValidID(id) {
		return scheduling.Appointment{}, store.NotFound("appointment", id)
	}
	a, err := scanAppt(q.QueryRowContext(ctx, `SELECT `+apptColumns+` FROM appointments WHERE business_id = ? AND id = ?`, businessID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return scheduling.Appointment{}, store.NotFound("appointment", id)
	}
	return a, err
}

// taken reports whether a booked appointment other than exclude overlaps
// [start, blockEnd). Booked blocks of a business never overlap one another
// (every write goes through this check), so their ends grow with their
// starts: only the latest one starting before blockEnd can reach past
// start. That keeps the check one index seek however busy the calendar.
func taken(ctx context.Context, tx *sql.Tx, businessID string, start, blockEnd time.Time, exclude string) (bool, error) {
	var end int64
	err := tx.QueryRowContext(ctx, `SELECT block_end_ns FROM appointments
		WHERE business_id = ? AND status = 'booked' AND start_ns < ? AND id <> ?
		ORDER BY start_ns DESC LIMIT 1`, businessID, blockEnd.UnixNano(), exclude).Scan(&end)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check overlap: %w", err)
	}
	return end > start.UnixNano(), nil
}

func (s *appointments) Book(ctx context.Context, businessID string, cal *scheduling.Calendar, req scheduling.Appointment) (scheduling.Appointment, error) {
	const op = "book appointment"
	if err := store.CheckBusinessID(businessID); err != nil {
		return scheduling.Appointment{}, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	now := s.now()
	a, err := cal.PrepareBooking(businessID, req, now)
	if err != nil {
		return scheduling.Appointment{}, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	a.ID = store.NewID("apt", now)
	conflict := false
	err = (*Store)(s).write(ctx, op, func(tx *sql.Tx) error {
		if a.IdempotencyKey != "" {
			prev, err := scanAppt(tx.QueryRowContext(ctx, `SELECT `+apptColumns+` FROM appointments
				WHERE business_id = ? AND idempotency_key = ?`, businessID, a.IdempotencyKey))
			switch {
			case err == nil && prev.SameRequest(a):
				a = prev
				return nil
			case err == nil:
				return fmt.Errorf("%w: idempotency key was used for a different booking (%s)", scheduling.ErrDuplicate, prev.ID)
			case !errors.Is(err, sql.ErrNoRows):
				return fmt.Errorf("look up idempotency key: %w", err)
			}
		}
		busy, err := taken(ctx, tx, businessID, a.Start, a.BlockEnd(), "")
		if err != nil || busy {
			conflict = busy
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO appointments (`+apptColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, apptArgs(a)...)
		return err
	})
	if err != nil {
		return scheduling.Appointment{}, err
	}
	if conflict {
		return scheduling.Appointment{}, fmt.Errorf("sqlite: %s: %w", op, store.Conflict(ctx, s, businessID, cal, a.Service, a.Start, now, ""))
	}
	return a, nil
}

func (s *appointments) Get(ctx context.Context, businessID, id string) (scheduling.Appointment, error) {
	a, err := s.get(ctx, s.r, businessID, id)
	if err != nil {
		return scheduling.Appointment{}, fmt.Errorf("sqlite: get appointment: %w", err)
	}
	return a, nil
}

func (s *appointments) List(ctx context.Context, businessID string, f store.AppointmentFilter, p store.Page) ([]scheduling.Appointment, string, error) {
	const op = "list appointments"
	limit, err := p.Size()
	if err == nil {
		err = store.CheckAppointmentFilter(f)
	}
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
	}
	var where strings.Builder
	args := []any{businessID}
	where.WriteString(`business_id = ?`)
	if !f.From.IsZero() {
		where.WriteString(` AND start_ns >= ?`)
		args = append(args, f.From.UnixNano())
	}
	if !f.To.IsZero() {
		where.WriteString(` AND start_ns < ?`)
		args = append(args, f.To.UnixNano())
	}
	if f.Status != "" {
		where.WriteString(` AND status = ?`)
		args = append(args, string(f.Status))
	}
	if p.Cursor != "" {
		key, err := store.DecodeCursor(p.Cursor, "apt", 2)
		if err != nil {
			return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
		}
		ns, err := strconv.ParseInt(key[0], 10, 64)
		if err != nil {
			return nil, "", fmt.Errorf("sqlite: %s: %w: malformed page cursor", op, scheduling.ErrInvalid)
		}
		where.WriteString(` AND (start_ns, id) > (?, ?)`)
		args = append(args, ns, key[1])
	}
	args = append(args, limit+1)
	rows, err := s.r.QueryContext(ctx, `SELECT `+apptColumns+` FROM appointments WHERE `+where.String()+
		` ORDER BY start_ns, id LIMIT ?`, args...)
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer rows.Close()
	var out []scheduling.Appointment
	for rows.Next() {
		a, err := scanAppt(rows)
		if err != nil {
			return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("sqlite: %s: %w", op, err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = store.EncodeCursor("apt", strconv.FormatInt(last.Start.UnixNano(), 10), last.ID)
	}
	return out, next, nil
}

func (s *appointments) Reschedule(ctx context.Context, businessID string, cal *scheduling.Calendar, id string, start time.Time) (scheduling.Appointment, error) {
	const op = "reschedule appointment"
	now := s.now()
	var moved scheduling.Appointment
	conflict := false
	err := (*Store)(s).write(ctx, op, func(tx *sql.Tx) error {
		cur, err := s.get(ctx, tx, businessID, id)
		if err != nil {
			return err
		}
		if moved, err = cal.PrepareReschedule(cur, start, now); err != nil {
			return err
		}
		busy, err := taken(ctx, tx, businessID, moved.Start, moved.BlockEnd(), id)
		if err != nil || busy {
			conflict = busy
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE appointments SET start_ns = ?, end_ns = ?, block_end_ns = ?, updated_ns = ?
			WHERE business_id = ? AND id = ?`, toNS(moved.Start), toNS(moved.End), toNS(moved.BlockEnd()), toNS(now), businessID, id)
		return err
	})
	if err != nil {
		return scheduling.Appointment{}, err
	}
	if conflict {
		return scheduling.Appointment{}, fmt.Errorf("sqlite: %s: %w", op, store.Conflict(ctx, s, businessID, cal, moved.Service, moved.Start, now, id))
	}
	return moved, nil
}

func (s *appointments) Cancel(ctx context.Context, businessID, id string) (scheduling.Appointment, error) {
	return s.update(ctx, "cancel appointment", businessID, id, func(a *scheduling.Appointment) {
		a.Status = scheduling.StatusCancelled
	})
}

func (s *appointments) SetSMS(ctx context.Context, businessID, id string, status scheduling.SMSStatus, errMsg string) (scheduling.Appointment, error) {
	if !status.Valid() || len(errMsg) > 2000 {
		return scheduling.Appointment{}, fmt.Errorf("sqlite: set SMS status: %w: status %q or error text longer than 2000 bytes", scheduling.ErrInvalid, status)
	}
	return s.update(ctx, "set SMS status", businessID, id, func(a *scheduling.Appointment) {
		a.SMSStatus, a.SMSError = status, errMsg
	})
}

// update applies change to the appointment's status and SMS fields; when
// nothing changes it writes nothing, which makes Cancel idempotent.
func (s *appointments) update(ctx context.Context, op, businessID, id string, change func(a *scheduling.Appointment)) (scheduling.Appointment, error) {
	var out scheduling.Appointment
	err := (*Store)(s).write(ctx, op, func(tx *sql.Tx) error {
		cur, err := s.get(ctx, tx, businessID, id)
		if err != nil {
			return err
		}
		out = cur
		change(&out)
		if out.Status == cur.Status && out.SMSStatus == cur.SMSStatus && out.SMSError == cur.SMSError {
			return nil
		}
		out.UpdatedAt = s.now()
		_, err = tx.ExecContext(ctx, `UPDATE appointments SET status = ?, sms_status = ?, sms_error = ?, updated_ns = ?
			WHERE business_id = ? AND id = ?`, string(out.Status), string(out.SMSStatus), out.SMSError, toNS(out.UpdatedAt), businessID, id)
		return err
	})
	if err != nil {
		return scheduling.Appointment{}, err
	}
	return out, nil
}
