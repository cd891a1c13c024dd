package tools

import (
	"slices"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/configs"
)

func TestSpokenTime(t *testing.T) {
	for _, tc := range []struct {
		h, m int
		want string
	}{
		{8, 0, "8 AM"}, {10, 30, "10:30 AM"}, {12, 0, "noon"}, {0, 0, "midnight"}, {13, 5, "1:05 PM"},
		{23, 59, "11:59 PM"}, {0, 30, "12:30 AM"}, {12, 45, "12:45 PM"},
	} {
		if got := SpokenTime(time.Date(2026, 3, 10, tc.h, tc.m, 0, 0, time.UTC)); got != tc.want {
			t.Errorf("SpokenTime(%02d:%02d) = %q, want %q", tc.h, tc.m, got, tc.want)
		}
	}
	if got := SpokenSlot(time.Date(2026, 3, 10, 14, 30, 0, 0, time.UTC), newYork); got != "Tuesday, March 10 at 10:30 AM" {
		t.Errorf("SpokenSlot = %q", got)
	}
	if got := JoinOr([]string{"a", "b", "c"}); got != "a, b or c" {
		t.Errorf("JoinOr = %q", got)
	}
}

func TestSpokenWeek(t *testing.T) {
	cfg := exampleConfig(t)
	for id, want := range map[string]string{
		"bright-smile":   "Monday to Friday, 8 AM to noon and 1 PM to 5 PM; Saturday, 9 AM to 1 PM; closed on Sunday.",
		"shear-elegance": "Tuesday and Wednesday, 10 AM to 6 PM; Thursday, 10 AM to 8 PM; Friday, 10 AM to 6 PM; Saturday, 9 AM to 5 PM; closed on Monday and Sunday.",
	} {
		biz, _ := cfg.Business(id)
		if got := SpokenWeek(biz); got != want {
			t.Errorf("SpokenWeek(%s) =\n %q\nwant\n %q", id, got, want)
		}
	}
	if got := SpokenWeek(&configs.Business{Name: "x", TimeZone: "UTC"}); got != "closed every day." {
		t.Errorf("SpokenWeek(no hours) = %q", got)
	}
}

// TestOpenAcrossDST checks open/closed and the next opening at fixed UTC
// instants around New York's 2026 changes (spring forward on March 8, fall
// back on November 1): a fixed-offset bug is an hour off and fails.
func TestOpenAcrossDST(t *testing.T) {
	biz := exampleBusiness(t, "bright-smile")
	utc := func(m time.Month, d, h, min int) time.Time { return time.Date(2026, m, d, h, min, 0, 0, time.UTC) }
	for _, tc := range []struct {
		name      string
		at        time.Time
		open      bool
		until     time.Time // when open
		nextOpen  time.Time // when closed
		wantLocal string
	}{
		{"Friday 8:30 EST", utc(3, 6, 13, 30), true, utc(3, 6, 17, 0), time.Time{}, "08:30 EST"},
		{"Friday 7:30 EST", utc(3, 6, 12, 30), false, time.Time{}, utc(3, 6, 13, 0), "07:30 EST"},
		{"Monday 8:30 EDT", utc(3, 9, 12, 30), true, utc(3, 9, 16, 0), time.Time{}, "08:30 EDT"},
		{"Monday 7:30 EDT", utc(3, 9, 11, 30), false, time.Time{}, utc(3, 9, 12, 0), "07:30 EDT"},
		{"Saturday after close, before spring forward", utc(3, 7, 19, 0), false, time.Time{}, utc(3, 9, 12, 0), "14:00 EST"},
		{"Monday lunch EDT", utc(3, 9, 16, 30), false, time.Time{}, utc(3, 9, 17, 0), "12:30 EDT"},
		{"Saturday after close, before fall back", utc(10, 31, 18, 0), false, time.Time{}, utc(11, 2, 13, 0), "14:00 EDT"},
		{"Monday 8:05 EST after fall back", utc(11, 2, 13, 5), true, utc(11, 2, 17, 0), time.Time{}, "08:05 EST"},
		{"Christmas Eve closure", utc(12, 24, 15, 0), false, time.Time{}, utc(12, 28, 13, 0), "10:00 EST"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.at.In(newYork).Format("15:04 MST"); got != tc.wantLocal {
				t.Fatalf("test instant is %s local, want %s", got, tc.wantLocal)
			}
			until, open := OpenUntil(biz, tc.at)
			if open != tc.open {
				t.Fatalf("OpenUntil open = %v, want %v", open, tc.open)
			}
			if open && !until.Equal(tc.until) {
				t.Errorf("open until %v, want %v", until.UTC(), tc.until)
			}
			res := Hours(biz, tc.at, nil)
			if res.OpenNow != tc.open {
				t.Errorf("Hours.OpenNow = %v", res.OpenNow)
			}
			if !open {
				next, ok := NextOpen(biz, tc.at)
				if !ok || !next.Equal(tc.nextOpen) {
					t.Errorf("NextOpen = %v, %v; want %v", next.UTC(), ok, tc.nextOpen)
				}
				if want := tc.nextOpen.In(newYork).Format(time.RFC3339); res.NextOpen != want {
					t.Errorf("Hours.NextOpen = %q, want %q", res.NextOpen, want)
				}
			}
		})
	}
}

func TestHoursOnDates(t *testing.T) {
	biz := exampleBusiness(t, "bright-smile")
	for _, tc := range []struct {
		d       configs.Date
		closed  bool
		closure string
		ranges  []string
	}{
		{configs.Date{Year: 2026, Month: 12, Day: 25}, true, "Christmas", []string{}},
		{configs.Date{Year: 2027, Month: 1, Day: 1}, true, "New Year's Day", []string{}},
		{configs.Date{Year: 2026, Month: 3, Day: 8}, true, "", []string{}}, // a Sunday
		{configs.Date{Year: 2026, Month: 3, Day: 14}, false, "", []string{"09:00-13:00"}},
		{configs.Date{Year: 2026, Month: 3, Day: 10}, false, "", []string{"08:00-12:00", "13:00-17:00"}},
	} {
		got := HoursOn(biz, tc.d)
		if got.Closed != tc.closed || got.Closure != tc.closure || !slices.Equal(got.Ranges, tc.ranges) || got.Day != tc.d.String() {
			t.Errorf("HoursOn(%v) = %+v, want closed %v closure %q ranges %v", tc.d, got, tc.closed, tc.closure, tc.ranges)
		}
	}
	d := configs.Date{Year: 2026, Month: 12, Day: 24}
	res := Hours(biz, ny(2026, 12, 20, 10, 0), &d)
	if res.Date == nil || res.Date.Closure != "Christmas" || res.TimeZone != "America/New_York" || len(res.Week) != 7 ||
		!res.Week[time.Sunday].Closed || res.Week[time.Saturday].Ranges[0] != "09:00-13:00" {
		t.Errorf("Hours = %+v", res)
	}
}

func TestDateHelpers(t *testing.T) {
	d := configs.Date{Year: 2026, Month: 2, Day: 27}
	if got := AddDays(d, 2); got != (configs.Date{Year: 2026, Month: 3, Day: 1}) {
		t.Errorf("AddDays = %v", got)
	}
	if got := WeekdayOf(d); got != time.Friday {
		t.Errorf("WeekdayOf = %v", got)
	}
	if got := SpokenDate(d); got != "Friday, February 27" {
		t.Errorf("SpokenDate = %q", got)
	}
}
