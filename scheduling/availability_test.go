package scheduling

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// labels renders slot starts as local "15:04" (with the zone abbreviation
// when withZone), to compare against a readable expectation.
func labels(slots []Slot, withZone bool) string {
	var b strings.Builder
	for i, s := range slots {
		if i > 0 {
			b.WriteByte(' ')
		}
		if withZone {
			b.WriteString(s.Start.Format("15:04MST"))
		} else {
			b.WriteString(s.Start.Format("15:04"))
		}
	}
	return b.String()
}

// checkSlots asserts invariants every result must satisfy: strictly
// increasing distinct instants, each lasting exactly d, in loc.
func checkSlots(t *testing.T, slots []Slot, d time.Duration, loc *time.Location) {
	t.Helper()
	for i, s := range slots {
		if got := s.End.Sub(s.Start); got != d {
			t.Errorf("slot %d (%v) lasts %v, want %v", i, s.Start, got, d)
		}
		if s.Start.Location() != loc {
			t.Errorf("slot %d is in %v, want %v", i, s.Start.Location(), loc)
		}
		if i > 0 && !slots[i-1].Start.Before(s.Start) {
			t.Errorf("slot %d (%v) does not come after slot %d (%v)", i, s.Start, i-1, slots[i-1].Start)
		}
	}
}

func booked(svc Service, start time.Time) Appointment {
	return Appointment{Service: svc, Start: start, End: start.Add(svc.Duration), Status: StatusBooked}
}

func TestAvailabilityHoursBuffersAndBookings(t *testing.T) {
	c := officeCalendar(t)
	ny := c.Location
	cut, _ := c.Service("cut")
	day := func(h, m int) time.Time { return time.Date(2026, 6, 1, h, m, 0, 0, ny) }
	existing := []Appointment{
		booked(cut, day(10, 0)), // blocks 10:00–10:45
		{Service: cut, Start: day(14, 0), End: day(14, 30), Status: StatusCancelled},
		booked(Service{ID: "color", Duration: 90 * time.Minute}, day(15, 0)), // 15:00–16:30
	}
	for _, tc := range []struct {
		name     string
		from, to time.Time
		now      time.Time
		want     string
	}{
		{
			name: "whole day",
			from: day(0, 0), to: day(24, 0), now: day(6, 0),
			// 09:15 ends with its buffer exactly when 10:00 starts; 11:30 ends at
			// noon; 14:00 was cancelled; 14:15 + 30 + 15 reaches 15:00.
			want: "09:00 09:15 10:45 11:00 11:15 11:30 13:00 13:15 13:30 13:45 14:00 14:15 16:30",
		},
		{
			name: "now rounds up to the next step",
			from: day(0, 0), to: day(12, 0), now: day(10, 50),
			want: "11:00 11:15 11:30",
		},
		{
			name: "to is exclusive",
			from: day(13, 0), to: day(13, 30), now: day(6, 0),
			want: "13:00 13:15",
		},
		{
			name: "everything in the past",
			from: day(0, 0), to: day(12, 0), now: day(18, 0),
			want: "",
		},
		{
			name: "closure and weekend",
			from: time.Date(2026, 7, 3, 0, 0, 0, 0, ny), to: time.Date(2026, 7, 6, 0, 0, 0, 0, ny), now: day(6, 0),
			want: "10:00 10:15 10:30 10:45 11:00 11:15 11:30 11:45 12:00 12:15 12:30 12:45 13:00 13:15 13:30", // Saturday only
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Availability(c, cut, tc.from, tc.to, existing, tc.now)
			if err != nil {
				t.Fatalf("Availability: %v", err)
			}
			checkSlots(t, got, cut.Duration, ny)
			if l := labels(got, false); l != tc.want {
				t.Errorf("slots\n got %s\nwant %s", l, tc.want)
			}
		})
	}
}

func TestAvailabilityStep(t *testing.T) {
	c := officeCalendar(t)
	c.Step = time.Hour
	color, _ := c.Service("color")
	from := time.Date(2026, 6, 1, 0, 0, 0, 0, c.Location)
	got, err := Availability(c, color, from, from.Add(24*time.Hour), nil, from)
	if err != nil {
		t.Fatal(err)
	}
	if l, want := labels(got, false), "09:00 10:00 13:00 14:00 15:00"; l != want {
		t.Errorf("hourly steps of a 90 min service\n got %s\nwant %s", l, want)
	}
}

