// Package storetest is the conformance suite for store backends: every
// backend's tests call Run, so that SQLite and Redis are held to the same
// behaviour — every method, tenancy, idempotency, pagination, lead
// deduplication and, above all, no double booking under concurrency.
package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the suite's calendars must not depend on the host

	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
)

// NewStore returns a new, empty store whose clock is now. It registers its
// own cleanup with t.
type NewStore func(t testing.TB, now func() time.Time) store.Store

// Run runs the conformance suite against stores made by newStore; each
// subtest gets its own store.
func Run(t *testing.T, newStore NewStore) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, e *env)
	}{
		{"Appointments/BookAndGet", testBookAndGet},
		{"Appointments/Validation", testBookValidation},
		{"Appointments/Conflicts", testConflicts},
		{"Appointments/Idempotency", testIdempotency},
		{"Appointments/Reschedule", testReschedule},
		{"Appointments/CancelAndSMS", testCancelAndSMS},
		{"Appointments/Tenancy", testAppointmentTenancy},
		{"Appointments/Pagination", testAppointmentPagination},
		{"Appointments/ConcurrentSameSlot", testConcurrentSameSlot},
		{"Appointments/ConcurrentOverlapping", testConcurrentOverlapping},
		{"Leads/UpsertDedupe", testLeadUpsert},
		{"Leads/GetUpdateDelete", testLeadCRUD},
		{"Leads/Links", testLeadLinks},
		{"Leads/Tenancy", testLeadTenancy},
		{"Leads/SearchAndPagination", testLeadSearch},
		{"Leads/ConcurrentUpsert", testLeadConcurrentUpsert},
		{"Businesses", testBusinesses},
		{"APIKeys", testAPIKeys},
		{"Leases", testLeases},
		{"Appointments/Delete", testAppointmentDelete},
		{"Calls/CRUD", testCallCRUD},
		{"Calls/Tenancy", testCallTenancy},
		{"Calls/List", testCallList},
		{"Holds", testHolds},
		{"Audit", testAudit},
		{"Timers", testTimers},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &Clock{t: start}
			s := newStore(t, clk.Now)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			t.Cleanup(cancel)
			tc.fn(t, &env{s: s, clk: clk, cal: calendar(t), ctx: ctx})
		})
	}
}

// Clock is a settable clock for stores under test. It is safe for
// concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time // guarded by mu
}

// NewClock returns a Clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	s   store.Store
	clk *Clock
	cal *scheduling.Calendar
	ctx context.Context
}

const (
	bizA = "acme"
	bizB = "other-biz"
)

var (
	newYork = mustLoad("America/New_York")
	// start is Monday 2026-06-01 08:00 in New York, before opening.
	start = time.Date(2026, 6, 1, 8, 0, 0, 0, newYork)
)

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic("storetest: load time zone " + name + ": " + err.Error()) // embedded tzdata: cannot happen
	}
	return loc
}

// calendar is open Mon–Fri 09:00–17:00 and Sat 10:00–14:00 in New York,
// closed on 2026-07-03. "cut" takes 30 minutes plus a 15-minute buffer;
// "consult" takes an hour.
func calendar(t testing.TB) *scheduling.Calendar {
	var h scheduling.Hours
	for d := time.Monday; d <= time.Friday; d++ {
		h[d] = []scheduling.TimeRange{{Start: scheduling.TimeOf(9, 0), End: scheduling.TimeOf(17, 0)}}
	}
	h[time.Saturday] = []scheduling.TimeRange{{Start: scheduling.TimeOf(10, 0), End: scheduling.TimeOf(14, 0)}}
	c := &scheduling.Calendar{
		Location: newYork,
		Hours:    h,
		Closures: []scheduling.Closure{{Start: scheduling.Date{Year: 2026, Month: time.July, Day: 3}, Reason: "Independence Day"}},
		Services: []scheduling.Service{
			{ID: "cut", Name: "Haircut", Duration: 30 * time.Minute, Buffer: 15 * time.Minute, Price: 3500, Currency: "USD"},
			{ID: "consult", Name: "Consultation", Duration: time.Hour},
		},
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("storetest calendar: %v", err)
	}
	return c
}

// at returns June day, 2026, h:m in New York.
func at(day, h, m int) time.Time { return time.Date(2026, 6, day, h, m, 0, 0, newYork) }

func req(service string, start time.Time, name string) scheduling.Appointment {
	return scheduling.Appointment{Service: scheduling.Service{ID: service}, Start: start, CustomerName: name, Phone: "+12025550100"}
}

func (e *env) book(t *testing.T, biz string, r scheduling.Appointment) scheduling.Appointment {
	t.Helper()
	a, err := e.s.Appointments().Book(e.ctx, biz, e.cal, r)
	if err != nil {
		t.Fatalf("Book(%s %s at %v): %v", biz, r.Service.ID, r.Start, err)
	}
	return a
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: error = %v, want %v", what, err, want)
	}
}

// sameAppt compares every field; times with Equal.
func sameAppt(t *testing.T, what string, got, want scheduling.Appointment) {
	t.Helper()
	if got.ID != want.ID || got.BusinessID != want.BusinessID || got.Service != want.Service ||
		!got.Start.Equal(want.Start) || !got.End.Equal(want.End) || got.CustomerName != want.CustomerName ||
		got.Phone != want.Phone || got.LeadID != want.LeadID || got.Status != want.Status ||
		got.IdempotencyKey != want.IdempotencyKey || got.SMSStatus != want.SMSStatus || got.SMSError != want.SMSError ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}
