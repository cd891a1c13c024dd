package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/scheduling"
)

// NextSlotCount is how many free slots a *scheduling.ConflictError lists.
const NextSlotCount = 3

// Booked returns the booked appointments of the business that can overlap
// [from, to), paging through a.List; pass them to scheduling.Availability.
func Booked(ctx context.Context, a Appointments, businessID string, from, to time.Time) ([]scheduling.Appointment, error) {
	var out []scheduling.Appointment
	f := AppointmentFilter{From: from.Add(-scheduling.MaxBlock), To: to, Status: scheduling.StatusBooked}
	p := Page{Limit: MaxLimit}
	for {
		items, next, err := a.List(ctx, businessID, f, p)
		if err != nil {
			return nil, fmt.Errorf("list booked appointments: %w", err)
		}
		out = append(out, items...)
		if next == "" {
			return out, nil
		}
		p.Cursor = next
	}
}

// Conflict returns the error for a taken slot: a *scheduling.ConflictError
// listing free slots of svc from start on, as seen now, not counting the
// appointment exclude (the one being rescheduled). Finding them is best
// effort: if that fails the error has no Next, because the conflict is what
// the caller must hear.
func Conflict(ctx context.Context, a Appointments, businessID string, cal *scheduling.Calendar, svc scheduling.Service, start, now time.Time, exclude string) error {
	const horizon = 8 * 7 * 24 * time.Hour // scheduling.NextSlots looks eight weeks ahead
	ce := &scheduling.ConflictError{}
	existing, err := Booked(ctx, a, businessID, start, start.Add(horizon))
	if err != nil {
		return ce
	}
	kept := existing[:0]
	for _, x := range existing {
		if x.ID != exclude {
			kept = append(kept, x)
		}
	}
	if next, err := scheduling.NextSlots(cal, svc, start, kept, now, NextSlotCount); err == nil {
		ce.Next = next
	}
	return ce
}

// MatchLead reports whether l passes f; backends that cannot filter in
// their query language use it. Case is folded for ASCII letters only, as
// SQLite's LIKE does.
func MatchLead(l scheduling.Lead, f LeadFilter) bool {
	if f.Status != "" && l.Status != f.Status {
		return false
	}
	if f.Query == "" {
		return true
	}
	q := asciiLower(f.Query)
	return strings.Contains(asciiLower(l.Name), q) || strings.Contains(asciiLower(l.Phone), q) ||
		strings.Contains(asciiLower(l.Email), q)
}

func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// CheckLeadFilter validates f.
func CheckLeadFilter(f LeadFilter) error {
	if f.Status != "" && !f.Status.Valid() {
		return fmt.Errorf("%w: lead status %q", scheduling.ErrInvalid, f.Status)
	}
	if len(f.Query) > 200 {
		return fmt.Errorf("%w: search query is longer than 200 bytes", scheduling.ErrInvalid)
	}
	return nil
}

// CheckAppointmentFilter validates f.
func CheckAppointmentFilter(f AppointmentFilter) error {
	if f.Status != "" && f.Status != scheduling.StatusBooked && f.Status != scheduling.StatusCancelled {
		return fmt.Errorf("%w: appointment status %q", scheduling.ErrInvalid, f.Status)
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return fmt.Errorf("%w: to is before from", scheduling.ErrInvalidRange)
	}
	return nil
}

// CheckLease validates the arguments of Leases.Acquire and Release.
func CheckLease(name, holder string, ttl time.Duration) error {
	if name == "" || len(name) > 200 || holder == "" || len(holder) > 200 || ttl <= 0 {
		return fmt.Errorf("%w: lease needs a name and holder of 1-200 bytes and a positive TTL", scheduling.ErrInvalid)
	}
	return nil
}
