package scheduling

import (
	"errors"
	"testing"
	"time"
)

func TestPrepareBooking(t *testing.T) {
	c := officeCalendar(t)
	ny := c.Location
	now := time.Date(2026, 6, 1, 8, 0, 0, 0, ny)
	start := time.Date(2026, 6, 1, 10, 0, 0, 999, ny)
	req := Appointment{
		Service: Service{ID: "cut", Duration: time.Minute}, // duration from the request is ignored
		Start:   start, CustomerName: "  Ann Lee ", Phone: "+1 (202) 555-0100", IdempotencyKey: "k1",
	}
	a, err := c.PrepareBooking("biz", req, now)
	if err != nil {
		t.Fatalf("PrepareBooking: %v", err)
	}
	if a.BusinessID != "biz" || a.Status != StatusBooked || a.CustomerName != "Ann Lee" || a.Phone != "+12025550100" {
		t.Errorf("got business=%q status=%q name=%q phone=%q", a.BusinessID, a.Status, a.CustomerName, a.Phone)
	}
	if a.Service.Duration != 30*time.Minute || a.Service.Buffer != 15*time.Minute || a.Service.Name != "Haircut" {
		t.Errorf("service snapshot = %+v, want the calendar's haircut", a.Service)
	}
	if !a.Start.Equal(start.Truncate(time.Second)) || a.Start.Location() != time.UTC || a.End.Sub(a.Start) != 30*time.Minute {
		t.Errorf("start/end = %v/%v", a.Start, a.End)
	}
	if got := a.BlockEnd(); !got.Equal(time.Date(2026, 6, 1, 10, 45, 0, 0, ny)) {
		t.Errorf("BlockEnd = %v, want 10:45 local", got)
	}

	for _, tc := range []struct {
		name   string
		mutate func(r *Appointment)
		want   error
	}{
		{"unknown service", func(r *Appointment) { r.Service.ID = "massage" }, ErrInvalid},
		{"no name", func(r *Appointment) { r.CustomerName = " " }, ErrInvalid},
		{"bad phone", func(r *Appointment) { r.Phone = "12" }, ErrInvalid},
		{"national phone without region", func(r *Appointment) { r.Phone = "(202) 555-0100" }, ErrInvalid},
		{"zero start", func(r *Appointment) { r.Start = time.Time{} }, ErrInvalidRange},
		{"outside hours", func(r *Appointment) { r.Start = time.Date(2026, 6, 1, 18, 0, 0, 0, ny) }, ErrOutsideHours},
		{"past", func(r *Appointment) { r.Start = time.Date(2026, 5, 1, 10, 0, 0, 0, ny) }, ErrInvalidRange},
		{"huge key", func(r *Appointment) { r.IdempotencyKey = string(make([]byte, 300)) }, ErrInvalid},
	} {
		r := req
		tc.mutate(&r)
		if _, err := c.PrepareBooking("biz", r, now); !errors.Is(err, tc.want) {
			t.Errorf("%s: error = %v, want %v", tc.name, err, tc.want)
		}
	}

	moved, err := c.PrepareReschedule(a, time.Date(2026, 6, 2, 13, 0, 0, 0, ny), now.Add(time.Minute))
	if err != nil {
		t.Fatalf("PrepareReschedule: %v", err)
	}
	if moved.End.Sub(moved.Start) != 30*time.Minute || !moved.UpdatedAt.Equal(now.Add(time.Minute)) || moved.ID != a.ID {
		t.Errorf("moved = %+v", moved)
	}
	a.Status = StatusCancelled
	if _, err := c.PrepareReschedule(a, moved.Start, now); !errors.Is(err, ErrInvalid) {
		t.Errorf("reschedule cancelled: error = %v, want ErrInvalid", err)
	}
}

func TestOverlaps(t *testing.T) {
	base := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	svc := Service{ID: "s", Duration: 30 * time.Minute, Buffer: 15 * time.Minute}
	a := booked(svc, base)
	for _, tc := range []struct {
		offset time.Duration
		want   bool
	}{
		{-45 * time.Minute, false}, // its buffer ends exactly at a's start
		{-44 * time.Minute, true},
		{0, true},
		{40 * time.Minute, true}, // inside a's buffer
		{45 * time.Minute, false},
	} {
		b := booked(svc, base.Add(tc.offset))
		if got := a.Overlaps(b); got != tc.want || b.Overlaps(a) != tc.want {
			t.Errorf("offset %v: Overlaps = %v, want %v (both ways)", tc.offset, got, tc.want)
		}
	}
}
