package server

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/frontdesk/frontdesk/store"
)

func TestICSLineFolding(t *testing.T) {
	w := &icsWriter{}
	long := "SUMMARY:" + text(strings.Repeat("Zoë Ünsal, ", 20)+"€")
	w.line(long)
	w.line("SHORT:x")
	out := w.buf.String()
	if !strings.HasSuffix(out, "\r\n") || strings.Contains(strings.ReplaceAll(out, "\r\n", ""), "\n") {
		t.Fatalf("lines must end in CRLF and nothing else: %q", out)
	}
	phys := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
	for i, l := range phys {
		if len(l) > 75 {
			t.Errorf("line %d is %d octets: %q", i, len(l), l)
		}
		if !utf8.ValidString(l) {
			t.Errorf("line %d splits a UTF-8 sequence: %q", i, l)
		}
	}
	if got := unfold(out); got[0] != long || got[1] != "SHORT:x" {
		t.Errorf("unfolded %q", got)
	}
}

func TestICSText(t *testing.T) {
	got := text("Smith, Jane; \"VIP\" \\ a\nb\r\nc")
	want := `Smith\, Jane\; "VIP" \\ a\nb\nc`
	if got != want {
		t.Errorf("text() = %q, want %q", got, want)
	}
}

// unfold joins folded lines (RFC 5545 3.1).
func unfold(s string) []string {
	s = strings.ReplaceAll(s, "\r\n ", "")
	s = strings.ReplaceAll(s, "\r\n\t", "")
	return strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n")
}

// observance is one STANDARD/DAYLIGHT block of a VTIMEZONE.
type observance struct {
	onset    time.Time // UTC instant
	from, to int       // offsets, seconds east
}

func parseOffset(t *testing.T, s string) int {
	var h, m int
	if _, err := fmt.Sscanf(s[1:], "%02d%02d", &h, &m); err != nil {
		t.Fatalf("offset %q: %v", s, err)
	}
	off := h*3600 + m*60
	if s[0] == '-' {
		off = -off
	}
	return off
}

// resolver reads DATE-TIME values the way a calendar client does, from
// the feed's own VTIMEZONE: a local time is the earliest instant it
// names in the observances (RFC 5545 3.3.5).
type resolver []observance

func parseVTimezone(t *testing.T, lines []string) resolver {
	var out resolver
	var cur *observance
	var local string
	for _, l := range lines {
		switch {
		case l == "BEGIN:STANDARD" || l == "BEGIN:DAYLIGHT":
			cur, local = &observance{}, ""
		case cur != nil && strings.HasPrefix(l, "DTSTART:"):
			local = strings.TrimPrefix(l, "DTSTART:")
		case cur != nil && strings.HasPrefix(l, "TZOFFSETFROM:"):
			cur.from = parseOffset(t, strings.TrimPrefix(l, "TZOFFSETFROM:"))
		case cur != nil && strings.HasPrefix(l, "TZOFFSETTO:"):
			cur.to = parseOffset(t, strings.TrimPrefix(l, "TZOFFSETTO:"))
		case l == "END:STANDARD" || l == "END:DAYLIGHT":
			wall, err := time.Parse("20060102T150405", local)
			if err != nil {
				t.Fatalf("observance DTSTART %q: %v", local, err)
			}
			cur.onset = wall.Add(-time.Duration(cur.from) * time.Second)
			out = append(out, *cur)
			cur = nil
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].onset.Before(out[j].onset) })
	return out
}

func (r resolver) instant(t *testing.T, prop string) time.Time {
	name, value, _ := strings.Cut(prop, ":")
	if strings.HasSuffix(value, "Z") {
		v, err := time.Parse("20060102T150405Z", value)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(name, "TZID") {
			t.Errorf("%s: a UTC value with TZID", prop)
		}
		return v
	}
	wall, err := time.Parse("20060102T150405", value)
	if err != nil {
		t.Fatalf("%s: %v", prop, err)
	}
	for i, o := range r {
		at := wall.Add(-time.Duration(o.to) * time.Second)
		if at.Before(o.onset) || (i+1 < len(r) && !at.Before(r[i+1].onset)) {
			continue
		}
		return at // observances are in order: the first match is the earliest
	}
	t.Fatalf("%s: no observance covers it", prop)
	return time.Time{}
}