func TestAvailabilityDST(t *testing.T) {
	ny, london := mustLoad(t, "America/New_York"), mustLoad(t, "Europe/London")
	// halfHours lists hh:00 and hh:30 for hours in [from, to) except skip.
	halfHours := func(hours ...int) string {
		var parts []string
		for _, h := range hours {
			parts = append(parts, fmt.Sprintf("%02d:00", h), fmt.Sprintf("%02d:30", h))
		}
		return strings.Join(parts, " ")
	}
	seq := func(from, to int) []int {
		var s []int
		for h := from; h < to; h++ {
			s = append(s, h)
		}
		return s
	}
	for _, tc := range []struct {
		name      string
		cal       *Calendar
		date      Date
		wantCount int
		want      string // labels with zone when it matters
		withZone  bool
	}{
		{
			name: "New York spring forward, open all day",
			cal:  allDay(ny, 30*time.Minute), date: Date{2026, 3, 8}, wantCount: 46,
			want: halfHours(append([]int{0, 1}, seq(3, 24)...)...),
		},
		{
			name: "New York fall back, open all day",
			cal:  allDay(ny, 30*time.Minute), date: Date{2026, 11, 1}, wantCount: 50, withZone: true,
			want: "00:00EDT 00:30EDT 01:00EDT 01:30EDT 01:00EST 01:30EST " + zoned(halfHours(seq(2, 24)...), "EST"),
		},
		{
			name: "New York spring forward, range spans the gap",
			cal:  withHours(allDay(ny, 30*time.Minute), TimeOf(1, 0), TimeOf(4, 0)), date: Date{2026, 3, 8}, wantCount: 4,
			want: "01:00EST 01:30EST 03:00EDT 03:30EDT", withZone: true,
		},
		{
			name: "New York spring forward, range opens inside the gap",
			cal:  withHours(allDay(ny, 30*time.Minute), TimeOf(2, 30), TimeOf(5, 0)), date: Date{2026, 3, 8}, wantCount: 4,
			want: "03:00EDT 03:30EDT 04:00EDT 04:30EDT", withZone: true,
		},
		{
			name: "New York fall back, range spans the repeated hour",
			cal:  withHours(allDay(ny, 30*time.Minute), TimeOf(1, 0), TimeOf(3, 0)), date: Date{2026, 11, 1}, wantCount: 6,
			want: "01:00EDT 01:30EDT 01:00EST 01:30EST 02:00EST 02:30EST", withZone: true,
		},
		{
			name: "New York spring forward, office hours",
			cal:  withHours(allDay(ny, 30*time.Minute), TimeOf(9, 0), TimeOf(17, 0)), date: Date{2026, 3, 8}, wantCount: 16,
			want: zoned(halfHours(seq(9, 17)...), "EDT"), withZone: true,
		},
		{
			name: "London spring forward, open all day",
			cal:  allDay(london, 30*time.Minute), date: Date{2026, 3, 29}, wantCount: 46,
			want: halfHours(append([]int{0}, seq(2, 24)...)...),
		},
		{
			name: "London fall back, open all day",
			cal:  allDay(london, 30*time.Minute), date: Date{2026, 10, 25}, wantCount: 50, withZone: true,
			want: "00:00BST 00:30BST 01:00BST 01:30BST 01:00GMT 01:30GMT " + zoned(halfHours(seq(2, 24)...), "GMT"),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := tc.cal.Services[0]
			from := wallTime(tc.date, 0, tc.cal.Location)
			to := wallTime(tc.date, 1440, tc.cal.Location)
			got, err := Availability(tc.cal, svc, from, to, nil, from.Add(-time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			checkSlots(t, got, svc.Duration, tc.cal.Location)
			if len(got) != tc.wantCount {
				t.Errorf("got %d slots, want %d", len(got), tc.wantCount)
			}
			if l := labels(got, tc.withZone); l != tc.want {
				t.Errorf("slots\n got %s\nwant %s", l, tc.want)
			}
		})
	}

	// A 90-minute service that starts before the repeated hour lasts 90
	// real minutes even though its local end reads only 30 minutes later.
	c := allDay(ny, 30*time.Minute)
	c.Services[0].Duration = 90 * time.Minute
	from := time.Date(2026, 11, 1, 0, 30, 0, 0, ny)
	got, err := Availability(c, c.Services[0], from, from.Add(time.Minute), nil, from)
	if err != nil || len(got) != 1 {
		t.Fatalf("Availability = %v, %v; want one slot", got, err)
	}
	if end := got[0].End.Format("15:04MST"); end != "01:00EST" {
		t.Errorf("00:30 EDT + 90 min ends %s, want 01:00EST", end)
	}
}

func zoned(labels, zone string) string {
	return strings.ReplaceAll(labels, " ", zone+" ") + zone
}

func withHours(c *Calendar, open, close TimeOfDay) *Calendar {
	for d := range c.Hours {
		c.Hours[d] = []TimeRange{{open, close}}
	}
	return c
}

func TestAvailabilityBadInput(t *testing.T) {
	c := officeCalendar(t)
	cut, _ := c.Service("cut")
	from := time.Date(2026, 6, 1, 0, 0, 0, 0, c.Location)
	for _, tc := range []struct {
		name     string
		cal      *Calendar
		svc      Service
		from, to time.Time
		want     error
	}{
		{"nil calendar", nil, cut, from, from.Add(time.Hour), ErrInvalid},
		{"no time zone", &Calendar{}, cut, from, from.Add(time.Hour), ErrInvalid},
		{"zero-length service", c, Service{ID: "x"}, from, from.Add(time.Hour), ErrInvalid},
		{"to before from", c, cut, from, from.Add(-time.Hour), ErrInvalidRange},
		{"empty window", c, cut, from, from, ErrInvalidRange},
		{"window too long", c, cut, from, from.Add(MaxWindow + time.Hour), ErrInvalidRange},
	} {
		if _, err := Availability(tc.cal, tc.svc, tc.from, tc.to, nil, from); !errors.Is(err, tc.want) {
			t.Errorf("%s: error = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestNextSlotsAndConflictError(t *testing.T) {
	c := officeCalendar(t)
	cut, _ := c.Service("cut")
	fri := time.Date(2026, 7, 2, 16, 30, 0, 0, c.Location) // Thursday 16:30, Friday is closed
	next, err := NextSlots(c, cut, fri, []Appointment{booked(cut, fri)}, fri.Add(-time.Hour), 3)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := labels(next, false), "10:00 10:15 10:30"; got != want || DateOf(next[0].Start) != (Date{2026, 7, 4}) {
		t.Fatalf("next slots = %s on %v, want %s on Saturday 2026-07-04", got, DateOf(next[0].Start), want)
	}
	var err2 error = fmt.Errorf("book: %w", &ConflictError{Next: next})
	var ce *ConflictError
	if !errors.Is(err2, ErrConflict) || !errors.As(err2, &ce) || len(ce.Next) != 3 {
		t.Fatalf("wrapped ConflictError: Is(ErrConflict)=%v As=%v", errors.Is(err2, ErrConflict), errors.As(err2, &ce))
	}
	if errors.Is(err2, ErrInvalid) {
		t.Error("a conflict must not look like invalid input")
	}
}

// BenchmarkAvailabilityMonth computes a month of free slots for a 30-minute
// service in a busy calendar: open Mon–Sat 09:00–18:00, eight 30-minute
// appointments booked on every open day (on the hour, 09:00–16:00).
func BenchmarkAvailabilityMonth(b *testing.B) {
	var h Hours
	for d := time.Monday; d <= time.Saturday; d++ {
		h[d] = []TimeRange{{TimeOf(9, 0), TimeOf(18, 0)}}
	}
	svc := Service{ID: "s", Duration: 30 * time.Minute}
	c := &Calendar{Location: mustLoad(b, "America/New_York"), Hours: h, Services: []Service{svc}}
	from := time.Date(2026, 6, 1, 0, 0, 0, 0, c.Location)
	to := from.AddDate(0, 0, 30)
	var existing []Appointment
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		if d.Weekday() == time.Sunday {
			continue
		}
		for hr := 9; hr < 17; hr++ {
			existing = append(existing, booked(svc, time.Date(d.Year(), d.Month(), d.Day(), hr, 0, 0, 0, c.Location)))
		}
	}
	b.ReportAllocs()
	var n int
	for b.Loop() {
		slots, err := Availability(c, svc, from, to, existing, from)
		if err != nil {
			b.Fatal(err)
		}
		n = len(slots)
	}
	b.ReportMetric(float64(n), "slots/op")
	b.ReportMetric(float64(len(existing)), "booked")
}
