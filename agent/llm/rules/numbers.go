package rules

import (
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/frontdesk/frontdesk/scheduling"
)

var units = map[string]int{
	"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
}

var teens = map[string]int{
	"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
	"seventeen": 17, "eighteen": 18, "nineteen": 19,
}

var tens = map[string]int{"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}

// soundalikes are words recognisers write for digits when a number is
// read out ("to one to" for 212); they count only next to other digits.
var soundalikes = map[string]int{"oh": 0, "o": 0, "to": 2, "too": 2, "for": 4, "won": 1, "ate": 8, "nein": 9}

// number reads a cardinal number of up to two words at ws[i] ("seven",
// "forty five", "12") and returns it and the words it used.
func number(ws []string, i int) (n, used int, ok bool) {
	if i >= len(ws) {
		return 0, 0, false
	}
	w := ws[i]
	if isDigits(w) && len(w) <= 4 {
		v, _ := strconv.Atoi(w)
		return v, 1, true
	}
	if v, ok := units[w]; ok {
		return v, 1, true
	}
	if v, ok := teens[w]; ok {
		return v, 1, true
	}
	if v, ok := tens[w]; ok {
		if i+1 < len(ws) {
			if u, ok := units[ws[i+1]]; ok && u > 0 {
				return v + u, 2, true
			}
		}
		return v, 1, true
	}
	return 0, 0, false
}

var ordinals = map[string]int{
	"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9,
	"tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14, "fifteenth": 15, "sixteenth": 16,
	"seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}

// ordinal reads a day-of-month ordinal at ws[i]: "twelfth", "twenty
// first", "12th", "3rd".
func ordinal(ws []string, i int) (n, used int, ok bool) {
	if i >= len(ws) {
		return 0, 0, false
	}
	w := ws[i]
	if v, ok := ordinals[w]; ok {
		return v, 1, true
	}
	if (w == "twenty" || w == "thirty") && i+1 < len(ws) {
		if v, ok := ordinals[ws[i+1]]; ok && v < 10 {
			return tens[w] + v, 2, true
		}
	}
	if n := len(w); n >= 3 && n <= 4 && isDigits(w[:n-2]) {
		switch w[n-2:] {
		case "st", "nd", "rd", "th":
			v, _ := strconv.Atoi(w[:n-2])
			return v, 1, true
		}
	}
	return 0, 0, false
}

// digitsOf returns the digits said in ws, read as a phone number: digit
// words and digit strings in order; "double five" is 55, "triple" three
// times; teens and tens say two digits ("fifty five" 55, "twenty" 20);
// "hundred" is 00 and "thousand" 000 ("eight hundred" 800). Soundalikes
// ("to", "for", "oh") count only next to a digit. A leading "plus" gives
// a "+".
func digitsOf(ws []string) string {
	var b strings.Builder
	isDigitWord := func(i int) bool {
		if i < 0 || i >= len(ws) {
			return false
		}
		w := ws[i]
		_, u := units[w]
		_, t := teens[w]
		_, tt := tens[w]
		return u || t || tt || isDigits(w) || w == "double" || w == "triple" || w == "hundred"
	}
	for i := 0; i < len(ws); i++ {
		w := ws[i]
		switch {
		case w == "plus" && b.Len() == 0:
			b.WriteByte('+')
		case isDigits(w):
			b.WriteString(w)
		case w == "double" || w == "triple":
			if i+1 < len(ws) {
				if d, ok := units[ws[i+1]]; ok {
					k := 2
					if w == "triple" {
						k = 3
					}
					b.WriteString(strings.Repeat(strconv.Itoa(d), k))
					i++
				}
			}
		case w == "hundred":
			b.WriteString("00")
		case w == "thousand":
			b.WriteString("000")
		default:
			if d, ok := units[w]; ok {
				b.WriteString(strconv.Itoa(d))
			} else if t, ok := teens[w]; ok {
				b.WriteString(strconv.Itoa(t))
			} else if t, ok := tens[w]; ok {
				if i+1 < len(ws) {
					if d, ok := units[ws[i+1]]; ok && d > 0 {
						b.WriteString(strconv.Itoa(t + d))
						i++
						continue
					}
				}
				b.WriteString(strconv.Itoa(t))
			} else if d, ok := soundalikes[w]; ok && (isDigitWord(i-1) || isDigitWord(i+1)) {
				b.WriteString(strconv.Itoa(d))
			}
		}
	}
	return b.String()
}

// phoneOf reads a phone number from the utterance and returns it in E.164
// with the digits it heard. ok is false when no valid number was heard.
func phoneOf(u *utterance, region string) (e164, heard string, ok bool) {
	if u.isKey {
		heard = u.keyDigits()
	} else {
		heard = digitsOf(u.words)
	}
	if len(strings.TrimPrefix(heard, "+")) < 7 {
		return "", heard, false
	}
	p, err := scheduling.NormalizePhone(heard, region)
	if err != nil {
		return "", heard, false
	}
	return p, heard, true
}

// spokenPhone writes an E.164 number for text to speech in the national
// format's groups, digit by digit: "2 1 2, 5 5 5, 0 1 2 3".
func spokenPhone(e164 string) string {
	national := e164
	if n, err := phonenumbers.Parse(e164, "ZZ"); err == nil {
		national = phonenumbers.Format(n, phonenumbers.NATIONAL)
	}
	return spokenDigits(national)
}

// spokenDigits spells the digits of s one by one, keeping its grouping.
func spokenDigits(s string) string {
	var groups []string
	var cur []byte
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			if len(cur) > 0 {
				cur = append(cur, ' ')
			}
			cur = append(cur, c)
			continue
		}
		if len(cur) > 0 {
			groups = append(groups, string(cur))
			cur = cur[:0]
		}
	}
	if len(cur) > 0 {
		groups = append(groups, string(cur))
	}
	return strings.Join(groups, ", ")
}
