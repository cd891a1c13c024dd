package rules

import (
	"time"

	"github.com/frontdesk/frontdesk/agent/tools"
	"github.com/frontdesk/frontdesk/configs"
)

// when is what an utterance says about a day and a time.
type when struct {
	hasDay   bool
	day      configs.Date
	flexible bool // "first available", "next week": search the days after too

	hasTime bool
	tod     int  // minutes after midnight
	meridKn bool // am/pm was said or implied, not guessed

	hasWin bool
	lo, hi int // window of starts [lo, hi), minutes after midnight
}

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
	"sundays": time.Sunday, "mondays": time.Monday, "tuesdays": time.Tuesday, "wednesdays": time.Wednesday,
	"thursdays": time.Thursday, "fridays": time.Friday, "saturdays": time.Saturday,
}

var months = map[string]time.Month{
	"january": time.January, "february": time.February, "march": time.March, "april": time.April, "may": time.May,
	"june": time.June, "july": time.July, "august": time.August, "september": time.September, "october": time.October,
	"november": time.November, "december": time.December, "jan": time.January, "feb": time.February,
	"sept": time.September, "oct": time.October, "nov": time.November, "dec": time.December,
}

// optionNouns after an ordinal make it an option, not a date: "the
// first one", "the second time", "first available".
var optionNouns = set("one", "ones", "available", "availability", "opening", "openings", "time", "times", "slot",
	"option", "choice", "thing", "appointment")

// oneAsPronoun before "one" make it a pronoun, not one o'clock.
var oneAsPronoun = set("the", "that", "this", "which", "last", "first", "second", "third", "other", "another", "any",
	"no", "every", "each", "earlier", "later", "earliest", "latest", "either", "one", "same")

// timeCues make a following number a time of day ("at ten").
var timeCues = set("at", "around", "about", "by", "after", "before", "say", "till", "until", "from", "maybe")

// parseWhen reads the day and time in ws relative to today. timeContext
// says the engine just asked for a time, so a bare number ("ten thirty")
// is a time of day; elsewhere a number needs a cue ("at", "pm", "o'clock").
func parseWhen(ws []string, today configs.Date, timeContext bool) when {
	var w when
	parseDay(ws, today, &w)
	if len(digitsOf(ws)) < 7 { // a phone number read out is not a time
		parseTime(ws, timeContext, &w)
	}
	return w
}

func parseDay(ws []string, today configs.Date, w *when) {
	setDay := func(d configs.Date) {
		if !w.hasDay {
			w.hasDay, w.day = true, d
		}
	}
	nextWeek := false
	for i := 0; i+1 < len(ws); i++ {
		if ws[i] == "next" && ws[i+1] == "week" {
			nextWeek = true
		}
	}
	for i := 0; i < len(ws); i++ {
		x := ws[i]
		switch x {
		case "today", "tonight":
			setDay(today)
			continue
		case "tomorrow":
			if i >= 2 && ws[i-2] == "day" && ws[i-1] == "after" { // "the day after tomorrow"
				setDay(tools.AddDays(today, 2))
			} else {
				setDay(tools.AddDays(today, 1))
			}
			continue
		case "asap", "earliest", "soonest", "anytime", "whenever":
			setDay(today)
			w.flexible = true
			continue
		case "soon":
			if i > 0 && (ws[i-1] == "as" || ws[i-1] == "very") {
				setDay(today)
				w.flexible = true
			}
			continue
		case "available", "availability", "opening":
			if i > 0 && (ws[i-1] == "first" || ws[i-1] == "next") {
				setDay(today)
				w.flexible = true
			}
			continue
		}
		if wd, ok := weekdays[x]; ok {
			ahead := (int(wd) - int(tools.WeekdayOf(today)) + 7) % 7
			switch {
			case nextWeek:
				// The day in the Monday-to-Sunday week after this one.
				ahead = daysToMonday(today) + (int(wd)+6)%7
			case i > 0 && ws[i-1] == "next":
				// "next Tuesday" skips a Tuesday still in this week:
				// said on a Monday it is eight days away, said on a
				// Thursday it is the coming Tuesday.
				if ahead == 0 || ahead < daysToMonday(today) {
					ahead += 7
				}
			}
			setDay(tools.AddDays(today, ahead))
			continue
		}
		if m, ok := months[x]; ok {
			// "march twelfth", "march the 12th", "march 12"
			j := i + 1
			if j < len(ws) && ws[j] == "the" {
				j++
			}
			if d, _, ok := ordinal(ws, j); ok {
				setDate(w, today, m, d)
				continue
			}
			if d, _, ok := number(ws, j); ok && d >= 1 && d <= 31 {
				setDate(w, today, m, d)
			}
			continue
		}
		if d, used, ok := ordinal(ws, i); ok {
			// Not "the second one" offered earlier: the caller of parseWhen
			// tests options first. "twelfth of march" names the month.
			j := i + used
			if j+1 < len(ws) && ws[j] == "of" {
				if m, ok := months[ws[j+1]]; ok {
					setDate(w, today, m, d)
					i = j + 1
					continue
				}
			}
			if j < len(ws) {
				if _, option := optionNouns[ws[j]]; option {
					i += used - 1
					continue
				}
			}
			if d <= 31 && (i > 0 && (ws[i-1] == "the" || ws[i-1] == "on") || x != "first" && x != "second") {
				m := today.Month
				y := today.Year
				if d < today.Day {
					if m == time.December {
						m, y = time.January, y+1
					} else {
						m++
					}
				}
				if validDate(y, m, d) {
					setDay(configs.Date{Year: y, Month: m, Day: d})
				}
			}
			i += used - 1
		}
	}
	if !w.hasDay && nextWeek {
		w.hasDay, w.day, w.flexible = true, tools.AddDays(today, daysToMonday(today)), true
	}
}