// TestCalendarFeed books appointments across the next two daylight-saving
// changes and reads them back from the feed as a client would.
func TestCalendarFeed(t *testing.T) {
	yaml := `
server: {public_url: "http://127.0.0.1:1", operator_key: "` + testOperatorKey + `"}
twilio: {auth_token: testtoken0123456789}
businesses:
  - id: night
    name: Night Clinic
    time_zone: America/New_York
    plan: starter
    hours: {sunday: ["00:00-04:00"], monday: ["09:00-17:00"]}
    services: [{name: Visit, duration: 60m}]
`
	e := newAPIWith(t, "sqlite", yaml)
	ny := newYork(t)
	owner := e.key("night", store.RoleOwner)

	// No token yet: nothing is served.
	e.must(401, "GET", "/v1/calendar.ics?token=night.x", "", nil)
	var tok struct{ Token, URL string }
	e.must(201, "POST", "/v1/calendar/token", owner, nil).json(t, &tok)
	if !strings.HasPrefix(tok.Token, "night.") || tok.URL != "http://127.0.0.1:1/v1/calendar.ics?token="+tok.Token {
		t.Fatalf("token %+v", tok)
	}

	type booked struct {
		id         string
		start, end time.Time
	}
	var want []booked
	at := time.Now()
	for range 2 {
		tr, forward := nextTransition(t, ny, at)
		at = tr.Add(time.Hour)
		// Starts before the change and ends after it: 01:30 on the
		// spring-forward day (ends 03:30 EDT), 01:15 EDT on the fall-back
		// day (ends 01:15 EST, the repeated hour).
		start := tr.Add(-30 * time.Minute)
		if !forward {
			start = tr.Add(-45 * time.Minute)
		}
		var a appointmentView
		e.must(201, "POST", "/v1/appointments", owner, map[string]string{
			"service": "Visit", "start": start.Format(time.RFC3339), "customer_name": `Smith, Jane; "VIP"`, "phone": "+12125550123",
		}).json(t, &a)
		want = append(want, booked{a.ID, start, start.Add(time.Hour)})
	}
	// A long name, folded.
	var long appointmentView
	monday := day(ny, 1, 9, 0)
	for monday.Weekday() != time.Monday {
		monday = monday.AddDate(0, 0, 1)
	}
	e.must(201, "POST", "/v1/appointments", owner, map[string]string{
		"service": "Visit", "start": monday.Format(time.RFC3339), "customer_name": strings.Repeat("Zoë Ünsal-Ørsted ", 8),
	}).json(t, &long)
	want = append(want, booked{long.ID, monday, monday.Add(time.Hour)})

	r := e.must(200, "GET", "/v1/calendar.ics?token="+tok.Token, "", nil)
	if ct := r.header.Get("Content-Type"); ct != "text/calendar; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	raw := string(r.body)
	for i, l := range strings.Split(strings.TrimSuffix(raw, "\r\n"), "\r\n") {
		if len(l) > 75 || strings.Contains(l, "\n") {
			t.Errorf("physical line %d: %d octets or a bare LF: %q", i, len(l), l)
		}
	}
	lines := unfold(raw)
	if lines[0] != "BEGIN:VCALENDAR" || lines[len(lines)-1] != "END:VCALENDAR" {
		t.Fatalf("not a VCALENDAR:\n%s", raw)
	}
	var tzLines []string
	inTZ := false
	events := map[string]map[string]string{}
	var ev map[string]string
	for _, l := range lines {
		switch {
		case l == "BEGIN:VTIMEZONE":
			inTZ = true
		case l == "END:VTIMEZONE":
			inTZ = false
		case inTZ:
			tzLines = append(tzLines, l)
		case l == "BEGIN:VEVENT":
			ev = map[string]string{}
		case l == "END:VEVENT":
			events[strings.TrimPrefix(strings.Split(ev["UID"], "@")[0], "UID:")] = ev
		case ev != nil:
			name, _, _ := strings.Cut(l, ":")
			key, _, _ := strings.Cut(name, ";")
			ev[key] = l
		}
	}
	if len(tzLines) == 0 || tzLines[0] != "TZID:America/New_York" {
		t.Fatalf("VTIMEZONE: %q", tzLines)
	}
	zone := parseVTimezone(t, tzLines)
	if len(events) != len(want) {
		t.Fatalf("%d events, want %d:\n%s", len(events), len(want), raw)
	}
	for _, w := range want {
		ev := events[w.id]
		if ev == nil {
			t.Errorf("no event for %s", w.id)
			continue
		}
		if got := zone.instant(t, ev["DTSTART"]); !got.Equal(w.start) {
			t.Errorf("%s: DTSTART %q is %v, want %v", w.id, ev["DTSTART"], got, w.start.UTC())
		}
		if got := zone.instant(t, ev["DTEND"]); !got.Equal(w.end) {
			t.Errorf("%s: DTEND %q is %v, want %v", w.id, ev["DTEND"], got, w.end.UTC())
		}
		if w.id != long.ID && ev["SUMMARY"] != `SUMMARY:Visit: Smith\, Jane\; "VIP"` {
			t.Errorf("SUMMARY escaped wrong: %q", ev["SUMMARY"])
		}
	}
	if !strings.Contains(events[long.ID]["SUMMARY"], "Zoë Ünsal-Ørsted Zoë") {
		t.Errorf("long summary did not survive folding: %q", events[long.ID]["SUMMARY"])
	}

	// Rotating the token retires the old one.
	var tok2 struct{ Token string }
	e.must(201, "POST", "/v1/calendar/token", owner, nil).json(t, &tok2)
	e.must(401, "GET", "/v1/calendar.ics?token="+tok.Token, "", nil)
	e.must(200, "GET", "/v1/calendar.ics?token="+tok2.Token, "", nil)
	// A readonly key cannot make tokens.
	e.must(403, "POST", "/v1/calendar/token", e.key("night", store.RoleReadonly), nil)
}

// TestVTimezoneMatchesGo checks the generated observances against Go's
// zone data for zones with and without daylight saving time, at every
// hour over two years.
func TestVTimezoneMatchesGo(t *testing.T) {
	for _, name := range []string{"America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "America/Sao_Paulo"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		from := time.Now()
		to := from.AddDate(2, 0, 0)
		w := &icsWriter{}
		vtimezone(w, loc, from, to)
		lines := unfold(w.buf.String())
		zone := parseVTimezone(t, lines)
		for at := from.Truncate(time.Hour); at.Before(to); at = at.Add(30 * time.Minute) {
			if secondOccurrence(at, loc) {
				continue // written in UTC
			}
			prop := "DTSTART;TZID=" + name + ":" + at.In(loc).Format("20060102T150405")
			if got := zone.instant(t, prop); !got.Equal(at) {
				t.Fatalf("%s: %s resolves to %v, want %v", name, prop, got, at.UTC())
			}
		}
	}
}
