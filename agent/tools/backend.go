package tools

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/configs"
	"github.com/frontdesk/frontdesk/scheduling"
)

// Backend is what the booking tools and update_lead need from storage. The
// server implements it over the store for one business; Memory implements
// it in memory. Services are named as configured (Executor resolves what
// the engine said to the configured name, case and spacing aside); phone
// numbers are E.164.
//
// Implementations must be safe for concurrent use and must enforce the
// scheduling rules: no two booked appointments overlap (buffers counted),
// and a taken slot fails with a *scheduling.ConflictError.
type Backend interface {
	// Availability returns the free slots of service starting in [from, to).
	Availability(ctx context.Context, service string, from, to time.Time) ([]scheduling.Slot, error)
	// Book books req, or moves appointment req.Reschedule when it is set.
	Book(ctx context.Context, req BookRequest) (scheduling.Appointment, error)
	// Appointments returns the booked appointments under phone that have
	// not ended yet, earliest first.
	Appointments(ctx context.Context, phone string) ([]scheduling.Appointment, error)
	// Cancel cancels appointment id.
	Cancel(ctx context.Context, id string) (scheduling.Appointment, error)
	// UpsertLead creates the lead or merges it into the lead with the same
	// phone number (see scheduling.Lead.Merge).
	UpsertLead(ctx context.Context, l scheduling.Lead) (scheduling.Lead, error)
}

// BookRequest is a booking as the Executor hands it to a Backend: the
// service's configured name, the start instant, the caller's name and
// E.164 phone, and for a reschedule the ID of the appointment to move.
type BookRequest struct {
	Service    string
	Start      time.Time
	Name       string
	Phone      string
	Reschedule string                // appointment ID; empty for a new booking
	Source     scheduling.LeadSource // the call's transport, for a lead the booking makes
}

// ServiceID returns the scheduling service ID Frontdesk uses for a
// configured service name: lowercase ASCII letters and digits, other runs
// of characters folded to one "-" ("Exam and X-rays" → "exam-and-x-rays",
// "Children's checkup" → "children-s-checkup").
func ServiceID(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	return b.String()
}

// CalendarFor converts a configured business into the scheduling calendar
// that availability and booking use: same time zone, hours and closures;
// services with IDs from ServiceID and prices in the business's currency.
func CalendarFor(biz *configs.Business) (*scheduling.Calendar, error) {
	if biz == nil {
		return nil, fmt.Errorf("tools: calendar: %w: no business", scheduling.ErrInvalid)
	}
	cal := &scheduling.Calendar{Location: biz.Location()}
	for wd, ranges := range biz.Hours {
		for _, r := range ranges {
			cal.Hours[wd] = append(cal.Hours[wd], scheduling.TimeRange{Start: scheduling.TimeOfDay(r.Start), End: scheduling.TimeOfDay(r.End)})
		}
	}
	for _, c := range biz.Closures {
		cal.Closures = append(cal.Closures, scheduling.Closure{
			Start: scheduling.Date(c.From), End: scheduling.Date(c.To), Reason: c.Reason,
		})
	}
	for _, s := range biz.Services {
		cal.Services = append(cal.Services, scheduling.Service{
			ID: ServiceID(s.Name), Name: s.Name, Duration: s.Duration, Buffer: s.Buffer,
			Price: s.Price, Currency: biz.Currency,
		})
	}
	if err := cal.Validate(); err != nil {
		return nil, fmt.Errorf("tools: calendar of %s: %w", biz.ID, err)
	}
	return cal, nil
}
