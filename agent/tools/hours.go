package tools

import (
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/configs"
)

// Spoken forms are written for text to speech on a phone line: short, no
// abbreviations a synthesiser misreads, 12-hour clock.

// SpokenTime says t's wall-clock time in t's location: "8 AM",
// "10:30 AM", "noon", "midnight".
func SpokenTime(t time.Time) string {
	return spokenTOD(t.Hour()*60 + t.Minute())
}

// SpokenTimeOfDay says a configured time of day like SpokenTime.
func SpokenTimeOfDay(t configs.TimeOfDay) string { return spokenTOD(int(t)) }

func spokenTOD(m int) string {
	m %= 1440
	h, min := m/60, m%60
	switch {
	case h == 12 && min == 0:
		return "noon"
	case h == 0 && min == 0:
		return "midnight"
	}
	suffix := " AM"
	if h >= 12 {
		suffix = " PM"
	}
	h12 := h % 12
	if h12 == 0 {
		h12 = 12
	}
	s := strconv.Itoa(h12)
	if min != 0 {
		s += ":" + strconv.Itoa(min/10) + strconv.Itoa(min%10)
	}
	return s + suffix
}

// SpokenDay says t's date in t's location: "Tuesday, March 10".
func SpokenDay(t time.Time) string {
	return t.Weekday().String() + ", " + t.Month().String() + " " + strconv.Itoa(t.Day())
}

// SpokenDate says a calendar date: "Thursday, December 24".
func SpokenDate(d configs.Date) string { return SpokenDay(dateTime(d)) }

// SpokenSlot says an instant in loc: "Tuesday, March 10 at 10:30 AM".
func SpokenSlot(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	return SpokenDay(t) + " at " + SpokenTime(t)
}

// SpokenRanges says a day's opening ranges: "8 AM to noon and 1 PM to 5 PM".
func SpokenRanges(rs []configs.TimeRange) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = SpokenTimeOfDay(r.Start) + " to " + SpokenTimeOfDay(r.End)
	}
	return JoinAnd(parts)
}

// JoinAnd joins items as English: "a", "a and b", "a, b and c".
func JoinAnd(items []string) string { return joinWith(items, "and") }

// JoinOr joins items as English: "a", "a or b", "a, b or c".
func JoinOr(items []string) string { return joinWith(items, "or") }

func joinWith(items []string, word string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " " + word + " " + items[len(items)-1]
}

// weekOrder lists days Monday first, as people say them.
var weekOrder = [7]time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

// SpokenWeek says the weekly hours, grouping consecutive days with the same
// hours: "Monday to Friday, 8 AM to noon and 1 PM to 5 PM; Saturday, 9 AM to
// 1 PM; closed on Sunday." A business with no hours at all is "closed every
// day.".
func SpokenWeek(biz *configs.Business) string {
	var open, closed []string
	for i := 0; i < 7; {
		j := i + 1
		for j < 7 && sameRanges(biz.Hours[weekOrder[i]], biz.Hours[weekOrder[j]]) {
			j++
		}
		days := weekOrder[i].String()
		switch {
		case j-i == 2:
			days += " and " + weekOrder[j-1].String()
		case j-i > 2:
			days += " to " + weekOrder[j-1].String()
		}
		if rs := biz.Hours[weekOrder[i]]; len(rs) > 0 {
			open = append(open, days+", "+SpokenRanges(rs))
		} else {
			closed = append(closed, days)
		}
		i = j
	}
	if len(open) == 0 {
		return "closed every day."
	}
	s := strings.Join(open, "; ")
	if len(closed) > 0 {
		s += "; closed on " + JoinAnd(closed)
	}
	return s + "."
}

func sameRanges(a, b []configs.TimeRange) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// dateTime is noon UTC of d, for calendar arithmetic free of DST.
func dateTime(d configs.Date) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC)
}

// AddDays returns d moved by n days.
func AddDays(d configs.Date, n int) configs.Date {
	return configs.DateOf(dateTime(d).AddDate(0, 0, n))
}

// WeekdayOf returns the day of the week of d.
func WeekdayOf(d configs.Date) time.Weekday { return dateTime(d).Weekday() }

// ClosureOn returns the closure covering date d, if any.
func ClosureOn(biz *configs.Business, d configs.Date) (configs.Closure, bool) {
	for _, c := range biz.Closures {
		if c.Contains(d) {
			return c, true
		}
	}
	return configs.Closure{}, false
}

// HoursOn returns the opening ranges of date d, none when d is closed by a
// closure or by the weekly hours.
func HoursOn(biz *configs.Business, d configs.Date) DayHours {
	out := DayHours{Day: d.String(), Ranges: []string{}}
	if c, ok := ClosureOn(biz, d); ok {
		out.Closed, out.Closure = true, c.Reason
		if out.Closure == "" {
			out.Closure = "closed"
		}
		return out
	}
	for _, r := range biz.Hours[WeekdayOf(d)] {
		out.Ranges = append(out.Ranges, r.String())
	}
	out.Closed = len(out.Ranges) == 0
	return out
}

// wall returns the instant of time of day tod on date d in loc.
func wall(d configs.Date, tod configs.TimeOfDay, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, int(tod)/60, int(tod)%60, 0, 0, loc)
}

// OpenUntil reports whether the business is open at t and, if so, when the
// opening range t falls in closes.
func OpenUntil(biz *configs.Business, t time.Time) (time.Time, bool) {
	if !biz.OpenAt(t) {
		return time.Time{}, false
	}
	loc := biz.Location()
	lt := t.In(loc)
	d := configs.DateOf(lt)
	now := configs.TimeOfDay(lt.Hour()*60 + lt.Minute())
	for _, r := range biz.Hours[lt.Weekday()] {
		if r.Contains(now) {
			return wall(d, r.End, loc), true
		}
	}
	return time.Time{}, false // unreachable: OpenAt found a range
}

// NextOpen returns the next instant after t at which the business opens,
// looking up to 60 days ahead (closures included).
func NextOpen(biz *configs.Business, t time.Time) (time.Time, bool) {
	loc := biz.Location()
	d := configs.DateOf(t.In(loc))
	for i := 0; i < 60; i++ {
		day := AddDays(d, i)
		if _, closed := ClosureOn(biz, day); closed {
			continue
		}
		for _, r := range biz.Hours[WeekdayOf(day)] {
			if open := wall(day, r.Start, loc); open.After(t) {
				return open, true
			}
		}
	}
	return time.Time{}, false
}

// Hours computes the get_hours result at instant now; date, when not nil,
// adds that day's hours.
func Hours(biz *configs.Business, now time.Time, date *configs.Date) HoursResult {
	loc := biz.Location()
	res := HoursResult{
		Business: biz.Name,
		TimeZone: loc.String(),
		Now:      now.In(loc).Format(time.RFC3339),
		OpenNow:  biz.OpenAt(now),
		Summary:  SpokenWeek(biz),
		Week:     make([]DayHours, 7),
	}
	for wd := range res.Week {
		dh := DayHours{Day: time.Weekday(wd).String(), Ranges: []string{}}
		for _, r := range biz.Hours[wd] {
			dh.Ranges = append(dh.Ranges, r.String())
		}
		dh.Closed = len(dh.Ranges) == 0
		res.Week[wd] = dh
	}
	if date != nil {
		dh := HoursOn(biz, *date)
		res.Date = &dh
	}
	if !res.OpenNow {
		if t, ok := NextOpen(biz, now); ok {
			res.NextOpen = t.In(loc).Format(time.RFC3339)
		}
	}
	return res
}
