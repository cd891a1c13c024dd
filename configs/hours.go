package configs

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TimeOfDay is a wall-clock time as minutes since midnight, 0 to 1440
// (1440 is "24:00", the end of the day).
type TimeOfDay int

// String formats t as "HH:MM".
func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", int(t)/60, int(t)%60) }

// TimeRange is a half-open interval of wall-clock time [Start, End).
// Ranges never cross midnight: write 22:00-24:00 and 00:00-02:00 on the
// next day instead.
type TimeRange struct {
	Start, End TimeOfDay
}

// String formats r as "HH:MM-HH:MM".
func (r TimeRange) String() string { return r.Start.String() + "-" + r.End.String() }

// Contains reports whether t falls in [r.Start, r.End).
func (r TimeRange) Contains(t TimeOfDay) bool { return r.Start <= t && t < r.End }

// WeeklyHours are opening hours indexed by time.Weekday; a day with no
// ranges is closed. Parse sorts each day's ranges by start and guarantees
// they do not overlap.
type WeeklyHours [7][]TimeRange

// Date is a calendar date with no time zone; it is interpreted in the
// business's time zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the calendar date of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// String formats d as "YYYY-MM-DD".
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	a := d.Year*10000 + int(d.Month)*100 + d.Day
	b := e.Year*10000 + int(e.Month)*100 + e.Day
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Closure is a span of whole days, From to To inclusive, on which the
// business is closed. A single-day closure has From == To.
type Closure struct {
	From, To Date
	Reason   string // said to callers, e.g. "Christmas"; optional
}

// Contains reports whether d is within the closure.
func (c Closure) Contains(d Date) bool { return c.From.Compare(d) <= 0 && d.Compare(c.To) <= 0 }

// Location returns the business's time zone. For a Business that did not
// come from Parse it loads TimeZone on each call and falls back to UTC.
func (b *Business) Location() *time.Location {
	if b.loc != nil {
		return b.loc
	}
	if loc, err := time.LoadLocation(b.TimeZone); err == nil {
		return loc
	}
	return time.UTC
}

// ClosureOn returns the closure covering the day t falls on in the
// business's time zone, if any.
func (b *Business) ClosureOn(t time.Time) (Closure, bool) {
	d := DateOf(t.In(b.Location()))
	for _, c := range b.Closures {
		if c.Contains(d) {
			return c, true
		}
	}
	return Closure{}, false
}

// OpenAt reports whether the business is open at instant t: t falls in
// one of the weekly ranges of its weekday and on no closure, both judged
// on the wall clock of the business's time zone (so DST is handled by
// the zone, not by fixed offsets).
func (b *Business) OpenAt(t time.Time) bool {
	lt := t.In(b.Location())
	if _, closed := b.ClosureOn(lt); closed {
		return false
	}
	now := TimeOfDay(lt.Hour()*60 + lt.Minute())
	for _, r := range b.Hours[lt.Weekday()] {
		if r.Contains(now) {
			return true
		}
	}
	return false
}

// ParseDuration parses a Go duration ("90s", "4320h", "1h30m") or a whole
// number of days ("180d"). "0" is zero. Negative durations are errors:
// nothing in the config can last less than nothing.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil || n < 0 || strings.HasPrefix(days, "+") {
			return 0, fmt.Errorf("invalid duration %q: want a whole number of days like \"180d\"", s)
		}
		const maxDays = int64(1<<63-1) / int64(24*time.Hour)
		if n > maxDays {
			return 0, fmt.Errorf("invalid duration %q: more than %d days", s, maxDays)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: want e.g. \"30s\", \"4320h\" or \"180d\"", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("invalid duration %q: must not be negative", s)
	}
	return d, nil
}

// parseTimeOfDay parses "9:00", "09:00" or "24:00".
func parseTimeOfDay(s string) (TimeOfDay, error) {
	hs, ms, ok := strings.Cut(s, ":")
	if !ok || len(hs) < 1 || len(hs) > 2 || len(ms) != 2 {
		return 0, fmt.Errorf("%q is not a time like \"09:00\"", s)
	}
	h, err1 := strconv.Atoi(hs)
	m, err2 := strconv.Atoi(ms)
	if err1 != nil || err2 != nil || h < 0 || m < 0 || strings.ContainsAny(s, "+-") {
		return 0, fmt.Errorf("%q is not a time like \"09:00\"", s)
	}
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("%q is not a time of day (00:00 to 24:00)", s)
	}
	return TimeOfDay(h*60 + m), nil
}

// parseTimeRange parses "09:00-12:30"; Start must be before End.
func parseTimeRange(s string) (TimeRange, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return TimeRange{}, fmt.Errorf("%q is not a range like \"09:00-12:30\"", s)
	}
	start, err := parseTimeOfDay(strings.TrimSpace(a))
	if err != nil {
		return TimeRange{}, err
	}
	end, err := parseTimeOfDay(strings.TrimSpace(b))
	if err != nil {
		return TimeRange{}, err
	}
	if end <= start {
		return TimeRange{}, fmt.Errorf("%q ends before it starts (ranges cannot cross midnight)", s)
	}
	return TimeRange{start, end}, nil
}

// parseDate parses "2026-12-25".
func parseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date like \"2026-12-25\"", s)
	}
	return DateOf(t), nil
}
