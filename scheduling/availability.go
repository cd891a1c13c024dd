package scheduling

import (
	"fmt"
	"slices"
	"time"
)

// Slot is a bookable interval [Start, End) of one service; End is Start plus
// the service's duration (the buffer is not included). Times are in the
// calendar's location.
type Slot struct {
	Start, End time.Time
}

// Availability returns the free slots of svc whose start lies in
// [max(from, now), to), earliest first.
//
// Candidate starts are spaced by cal.Step (DefaultStep when zero), counted
// in elapsed time from the start of each opening range, and a slot must end
// by the range's close. A slot is free when [Start, End+svc.Buffer) overlaps
// no booked appointment's [Start, End+Buffer) in existing (cancelled ones
// are ignored), and its day is not closed.
//
// Opening times are wall-clock times in cal.Location. On a spring-forward
// day no slot starts inside the skipped hour: a range spanning it is that
// much shorter, and steps continue on the far side (01:45 EST is followed by
// 03:00 EDT). On a fall-back day a range spanning the repeated hour is that
// much longer and offers both occurrences as distinct instants with correct
// offsets; no two slots share an instant and every slot lasts exactly the
// service's duration.
//
// Bad input (an invalid calendar or service, to not after from, a window
// longer than MaxWindow) is an error wrapping ErrInvalid.
func Availability(cal *Calendar, svc Service, from, to time.Time, existing []Appointment, now time.Time) ([]Slot, error) {
	if err := cal.Validate(); err != nil {
		return nil, fmt.Errorf("availability: %w", err)
	}
	if err := svc.Validate(); err != nil {
		return nil, fmt.Errorf("availability: %w", err)
	}
	if !from.Before(to) {
		return nil, fmt.Errorf("availability: %w: from %s is not before to %s", ErrInvalidRange, from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	if to.Sub(from) > MaxWindow {
		return nil, fmt.Errorf("availability: %w: window %v is longer than %v", ErrInvalidRange, to.Sub(from), MaxWindow)
	}
	lo := from
	if now.After(lo) {
		lo = now
	}
	var out []Slot
	if !lo.Before(to) {
		return out, nil
	}
	busy := busyIntervals(existing)
	step, loc, need := cal.step(), cal.Location, svc.Duration+svc.Buffer
	bi := 0 // busy[:bi] end at or before the current candidate; starts only grow
	for d := DateOf(lo.In(loc)); wallTime(d, 0, loc).Before(to); d = d.AddDays(1) {
		if _, closed := cal.ClosedOn(d); closed {
			continue
		}
		for _, r := range cal.Hours[d.Weekday()] {
			open, close := wallTime(d, r.Start, loc), wallTime(d, r.End, loc)
			s := open
			if s.Before(lo) {
				k := (lo.Sub(open) + step - 1) / step
				s = open.Add(k * step)
			}
			for ; s.Before(to) && !s.Add(svc.Duration).After(close); s = s.Add(step) {
				for bi < len(busy) && !busy[bi].end.After(s) {
					bi++
				}
				if bi < len(busy) && busy[bi].start.Before(s.Add(need)) {
					continue
				}
				out = append(out, Slot{Start: s, End: s.Add(svc.Duration)})
			}
		}
	}
	return out, nil
}

// NextSlots returns up to n free slots of svc starting at or after after,
// searching week by week up to eight weeks ahead. Stores use it to fill
// ConflictError.Next.
func NextSlots(cal *Calendar, svc Service, after time.Time, existing []Appointment, now time.Time, n int) ([]Slot, error) {
	const week, weeks = 7 * 24 * time.Hour, 8
	var out []Slot
	for i := 0; i < weeks && len(out) < n; i++ {
		from := after.Add(time.Duration(i) * week)
		slots, err := Availability(cal, svc, from, from.Add(week), existing, now)
		if err != nil {
			return nil, fmt.Errorf("next slots: %w", err)
		}
		out = append(out, slots[:min(len(slots), n-len(out))]...)
	}
	return out, nil
}

type interval struct{ start, end time.Time }

// busyIntervals returns the blocks of booked appointments merged into
// disjoint intervals in order, so that a single forward scan can test each
// candidate slot.
func busyIntervals(appts []Appointment) []interval {
	iv := make([]interval, 0, len(appts))
	for _, a := range appts {
		if a.Status == StatusCancelled || !a.Start.Before(a.BlockEnd()) {
			continue
		}
		iv = append(iv, interval{a.Start, a.BlockEnd()})
	}
	slices.SortFunc(iv, func(a, b interval) int { return a.start.Compare(b.start) })
	merged := iv[:0]
	for _, x := range iv {
		if n := len(merged); n > 0 && !x.start.After(merged[n-1].end) {
			if x.end.After(merged[n-1].end) {
				merged[n-1].end = x.end
			}
			continue
		}
		merged = append(merged, x)
	}
	return merged
}
