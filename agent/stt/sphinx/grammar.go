package sphinx

import (
	"regexp"
	"slices"
	"strings"

	"github.com/frontdesk/frontdesk/agent"
)

// Grammars for the closed questions, in JSGF. A grammar recognises only
// its sentences, so a yes/no answer or a phone number comes out right far
// more often than through the free language model (3 % WER against 7 %
// measured, embedded-speech.md) — and off-grammar speech comes out as
// some grammar sentence, so the confidence still matters.
var grammars = map[agent.Hint]string{
	agent.HintYesNo: `#JSGF V1.0;
grammar yesno;
public <answer> = [<lead>] (<yes> | <no>) [<tail>] | <stop>;
<lead> = oh | well;
` + yesNoRules + stopRule,
	agent.HintDigits: `#JSGF V1.0;
grammar digits;
public <number> = [<lead>] <digit>+ | <stop>;
<lead> = my number is | my phone number is | it's | it is | the number is | sure it's;
<digit> = zero | oh | one | two | three | four | five | six | seven | eight | nine |
          double <single>;
<single> = zero | oh | one | two | three | four | five | six | seven | eight | nine;
` + stopRule,
	// A caller asked for a day or time may also answer yes or no ("any
	// time tomorrow?" "yes"), pick an offered time ("the first one"), or
	// call it off: without these the grammar forces "no" into a time.
	agent.HintTime: `#JSGF V1.0;
grammar time;
public <when> = [<lead>] ( [<rel>] <day> [[at] <time> | <part>] | [at] <time> [[<rel>] <day>] | <part> ) |
                [oh | well] (<yes> | <no>) [<tail>] | <pick> | <stop>;
<lead> = how about | what about | can i come in | is there anything | i'd like | i would like | maybe;
<rel> = on | this | next;
<day> = monday | tuesday | wednesday | thursday | friday | saturday | sunday |
        today | tomorrow | the day after tomorrow | next week;
<hour> = one | two | three | four | five | six | seven | eight | nine | ten | eleven | twelve;
<min> = oh five | ten | fifteen | twenty | twenty five | thirty | thirty five | forty |
        forty five | fifty | fifty five;
<ampm> = a m | p m;
<time> = <hour> [<min>] [<ampm>] | <hour> o'clock [<ampm>] | half past <hour> |
         quarter past <hour> | quarter to <hour> | noon | midday |
         <hour> in the (morning | afternoon | evening);
<part> = morning | afternoon | evening | in the morning | in the afternoon | in the evening |
         first thing | anytime;
<pick> = [i'll take] the (first | second | third) one | first available | the first available;
` + yesNoRules + stopRule,
}

// yesNoRules are the answers of the yes/no grammar, shared by the grammars
// of other closed questions.
const yesNoRules = `<yes> = yes | yeah | yep | sure | okay | correct | right | that's right | that's correct |
        absolutely | of course | please | yes please | sounds good | go ahead | that works;
<no> = no | nope | no thanks | no thank you | not really | that's wrong | that's not right |
       wrong | not now | i don't think so | no it isn't;
<tail> = please | thanks | thank you | that's right | that's fine;
`

// stopRule is a caller calling off what the question was for, in every
// closed grammar.
const stopRule = `<stop> = cancel | cancel that | cancel it | never mind | forget it | forget about it |
         stop | i changed my mind;
`

var (
	jsgfRuleRef = regexp.MustCompile(`<[a-z]+>`)
	jsgfWord    = regexp.MustCompile(`[a-z']+`)
)

// grammarWords returns the words of every grammar, sorted, for the
// dictionary: a grammar word missing from it makes the search fail.
func grammarWords() []string {
	seen := map[string]bool{}
	for _, g := range grammars {
		for _, line := range strings.Split(g, ";") {
			_, body, ok := strings.Cut(line, "=")
			if !ok {
				continue
			}
			for _, w := range jsgfWord.FindAllString(jsgfRuleRef.ReplaceAllString(body, " "), -1) {
				seen[w] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for w := range seen {
		out = append(out, w)
	}
	slices.Sort(out)
	return out
}
