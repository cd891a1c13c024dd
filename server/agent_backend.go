package server

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/agent/tools"
	"github.com/frontdesk/frontdesk/configs"
	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
)

// storeBackend is the agent's tool backend over the store: what the agent
// books is what the API lists, and bookings made by phone and through the
// API can never overlap. Safe for concurrent use.
type storeBackend struct {
	st  store.Store
	biz *configs.Business
	cal *scheduling.Calendar
	now func() time.Time
	// booked, if set, is told of every appointment booked or moved; it
	// must return at once (the caller is on the line).
	booked func(a scheduling.Appointment, moved bool)
}

var _ tools.Backend = (*storeBackend)(nil)

func newStoreBackend(st store.Store, biz *configs.Business, now func() time.Time) (*storeBackend, error) {
	cal, err := tools.CalendarFor(biz)
	if err != nil {
		return nil, fmt.Errorf("calendar of %s: %w", biz.ID, err)
	}
	return &storeBackend{st: st, biz: biz, cal: cal, now: now}, nil
}

func (b *storeBackend) service(name string) (scheduling.Service, error) {
	svc, ok := b.cal.Service(tools.ServiceID(name))
	if !ok {
		return scheduling.Service{}, fmt.Errorf("%w: no service %q", scheduling.ErrNotFound, name)
	}
	return svc, nil
}

func (b *storeBackend) Availability(ctx context.Context, service string, from, to time.Time) ([]scheduling.Slot, error) {
	svc, err := b.service(service)
	if err != nil {
		return nil, err
	}
	// Appointments that start before from can still block it.
	booked, err := store.Booked(ctx, b.st.Appointments(), b.biz.ID, from.Add(-24*time.Hour), to)
	if err != nil {
		return nil, err
	}
	return scheduling.Availability(b.cal, svc, from, to, booked, b.now())
}

func (b *storeBackend) Book(ctx context.Context, req tools.BookRequest) (scheduling.Appointment, error) {
	if req.Reschedule != "" {
		a, err := b.st.Appointments().Reschedule(ctx, b.biz.ID, b.cal, req.Reschedule, req.Start)
		if err == nil && b.booked != nil {
			b.booked(a, true)
		}
		return a, err
	}
	svc, err := b.service(req.Service)
	if err != nil {
		return scheduling.Appointment{}, err
	}
	a, err := b.st.Appointments().Book(ctx, b.biz.ID, b.cal, scheduling.Appointment{
		Service: svc, Start: req.Start, CustomerName: req.Name, Phone: req.Phone,
	})
	if err != nil {
		return a, err
	}
	// The caller becomes (or stays) a lead, linked to the booking.
	src := cmp.Or(req.Source, scheduling.SourceCall) // a WebRTC call's lead is "webrtc"
	if l, _, err := b.st.Leads().Upsert(ctx, b.biz.ID, scheduling.Lead{Name: req.Name, Phone: req.Phone, Source: src}); err == nil {
		_, _ = b.st.Leads().LinkAppointment(ctx, b.biz.ID, l.ID, a.ID)
	}
	if b.booked != nil {
		b.booked(a, false)
	}
	return a, nil
}

func (b *storeBackend) Appointments(ctx context.Context, phone string) ([]scheduling.Appointment, error) {
	now := b.now()
	var out []scheduling.Appointment
	cursor := ""
	for {
		page, next, err := b.st.Appointments().List(ctx, b.biz.ID,
			store.AppointmentFilter{From: now, To: now.AddDate(1, 0, 0), Status: scheduling.StatusBooked},
			store.Page{Cursor: cursor, Limit: 500})
		if err != nil {
			return nil, err
		}
		for _, a := range page {
			if a.Phone == phone && a.End.After(now) {
				out = append(out, a)
			}
		}
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

func (b *storeBackend) Cancel(ctx context.Context, id string) (scheduling.Appointment, error) {
	return b.st.Appointments().Cancel(ctx, b.biz.ID, id)
}

func (b *storeBackend) UpsertLead(ctx context.Context, l scheduling.Lead) (scheduling.Lead, error) {
	lead, _, err := b.st.Leads().Upsert(ctx, b.biz.ID, l)
	return lead, err
}
