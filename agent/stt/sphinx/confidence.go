package sphinx

import (
	"math"

	"github.com/frontdesk/frontdesk/agent"
)

// Confidence is a logistic function of two scores that tell in-domain
// speech from off-topic speech forced into in-domain words:
//
//   - the acoustic score per frame of the recognised words (a, in the
//     decoder's log base 1.0001). Pocketsphinx normalises every frame's
//     senone scores by the best one, so this is already a likelihood
//     ratio against an unconstrained senone loop: near 0 when the words
//     fit the sound, far below when the search had to force words onto
//     it.
//   - for the language model, the mean natural-log probability per word
//     (</s> included) of the result under the model (l): off-topic speech
//     comes out as word salad the model finds unlikely ("i want nine
//     donna there parking today").
//
// A grammar has no useful word probabilities; its second score is the
// acoustic score per frame of the whole utterance, silences included
// (aa), since off-grammar speech tends to be swallowed by silence or
// noise segments that then fit badly.
//
// The weights are a logistic regression of correct in-domain results
// against off-topic sentences, synthesised by flite voices slt and rms
// and sent over an 8 kHz μ-law line (docs/speech.md has the numbers):
//
//	free:    z = 0.22·(a + 30) + 1.65·(l + 4.7)
//	grammar: z = 0.20·(a + 30) + 0.18·(aa + 31)
//	confidence = 1 / (1 + e^-z)
//
// At DefaultThreshold (0.5) that accepts 98 % of correct in-vocabulary
// results, 97 % of correct held-out ones and no off-topic sentence (0/50)
// with the language model; 88 % of correct grammar answers and 1.4 % of
// off-topic speech with a grammar. Real callers score lower than synthetic voices:
// calibrate on recordings before trusting the numbers.
func confidence(r result, hint agent.Hint) float64 {
	if r.text == "" || r.words == 0 || r.wframes == 0 {
		return 0
	}
	a := r.ascr / float64(r.wframes)
	var z float64
	if hint == agent.HintFree {
		if r.lmTokens == 0 {
			return 0
		}
		l := r.lmLogP / float64(r.lmTokens)
		z = 0.22*(a+30) + 1.65*(l+4.7)
	} else {
		aa := a
		if r.allFrames > 0 {
			aa = r.allASCR / float64(r.allFrames)
		}
		z = 0.20*(a+30) + 0.18*(aa+31)
	}
	c := 1 / (1 + math.Exp(-z))
	if math.IsNaN(c) {
		return 0
	}
	return c
}

// result is an utterance's final hypothesis and the measures its
// confidence comes from.
type result struct {
	text      string
	frames    int     // 10 ms frames in the utterance
	words     int     // words in text
	wframes   int     // frames the words span
	ascr      float64 // acoustic score of the words, decoder log units
	allASCR   float64 // acoustic score of all segments, fillers included
	allFrames int
	lmLogP    float64 // ln P(text) under the language model (free search only)
	lmTokens  int     // words scored in lmLogP, </s> included
}
