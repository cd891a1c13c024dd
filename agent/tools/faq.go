package tools

import (
	"math"
	"strings"

	"github.com/frontdesk/frontdesk/configs"
)

// DefaultFAQThreshold is the score below which FAQIndex.Search finds no
// answer. It was set on the example businesses' paraphrases and off-topic
// questions (see faq_test.go): paraphrases score 0.5 and up, unrelated
// questions 0.35 and below.
const DefaultFAQThreshold = 0.45

// FAQIndex retrieves a business's FAQ answer for a caller's question.
//
// Every configured phrasing is a document, and each FAQ's keywords are one
// more; terms are lowercase words, stop words dropped, lightly stemmed and
// folded through a small synonym table (kids → child, cost → price). An FAQ
// scores the mean of two measures in [0, 1]: the best TF-IDF cosine between
// the question and one of its phrasings (how well one way of asking
// matches), and the share of the question's IDF weight that the FAQ's
// phrasings and keywords cover (how much of what the caller said this FAQ
// is about). Words the index has never seen weigh as much as its rarest
// words, so an off-topic question covers little and scores low.
//
// An FAQIndex is immutable after NewFAQIndex and safe for concurrent use.
type FAQIndex struct {
	faqs       []configs.FAQ
	phrasings  []phrasing
	vocab      []map[string]struct{} // per FAQ: terms of its phrasings and keywords
	idf        map[string]float64
	unknownIDF float64
	threshold  float64
}

type phrasing struct {
	faq   int
	text  string
	terms []string // distinct
	norm  float64  // Euclidean norm of the terms' IDF weights
}

// NewFAQIndex indexes faqs. threshold is the lowest score Search accepts;
// zero or less means DefaultFAQThreshold.
func NewFAQIndex(faqs []configs.FAQ, threshold float64) *FAQIndex {
	if threshold <= 0 {
		threshold = DefaultFAQThreshold
	}
	x := &FAQIndex{faqs: faqs, idf: map[string]float64{}, threshold: threshold}
	df := map[string]int{}
	docs := 0
	count := func(terms []string) {
		docs++
		for _, t := range terms {
			df[t]++
		}
	}
	for i, f := range faqs {
		v := map[string]struct{}{}
		for _, q := range f.Questions {
			terms := distinct(Terms(q))
			x.phrasings = append(x.phrasings, phrasing{faq: i, text: q, terms: terms})
			count(terms)
			for _, t := range terms {
				v[t] = struct{}{}
			}
		}
		var kw []string
		for _, k := range f.Keywords {
			kw = append(kw, Terms(k)...)
		}
		kw = distinct(kw)
		count(kw)
		for _, t := range kw {
			v[t] = struct{}{}
		}
		x.vocab = append(x.vocab, v)
	}
	for t, n := range df {
		x.idf[t] = math.Log(1 + float64(docs)/float64(n))
	}
	x.unknownIDF = math.Log(1 + float64(max(docs, 1)))
	for i := range x.phrasings {
		p := &x.phrasings[i]
		var s float64
		for _, t := range p.terms {
			s += x.idf[t] * x.idf[t]
		}
		p.norm = math.Sqrt(s)
	}
	return x
}

func (x *FAQIndex) weight(t string) float64 {
	if w, ok := x.idf[t]; ok {
		return w
	}
	return x.unknownIDF
}

// Match is the best FAQ for a question.
type Match struct {
	FAQ      int     // index into the configured FAQs; -1 when there are none
	Question string  // the phrasing that matched best
	Answer   string  // the FAQ's answer
	Score    float64 // in [0, 1]
}

// Best returns the best-scoring FAQ for question, whatever its score.
func (x *FAQIndex) Best(question string) Match {
	best := Match{FAQ: -1}
	q := distinct(Terms(question))
	if len(q) == 0 || len(x.faqs) == 0 {
		return best
	}
	var qnorm, qsum float64
	for _, t := range q {
		w := x.weight(t)
		qnorm += w * w
		qsum += w
	}
	qnorm = math.Sqrt(qnorm)
	cos := make([]float64, len(x.faqs))
	phr := make([]int, len(x.faqs))
	for i := range phr {
		phr[i] = -1
	}
	for i, p := range x.phrasings {
		if p.norm == 0 {
			continue
		}
		var dot float64
		for _, t := range q {
			if contains(p.terms, t) {
				w := x.idf[t]
				dot += w * w
			}
		}
		if c := dot / (qnorm * p.norm); c > cos[p.faq] || phr[p.faq] < 0 {
			cos[p.faq], phr[p.faq] = c, i
		}
	}
	for f := range x.faqs {
		var covered float64
		for _, t := range q {
			if _, ok := x.vocab[f][t]; ok {
				covered += x.weight(t)
			}
		}
		score := (cos[f] + covered/qsum) / 2
		if best.FAQ < 0 || score > best.Score {
			best = Match{FAQ: f, Answer: x.faqs[f].Answer, Score: score}
			if phr[f] >= 0 {
				best.Question = x.phrasings[phr[f]].text
			}
		}
	}
	return best
}