// daysToMonday is the number of days from today to next week's Monday (7
// on a Monday).
func daysToMonday(today configs.Date) int {
	if n := (8 - int(tools.WeekdayOf(today))) % 7; n > 0 {
		return n
	}
	return 7
}

func validDate(y int, m time.Month, d int) bool {
	return d >= 1 && d <= 31 && time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Day() == d
}

// setDate sets month m, day d in the year that makes it today or later.
func setDate(w *when, today configs.Date, m time.Month, d int) {
	if w.hasDay {
		return
	}
	y := today.Year
	if (configs.Date{Year: y, Month: m, Day: d}).Compare(today) < 0 {
		y++
	}
	if validDate(y, m, d) {
		w.hasDay, w.day = true, configs.Date{Year: y, Month: m, Day: d}
	}
}

const (
	morningEnd   = 12 * 60
	afternoonEnd = 17 * 60
)

func parseTime(ws []string, timeContext bool, w *when) {
	part := ""
	for i, x := range ws {
		switch x {
		case "morning":
			part = "am"
		case "afternoon", "evening", "tonight":
			part = x
		case "night":
			if i > 0 && ws[i-1] == "at" {
				part = "evening"
			}
		case "lunch", "lunchtime", "noon", "midday":
			if i > 0 && (ws[i-1] == "after" || ws[i-1] == "before") {
				continue
			}
			if x != "lunch" && x != "lunchtime" {
				w.hasTime, w.tod, w.meridKn = true, 12*60, true
			}
		case "midnight":
			w.hasTime, w.tod, w.meridKn = true, 0, true
		}
	}
	if !w.hasTime {
		for i := 0; i < len(ws); i++ {
			tod, merid, used, ok := clockAt(ws, i, timeContext)
			if !ok {
				continue
			}
			if i > 0 && (ws[i-1] == "after" || ws[i-1] == "before") {
				if !merid {
					tod = guessMeridiem(tod, part)
				}
				if ws[i-1] == "after" {
					w.hasWin, w.lo, w.hi = true, tod, 24*60
				} else {
					w.hasWin, w.lo, w.hi = true, 0, tod
				}
				i += used - 1
				continue
			}
			if !merid {
				tod = guessMeridiem(tod, part)
				merid = part != ""
			}
			w.hasTime, w.tod, w.meridKn = true, tod, merid
			break
		}
	}
	for i := 0; i+1 < len(ws); i++ {
		if ws[i+1] == "lunch" || ws[i+1] == "lunchtime" || ws[i+1] == "noon" || ws[i+1] == "midday" {
			switch ws[i] {
			case "after":
				w.hasWin, w.lo, w.hi = true, 12*60, 24*60
				if ws[i+1] == "lunch" || ws[i+1] == "lunchtime" {
					w.lo = 13 * 60
				}
			case "before":
				w.hasWin, w.lo, w.hi = true, 0, 12*60
			}
		}
	}
	if !w.hasTime && !w.hasWin {
		switch part {
		case "am":
			w.hasWin, w.lo, w.hi = true, 0, morningEnd
		case "afternoon":
			w.hasWin, w.lo, w.hi = true, morningEnd, afternoonEnd
		case "evening", "tonight":
			w.hasWin, w.lo, w.hi = true, afternoonEnd, 24*60
		}
	}
}

// guessMeridiem places an hour said without am/pm: the part of day said,
// else business-hours sense (1 to 6 are afternoon, 7 to 11 morning).
func guessMeridiem(tod int, part string) int {
	h := tod / 60
	if h >= 13 || h == 0 {
		return tod
	}
	switch part {
	case "am":
		if h == 12 {
			return tod - 12*60
		}
		return tod
	case "afternoon", "evening", "tonight":
		if h < 12 {
			return tod + 12*60
		}
		return tod
	}
	if h >= 1 && h <= 6 {
		return tod + 12*60
	}
	return tod
}

