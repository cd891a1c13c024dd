package scheduling

import (
	"errors"
	"testing"
	"time"
	_ "time/tzdata" // tests must not depend on the host's zoneinfo
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load time zone %s: %v", name, err)
	}
	return loc
}

// officeCalendar is open Mon–Fri 09:00–12:00 and 13:00–17:00, Sat 10:00–14:00,
// in New York, closed on 2026-07-03.
func officeCalendar(t testing.TB) *Calendar {
	weekday := []TimeRange{{TimeOf(9, 0), TimeOf(12, 0)}, {TimeOf(13, 0), TimeOf(17, 0)}}
	var h Hours
	for d := time.Monday; d <= time.Friday; d++ {
		h[d] = weekday
	}
	h[time.Saturday] = []TimeRange{{TimeOf(10, 0), TimeOf(14, 0)}}
	return &Calendar{
		Location: mustLoad(t, "America/New_York"),
		Hours:    h,
		Closures: []Closure{{Start: Date{2026, time.July, 3}, Reason: "Independence Day"}},
		Services: []Service{
			{ID: "cut", Name: "Haircut", Duration: 30 * time.Minute, Buffer: 15 * time.Minute, Price: 3500, Currency: "USD"},
			{ID: "color", Name: "Colour", Duration: 90 * time.Minute},
		},
	}
}

// allDay is open 00:00–24:00 every day in loc.
func allDay(loc *time.Location, step time.Duration) *Calendar {
	var h Hours
	for d := range h {
		h[d] = []TimeRange{{0, 1440}}
	}
	return &Calendar{Location: loc, Hours: h, Step: step,
		Services: []Service{{ID: "s", Duration: 30 * time.Minute}}}
}

func TestParseTimeOfDay(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want TimeOfDay
		ok   bool
	}{
		{"09:30", 570, true}, {"00:00", 0, true}, {"24:00", 1440, true}, {"23:59", 1439, true},
		{"24:01", 0, false}, {"9:30", 0, false}, {"09:60", 0, false}, {"", 0, false}, {"-1:00", 0, false}, {"ab:cd", 0, false}, {"+1:00", 0, false}, {"09:+5", 0, false},
	} {
		got, err := ParseTimeOfDay(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseTimeOfDay(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseTimeOfDay(%q) error %v does not match ErrInvalid", tc.in, err)
		}
		if tc.ok && got.String() != tc.in {
			t.Errorf("TimeOfDay(%d).String() = %q, want %q", got, got.String(), tc.in)
		}
	}
}

func TestCalendarValidate(t *testing.T) {
	base := func() *Calendar { return officeCalendar(t) }
	for _, tc := range []struct {
		name   string
		mutate func(c *Calendar)
	}{
		{"no location", func(c *Calendar) { c.Location = nil }},
		{"empty range", func(c *Calendar) { c.Hours[time.Monday] = []TimeRange{{TimeOf(9, 0), TimeOf(9, 0)}} }},
		{"range past midnight", func(c *Calendar) { c.Hours[time.Monday] = []TimeRange{{TimeOf(22, 0), 1441}} }},
		{"overlapping ranges", func(c *Calendar) {
			c.Hours[time.Monday] = []TimeRange{{TimeOf(9, 0), TimeOf(12, 0)}, {TimeOf(11, 0), TimeOf(13, 0)}}
		}},
		{"unsorted ranges", func(c *Calendar) {
			c.Hours[time.Monday] = []TimeRange{{TimeOf(13, 0), TimeOf(14, 0)}, {TimeOf(9, 0), TimeOf(10, 0)}}
		}},
		{"closure ends before it starts", func(c *Calendar) {
			c.Closures = []Closure{{Start: Date{2026, 5, 2}, End: Date{2026, 5, 1}}}
		}},
		{"closure on February 30", func(c *Calendar) { c.Closures = []Closure{{Start: Date{2026, 2, 30}}} }},
		{"duplicate service", func(c *Calendar) { c.Services = append(c.Services, c.Services[0]) }},
		{"zero duration", func(c *Calendar) { c.Services[0].Duration = 0 }},
		{"sub-second duration", func(c *Calendar) { c.Services[0].Duration = 1500 * time.Millisecond }},
		{"negative buffer", func(c *Calendar) { c.Services[0].Buffer = -time.Minute }},
		{"negative price", func(c *Calendar) { c.Services[0].Price = -1 }},
		{"tiny step", func(c *Calendar) { c.Step = time.Second }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.mutate(c)
			if err := c.Validate(); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate() = %v, want an ErrInvalid", err)
			}
		})
	}
	if err := base().Validate(); err != nil {
		t.Fatalf("valid calendar: Validate() = %v", err)
	}
	var nilCal *Calendar
	if err := nilCal.Validate(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("nil calendar: Validate() = %v, want ErrInvalid", err)
	}
}

func TestDate(t *testing.T) {
	d, err := ParseDate("2026-02-28")
	if err != nil {
		t.Fatal(err)
	}
	if got := d.AddDays(1); got != (Date{2026, time.March, 1}) {
		t.Errorf("2026-02-28 + 1 day = %v", got)
	}
	if got := d.Weekday(); got != time.Saturday {
		t.Errorf("2026-02-28 weekday = %v, want Saturday", got)
	}
	if _, err := ParseDate("2026-02-30"); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseDate(2026-02-30) error = %v, want ErrInvalid", err)
	}
	c := Closure{Start: Date{2026, 12, 24}, End: Date{2026, 12, 26}}
	for _, tc := range []struct {
		d    Date
		want bool
	}{{Date{2026, 12, 23}, false}, {Date{2026, 12, 24}, true}, {Date{2026, 12, 26}, true}, {Date{2026, 12, 27}, false}} {
		if got := c.Contains(tc.d); got != tc.want {
			t.Errorf("closure 24–26 Dec contains %v = %v, want %v", tc.d, got, tc.want)
		}
	}
}

