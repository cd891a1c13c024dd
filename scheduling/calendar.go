package scheduling

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

const (
	// DefaultStep is the spacing of candidate slot starts when
	// Calendar.Step is zero.
	DefaultStep = 15 * time.Minute
	// MaxDuration bounds a service's duration and, separately, its buffer.
	MaxDuration = 24 * time.Hour
	// MaxBlock is the longest time one appointment can occupy (duration plus
	// buffer). Stores use it to bound their overlap searches.
	MaxBlock = 2 * MaxDuration
	// MaxWindow bounds the span Availability searches in one call, so a
	// request cannot make the server enumerate years of slots.
	MaxWindow = 93 * 24 * time.Hour
	// MaxAdvance bounds how far ahead an appointment may be booked; it keeps
	// timestamps well inside what every store can represent.
	MaxAdvance = 5 * 366 * 24 * time.Hour
)

// TimeOfDay is a local wall-clock time as minutes after midnight, from 0
// (00:00) to 1440 (24:00, valid only as the end of a range).
type TimeOfDay int

// TimeOf returns the TimeOfDay hour:min.
func TimeOf(hour, min int) TimeOfDay { return TimeOfDay(hour*60 + min) }

// ParseTimeOfDay parses "HH:MM" (24-hour clock; "24:00" is allowed).
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	hh, mm, ok := strings.Cut(s, ":")
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if !ok || !twoDigits(hh) || !twoDigits(mm) || err1 != nil || err2 != nil ||
		h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("%w: time of day %q is not HH:MM between 00:00 and 24:00", ErrInvalid, s)
	}
	return TimeOf(h, m), nil
}

func twoDigits(s string) bool {
	return len(s) == 2 && '0' <= s[0] && s[0] <= '9' && '0' <= s[1] && s[1] <= '9'
}

func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", int(t)/60, int(t)%60) }

// TimeRange is an opening range [Start, End) within one day. Ranges do not
// cross midnight: a business open 22:00–02:00 lists 22:00–24:00 on one day
// and 00:00–02:00 on the next.
type TimeRange struct {
	Start, End TimeOfDay
}

func (r TimeRange) String() string { return r.Start.String() + "-" + r.End.String() }

// Hours are the weekly opening hours, indexed by time.Weekday (Sunday = 0).
// Each day lists its ranges in order, without overlaps; an empty day is
// closed.
type Hours [7][]TimeRange

// Date is a calendar date without a time zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseDate parses "2006-01-02".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%w: date %q is not YYYY-MM-DD", ErrInvalid, s)
	}
	return DateOf(t), nil
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// AddDays returns d moved by n days.
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC))
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
}

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	switch {
	case d.Year != e.Year:
		return cmpInt(d.Year, e.Year)
	case d.Month != e.Month:
		return cmpInt(int(d.Month), int(e.Month))
	default:
		return cmpInt(d.Day, e.Day)
	}
}

func cmpInt(a, b int) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

// valid reports whether d names a real day (not February 30th).
func (d Date) valid() bool {
	return d.Year >= 1 && d.Year <= 9999 && d.AddDays(0) == d
}

// Closure closes the business for whole days, Start through End inclusive.
// A zero End means the single day Start.
type Closure struct {
	Start, End Date
	Reason     string // e.g. "Christmas"; may be spoken to callers
}

// Contains reports whether the closure covers d.
func (c Closure) Contains(d Date) bool {
	end := c.End
	if end.IsZero() {
		end = c.Start
	}
	return c.Start.Compare(d) <= 0 && d.Compare(end) <= 0
}

// Service is something a business books: its Duration is the appointment
// itself; Buffer is a gap kept free after it (cleanup, travel) that no other
// appointment may overlap.
type Service struct {
	ID       string
	Name     string
	Duration time.Duration // > 0, whole seconds, at most MaxDuration
	Buffer   time.Duration // >= 0, whole seconds, at most MaxDuration
	Price    int64         // in the currency's minor unit (cents); 0 when free or unpriced
	Currency string        // ISO 4217 code such as "USD"; may be empty
}

