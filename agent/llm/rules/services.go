package rules

import (
	"math"
	"strings"

	"github.com/frontdesk/frontdesk/agent/tools"
	"github.com/frontdesk/frontdesk/configs"
)

// serviceMatcher finds the configured services an utterance names. Each
// service is the set of terms of its name (generic words such as "teeth"
// or "visit" left out); a term said scores its IDF across the services,
// a synonym of it ("checkup" for "exam") 0.8 of that. The matcher is
// immutable after newServiceMatcher.
type serviceMatcher struct {
	names []string
	terms [][]string
	idf   map[string]float64
}

// genericServiceWords appear in service names without telling them apart
// or are said in other senses ("my tooth hurts").
var genericServiceWords = set("tooth", "teeth", "hair", "visit", "appointment", "service", "treatment", "session",
	"and", "with", "for", "the", "a", "an", "s", "full", "standard", "basic")

// serviceSynonyms: a word the caller says → service-name terms it also
// points to, at reduced weight.
var serviceSynonyms = map[string][]string{
	// "checkup" may be an exam or a children's checkup; "exam" is an exam.
	"checkup": {"exam"}, "examination": {"exam"}, "check": {"checkup", "exam"},
	"clean": {"hygiene"}, "hygiene": {"clean"}, "whiten": {"bleach"}, "bleach": {"whiten"}, "white": {"whiten"},
	"fill": {"cavity"}, "cavity": {"fill"}, "child": {"kid", "pediatric"}, "son": {"child"}, "daughter": {"child"},
	"boy": {"child"}, "girl": {"child"}, "baby": {"child"}, "toddler": {"child"}, "pediatric": {"child"},
	"haircut": {"cut"}, "trim": {"cut"}, "cut": {"haircut"}, "dye": {"colour"}, "highlight": {"colour"},
	"tint": {"colour"}, "blowout": {"blowdry"}, "blowdry": {"blow", "dry"}, "xray": {"exam"},
	"consult": {"consultation"}, "consultation": {"consult"},
}

func serviceTerms(name string) []string {
	var out []string
	for _, w := range normalizeWords(tools.Words(name)) {
		if _, g := genericServiceWords[w]; g {
			continue
		}
		t := tools.Stem(canonical(w))
		if t == "" || contains(out, t) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// canonical folds plurals and spellings the stemmer does not.
func canonical(w string) string {
	switch w {
	case "children", "kids", "kid", "childrens", "childs":
		return "child"
	case "x", "rays":
		return "xray"
	}
	return w
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func newServiceMatcher(svcs []configs.Service) *serviceMatcher {
	m := &serviceMatcher{idf: map[string]float64{}}
	df := map[string]int{}
	for _, s := range svcs {
		ts := serviceTerms(s.Name)
		m.names = append(m.names, s.Name)
		m.terms = append(m.terms, ts)
		for _, t := range ts {
			df[t]++
		}
	}
	for t, n := range df {
		m.idf[t] = math.Log(1 + float64(len(svcs))/float64(n))
	}
	return m
}

// match returns the services the utterance names: one when it is clear,
// several when they score too close to choose (the caller is asked), none
// when no service is named.
func (m *serviceMatcher) match(u *utterance) []int {
	if len(m.names) == 0 || len(u.words) == 0 {
		return nil
	}
	said := make([]string, 0, len(u.words))
	for _, w := range u.words {
		if _, g := genericServiceWords[w]; g {
			continue
		}
		said = append(said, tools.Stem(canonical(w)))
	}
	scores := make([]float64, len(m.names))
	best := 0.0
	for i, ts := range m.terms {
		for _, t := range ts {
			weight := 0.0
			for _, s := range said {
				if s == t {
					weight = 1
					break
				}
				for _, syn := range serviceSynonyms[s] {
					if syn == t {
						weight = max(weight, 0.8)
					}
				}
			}
			scores[i] += weight * m.idf[t]
		}
		best = max(best, scores[i])
	}
	if best == 0 {
		return nil
	}
	var out []int
	for i, s := range scores {
		if s >= 0.8*best-1e-9 {
			out = append(out, i)
		}
	}
	return out
}

// spokenService says a service in a sentence: lowercase, with an article
// when article is true ("a cleaning", "an exam and x-rays").
func spokenService(name string, article bool) string {
	s := strings.ToLower(name)
	if !article || s == "" {
		return s
	}
	if strings.IndexByte("aeiou", s[0]) >= 0 {
		return "an " + s
	}
	return "a " + s
}