func TestWallTime(t *testing.T) {
	ny, london := mustLoad(t, "America/New_York"), mustLoad(t, "Europe/London")
	for _, tc := range []struct {
		name string
		loc  *time.Location
		d    Date
		tod  TimeOfDay
		want string // RFC 3339 in UTC
	}{
		{"NY normal", ny, Date{2026, 6, 1}, TimeOf(9, 0), "2026-06-01T13:00:00Z"},
		{"NY 24:00 is next midnight", ny, Date{2026, 6, 1}, 1440, "2026-06-02T04:00:00Z"},
		{"NY spring gap resolves to the jump", ny, Date{2026, 3, 8}, TimeOf(2, 30), "2026-03-08T07:00:00Z"},
		{"NY spring gap start", ny, Date{2026, 3, 8}, TimeOf(2, 0), "2026-03-08T07:00:00Z"},
		{"NY after the jump", ny, Date{2026, 3, 8}, TimeOf(3, 0), "2026-03-08T07:00:00Z"},
		{"NY fall repeat takes first (EDT)", ny, Date{2026, 11, 1}, TimeOf(1, 30), "2026-11-01T05:30:00Z"},
		{"NY after fall back", ny, Date{2026, 11, 1}, TimeOf(2, 0), "2026-11-01T07:00:00Z"},
		{"London spring gap", london, Date{2026, 3, 29}, TimeOf(1, 30), "2026-03-29T01:00:00Z"},
		{"London fall repeat takes first (BST)", london, Date{2026, 10, 25}, TimeOf(1, 30), "2026-10-25T00:30:00Z"},
		{"London after fall back", london, Date{2026, 10, 25}, TimeOf(2, 0), "2026-10-25T02:00:00Z"},
		{"UTC", time.UTC, Date{2026, 1, 1}, TimeOf(8, 15), "2026-01-01T08:15:00Z"},
	} {
		if got := wallTime(tc.d, tc.tod, tc.loc).UTC().Format(time.RFC3339); got != tc.want {
			t.Errorf("%s: wallTime(%v %v) = %s, want %s", tc.name, tc.d, tc.tod, got, tc.want)
		}
	}
}

func TestCheckSlot(t *testing.T) {
	c := officeCalendar(t)
	ny := c.Location
	cut, _ := c.Service("cut")
	now := time.Date(2026, 6, 1, 8, 0, 0, 0, ny) // Monday
	for _, tc := range []struct {
		name  string
		start time.Time
		want  error
	}{
		{"morning", time.Date(2026, 6, 1, 9, 0, 0, 0, ny), nil},
		{"last slot before lunch (buffer may run into lunch)", time.Date(2026, 6, 1, 11, 30, 0, 0, ny), nil},
		{"crosses lunch", time.Date(2026, 6, 1, 11, 45, 0, 0, ny), ErrOutsideHours},
		{"before opening", time.Date(2026, 6, 1, 8, 45, 0, 0, ny), ErrOutsideHours},
		{"ends after closing", time.Date(2026, 6, 1, 16, 45, 0, 0, ny), ErrOutsideHours},
		{"sunday", time.Date(2026, 6, 7, 10, 0, 0, 0, ny), ErrOutsideHours},
		{"closure", time.Date(2026, 7, 3, 10, 0, 0, 0, ny), ErrOutsideHours},
		{"past", time.Date(2026, 5, 29, 10, 0, 0, 0, ny), ErrInvalidRange},
		{"too far ahead", time.Date(2036, 6, 2, 10, 0, 0, 0, ny), ErrInvalidRange},
		{"given in another zone", time.Date(2026, 6, 1, 14, 0, 0, 0, time.UTC), nil}, // 10:00 EDT
	} {
		err := c.CheckSlot(cut, tc.start, now)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: CheckSlot(%v) = %v, want %v", tc.name, tc.start, err, tc.want)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v should also match ErrInvalid", tc.name, err)
		}
	}
	if c.OpenAt(time.Date(2026, 6, 1, 12, 30, 0, 0, ny)) {
		t.Error("OpenAt(lunch) = true, want false")
	}
	if !c.OpenAt(time.Date(2026, 6, 1, 16, 59, 0, 0, ny)) {
		t.Error("OpenAt(16:59) = false, want true")
	}
	if c.OpenAt(time.Date(2026, 6, 1, 17, 0, 0, 0, ny)) {
		t.Error("OpenAt(17:00) = true, want false (ranges are half-open)")
	}
}

func FuzzParseTimeOfDay(f *testing.F) {
	for _, s := range []string{"09:30", "24:00", "00:00", "7:5", "99:99", "-1:00", "+1:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tod, err := ParseTimeOfDay(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if tod < 0 || tod > 1440 || tod.String() != s {
			t.Fatalf("ParseTimeOfDay(%q) = %d (%s)", s, tod, tod)
		}
	})
}