// Validate checks the service on its own.
func (s Service) Validate() error {
	switch {
	case strings.TrimSpace(s.ID) == "":
		return fmt.Errorf("%w: service has no ID", ErrInvalid)
	case s.Duration <= 0 || s.Duration > MaxDuration || s.Duration%time.Second != 0:
		return fmt.Errorf("%w: service %q: duration %v must be whole seconds in (0, %v]", ErrInvalid, s.ID, s.Duration, MaxDuration)
	case s.Buffer < 0 || s.Buffer > MaxDuration || s.Buffer%time.Second != 0:
		return fmt.Errorf("%w: service %q: buffer %v must be whole seconds in [0, %v]", ErrInvalid, s.ID, s.Buffer, MaxDuration)
	case s.Price < 0:
		return fmt.Errorf("%w: service %q: negative price", ErrInvalid, s.ID)
	}
	return nil
}

// Calendar is a business's schedule: where its clocks are, when it is open
// and what it books. A Calendar is a value the composition root builds from
// configuration; it is safe for concurrent use as long as nobody mutates it.
type Calendar struct {
	Location *time.Location // the business's time zone; required
	Hours    Hours
	Closures []Closure
	Services []Service
	// Step spaces candidate slot starts, counted from the start of each
	// opening range; zero means DefaultStep (15 minutes). Set it to a
	// service's duration for back-to-back appointments only.
	Step time.Duration
}

// Validate reports the first problem in c, wrapped around ErrInvalid.
func (c *Calendar) Validate() error {
	if c == nil || c.Location == nil {
		return fmt.Errorf("%w: calendar has no time zone", ErrInvalid)
	}
	if c.Step < 0 || (c.Step != 0 && (c.Step < time.Minute || c.Step > MaxDuration)) {
		return fmt.Errorf("%w: calendar step %v must be between 1m and %v", ErrInvalid, c.Step, MaxDuration)
	}
	for wd, ranges := range c.Hours {
		prev := TimeOfDay(0)
		for i, r := range ranges {
			if r.Start < 0 || r.End > 1440 || r.Start >= r.End {
				return fmt.Errorf("%w: %v range %s: start must be before end, within 00:00-24:00", ErrInvalid, time.Weekday(wd), r)
			}
			if i > 0 && r.Start < prev {
				return fmt.Errorf("%w: %v range %s overlaps or precedes the range before it", ErrInvalid, time.Weekday(wd), r)
			}
			prev = r.End
		}
	}
	for _, cl := range c.Closures {
		if !cl.Start.valid() || (!cl.End.IsZero() && (!cl.End.valid() || cl.End.Compare(cl.Start) < 0)) {
			return fmt.Errorf("%w: closure %v..%v is not a valid date range", ErrInvalidRange, cl.Start, cl.End)
		}
	}
	for i, s := range c.Services {
		if err := s.Validate(); err != nil {
			return err
		}
		for _, o := range c.Services[:i] {
			if o.ID == s.ID {
				return fmt.Errorf("%w: service ID %q is listed twice", ErrInvalid, s.ID)
			}
		}
	}
	return nil
}

// Service returns the service with the given ID.
func (c *Calendar) Service(id string) (Service, bool) {
	for _, s := range c.Services {
		if s.ID == id {
			return s, true
		}
	}
	return Service{}, false
}

// ClosedOn returns the closure covering d, if any.
func (c *Calendar) ClosedOn(d Date) (Closure, bool) {
	for _, cl := range c.Closures {
		if cl.Contains(d) {
			return cl, true
		}
	}
	return Closure{}, false
}

func (c *Calendar) step() time.Duration {
	if c.Step == 0 {
		return DefaultStep
	}
	return c.Step
}

// OpenAt reports whether the business is open at t.
func (c *Calendar) OpenAt(t time.Time) bool {
	if c == nil || c.Location == nil {
		return false
	}
	_, ok := c.rangeAround(t, t)
	return ok
}

