package rules

import (
	"slices"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/configs"
)

// today is Tuesday, March 10, 2026.
var today = configs.Date{Year: 2026, Month: 3, Day: 10}

func date(m time.Month, d int) configs.Date { return configs.Date{Year: 2026, Month: m, Day: d} }

func TestParseWhen(t *testing.T) {
	const none = -1
	for _, tc := range []struct {
		say     string
		ctx     bool // the engine asked for a time
		day     configs.Date
		flex    bool
		tod     int // minutes, or none
		lo, hi  int // window, when tod is none and hi > 0
		wantDay bool
	}{
		{say: "tomorrow at ten thirty", day: date(3, 11), tod: 10*60 + 30, wantDay: true},
		{say: "tomorrow at 10:30", day: date(3, 11), tod: 10*60 + 30, wantDay: true},
		{say: "today at 2 pm", day: today, tod: 14 * 60, wantDay: true},
		{say: "two p m on friday", day: date(3, 13), tod: 14 * 60, wantDay: true},
		{say: "friday at two", day: date(3, 13), tod: 14 * 60, wantDay: true},
		{say: "thursday at nine", day: date(3, 12), tod: 9 * 60, wantDay: true},
		{say: "saturday at eleven fifteen", day: date(3, 14), tod: 11*60 + 15, wantDay: true},
		{say: "tuesday", day: today, tod: none, wantDay: true},
		{say: "next tuesday", day: date(3, 17), tod: none, wantDay: true},
		{say: "next thursday", day: date(3, 19), tod: none, wantDay: true}, // this week's Thursday is skipped
		{say: "next monday", day: date(3, 16), tod: none, wantDay: true},
		{say: "wednesday next week", day: date(3, 18), tod: none, wantDay: true},
		{say: "next week", day: date(3, 16), flex: true, tod: none, wantDay: true},
		{say: "the day after tomorrow", day: date(3, 12), tod: none, wantDay: true},
		{say: "the twelfth", day: date(3, 12), tod: none, wantDay: true},
		{say: "on the 3rd", day: date(4, 3), tod: none, wantDay: true}, // the 3rd has passed: next month
		{say: "march twenty first", day: date(3, 21), tod: none, wantDay: true},
		{say: "the fifth of april at half past three", day: date(4, 5), tod: 15*60 + 30, wantDay: true},
		{say: "april 2 at quarter to ten", day: date(4, 2), tod: 9*60 + 45, wantDay: true},
		{say: "first available", day: today, flex: true, tod: none, wantDay: true},
		{say: "as soon as possible", day: today, flex: true, tod: none, wantDay: true},
		{say: "tomorrow morning", day: date(3, 11), tod: none, lo: 0, hi: 12 * 60, wantDay: true},
		{say: "friday afternoon", day: date(3, 13), tod: none, lo: 12 * 60, hi: 17 * 60, wantDay: true},
		{say: "monday after three", day: date(3, 16), tod: none, lo: 15 * 60, hi: 24 * 60, wantDay: true},
		{say: "before noon on wednesday", day: date(3, 11), tod: none, lo: 0, hi: 12 * 60, wantDay: true},
		{say: "at noon", tod: 12 * 60},
		{say: "ten in the morning", ctx: true, tod: 10 * 60},
		{say: "eight o'clock", tod: 8 * 60},
		{say: "ten thirty", tod: 10*60 + 30},
		{say: "ten", ctx: true, tod: 10 * 60},
		{say: "3", ctx: true, tod: 15 * 60},
		{say: "1430", ctx: true, tod: 14*60 + 30},
		{say: "10am", tod: 10 * 60},
		{say: "the thirty first of february", tod: none}, // no such day
		{say: "i have two kids", tod: none},
		{say: "two one two five five five oh one two three", ctx: true, tod: none},
		{say: "the first one", ctx: true, tod: none},
	} {
		w := parseWhen(parseUtterance(tc.say).words, today, tc.ctx)
		if w.hasDay != tc.wantDay || (tc.wantDay && (w.day != tc.day || w.flexible != tc.flex)) {
			t.Errorf("%q: day %v %v flexible %v, want %v %v flexible %v", tc.say, w.hasDay, w.day, w.flexible, tc.wantDay, tc.day, tc.flex)
		}
		switch {
		case tc.tod != none:
			if !w.hasTime || w.tod != tc.tod {
				t.Errorf("%q: time %v %d, want %d", tc.say, w.hasTime, w.tod, tc.tod)
			}
		case tc.hi > 0:
			if w.hasTime || !w.hasWin || w.lo != tc.lo || w.hi != tc.hi {
				t.Errorf("%q: window %v [%d, %d) time %v, want [%d, %d)", tc.say, w.hasWin, w.lo, w.hi, w.hasTime, tc.lo, tc.hi)
			}
		default:
			if w.hasTime || w.hasWin {
				t.Errorf("%q: time %v %d window %v, want none", tc.say, w.hasTime, w.tod, w.hasWin)
			}
		}
	}
}

