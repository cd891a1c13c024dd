package sphinx

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"

	"github.com/frontdesk/frontdesk/agent"
)

// The built-in corpus: what callers say to any receptionist. Templates
// hold {class} slots that expand over the classes below; a template with
// slots yields one sentence per member of its largest class, the other
// slots cycling through theirs, so that every member appears in every
// context without a combinatorial explosion.

var classes = map[string][]string{
	"day": {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"},
	"when": {"today", "tomorrow", "this week", "next week", "this afternoon", "tomorrow morning",
		"tomorrow afternoon", "this evening", "next monday", "this friday", "on the weekend", "later today"},
	"month": {"january", "february", "march", "april", "may", "june", "july", "august",
		"september", "october", "november", "december"},
	"name": {"james", "john", "robert", "michael", "william", "david", "richard", "joseph", "thomas",
		"charles", "chris", "daniel", "matthew", "anthony", "mark", "paul", "steven", "andrew", "kevin",
		"brian", "george", "tim", "ryan", "jason", "jacob", "eric", "peter", "sam", "alex", "mary",
		"patricia", "jennifer", "linda", "elizabeth", "barbara", "susan", "jessica", "sarah", "karen",
		"lisa", "nancy", "betty", "sandra", "ashley", "emily", "donna", "michelle", "carol", "amanda",
		"melissa", "deborah", "stephanie", "rebecca", "laura", "sharon", "cynthia", "kathleen", "amy",
		"angela", "anna", "emma", "olivia", "sophia", "maria", "jose", "juan", "carlos", "luis", "ana",
		"nina", "mohammed", "ali", "fatima", "kate", "helen", "grace", "rachel", "julia", "tom", "ben"},
	"surname": {"smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis",
		"rodriguez", "martinez", "hernandez", "lopez", "gonzalez", "wilson", "anderson", "thomas",
		"taylor", "moore", "jackson", "martin", "lee", "perez", "thompson", "white", "harris", "clark",
		"lewis", "robinson", "walker", "young", "allen", "king", "wright", "scott", "green", "baker",
		"adams", "nelson", "hill", "campbell", "mitchell", "roberts", "carter", "phillips", "evans", "turner"},
	"service": {"appointment", "cleaning", "checkup", "consultation", "haircut", "massage", "repair",
		"estimate", "quote", "visit", "follow up", "exam", "reservation", "treatment", "fitting", "lesson"},
}

var builtinTemplates = []string{
	// Short answers.
	"hello", "hi", "hi there", "good morning", "good afternoon", "yes", "yes please", "yeah", "yep",
	"sure", "okay", "no", "no thanks", "no thank you", "nope", "not really", "thank you", "thanks",
	"thank you very much", "goodbye", "bye", "bye bye", "that's right", "that's correct", "correct",
	"that's all", "that's it", "that's all thanks", "great", "perfect", "sounds good", "that works",
	"i'm not sure", "i don't know", "can you repeat that", "sorry", "sorry what", "pardon",
	"i didn't catch that", "hold on", "one moment", "just a second", "let me check", "wait",
	// Questions about the business.
	"are you open today", "are you open now", "are you open on {day}", "are you open on weekends",
	"what are your opening hours", "what are your hours", "what time do you open",
	"what time do you close", "when do you close today", "when do you open on {day}",
	"where are you located", "what's your address", "how do i get there", "do you have parking",
	"is there parking", "how much does it cost", "how much is a {service}", "what are your prices",
	"do you take insurance", "do you accept insurance", "do you take credit cards",
	"do you do {service}", "do you offer {service}", "how long does a {service} take",
	"how long does it take", "what do i need to bring", "do i need an appointment",
	"do you take walk ins", "are you taking new patients", "are you taking new customers",
	"i have a question", "i have a question about my bill", "i have a question about my appointment",
	// Booking.
	"i'd like to make an appointment", "i would like to make an appointment",
	"i would like to book an appointment", "i'd like to book an appointment",
	"i want to book a {service}", "i'd like to book a {service}", "i would like to book a {service}",
	"can i book a {service}", "can i book a {service} for {day}", "can i book a {service} on {day}",
	"i would like to book a {service} on {day} at {time}", "i'd like a {service} {when}",
	"i need a {service}", "i need an appointment {when}", "can i get an appointment {when}",
	"do you have anything {when}", "do you have any openings {when}", "is there anything available on {day}",
	"do you have anything available on {day} at {time}", "what times do you have on {day}",
	"i need to cancel my appointment", "i want to cancel", "i need to cancel",
	"i need to reschedule", "i need to reschedule my appointment", "can i change my appointment",
	"can i move my appointment to {day}", "i'm running late", "i'm going to be late",
	"i'm calling about my appointment", "i have an appointment on {day}",
	"i'm a new patient", "i'm a new customer", "i'm an existing customer", "i've been there before",
	// Days, dates and times.
	"on {day}", "{day}", "this {day}", "next {day}", "{day} morning", "{day} afternoon",
	"{day} at {time}", "on {day} at {time}", "at {time}", "{time}", "{time} on {day}", "{when}",
	"how about {day} at {time}", "how about {time}", "what about {day}", "can i come in at {time}",
	"can i come in {when}", "is {time} available", "what about {time}", "{time} works",
	"{time} is fine", "i'd prefer the morning", "the afternoon is better", "morning please",
	"afternoon please", "the earliest you have", "the first available", "anytime after {time}",
	"anytime before {time}", "sometime next week", "{month} {ordinal}", "on the {ordinal}",
	"the {ordinal} of {month}", "{day} the {ordinal}", "{day} {month} {ordinal}",
	// Names and numbers.
	"my name is {name} {surname}", "my name is {name}", "this is {name}", "it's {name}",
	"this is {name} {surname}", "{name} {surname}", "{name}", "my first name is {name}",
	"my last name is {surname}", "the last name is {surname}", "it's {surname}",
	"my number is {phone}", "my phone number is {phone}", "it's {phone}", "the number is {phone}",
	"you can reach me at {phone}", "call me at {phone}", "{phone}",
	// People and messages.
	"i'd like to speak to someone", "can i talk to a person", "can i speak to {name}",
	"can i speak to the manager", "is {name} there", "can i leave a message",
	"please call me back", "can you call me back", "can you send me a text", "can you email me",
	"it's an emergency", "emergency", "it's urgent",
}

// words of the vocabulary get carrier phrases of their own.
var wordTemplates = []string{
	"{word}", "{word} please", "i'd like {word}", "i'd like to book {word}", "do you do {word}",
	"do you offer {word}", "is {word} available", "i'm looking for {word}", "can i see {word}",
	"i want {word}", "how much is {word}", "a {word}",
}

// times are the ways a caller says a time of day.
func times() []string {
	var out []string
	for h := 1; h <= 12; h++ {
		hh := ones[h]
		out = append(out, hh, hh+" o'clock", hh+" thirty", hh+" fifteen", hh+" forty five",
			hh+" a m", hh+" p m", hh+" thirty a m", hh+" thirty p m", "half past "+hh,
			"quarter past "+hh, "quarter to "+hh, hh+" in the morning", hh+" in the afternoon")
	}
	return append(out, "noon", "midday", "lunchtime", "ten fifteen", "eleven oh five")
}

// ordinalDays are "first" … "thirty first".
func ordinalDays() []string {
	out := make([]string, 0, 31)
	for d := 1; d <= 31; d++ {
		out = append(out, strings.Join(ordinal(d), " "))
	}
	return out
}

// phoneNumbers are digit strings as callers read them out: seven and ten
// digits, zero said as "zero" or "oh", from a fixed seed so the model is
// the same on every start.
func phoneNumbers() []string {
	r := rand.New(rand.NewPCG(7, 7))
	out := []string{"five five five zero one two three", "five five five one two three four"}
	for i := range 40 {
		n := 7
		if i%2 == 0 {
			n = 10
		}
		w := make([]string, n)
		for j := range w {
			d := r.IntN(10)
			w[j] = ones[d]
			if d == 0 && r.IntN(2) == 0 {
				w[j] = "oh"
			}
		}
		out = append(out, strings.Join(w, " "))
	}
	return out
}

var slot = regexp.MustCompile(`\{([a-z]+)\}`)

// expand expands templates over the slot classes; offset varies which
// members meet in multi-slot templates.
func expand(templates []string, cls map[string][]string) ([]string, error) {
	var out []string
	for ti, t := range templates {
		slots := slot.FindAllStringSubmatch(t, -1)
		n := 1
		for _, s := range slots {
			members, ok := cls[s[1]]
			if !ok {
				return nil, fmt.Errorf("template %q: unknown class %q", t, s[1])
			}
			n = max(n, len(members))
		}
		for i := range n {
			k := 0
			out = append(out, slot.ReplaceAllStringFunc(t, func(m string) string {
				members := cls[m[1:len(m)-1]]
				if len(members) == 0 {
					return ""
				}
				v := members[(i+7*k+ti)%len(members)]
				k++
				return v
			}))
		}
	}
	return out, nil
}

// corpus returns the training sentences for vocab, normalised into words:
// vocab's phrases (twice: the business's own words weigh more), its words
// alone and in carrier phrases, and the built-in receptionist corpus.
func corpus(vocab agent.Vocabulary) ([][]string, error) {
	cls := map[string][]string{
		"time":    times(),
		"ordinal": ordinalDays(),
		"phone":   phoneNumbers(),
	}
	for k, v := range classes {
		cls[k] = v
	}
	var out [][]string
	add := func(text string) {
		out = append(out, sentences(text)...)
	}
	builtin, err := expand(builtinTemplates, cls)
	if err != nil {
		return nil, err
	}
	for _, s := range builtin {
		add(s)
	}
	for range 2 {
		for _, p := range vocab.Phrases {
			add(p)
		}
	}
	var ws []string
	for _, w := range vocab.Words {
		if w = strings.Join(words(w), " "); w != "" {
			ws = append(ws, w)
		}
	}
	if len(ws) > 0 {
		wt, err := expand(wordTemplates, map[string][]string{"word": ws})
		if err != nil {
			return nil, err
		}
		for _, s := range wt {
			add(s)
		}
	}
	return out, nil
}
