package rules

import (
	"strings"

	"github.com/frontdesk/frontdesk/agent/tools"
)

// utterance is one user message, normalised once and queried by the
// dialogue rules.
type utterance struct {
	raw   string
	words []string // lowercase, ASR fixes applied, split words joined
	norm  string   // " " + words joined by " " + " ", for phrase tests
	dtmf  string   // keys pressed, when the message is "DTMF: …"
	isKey bool     // the message is keypad input
}

// dtmfPrefix starts a user message that carries keypad input.
const dtmfPrefix = "dtmf:"

func parseUtterance(text string) *utterance {
	u := &utterance{raw: strings.TrimSpace(text)}
	if len(u.raw) >= len(dtmfPrefix) && strings.EqualFold(u.raw[:len(dtmfPrefix)], dtmfPrefix) {
		u.isKey = true
		for _, c := range u.raw[len(dtmfPrefix):] {
			if (c >= '0' && c <= '9') || c == '*' || c == '#' {
				u.dtmf += string(c)
			}
		}
		return u
	}
	u.words = normalizeWords(tools.Words(u.raw))
	u.norm = " " + strings.Join(u.words, " ") + " "
	return u
}

// keyDigits returns the digit keys pressed, without * and #.
func (u *utterance) keyDigits() string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, u.dtmf)
}

func (u *utterance) empty() bool {
	if u.isKey {
		return u.dtmf == ""
	}
	for _, w := range u.words {
		if _, filler := fillers[w]; !filler {
			return false
		}
	}
	return true
}

// has reports whether the utterance contains the phrase p (words
// separated by single spaces).
func (u *utterance) has(p string) bool {
	return strings.Contains(u.norm, " "+p+" ")
}

// hasAny reports whether the utterance contains any of the phrases.
func (u *utterance) hasAny(ps ...string) bool {
	for _, p := range ps {
		if u.has(p) {
			return true
		}
	}
	return false
}

func (u *utterance) hasWord(set map[string]struct{}) bool {
	for _, w := range u.words {
		if _, ok := set[w]; ok {
			return true
		}
	}
	return false
}

// content returns the number of words that are not fillers, yes/no or
// politeness: what is left that may carry a request.
func (u *utterance) content() int {
	n := 0
	for _, w := range u.words {
		if _, ok := fillers[w]; ok {
			continue
		}
		if _, ok := yesWords[w]; ok {
			continue
		}
		if _, ok := noWords[w]; ok {
			continue
		}
		if _, ok := politeWords[w]; ok {
			continue
		}
		n++
	}
	return n
}

// joins merge words that recognisers split, and fixes map frequent
// misrecognitions, so the rules see one spelling.
var joins = map[[2]string]string{
	{"to", "morrow"}: "tomorrow", {"check", "up"}: "checkup", {"x", "ray"}: "xray", {"x", "rays"}: "xray",
	{"blow", "dry"}: "blowdry", {"blow", "out"}: "blowdry", {"hair", "cut"}: "haircut", {"a", "m"}: "am", {"p", "m"}: "pm",
	{"o", "clock"}: "oclock", {"good", "bye"}: "goodbye", {"bye", "bye"}: "bye", {"uh", "huh"}: "uhhuh",
	{"mm", "hmm"}: "uhhuh", {"all", "right"}: "alright", {"voice", "mail"}: "voicemail", {"front", "desk"}: "frontdesk",
	{"any", "time"}: "anytime", {"some", "time"}: "sometime", {"week", "end"}: "weekend", {"new", "years"}: "newyears",
}

var fixes = map[string]string{
	"ours": "hours", "tomorow": "tomorrow", "tommorow": "tomorrow", "tommorrow": "tomorrow",
	"yeh": "yeah", "ya": "yeah", "yea": "yeah", "yah": "yeah", "okey": "okay", "k": "okay", "mhm": "uhhuh",
	"goodbye": "goodbye", "byebye": "bye", "thx": "thanks", "color": "colour", "colors": "colour", "colour": "colour",
	"appt": "appointment", "oclock": "oclock", "xrays": "xray", "haircuts": "haircut", "checkups": "checkup",
}