func TestDigits(t *testing.T) {
	for say, want := range map[string]string{
		"two one two five five five oh one two three":     "2125550123",
		"my number is 212 555 0123":                       "2125550123",
		"two one two double five five zero one two three": "2125550123",
		"to one to five five five oh one to three":        "2125550123",
		"eight hundred five five five twelve twelve":      "8005551212",
		"nine one seven five fifty five oh one forty two": "9175550142",
		"plus four four two oh seven nine four six":       "+44207946",
		"oh yes": "",
	} {
		if got := digitsOf(parseUtterance(say).words); got != want {
			t.Errorf("digitsOf(%q) = %q, want %q", say, got, want)
		}
	}
	u := parseUtterance("DTMF: 212-555-0123#")
	if p, _, ok := phoneOf(u, "US"); !ok || p != "+12125550123" {
		t.Errorf("DTMF phone = %q, %v", p, ok)
	}
	if _, heard, ok := phoneOf(parseUtterance("five five five one two"), "US"); ok || heard != "55512" {
		t.Errorf("short number accepted or misheard: %q %v", heard, ok)
	}
	if got := spokenPhone("+12125550123"); got != "2 1 2, 5 5 5, 0 1 2 3" {
		t.Errorf("spokenPhone = %q", got)
	}
}

func TestYesNo(t *testing.T) {
	for say, want := range map[string]int{
		"yes": 1, "yeah that's right": 1, "uh yes please": 1, "sure go ahead": 1, "sounds good": 1, "yep": 1, "correct": 1,
		"no": -1, "nope": -1, "no that's wrong": -1, "that's not right": -1, "know": -1, "nah": -1,
		"yes no": 0, "i'm not sure": 0, "what": 0, "": 0, "DTMF: 1": 1, "DTMF: 2": -1, "DTMF: 5": 0, "no problem": 0,
	} {
		if got := parseUtterance(say).yesNo(); got != want {
			t.Errorf("yesNo(%q) = %d, want %d", say, got, want)
		}
	}
}

func TestNameOf(t *testing.T) {
	for say, want := range map[string]string{
		"my name is john smith":               "John Smith",
		"it's maria garcia":                   "Maria Garcia",
		"uh this is dave":                     "Dave",
		"jane doe":                            "Jane Doe",
		"sure it's ana and my number is 5551": "Ana",
		"yes":                                 "",
		"i want to book":                      "",
		"two one two":                         "",
		"DTMF: 12":                            "",
		"what do you need that for":           "",
	} {
		got, ok := nameOf(parseUtterance(say))
		if got != want || ok != (want != "") {
			t.Errorf("nameOf(%q) = %q, %v; want %q", say, got, ok, want)
		}
	}
}

func TestServiceMatch(t *testing.T) {
	biz := exampleBusiness(t, "bright-smile")
	m := newServiceMatcher(biz.Services)
	names := func(idx []int) []string {
		var out []string
		for _, i := range idx {
			out = append(out, biz.Services[i].Name)
		}
		return out
	}
	for say, want := range map[string][]string{
		"a cleaning please":             {"Cleaning"},
		"teeth cleaning":                {"Cleaning"},
		"exam and x rays":               {"Exam and X-rays"},
		"i need a checkup":              {"Exam and X-rays", "Children's checkup"}, // ambiguous: ask
		"a check up for my son":         {"Children's checkup"},
		"my kids checkup":               {"Children's checkup"},
		"whitening":                     {"Teeth whitening"},
		"i'm a new patient":             {"New patient visit"},
		"i think i have a cavity":       {"Filling"},
		"my tooth hurts":                nil,
		"what are your hours":           nil,
		"do you have anything tomorrow": nil,
	} {
		if got := names(m.match(parseUtterance(say))); !slices.Equal(got, want) {
			t.Errorf("match(%q) = %q, want %q", say, got, want)
		}
	}
	salon := newServiceMatcher(exampleBusiness(t, "shear-elegance").Services)
	for say, want := range map[string]int{"a haircut": 0, "cut and blow dry": 0, "blow out": 0, "color": 1, "highlights": 1} {
		if got := salon.match(parseUtterance(say)); len(got) != 1 || got[0] != want {
			t.Errorf("salon match(%q) = %v, want [%d]", say, got, want)
		}
	}
}

func TestSentences(t *testing.T) {
	got := sentences("We're at 120 W. 44th St. in Manhattan.  Parking? Yes! It costs $1.50 an hour")
	want := []string{"We're at 120 W.", "44th St.", "in Manhattan.", "Parking?", "Yes!", "It costs $1.50 an hour"}
	if !slices.Equal(got, want) {
		t.Errorf("sentences = %q, want %q", got, want)
	}
}
