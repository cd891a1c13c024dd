package sphinx

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// Text normalisation turns configured phrases into the words a caller
// says, as the dictionary spells them: lower case, numbers spelt out the
// way they are spoken ("10:30" → "ten thirty", "9am" → "nine a m", a phone
// number digit by digit), no punctuation but word-internal apostrophes.

var ones = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
	"ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"}

var tens = []string{"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}

var ordinals = map[string]string{
	"one": "first", "two": "second", "three": "third", "four": "fourth", "five": "fifth",
	"six": "sixth", "seven": "seventh", "eight": "eighth", "nine": "ninth", "ten": "tenth",
	"eleven": "eleventh", "twelve": "twelfth", "thirteen": "thirteenth", "fourteen": "fourteenth",
	"fifteen": "fifteenth", "sixteen": "sixteenth", "seventeen": "seventeenth",
	"eighteen": "eighteenth", "nineteen": "nineteenth", "twenty": "twentieth", "thirty": "thirtieth",
}

// cardinal spells 0 ≤ n ≤ 9999 the way a number is said ("two thousand
// five", "nineteen ninety nine" is a year and not attempted).
func cardinal(n int) []string {
	switch {
	case n < 20:
		return []string{ones[n]}
	case n < 100:
		if n%10 == 0 {
			return []string{tens[n/10]}
		}
		return []string{tens[n/10], ones[n%10]}
	case n < 1000:
		w := []string{ones[n/100], "hundred"}
		if n%100 != 0 {
			w = append(w, cardinal(n%100)...)
		}
		return w
	default:
		w := append(cardinal(n/1000), "thousand")
		if n%1000 != 0 {
			w = append(w, cardinal(n%1000)...)
		}
		return w
	}
}

// ordinal spells 1 ≤ n ≤ 99 as an ordinal ("twenty first").
func ordinal(n int) []string {
	w := cardinal(n)
	w[len(w)-1] = ordinals[w[len(w)-1]]
	return w
}

// digits spells s digit by digit.
func digits(s string) []string {
	w := make([]string, 0, len(s))
	for _, r := range s {
		w = append(w, ones[r-'0'])
	}
	return w
}

// clockTime spells "10:30" as "ten thirty", "9:05" as "nine oh five",
// "9:00" as "nine o'clock"; ok is false for something that is not a time.
func clockTime(h, m string) ([]string, bool) {
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || len(m) != 2 || hh > 23 || mm > 59 {
		return nil, false
	}
	if hh > 12 {
		hh -= 12
	}
	if hh == 0 {
		hh = 12
	}
	w := cardinal(hh)
	switch {
	case mm == 0:
		w = append(w, "o'clock")
	case mm < 10:
		w = append(w, "oh", ones[mm])
	default:
		w = append(w, cardinal(mm)...)
	}
	return w, true
}

// ampm rewrites the dotted forms of a.m. and p.m. so that sentence
// splitting does not cut them.
var ampm = strings.NewReplacer("a.m.", "am", "p.m.", "pm", "A.M.", "am", "P.M.", "pm", "a.m", "am", "p.m", "pm")

// sentences splits text at sentence punctuation and normalises each piece
// into words; pieces without words are dropped.
func sentences(text string) [][]string {
	var out [][]string
	for _, piece := range strings.FieldsFunc(ampm.Replace(text), func(r rune) bool {
		return r == '.' || r == '!' || r == '?' || r == ';' || r == '\n'
	}) {
		if w := words(piece); len(w) > 0 {
			out = append(out, w)
		}
	}
	return out
}

// spacedAMPM finds "9 am", "10:30 pm": joined to the number, so that "am"
// becomes "a m" and not the verb.
var spacedAMPM = regexp.MustCompile(`(\d)\s+([ap]m)\b`)

// phoneLike finds phone numbers written with separators, "555-0123" or
// "(415) 555-0123", to be read digit by digit.
var phoneLike = regexp.MustCompile(`\(?\b\d{3}\)?[ .-]?\d{3}[ .-]\d{4}\b|\b\d{3}-\d{4}\b`)

// words normalises one sentence into dictionary words.
func words(s string) []string {
	s = spacedAMPM.ReplaceAllString(strings.ToLower(s), "$1$2")
	s = phoneLike.ReplaceAllStringFunc(s, func(m string) string {
		return strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, m)
	})
	s = strings.NewReplacer("&", " and ", "%", " percent ", "+", " plus ", "@", " at ",
		"’", "'", "‘", "'", "-", " ", "/", " ", "_", " ").Replace(s)
	var out []string
	for _, tok := range strings.FieldsFunc(s, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' || r == ':' || r == '$')
	}) {
		out = append(out, token(tok)...)
	}
	return out
}

// token normalises one whitespace-separated token.
func token(tok string) []string {
	tok = strings.Trim(tok, "':")
	if tok == "" {
		return nil
	}
	dollars := strings.HasPrefix(tok, "$")
	tok = strings.TrimLeft(tok, "$")
	// Split letters from digits: "9am", "2pm", "1st", "10:30am".
	i := strings.IndexFunc(tok, func(r rune) bool { return !unicode.IsDigit(r) && r != ':' })
	num, rest := tok, ""
	if i >= 0 {
		num, rest = tok[:i], tok[i:]
	}
	if num == "" {
		return letterWords(tok)
	}
	var w []string
	switch {
	case strings.Contains(num, ":"):
		h, m, _ := strings.Cut(num, ":")
		if t, ok := clockTime(h, m); ok {
			w = t
			if (rest == "am" || rest == "pm") && w[len(w)-1] == "o'clock" {
				w = w[:len(w)-1] // "9:00am" is "nine a m"
			}
		} else {
			w = digits(strings.ReplaceAll(num, ":", ""))
		}
	case rest == "st" || rest == "nd" || rest == "rd" || rest == "th":
		if n, err := strconv.Atoi(num); err == nil && n >= 1 && n <= 99 {
			return ordinal(n)
		}
		w = digits(num)
		rest = ""
	case len(num) > 4 || (len(num) > 1 && num[0] == '0'):
		w = digits(num) // phone numbers, codes
	default:
		n, _ := strconv.Atoi(num)
		w = cardinal(n)
	}
	if dollars {
		w = append(w, "dollars")
	}
	switch rest {
	case "":
	case "am":
		w = append(w, "a", "m")
	case "pm":
		w = append(w, "p", "m")
	default:
		w = append(w, letterWords(rest)...)
	}
	return w
}

// letterWords keeps a word of letters (and inner apostrophes) as it is.
func letterWords(s string) []string {
	s = strings.Trim(s, "':$")
	if s == "" || strings.ContainsFunc(s, unicode.IsDigit) {
		return nil
	}
	return []string{s}
}