func normalizeWords(ws []string) []string {
	out := ws[:0]
	for i := 0; i < len(ws); i++ {
		w := ws[i]
		if i+1 < len(ws) {
			if j, ok := joins[[2]string{w, ws[i+1]}]; ok {
				out = append(out, j)
				i++
				continue
			}
		}
		if f, ok := fixes[w]; ok {
			w = f
		}
		// "10am", "230pm": a number glued to its meridiem.
		if n := len(w); n > 2 && (strings.HasSuffix(w, "am") || strings.HasSuffix(w, "pm")) && isDigits(w[:n-2]) {
			out = append(out, w[:n-2], w[n-2:])
			continue
		}
		out = append(out, w)
	}
	return out
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func set(words ...string) map[string]struct{} {
	m := make(map[string]struct{}, len(words))
	for _, w := range words {
		m[w] = struct{}{}
	}
	return m
}

var (
	fillers     = set("uh", "um", "er", "ah", "oh", "hmm", "hm", "so", "well", "like", "the", "a", "and", "erm")
	politeWords = set("please", "thanks", "thank", "you", "very", "much", "that", "thats", "is", "its", "it", "great", "ok", "okay", "alright")
	yesWords    = set("yes", "yeah", "yep", "yup", "sure", "correct", "right", "ok", "okay", "alright", "perfect",
		"absolutely", "definitely", "affirmative", "uhhuh", "certainly", "exactly", "fine", "good")
	noWords = set("no", "nope", "nah", "not", "wrong", "incorrect", "dont", "negative", "nothing", "neither", "none")
)

// yesNo reads a yes or a no. It returns 0 when the utterance holds
// neither or both (then the question is asked again), +1 for yes and -1
// for no. Keypad 1 is yes and 2 is no.
func (u *utterance) yesNo() int {
	if u.isKey {
		switch u.keyDigits() {
		case "1":
			return 1
		case "2":
			return -1
		}
		return 0
	}
	yes, no := false, false
	ws := u.words
	for i := 0; i < len(ws); i++ {
		w := ws[i]
		next := ""
		if i+1 < len(ws) {
			next = ws[i+1]
		}
		if _, ok := noWords[w]; ok {
			switch {
			case next == "sure" || next == "problem" || next == "worries":
				// "not sure", "no problem": not an answer either way
			case w == "not" || w == "dont":
				// "not right", "don't think so": a no, whatever follows
				no = true
			default:
				no = true
				continue
			}
			i++
			continue
		}
		if _, ok := yesWords[w]; ok {
			yes = true
		}
	}
	// A lone "know" is the commonest misrecognition of "no".
	if len(u.words) <= 2 && u.words != nil && u.words[0] == "know" {
		no = true
	}
	if !yes && u.hasAny("go ahead", "do it", "please do", "sounds good", "that works", "works for me", "of course", "why not", "lets do it") {
		yes = true
	}
	switch {
	case yes && !no:
		return 1
	case no && !yes:
		return -1
	}
	return 0
}

// Intents. Each is a cheap phrase test; the rules combine them in order.

func (u *utterance) isBye() bool {
	return u.hasAny("bye", "goodbye", "hang up", "have a good day", "have a nice day", "have a great day", "talk to you later", "see you")
}

// isDone is a weaker goodbye, read only after "anything else?".
func (u *utterance) isDone() bool {
	return u.isBye() || u.hasAny("thats all", "that is all", "thats it", "that is it", "nothing else", "no thanks", "no thank you",
		"im good", "im all set", "all set", "im fine", "thats everything", "no that will be all", "thatll be all", "that will be all")
}

func (u *utterance) isThanks() bool { return u.hasAny("thanks", "thank you", "thank") }

func (u *utterance) isGreeting() bool {
	return u.content() <= 2 && u.hasAny("hi", "hello", "hey", "good morning", "good afternoon", "good evening", "hiya")
}

var humanWords = set("person", "human", "someone", "somebody", "operator", "receptionist", "representative", "agent",
	"staff", "frontdesk", "manager", "doctor", "dentist", "stylist", "office", "people", "anyone", "anybody")

func (u *utterance) wantsHuman() bool {
	if u.hasAny("transfer", "transfer me", "real person", "live person", "operator", "representative", "human") {
		return true
	}
	return u.hasAny("speak to", "speak with", "talk to", "talk with", "connect me", "put me through") && u.hasWord(humanWords)
}

func (u *utterance) wantsMessage() bool {
	return u.hasAny("leave a message", "take a message", "leave message", "voicemail", "call me back", "call back",
		"callback", "have someone call", "get back to me", "pass a message", "leave a note")
}

func (u *utterance) wantsCancel() bool {
	return u.has("cancel") && !u.hasAny("policy", "cancellation", "fee", "charge", "notice")
}

// abandons reports whether the caller calls off what is in progress:
// "never mind", "forget it", a bare "cancel" ("cancel my appointment" asks
// to cancel one that exists, which wantsCancel reads).
func (u *utterance) abandons() bool {
	if u.isKey {
		return false
	}
	if u.hasAny("never mind", "nevermind", "forget it", "forget about it", "dont book", "dont bother", "changed my mind",
		"cancel that", "cancel it", "scratch that", "stop") {
		return true
	}
	return u.has("cancel") && !u.hasAny("appointment", "appointments", "policy", "cancellation", "fee", "charge", "notice", "my")
}

func (u *utterance) wantsReschedule() bool {
	return u.hasAny("reschedule", "move my appointment", "change my appointment", "move my", "change the time of my",
		"push back my", "push my appointment", "different time for my")
}

var bookWords = set("book", "booking", "appointment", "appointments", "schedule", "reserve", "availability", "available",
	"openings", "slot", "slots")

func (u *utterance) wantsBooking() bool {
	return u.hasWord(bookWords) || u.hasAny("make an", "set up", "come in", "get in", "see the dentist", "fit me in",
		"any opening", "an opening", "next opening", "first opening", "earliest")
}

// wantsSomething: "i need a cleaning", "can i get a colour".
func (u *utterance) wantsSomething() bool {
	return u.hasAny("i want", "i wanna", "i would like", "id like", "i need", "need a", "need an", "can i get", "could i get",
		"can i have", "i have to get", "looking for", "get a", "get an")
}

func (u *utterance) asksPrice() bool {
	return u.hasAny("how much", "price", "prices", "cost", "costs", "fee", "fees", "charge", "expensive", "cheap", "insurance")
}

var hoursWords = set("hours", "open", "opened", "opens", "close", "closed", "closes", "closing")

func (u *utterance) asksHours() bool {
	if u.hasAny("openings", "any opening", "an opening", "next opening") {
		return false
	}
	return u.hasWord(hoursWords) || u.hasAny("what time do you", "when do you", "are you there", "working today")
}

// asksClock: "what time is it", "what's the date today".
func (u *utterance) asksClock() bool {
	return u.hasAny("what time is it", "whats the time", "what day is it", "whats the date", "whats todays date",
		"what is the date", "what is todays date", "what day is today", "whats today")
}

func (u *utterance) asksOpenNow() bool {
	return u.hasAny("right now", "open now", "opened now", "now", "currently", "at the moment", "still open")
}

var questionStarts = set("what", "whats", "when", "where", "how", "do", "does", "is", "are", "can", "could", "will", "why",
	"which", "who", "whos", "would", "should", "wheres", "hows", "were", "was", "did")

// isQuestion reports whether the utterance reads as a question; speech
// recognisers give no question mark, so this looks at the first words.
func (u *utterance) isQuestion() bool {
	if u.hasAny("i wonder", "i was wondering", "i wanted to know", "i want to know", "tell me", "do you know") {
		return true
	}
	for _, w := range u.words {
		if _, ok := fillers[w]; ok {
			continue
		}
		_, ok := questionStarts[w]
		return ok // the first word that is not a filler decides
	}
	return false
}
