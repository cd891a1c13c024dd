package tools

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/frontdesk/frontdesk/configs"
	"github.com/frontdesk/frontdesk/scheduling"
)

var _ Backend = (*Memory)(nil)

// Memory is a Backend that keeps one business's appointments and leads in
// memory, applying the scheduling package's rules: PrepareBooking validates
// each booking, Appointment.Overlaps rejects double-booking and NextSlots
// fills the ConflictError. It serves tests, the call simulator and dev
// mode; nothing survives a restart.
//
// Memory is safe for concurrent use: one mutex makes check-and-book atomic.
type Memory struct {
	// immutable
	bizID string
	cal   *scheduling.Calendar
	now   func() time.Time

	mu    sync.Mutex // guards the fields below
	appts []scheduling.Appointment
	leads []scheduling.Lead
	seq   int
}

// NewMemory returns an empty Memory for biz. now is its clock (nil means
// time.Now): bookings in the past are refused against it.
func NewMemory(biz *configs.Business, now func() time.Time) (*Memory, error) {
	cal, err := CalendarFor(biz)
	if err != nil {
		return nil, fmt.Errorf("tools: memory backend: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	return &Memory{bizID: biz.ID, cal: cal, now: now}, nil
}

func (m *Memory) service(name string) (scheduling.Service, error) {
	if s, ok := m.cal.Service(ServiceID(name)); ok {
		return s, nil
	}
	return scheduling.Service{}, fmt.Errorf("%w: unknown service %q", scheduling.ErrInvalid, name)
}

// Availability implements Backend.
func (m *Memory) Availability(ctx context.Context, service string, from, to time.Time) ([]scheduling.Slot, error) {
	svc, err := m.service(service)
	if err != nil {
		return nil, fmt.Errorf("memory: availability: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return scheduling.Availability(m.cal, svc, from, to, m.appts, m.now())
}

// Book implements Backend.
func (m *Memory) Book(ctx context.Context, req BookRequest) (scheduling.Appointment, error) {
	svc, err := m.service(req.Service)
	if err != nil {
		return scheduling.Appointment{}, fmt.Errorf("memory: book: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	var a scheduling.Appointment
	idx := -1
	if req.Reschedule != "" {
		idx = slices.IndexFunc(m.appts, func(a scheduling.Appointment) bool { return a.ID == req.Reschedule })
		if idx < 0 {
			return scheduling.Appointment{}, fmt.Errorf("memory: reschedule %s: %w", req.Reschedule, scheduling.ErrNotFound)
		}
		a, err = m.cal.PrepareReschedule(m.appts[idx], req.Start, now)
	} else {
		a, err = m.cal.PrepareBooking(m.bizID, scheduling.Appointment{
			Service: svc, Start: req.Start, CustomerName: req.Name, Phone: req.Phone,
		}, now)
	}
	if err != nil {
		return scheduling.Appointment{}, fmt.Errorf("memory: book: %w", err)
	}
	others := make([]scheduling.Appointment, 0, len(m.appts))
	for i, o := range m.appts {
		if i != idx && o.Status == scheduling.StatusBooked {
			others = append(others, o)
		}
	}
	for _, o := range others {
		if o.Overlaps(a) {
			next, err := scheduling.NextSlots(m.cal, a.Service, a.Start, others, now, 3)
			if err != nil {
				return scheduling.Appointment{}, fmt.Errorf("memory: book: %w", err)
			}
			return scheduling.Appointment{}, fmt.Errorf("memory: book: %w", &scheduling.ConflictError{Next: next})
		}
	}
	if idx >= 0 {
		m.appts[idx] = a
		return a, nil
	}
	m.seq++
	a.ID = "appt-" + strconv.Itoa(m.seq)
	m.appts = append(m.appts, a)
	return a, nil
}

// Appointments implements Backend.
func (m *Memory) Appointments(ctx context.Context, phone string) ([]scheduling.Appointment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	var out []scheduling.Appointment
	for _, a := range m.appts {
		if a.Status == scheduling.StatusBooked && a.Phone == phone && a.End.After(now) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b scheduling.Appointment) int { return a.Start.Compare(b.Start) })
	return out, nil
}

// Cancel implements Backend. Cancelling twice is not an error.
func (m *Memory) Cancel(ctx context.Context, id string) (scheduling.Appointment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.appts {
		if m.appts[i].ID == id {
			m.appts[i].Status = scheduling.StatusCancelled
			m.appts[i].UpdatedAt = m.now()
			return m.appts[i], nil
		}
	}
	return scheduling.Appointment{}, fmt.Errorf("memory: cancel %s: %w", id, scheduling.ErrNotFound)
}

// UpsertLead implements Backend.
func (m *Memory) UpsertLead(ctx context.Context, l scheduling.Lead) (scheduling.Lead, error) {
	l, err := l.Normalize("")
	if err != nil {
		return scheduling.Lead{}, fmt.Errorf("memory: upsert lead: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if l.Phone != "" {
		for i := range m.leads {
			if m.leads[i].Phone == l.Phone {
				m.leads[i] = m.leads[i].Merge(l)
				m.leads[i].UpdatedAt = now
				return m.leads[i], nil
			}
		}
	}
	m.seq++
	l.ID, l.BusinessID, l.CreatedAt, l.UpdatedAt = "lead-"+strconv.Itoa(m.seq), m.bizID, now, now
	for _, id := range l.AppointmentIDs {
		l = l.WithAppointment(id)
	}
	m.leads = append(m.leads, l)
	return l, nil
}

// Booked returns a copy of the booked appointments, earliest first.
func (m *Memory) Booked() []scheduling.Appointment {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []scheduling.Appointment
	for _, a := range m.appts {
		if a.Status == scheduling.StatusBooked {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b scheduling.Appointment) int { return a.Start.Compare(b.Start) })
	return out
}

// All returns a copy of every appointment, cancelled ones included, in
// booking order.
func (m *Memory) All() []scheduling.Appointment {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.appts)
}

// Leads returns a copy of the leads, ordered by name then phone.
func (m *Memory) Leads() []scheduling.Lead {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.leads)
	slices.SortFunc(out, func(a, b scheduling.Lead) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Phone, b.Phone))
	})
	return out
}