// Search returns the answer to question, or Found false when the best
// score is below the index's threshold.
func (x *FAQIndex) Search(question string) FAQResult {
	m := x.Best(question)
	res := FAQResult{Score: math.Round(m.Score*1000) / 1000}
	if m.FAQ >= 0 && m.Score >= x.threshold {
		res.Found, res.Answer, res.Question = true, m.Answer, m.Question
	}
	return res
}

// Threshold returns the lowest score Search accepts.
func (x *FAQIndex) Threshold() float64 { return x.threshold }

func contains(terms []string, t string) bool {
	for _, s := range terms {
		if s == t {
			return true
		}
	}
	return false
}

func distinct(terms []string) []string {
	out := terms[:0]
	for _, t := range terms {
		if !contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// Terms returns the retrieval terms of s: lowercase words (letters and
// digits; apostrophes dropped, so "what's" is "whats"), without stop
// words, folded through the synonym table and lightly stemmed.
func Terms(s string) []string {
	var out []string
	for _, w := range Words(s) {
		if _, stop := stopWords[w]; stop {
			continue
		}
		if syn, ok := synonyms[w]; ok {
			w = syn
		}
		out = append(out, Stem(w))
	}
	return out
}

// Words splits s into lowercase words of letters and digits (ASCII is
// lowercased, other UTF-8 letters are kept as they are);
// apostrophes inside words are dropped ("don't" is "dont") and any other
// character separates words.
func Words(s string) []string {
	var out []string
	var b []byte
	flush := func() {
		if len(b) > 0 {
			out = append(out, string(b))
			b = b[:0]
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		case (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'):
			b = append(b, c)
		case c == '\'':
			// inside a word: dropped; elsewhere a separator
			if len(b) == 0 {
				flush()
			}
		case c == 0xE2 && i+2 < len(s) && s[i+1] == 0x80 && s[i+2] == 0x99: // ’ as '
			i += 2
		case c >= 0x80: // other UTF-8 bytes: part of a word (names like "José")
			b = append(b, c)
		default:
			flush()
		}
	}
	flush()
	return out
}

// Stem strips common English inflections so that "cleaning", "cleanings"
// and "clean" meet; it is deliberately light (no dictionary) and only has
// to be consistent, since questions and phrasings go through it alike.
func Stem(w string) string {
	n := len(w)
	switch {
	case n > 4 && strings.HasSuffix(w, "ies"):
		w = w[:n-3] + "y"
	case n > 4 && strings.HasSuffix(w, "sses"):
		w = w[:n-2]
	case n > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") &&
		!strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		w = w[:n-1]
	}
	n = len(w)
	switch {
	case n > 5 && strings.HasSuffix(w, "ing"):
		w = w[:n-3]
	case n > 4 && strings.HasSuffix(w, "ed"):
		w = w[:n-2]
	}
	if n = len(w); n > 3 && w[n-1] == w[n-2] && strings.IndexByte("bdgmnprt", w[n-1]) >= 0 {
		w = w[:n-1] // getting → gett → get, stopped → stopp → stop
	}
	if n = len(w); n > 4 && w[n-1] == 'e' {
		w = w[:n-1]
	}
	return w
}

// stopWords carry no topic. Question words that do ("where", "when",
// "much") are kept.
var stopWords = setOf(
	"a", "an", "the", "i", "me", "my", "mine", "myself", "you", "your", "yours", "we", "our", "us",
	"it", "its", "this", "that", "these", "those", "there", "here", "they", "them", "their",
	"he", "she", "him", "her", "his", "is", "are", "am", "was", "were", "be", "been", "being",
	"do", "does", "did", "doing", "can", "could", "would", "should", "will", "shall", "may", "might",
	"to", "of", "in", "on", "at", "for", "with", "and", "or", "but", "if", "so", "as", "by", "from",
	"about", "into", "what", "whats", "which", "who", "how", "hows", "please", "hi", "hello", "hey",
	"um", "uh", "er", "ah", "oh", "like", "just", "have", "has", "had", "know", "want", "wanna",
	"wondering", "wonder", "tell", "any", "some", "im", "id", "ive", "ill", "youre", "dont", "doesnt",
	"okay", "ok", "yeah", "well", "also", "then", "guys", "gonna", "need", "get", "got", "go",
	"one", "thing", "things", "really", "quick", "question", "ask", "let", "lets", "thanks", "thank",
	"not", "no", "yes", "all", "very", "too", "again", "possible", "maybe", "something",
)

// synonyms fold words that callers use interchangeably onto one term,
// before stemming. Irregular plurals live here too.
var synonyms = map[string]string{
	"children": "child", "kids": "child", "kid": "child", "kiddo": "child",
	"teeth": "tooth", "cost": "price", "costs": "price", "prices": "price", "pricing": "price",
	"fee": "price", "fees": "price", "charge": "price", "expensive": "price", "cheap": "price",
	"located": "location", "locate": "location", "hurt": "pain", "hurts": "pain", "hurting": "pain",
	"painful": "pain", "ache": "pain", "aching": "pain", "sore": "pain",
	"broke": "broken", "cracked": "broken", "chipped": "broken", "opened": "open", "opens": "open",
	"closes": "close", "closed": "close", "closing": "close", "shut": "close",
	"xrays": "xray",
}

func setOf(words ...string) map[string]struct{} {
	m := make(map[string]struct{}, len(words))
	for _, w := range words {
		m[w] = struct{}{}
	}
	return m
}
