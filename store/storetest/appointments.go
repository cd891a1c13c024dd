package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
)

func testBookAndGet(t *testing.T, e *env) {
	r := req("cut", at(1, 10, 0), "Ann Lee")
	r.LeadID = "lead_1"
	a := e.book(t, bizA, r)
	if a.ID == "" || a.BusinessID != bizA || a.Status != scheduling.StatusBooked {
		t.Fatalf("booked = %+v", a)
	}
	if a.Service.Name != "Haircut" || a.Service.Buffer != 15*time.Minute {
		t.Errorf("service snapshot = %+v", a.Service)
	}
	if !a.End.Equal(at(1, 10, 30)) || !a.CreatedAt.Equal(start) || !a.UpdatedAt.Equal(start) {
		t.Errorf("end/created/updated = %v/%v/%v", a.End, a.CreatedAt, a.UpdatedAt)
	}
	got, err := e.s.Appointments().Get(e.ctx, bizA, a.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	sameAppt(t, "Get after Book", got, a)
	_, err = e.s.Appointments().Get(e.ctx, bizA, "apt_missing")
	wantErr(t, "Get missing", err, scheduling.ErrNotFound)
	_, err = e.s.Appointments().Get(e.ctx, bizA, "bad id/../x")
	wantErr(t, "Get malformed ID", err, scheduling.ErrNotFound)
}

func testBookValidation(t *testing.T, e *env) {
	for _, tc := range []struct {
		name string
		r    scheduling.Appointment
		want error
	}{
		{"outside hours", req("cut", at(1, 17, 0), "A"), scheduling.ErrOutsideHours},
		{"crosses closing", req("consult", at(1, 16, 30), "A"), scheduling.ErrOutsideHours},
		{"Sunday", req("cut", at(7, 10, 0), "A"), scheduling.ErrOutsideHours},
		{"closure", req("cut", time.Date(2026, 7, 3, 10, 0, 0, 0, newYork), "A"), scheduling.ErrOutsideHours},
		{"past", req("cut", at(1, 7, 0), "A"), scheduling.ErrInvalidRange},
		{"unknown service", req("massage", at(1, 10, 0), "A"), scheduling.ErrInvalid},
		{"no name", req("cut", at(1, 10, 0), ""), scheduling.ErrInvalid},
		{"bad phone", func() scheduling.Appointment { r := req("cut", at(1, 10, 0), "A"); r.Phone = "555"; return r }(), scheduling.ErrInvalid},
	} {
		_, err := e.s.Appointments().Book(e.ctx, bizA, e.cal, tc.r)
		wantErr(t, tc.name, err, tc.want)
	}
	_, err := e.s.Appointments().Book(e.ctx, "bad business/id", e.cal, req("cut", at(1, 10, 0), "A"))
	wantErr(t, "bad business ID", err, scheduling.ErrInvalid)
	_, err = e.s.Appointments().Book(e.ctx, bizA, nil, req("cut", at(1, 10, 0), "A"))
	wantErr(t, "nil calendar", err, scheduling.ErrInvalid)
	list, _, err := e.s.Appointments().List(e.ctx, bizA, store.AppointmentFilter{}, store.Page{})
	if err != nil || len(list) != 0 {
		t.Errorf("after only invalid requests List = %d appointments, %v; want none", len(list), err)
	}
}

func testConflicts(t *testing.T, e *env) {
	first := e.book(t, bizA, req("cut", at(1, 10, 0), "First")) // blocks 10:00–10:45
	for _, tc := range []struct {
		name    string
		service string
		start   time.Time
		taken   bool
	}{
		{"same slot", "cut", at(1, 10, 0), true},
		{"inside the appointment", "cut", at(1, 10, 15), true},
		{"inside the buffer", "cut", at(1, 10, 30), true},
		{"own buffer reaches it", "cut", at(1, 9, 30), true}, // 9:30–10:15 with buffer
		{"long one around it", "consult", at(1, 9, 30), true},
		{"ends exactly at its start", "cut", at(1, 9, 15), false}, // 9:15–10:00 with buffer
		{"starts when its buffer ends", "consult", at(1, 10, 45), false},
	} {
		a, err := e.s.Appointments().Book(e.ctx, bizA, e.cal, req(tc.service, tc.start, tc.name))
		if !tc.taken {
			if err != nil {
				t.Errorf("%s: Book = %v, want success", tc.name, err)
			}
			continue
		}
		var ce *scheduling.ConflictError
		if !errors.Is(err, scheduling.ErrConflict) || !errors.As(err, &ce) {
			t.Errorf("%s: Book = %+v, %v; want a *ConflictError", tc.name, a, err)
			continue
		}
		if len(ce.Next) == 0 {
			t.Errorf("%s: conflict lists no free slots", tc.name)
		}
		for _, s := range ce.Next {
			if s.Start.Before(tc.start) {
				t.Errorf("%s: next slot %v is before the requested %v", tc.name, s.Start, tc.start)
			}
		}
	}
	// The suggested slots are really free: book the first one offered.
	_, err := e.s.Appointments().Book(e.ctx, bizA, e.cal, req("cut", at(1, 10, 0), "Again"))
	var ce *scheduling.ConflictError
	if !errors.As(err, &ce) || len(ce.Next) != store.NextSlotCount {
		t.Fatalf("conflict = %v, want %d next slots", err, store.NextSlotCount)
	}
	if got := ce.Next[0].Start; !got.Equal(at(1, 11, 45)) { // 9:15 and 10:45–11:45 are now taken
		t.Errorf("first next slot = %v, want 11:45", got.In(newYork))
	}
	e.book(t, bizA, req("cut", ce.Next[0].Start, "Suggested"))
	// Another business is not affected by the first one's bookings.
	e.book(t, bizB, req("cut", first.Start, "Other business"))
}

func testIdempotency(t *testing.T, e *env) {
	r := req("cut", at(1, 10, 0), "Ann")
	r.IdempotencyKey = "call-123-booking"
	a := e.book(t, bizA, r)
	e.clk.Advance(time.Minute)
	again := e.book(t, bizA, r)
	sameAppt(t, "repeat with the same key", again, a)
	// Even after cancellation, the key replays the original.
	if _, err := e.s.Appointments().Cancel(e.ctx, bizA, a.ID); err != nil {
		t.Fatal(err)
	}
	if replay := e.book(t, bizA, r); replay.ID != a.ID || replay.Status != scheduling.StatusCancelled {
		t.Errorf("replay after cancel = %s %s, want %s cancelled", replay.ID, replay.Status, a.ID)
	}
	other := r
	other.Start = at(1, 11, 0)
	_, err := e.s.Appointments().Book(e.ctx, bizA, e.cal, other)
	wantErr(t, "same key, different start", err, scheduling.ErrDuplicate)
	// Keys are per business.
	if b := e.book(t, bizB, r); b.ID == a.ID {
		t.Errorf("business B got A's appointment for the same key")
	}
	list, _, err := e.s.Appointments().List(e.ctx, bizA, store.AppointmentFilter{}, store.Page{})
	if err != nil || len(list) != 1 {
		t.Errorf("business A has %d appointments (%v), want 1", len(list), err)
	}
}

func testReschedule(t *testing.T, e *env) {
	a := e.book(t, bizA, req("cut", at(1, 10, 0), "Ann"))
	b := e.book(t, bizA, req("cut", at(1, 11, 0), "Bob"))
	e.book(t, bizA, req("cut", at(1, 9, 0), "Dan")) // 9:00–9:45
	e.clk.Advance(time.Minute)

	// Moving back onto Dan: the moved appointment itself starts latest
	// before the new block's end, and must not hide Dan.
	_, err := e.s.Appointments().Reschedule(e.ctx, bizA, e.cal, a.ID, at(1, 9, 30))
	wantErr(t, "move onto Dan", err, scheduling.ErrConflict)

	moved, err := e.s.Appointments().Reschedule(e.ctx, bizA, e.cal, a.ID, at(1, 10, 15))
	if err != nil {
		t.Fatalf("move onto its own old block: %v", err)
	}
	if !moved.Start.Equal(at(1, 10, 15)) || !moved.End.Equal(at(1, 10, 45)) || !moved.UpdatedAt.Equal(start.Add(time.Minute)) ||
		!moved.CreatedAt.Equal(start) || moved.ID != a.ID {
		t.Errorf("moved = %+v", moved)
	}
	got, _ := e.s.Appointments().Get(e.ctx, bizA, a.ID)
	sameAppt(t, "Get after Reschedule", got, moved)

	_, err = e.s.Appointments().Reschedule(e.ctx, bizA, e.cal, a.ID, at(1, 10, 45)) // runs into Bob at 11:00
	var ce *scheduling.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("move onto Bob: %v, want a *ConflictError", err)
	}
	if len(ce.Next) == 0 || !ce.Next[0].Start.Equal(at(1, 11, 45)) {
		t.Errorf("next slots after a conflicting move = %v, want 11:45 first", ce.Next)
	}
	_, err = e.s.Appointments().Reschedule(e.ctx, bizA, e.cal, a.ID, at(1, 18, 0))
	wantErr(t, "move outside hours", err, scheduling.ErrOutsideHours)
	_, err = e.s.Appointments().Reschedule(e.ctx, bizA, e.cal, "apt_missing", at(2, 10, 0))
	wantErr(t, "move missing", err, scheduling.ErrNotFound)

	// Moving away frees the old time.
	if _, err := e.s.Appointments().Reschedule(e.ctx, bizA, e.cal, b.ID, at(2, 9, 0)); err != nil {
		t.Fatal(err)
	}
	e.book(t, bizA, req("cut", at(1, 11, 0), "Carl"))

	if _, err := e.s.Appointments().Cancel(e.ctx, bizA, a.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.Appointments().Reschedule(e.ctx, bizA, e.cal, a.ID, at(3, 10, 0))
	wantErr(t, "move cancelled", err, scheduling.ErrInvalid)
}

func testCancelAndSMS(t *testing.T, e *env) {
	a := e.book(t, bizA, req("cut", at(1, 10, 0), "Ann"))
	e.clk.Advance(time.Minute)
	c, err := e.s.Appointments().Cancel(e.ctx, bizA, a.ID)
	if err != nil || c.Status != scheduling.StatusCancelled || !c.UpdatedAt.Equal(start.Add(time.Minute)) {
		t.Fatalf("Cancel = %+v, %v", c, err)
	}
	e.clk.Advance(time.Minute)
	again, err := e.s.Appointments().Cancel(e.ctx, bizA, a.ID)
	if err != nil {
		t.Fatalf("second Cancel: %v", err)
	}
	sameAppt(t, "second Cancel changes nothing", again, c)
	// The slot is free again.
	e.book(t, bizA, req("cut", at(1, 10, 0), "Bob"))
	_, err = e.s.Appointments().Cancel(e.ctx, bizA, "apt_missing")
	wantErr(t, "cancel missing", err, scheduling.ErrNotFound)

	s, err := e.s.Appointments().SetSMS(e.ctx, bizA, a.ID, scheduling.SMSFailed, "21610: unsubscribed")
	if err != nil || s.SMSStatus != scheduling.SMSFailed || s.SMSError != "21610: unsubscribed" {
		t.Fatalf("SetSMS = %+v, %v", s, err)
	}
	got, _ := e.s.Appointments().Get(e.ctx, bizA, a.ID)
	sameAppt(t, "Get after SetSMS", got, s)
	_, err = e.s.Appointments().SetSMS(e.ctx, bizA, a.ID, "shouted", "")
	wantErr(t, "bad SMS status", err, scheduling.ErrInvalid)
}

func testAppointmentTenancy(t *testing.T, e *env) {
	a := e.book(t, bizA, req("cut", at(1, 10, 0), "Ann"))
	ap := e.s.Appointments()
	_, err := ap.Get(e.ctx, bizB, a.ID)
	wantErr(t, "B gets A's appointment", err, scheduling.ErrNotFound)
	_, err = ap.Cancel(e.ctx, bizB, a.ID)
	wantErr(t, "B cancels A's appointment", err, scheduling.ErrNotFound)
	_, err = ap.Reschedule(e.ctx, bizB, e.cal, a.ID, at(2, 10, 0))
	wantErr(t, "B moves A's appointment", err, scheduling.ErrNotFound)
	_, err = ap.SetSMS(e.ctx, bizB, a.ID, scheduling.SMSSent, "")
	wantErr(t, "B sets SMS on A's appointment", err, scheduling.ErrNotFound)
	list, _, err := ap.List(e.ctx, bizB, store.AppointmentFilter{}, store.Page{})
	if err != nil || len(list) != 0 {
		t.Errorf("B lists %d appointments (%v), want none", len(list), err)
	}
	got, err := ap.Get(e.ctx, bizA, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameAppt(t, "A's appointment after B's attempts", got, a)
}

func testAppointmentPagination(t *testing.T, e *env) {
	var all []scheduling.Appointment
	for day := 1; day <= 5; day++ {
		for i := range 5 {
			if len(all) == 23 {
				break
			}
			all = append(all, e.book(t, bizA, req("cut", at(day, 9+i, 0), fmt.Sprintf("c%d-%d", day, i))))
		}
	}
	for _, i := range []int{2, 7, 20} {
		c, err := e.s.Appointments().Cancel(e.ctx, bizA, all[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		all[i] = c
	}
	collect := func(f store.AppointmentFilter, limit int) []scheduling.Appointment {
		t.Helper()
		var out []scheduling.Appointment
		p := store.Page{Limit: limit}
		for pages := 0; ; pages++ {
			items, next, err := e.s.Appointments().List(e.ctx, bizA, f, p)
			if err != nil {
				t.Fatalf("List page %d: %v", pages, err)
			}
			if len(items) > limit {
				t.Fatalf("page of %d items, limit %d", len(items), limit)
			}
			out = append(out, items...)
			if next == "" {
				return out
			}
			if pages > 100 {
				t.Fatal("pagination does not end")
			}
			p.Cursor = next
		}
	}
	ids := func(as []scheduling.Appointment) []string {
		var s []string
		for _, a := range as {
			s = append(s, a.ID)
		}
		return s
	}
	for _, limit := range []int{1, 5, 23, 100} {
		got := collect(store.AppointmentFilter{}, limit)
		if !slices.Equal(ids(got), ids(all)) {
			t.Errorf("limit %d: listed %v\nwant %v (every appointment once, by start)", limit, ids(got), ids(all))
		}
	}
	var booked, inRange []scheduling.Appointment
	for _, a := range all {
		if a.Status == scheduling.StatusBooked {
			booked = append(booked, a)
		}
		if !a.Start.Before(at(2, 0, 0)) && a.Start.Before(at(4, 0, 0)) {
			inRange = append(inRange, a)
		}
	}
	if got := collect(store.AppointmentFilter{Status: scheduling.StatusBooked}, 4); !slices.Equal(ids(got), ids(booked)) {
		t.Errorf("booked only: %v\nwant %v", ids(got), ids(booked))
	}
	if got := collect(store.AppointmentFilter{From: at(2, 0, 0), To: at(4, 0, 0)}, 3); !slices.Equal(ids(got), ids(inRange)) {
		t.Errorf("June 2–3: %v\nwant %v", ids(got), ids(inRange))
	}
	for _, tc := range []struct {
		name string
		f    store.AppointmentFilter
		p    store.Page
	}{
		{"garbage cursor", store.AppointmentFilter{}, store.Page{Cursor: "!!not a cursor"}},
		{"lead cursor", store.AppointmentFilter{}, store.Page{Cursor: store.EncodeCursor("lead", "x")}},
		{"limit too big", store.AppointmentFilter{}, store.Page{Limit: store.MaxLimit + 1}},
		{"negative limit", store.AppointmentFilter{}, store.Page{Limit: -1}},
		{"bad status", store.AppointmentFilter{Status: "maybe"}, store.Page{}},
		{"to before from", store.AppointmentFilter{From: at(3, 0, 0), To: at(2, 0, 0)}, store.Page{}},
	} {
		_, _, err := e.s.Appointments().List(e.ctx, bizA, tc.f, tc.p)
		wantErr(t, tc.name, err, scheduling.ErrInvalid)
	}
}

// bookAll books every request at once from its own goroutine, released
// together, and returns the successes and errors.
func bookAll(e *env, reqs []scheduling.Appointment) ([]scheduling.Appointment, []error) {
	var wg sync.WaitGroup
	ready := make(chan struct{})
	appts := make([]scheduling.Appointment, len(reqs))
	errs := make([]error, len(reqs))
	for i, r := range reqs {
		wg.Go(func() {
			<-ready
			appts[i], errs[i] = e.s.Appointments().Book(e.ctx, bizA, e.cal, r)
		})
	}
	close(ready)
	wg.Wait()
	return appts, errs
}

func testConcurrentSameSlot(t *testing.T, e *env) {
	const n = 50
	reqs := make([]scheduling.Appointment, n)
	for i := range reqs {
		reqs[i] = req("cut", at(1, 10, 0), fmt.Sprintf("caller %d", i))
	}
	appts, errs := bookAll(e, reqs)
	var won []scheduling.Appointment
	var next []scheduling.Slot
	conflicts := 0
	for i, err := range errs {
		var ce *scheduling.ConflictError
		switch {
		case err == nil:
			won = append(won, appts[i])
		case errors.As(err, &ce) && errors.Is(err, scheduling.ErrConflict):
			conflicts++
			if len(ce.Next) == 0 {
				t.Errorf("caller %d: conflict without next free slots", i)
			}
			next = ce.Next
		default:
			t.Errorf("caller %d: unexpected error %v", i, err)
		}
	}
	if len(won) != 1 || conflicts != n-1 {
		t.Fatalf("%d bookings succeeded and %d conflicted, want 1 and %d", len(won), conflicts, n-1)
	}
	list, _, err := e.s.Appointments().List(e.ctx, bizA, store.AppointmentFilter{Status: scheduling.StatusBooked}, store.Page{})
	if err != nil || len(list) != 1 || list[0].ID != won[0].ID {
		t.Fatalf("stored booked appointments = %d (%v), want only the winner", len(list), err)
	}
	if len(next) > 0 {
		e.book(t, bizA, req("cut", next[0].Start, "took the suggestion"))
	}
}

func testConcurrentOverlapping(t *testing.T, e *env) {
	const n = 50
	reqs := make([]scheduling.Appointment, n)
	for i := range reqs {
		svc := "cut"
		if i%2 == 1 {
			svc = "consult"
		}
		// Starts two minutes apart from 10:00: most of them overlap
		// several others, none is equal to another.
		reqs[i] = req(svc, at(1, 10, 0).Add(time.Duration(i)*2*time.Minute), fmt.Sprintf("caller %d", i))
	}
	_, errs := bookAll(e, reqs)
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, scheduling.ErrConflict):
			t.Errorf("caller %d: unexpected error %v", i, err)
		}
	}
	list, _, err := e.s.Appointments().List(e.ctx, bizA, store.AppointmentFilter{Status: scheduling.StatusBooked}, store.Page{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if ok == 0 || len(list) != ok {
		t.Fatalf("%d bookings succeeded, %d stored; want at least one and equal", ok, len(list))
	}
	for i := range list {
		for j := i + 1; j < len(list); j++ {
			if list[i].Overlaps(list[j]) {
				t.Errorf("double booking: %v–%v and %v–%v", list[i].Start, list[i].BlockEnd(), list[j].Start, list[j].BlockEnd())
			}
		}
	}
	// 10:00 .. 11:38 requested: at most three 45–60 minute blocks fit.
	if ok > 3 {
		t.Errorf("%d bookings in 10:00–12:38, want at most 3", ok)
	}
}