// clockAt reads a clock time at ws[i]: "ten", "ten thirty", "10 30",
// "two pm", "half past two", "quarter to three", "ten oclock", "1430". It
// returns minutes after midnight, whether am/pm was said, and the words
// used. Without a cue before it or a marker after it, a number is a time
// only in timeContext.
func clockAt(ws []string, i int, timeContext bool) (tod int, merid bool, used int, ok bool) {
	cued := timeContext
	if i > 0 {
		if _, ok := timeCues[ws[i-1]]; ok {
			cued = true
		}
	}
	// "half past two", "quarter past ten", "quarter to three"
	if ws[i] == "half" || ws[i] == "quarter" {
		if i+2 < len(ws) && (ws[i+1] == "past" || ws[i+1] == "after" || ws[i+1] == "to" || ws[i+1] == "till" || ws[i+1] == "of") {
			if h, n, ok := number(ws, i+2); ok && h >= 1 && h <= 12 {
				m := 30
				if ws[i] == "quarter" {
					m = 15
				}
				t := h * 60
				if ws[i+1] == "to" || ws[i+1] == "till" || ws[i+1] == "of" {
					if ws[i] == "half" {
						return 0, false, 0, false
					}
					t -= 15
				} else {
					t += m
				}
				used = 2 + n
				mer, k := meridiemAt(ws, i+used)
				if mer != 0 {
					t = applyMeridiem(t, mer)
				}
				return t, mer != 0, used + k, true
			}
		}
		return 0, false, 0, false
	}
	w := ws[i]
	// "1430", "930" said as one number
	if isDigits(w) && (len(w) == 3 || len(w) == 4) {
		v := int(0)
		for j := 0; j < len(w); j++ {
			v = v*10 + int(w[j]-'0')
		}
		h, m := v/100, v%100
		if h > 23 || m > 59 {
			return 0, false, 0, false
		}
		mer, k := meridiemAt(ws, i+1)
		t := h*60 + m
		if mer != 0 {
			if h > 12 {
				return 0, false, 0, false
			}
			t = applyMeridiem(t, mer)
		}
		if !cued && mer == 0 && !timeContext {
			return 0, false, 0, false
		}
		return t, mer != 0 || h >= 13, 1 + k, true
	}
	h, n, ok := number(ws, i)
	if !ok || h > 23 || (h == 0 && w != "0") {
		return 0, false, 0, false
	}
	if w == "one" && i > 0 {
		if _, pronoun := oneAsPronoun[ws[i-1]]; pronoun {
			return 0, false, 0, false // "the first one", "that one"
		}
	}
	if _, ten := tens[w]; ten && n == 2 {
		return 0, false, 0, false // "twenty five" is not an hour
	}
	j := i + n
	m := 0
	// minutes: "thirty", "forty five", "oh five", "05", "fifteen"
	if j < len(ws) {
		switch {
		case (ws[j] == "oh" || ws[j] == "o") && j+1 < len(ws):
			if d, ok := units[ws[j+1]]; ok {
				m, j = d, j+2
			}
		default:
			if v, k, ok := number(ws, j); ok && v >= 10 && v <= 59 && (len(ws[j]) == 2 || !isDigits(ws[j])) {
				m, j = v, j+k
			}
		}
	}
	marker := false
	if j < len(ws) && (ws[j] == "oclock" || (ws[j] == "hundred" && h > 0)) {
		marker, j = true, j+1
	}
	mer, k := meridiemAt(ws, j)
	j += k
	if !cued && !marker && mer == 0 && m == 0 {
		return 0, false, 0, false
	}
	if !cued && !marker && mer == 0 && m != 0 && !timeContext {
		// "ten thirty" with no cue: still a time when the minutes are a
		// round quarter, the usual way of saying one.
		if m%15 != 0 {
			return 0, false, 0, false
		}
	}
	if mer != 0 && (h < 1 || h > 12) {
		return 0, false, 0, false
	}
	t := h*60 + m
	if mer != 0 {
		t = applyMeridiem(t, mer)
	}
	return t, mer != 0 || h >= 13, j - i, true
}

// meridiemAt reads "am", "pm", "in the morning", "in the afternoon", "in
// the evening", "at night" at ws[i]: +1 for pm, -1 for am, 0 for none.
func meridiemAt(ws []string, i int) (mer, used int) {
	if i >= len(ws) {
		return 0, 0
	}
	switch ws[i] {
	case "am":
		return -1, 1
	case "pm":
		return 1, 1
	}
	if i+2 < len(ws) && ws[i] == "in" && ws[i+1] == "the" {
		switch ws[i+2] {
		case "morning":
			return -1, 3
		case "afternoon", "evening":
			return 1, 3
		}
	}
	if i+1 < len(ws) && ws[i] == "at" && ws[i+1] == "night" {
		return 1, 2
	}
	return 0, 0
}

func applyMeridiem(t, mer int) int {
	h := t / 60
	switch {
	case mer < 0 && h == 12:
		return t - 12*60
	case mer > 0 && h < 12:
		return t + 12*60
	}
	return t
}
