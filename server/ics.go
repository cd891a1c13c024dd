package server

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
)

// The calendar feed covers appointments from feedPast ago to feedAhead
// from now, at most feedMaxEvents of them.
const (
	feedPast      = 90 * 24 * time.Hour
	feedAhead     = 400 * 24 * time.Hour
	feedMaxEvents = 5000
)

// apiCalendarFeed serves the business's booked appointments as an
// iCalendar feed (RFC 5545) that calendar apps subscribe to. The token in
// the query is the credential: calendar apps cannot send headers.
func (s *Server) apiCalendarFeed(w http.ResponseWriter, r *http.Request, _ *caller) error {
	e, err := s.feedBusiness(r.Context(), r.URL.Query().Get("token"))
	if err != nil {
		return err
	}
	now := s.now()
	f := store.AppointmentFilter{From: now.Add(-feedPast), To: now.Add(feedAhead), Status: scheduling.StatusBooked}
	var appts []scheduling.Appointment
	p := store.Page{Limit: store.MaxLimit}
	for len(appts) < feedMaxEvents {
		items, next, err := s.api.store.Appointments().List(r.Context(), e.biz.ID, f, p)
		if err != nil {
			return err
		}
		appts = append(appts, items...)
		if next == "" {
			break
		}
		p.Cursor = next
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Cache-Control", "private, max-age=300")
	_, _ = w.Write(icsFeed(e.biz.ID, e.biz.Name, e.cal.Location, appts, now))
	return nil
}

// icsFeed renders appointments as a VCALENDAR: events carry local times
// with TZID and a VTIMEZONE that spells out the zone's UTC offsets over
// the span of the events, taken from Go's zone data, so that clients agree
// on the instants across daylight-saving changes.
func icsFeed(businessID, name string, loc *time.Location, appts []scheduling.Appointment, now time.Time) []byte {
	w := &icsWriter{}
	w.line("BEGIN:VCALENDAR")
	w.line("VERSION:2.0")
	w.line("PRODID:-//Frontdesk//Appointments//EN")
	w.line("CALSCALE:GREGORIAN")
	w.line("METHOD:PUBLISH")
	w.prop("X-WR-CALNAME", text(name+" appointments"))
	w.prop("X-WR-TIMEZONE", loc.String())
	from, to := now, now
	for _, a := range appts {
		if a.Start.Before(from) {
			from = a.Start
		}
		if a.End.After(to) {
			to = a.End
		}
	}
	if loc != time.UTC {
		vtimezone(w, loc, from, to)
	}
	stamp := now.UTC().Format("20060102T150405Z")
	for _, a := range appts {
		w.line("BEGIN:VEVENT")
		w.prop("UID", text(a.ID+"@"+businessID+".frontdesk"))
		w.prop("DTSTAMP", stamp)
		w.prop(dateTimeProp("DTSTART", a.Start, loc))
		w.prop(dateTimeProp("DTEND", a.End, loc))
		w.prop("SUMMARY", text(a.Service.Name+": "+a.CustomerName))
		desc := "Service: " + a.Service.Name + "\nCustomer: " + a.CustomerName
		if a.Phone != "" {
			desc += "\nPhone: " + a.Phone
		}
		w.prop("DESCRIPTION", text(desc))
		w.prop("STATUS", "CONFIRMED")
		w.prop("CREATED", a.CreatedAt.UTC().Format("20060102T150405Z"))
		w.prop("LAST-MODIFIED", a.UpdatedAt.UTC().Format("20060102T150405Z"))
		// Each change moves the time; SEQUENCE lets clients tell versions
		// apart without keeping a counter.
		w.prop("SEQUENCE", fmt.Sprint(max(0, a.UpdatedAt.Unix()-a.CreatedAt.Unix())))
		w.line("END:VEVENT")
	}
	w.line("END:VCALENDAR")
	return w.buf.Bytes()
}

// dateTimeProp returns the name (with TZID when local) and value of a
// DATE-TIME property.
func dateTimeProp(name string, t time.Time, loc *time.Location) (string, string) {
	v := localStamp(t, loc)
	if strings.HasSuffix(v, "Z") {
		return name, v
	}
	return name + ";TZID=" + paramValue(loc.String()), v
}

// localStamp formats t as a DATE-TIME: local time in loc, or UTC with "Z"
// when loc is UTC or when t's wall time occurs twice (the hour repeated
// when clocks go back) and t is the second occurrence: RFC 5545 reads an
// ambiguous local time as the first.
func localStamp(t time.Time, loc *time.Location) string {
	if loc == time.UTC || secondOccurrence(t, loc) {
		return t.UTC().Format("20060102T150405Z")
	}
	return t.In(loc).Format("20060102T150405")
}

// secondOccurrence reports whether the wall time of t in loc was already
// shown once before, just before clocks went back.
func secondOccurrence(t time.Time, loc *time.Location) bool {
	lt := t.In(loc)
	start, _ := lt.ZoneBounds()
	if start.IsZero() {
		return false
	}
	_, off := lt.Zone()
	_, prev := start.Add(-time.Nanosecond).In(loc).Zone()
	return prev > off && t.Before(start.Add(time.Duration(prev-off)*time.Second))
}

// vtimezone writes loc's observances in force from before from to after
// to: one STANDARD or DAYLIGHT component per offset change, with its onset
// as local time in the offset before it (RFC 5545 3.6.5), and no RRULE,
// so that what clients compute is exactly Go's zone data.
func vtimezone(w *icsWriter, loc *time.Location, from, to time.Time) {
	w.line("BEGIN:VTIMEZONE")
	w.prop("TZID", paramValue(loc.String()))
	// Start at the change before from (or a fixed point when the zone
	// has none) so that from itself is covered.
	t := from.Add(-366 * 24 * time.Hour).In(loc)
	start, _ := t.ZoneBounds()
	if start.IsZero() {
		start = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	_, prevOff := start.Add(-time.Second).In(loc).Zone()
	if start.Year() <= 1970 {
		_, prevOff = start.In(loc).Zone()
	}
	end := to.Add(366 * 24 * time.Hour)
	for n := 0; n < 1000 && !start.After(end); n++ {
		abbr, off := start.In(loc).Zone()
		kind := "STANDARD"
		if start.In(loc).IsDST() {
			kind = "DAYLIGHT"
		}
		w.line("BEGIN:" + kind)
		w.prop("DTSTART", start.UTC().Add(time.Duration(prevOff)*time.Second).Format("20060102T150405"))
		w.prop("TZOFFSETFROM", utcOffset(prevOff))
		w.prop("TZOFFSETTO", utcOffset(off))
		w.prop("TZNAME", text(abbr))
		w.line("END:" + kind)
		_, next := start.In(loc).ZoneBounds()
		if next.IsZero() {
			break
		}
		start, prevOff = next, off
	}
	w.line("END:VTIMEZONE")
}

// utcOffset formats seconds east of UTC as "+HHMM" (or "+HHMMSS").
func utcOffset(sec int) string {
	sign := "+"
	if sec < 0 {
		sign, sec = "-", -sec
	}
	if s := sec % 60; s != 0 {
		return fmt.Sprintf("%s%02d%02d%02d", sign, sec/3600, sec/60%60, s)
	}
	return fmt.Sprintf("%s%02d%02d", sign, sec/3600, sec/60%60)
}

// text escapes a TEXT value (RFC 5545 3.3.11).
func text(s string) string {
	r := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`)
	return r.Replace(s)
}

// paramValue quotes a parameter value that holds ':', ';' or ','.
func paramValue(s string) string {
	s = strings.ReplaceAll(s, `"`, "")
	if strings.ContainsAny(s, ":;,") {
		return `"` + s + `"`
	}
	return s
}

// icsWriter writes content lines: CRLF-terminated, folded so that no
// line is longer than 75 octets, never inside a UTF-8 sequence.
type icsWriter struct{ buf bytes.Buffer }

func (w *icsWriter) prop(name, value string) { w.line(name + ":" + value) }

func (w *icsWriter) line(s string) {
	const limit = 75
	first := true
	for {
		max := limit
		if !first {
			max = limit - 1 // the leading space of a continuation counts
		}
		if len(s) <= max {
			break
		}
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		if !first {
			w.buf.WriteByte(' ')
		}
		w.buf.WriteString(s[:cut])
		w.buf.WriteString("\r\n")
		s, first = s[cut:], false
	}
	if !first {
		w.buf.WriteByte(' ')
	}
	w.buf.WriteString(s)
	w.buf.WriteString("\r\n")
}