// CheckSlot reports whether an appointment of svc may start at start, given
// the time now: ErrInvalidRange if it starts before now or more than
// MaxAdvance after it, ErrOutsideHours
// unless [start, start+Duration) lies inside one opening range of a day
// that is not closed. The buffer may run past closing time: it is the
// business's own time, not the customer's. It does not look at other
// appointments.
func (c *Calendar) CheckSlot(svc Service, start, now time.Time) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if err := svc.Validate(); err != nil {
		return err
	}
	if start.Before(now) {
		return fmt.Errorf("%w: %s is in the past", ErrInvalidRange, start.In(c.Location).Format(time.RFC3339))
	}
	if start.Sub(now) > MaxAdvance {
		return fmt.Errorf("%w: %s is more than %v ahead", ErrInvalidRange, start.In(c.Location).Format(time.RFC3339), MaxAdvance)
	}
	end := start.Add(svc.Duration)
	if _, ok := c.rangeAround(start, end); !ok {
		local := start.In(c.Location)
		if cl, closed := c.ClosedOn(DateOf(local)); closed {
			return fmt.Errorf("%w: closed on %v (%s)", ErrOutsideHours, DateOf(local), cl.Reason)
		}
		return fmt.Errorf("%w: %s-%s %s", ErrOutsideHours, local.Format("Mon 2006-01-02 15:04"),
			end.In(c.Location).Format("15:04"), c.Location)
	}
	return nil
}

// rangeAround returns the opening range instants [open, close) containing
// [start, end] (end may equal close), on the local day of start.
func (c *Calendar) rangeAround(start, end time.Time) ([2]time.Time, bool) {
	d := DateOf(start.In(c.Location))
	if _, closed := c.ClosedOn(d); closed {
		return [2]time.Time{}, false
	}
	for _, r := range c.Hours[d.Weekday()] {
		open, close := wallTime(d, r.Start, c.Location), wallTime(d, r.End, c.Location)
		if !start.Before(open) && start.Before(close) && !end.After(close) {
			return [2]time.Time{open, close}, true
		}
	}
	return [2]time.Time{}, false
}

// wallTime returns the instant at which clocks in loc show tod on day d.
// Daylight-saving changes make that ambiguous twice a year, and we resolve
// both cases ourselves because time.Date leaves them unspecified:
//   - a wall time skipped by a spring-forward jump resolves to the instant of
//     the jump (a business "opening at 02:30" opens when the clocks jump to
//     03:00), never to an instant whose clock reads an hour earlier;
//   - a wall time that occurs twice resolves to its first occurrence.
func wallTime(d Date, tod TimeOfDay, loc *time.Location) time.Time {
	if tod >= 1440 {
		d, tod = d.AddDays(1), tod-1440
	}
	h, m := int(tod)/60, int(tod)%60
	t := time.Date(d.Year, d.Month, d.Day, h, m, 0, 0, loc)
	want := time.Date(d.Year, d.Month, d.Day, h, m, 0, 0, time.UTC)
	got := naive(t)
	if !got.Equal(want) {
		// In a gap: t is on one side of the jump; the jump is the boundary
		// of t's zone period on the side of the wanted wall time.
		start, end := t.ZoneBounds()
		if got.Before(want) {
			return end
		}
		return start
	}
	// Fall-back: if the previous zone period also showed this wall time,
	// its occurrence came first.
	start, _ := t.ZoneBounds()
	if start.IsZero() {
		return t
	}
	_, off := t.Zone()
	_, prevOff := start.Add(-time.Nanosecond).Zone()
	if prevOff > off {
		if e := t.Add(-time.Duration(prevOff-off) * time.Second); e.Before(start) && naive(e).Equal(want) {
			return e
		}
	}
	return t
}

// naive returns t's wall clock reading as if it were UTC.
func naive(t time.Time) time.Time {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, mo, d, h, mi, s, t.Nanosecond(), time.UTC)
}
