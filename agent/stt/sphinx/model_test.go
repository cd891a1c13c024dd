package sphinx

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/frontdesk/frontdesk/agent"
)

const cmudict = "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict"

func TestWords(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"Can I book a Cleaning?", "can i book a cleaning"},
		{"We open at 9am and close at 5:30 PM", "we open at nine a m and close at five thirty p m"},
		{"at 9 am", "at nine a m"},
		{"10:30", "ten thirty"},
		{"9:05", "nine oh five"},
		{"9:00", "nine o'clock"},
		{"9:00am", "nine a m"},
		{"14:15", "two fifteen"},
		{"on the 21st", "on the twenty first"},
		{"the 3rd of May", "the third of may"},
		{"call 555-0123", "call five five five zero one two three"},
		{"(415) 555-0123", "four one five five five five zero one two three"},
		{"5550123", "five five five zero one two three"},
		{"It’s $50", "it's fifty dollars"},
		{"Smith & Sons", "smith and sons"},
		{"2024", "two thousand twenty four"},
		{"100%", "one hundred percent"},
		{"'quoted' words", "quoted words"},
		{"x-ray", "x ray"},
	}
	for _, tt := range tests {
		if got := strings.Join(words(tt.in), " "); got != tt.want {
			t.Errorf("words(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	got := sentences("Hi. We open at 9 a.m. on Monday! Ok?")
	want := [][]string{{"hi"}, {"we", "open", "at", "nine", "a", "m", "on", "monday"}, {"ok"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sentences = %q, want %q", got, want)
	}
}

// arpaModel is a tiny ARPA reader that scores by backoff, to check the
// model is a proper distribution.
type arpaModel struct {
	prob, bow map[string]float64
	vocab     []string
}

func readARPA(t *testing.T, text []byte) *arpaModel {
	t.Helper()
	m := &arpaModel{prob: map[string]float64{}, bow: map[string]float64{}}
	order := 0
	counts := map[int]int{}
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "" || line == `\data\` || line == `\end\`:
			continue
		case strings.HasPrefix(line, "ngram "):
			continue
		case strings.HasSuffix(line, "-grams:"):
			order = int(line[1] - '0')
			continue
		}
		f := strings.Fields(line)
		p, err := strconv.ParseFloat(f[0], 64)
		if err != nil || len(f) < order+1 || len(f) > order+2 {
			t.Fatalf("bad ARPA line %q", line)
		}
		key := strings.Join(f[1:order+1], " ")
		m.prob[key] = p
		if len(f) == order+2 {
			b, err := strconv.ParseFloat(f[order+1], 64)
			if err != nil {
				t.Fatalf("bad backoff in %q", line)
			}
			m.bow[key] = b
		}
		if order == 1 && f[1] != bos {
			m.vocab = append(m.vocab, f[1])
		}
		counts[order]++
	}
	for o := 1; o <= 3; o++ {
		if !bytes.Contains(text, []byte("ngram "+strconv.Itoa(o)+"="+strconv.Itoa(counts[o])+"\n")) {
			t.Errorf("header count of %d-grams does not match the %d entries", o, counts[o])
		}
	}
	return m
}

// logp returns log10 P(w | ctx) by backoff.
func (m *arpaModel) logp(ctx []string, w string) float64 {
	for {
		key := strings.Join(append(append([]string{}, ctx...), w), " ")
		if p, ok := m.prob[key]; ok {
			return p
		}
		if len(ctx) == 0 {
			return math.Inf(-1)
		}
		bow := m.bow[strings.Join(ctx, " ")]
		return bow + m.logp(ctx[1:], w)
	}
}

func TestARPANormalised(t *testing.T) {
	sents := [][]string{
		{"i", "would", "like", "to", "book"},
		{"i", "would", "like", "a", "cleaning"},
		{"book", "a", "cleaning", "on", "monday"},
		{"yes"}, {"yes", "please"}, {"no"}, {"no", "thanks"},
		{"on", "monday", "at", "ten"}, {"at", "ten", "thirty"},
	}
	text, vocab, err := buildARPA(sents, 0.3)
	if err != nil {
		t.Fatal(err)
	}
	if len(vocab) != 16 {
		t.Errorf("vocabulary of %d words %q, want 16", len(vocab), vocab)
	}
	m := readARPA(t, text)
	contexts := [][]string{
		{bos}, {"i"}, {bos, "i"}, {"i", "would"}, {"would", "like"}, {"like"}, {"a", "cleaning"},
		{"on", "monday"}, {"thirty"}, {"monday", "yes"}, // last: an unseen context
		{bos, "yes"}, {"yes", "please"},
	}
	for _, ctx := range contexts {
		sum := 0.0
		for _, w := range m.vocab {
			sum += math.Pow(10, m.logp(ctx, w))
		}
		if math.Abs(sum-1) > 1e-4 {
			t.Errorf("Σ P(w | %q) = %.6f, want 1", ctx, sum)
		}
	}
	// The corpus's own continuations must dominate.
	if a, b := m.logp([]string{"i", "would"}, "like"), m.logp([]string{"i", "would"}, "monday"); a < b+1 {
		t.Errorf("log P(like | i would) = %.2f, not well above log P(monday | i would) = %.2f", a, b)
	}
	for _, d := range []float64{0, 1, -1, 2} {
		if _, _, err := buildARPA(sents, d); err == nil {
			t.Errorf("buildARPA(discount %v) = nil error, want one", d)
		}
	}
	if _, _, err := buildARPA(nil, 0.3); err == nil {
		t.Error("buildARPA(no sentences) = nil error, want one")
	}
}

func TestBuildModel(t *testing.T) {
	vocab := agent.Vocabulary{
		Phrases: []string{"Do you do teeth whitening?", "Is Doctor Zorblax in today?"},
		Words:   []string{"whitening", "Invisalign", "Zorblax"},
	}
	guessed := map[string]bool{}
	guess := func(w string) (string, bool) {
		guessed[w] = true
		if w == "invisalign" {
			return "IH N V IH Z AH L AY N", true
		}
		return "", false
	}
	m, err := buildModel(vocab, cmudict, DefaultDiscount, guess, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !guessed["zorblax"] || !guessed["invisalign"] || guessed["whitening"] {
		t.Errorf("guessed %v, want exactly the words missing from the dictionary", guessed)
	}
	if !reflect.DeepEqual(m.dropped, []string{"zorblax"}) {
		t.Errorf("dropped %q, want [zorblax]", m.dropped)
	}
	for _, want := range []string{"\ninvisalign IH N V IH Z AH L AY N\n", "\nwhitening ", "\ntuesday ", "\nthirty "} {
		if !bytes.Contains(m.dict, []byte(want)) {
			t.Errorf("dictionary lacks %q", want)
		}
	}
	if bytes.Contains(m.arpa, []byte("zorblax")) || bytes.Contains(m.dict, []byte("zorblax")) {
		t.Error("an unpronounceable word stayed in the model")
	}
	for _, want := range []string{" teeth whitening\n", " <s> my name\n", " ten thirty\n"} {
		if !bytes.Contains(m.arpa, []byte(want)) {
			t.Errorf("language model lacks the n-gram %q", strings.TrimSpace(want))
		}
	}
	// Every language-model word and grammar word is pronounceable.
	lm := readARPA(t, m.arpa)
	d := map[string]bool{}
	for _, line := range strings.Split(string(m.dict), "\n") {
		if w, _, ok := strings.Cut(line, " "); ok {
			d[w] = true
		}
	}
	for _, w := range append(lm.vocab, grammarWords()...) {
		if w != eos && !d[w] {
			t.Errorf("word %q has no pronunciation in the reduced dictionary", w)
		}
	}
	if m.words < 300 || m.words > 2000 {
		t.Errorf("model of %d words, want a few hundred", m.words)
	}
	if _, err := buildModel(vocab, "/nonexistent/dict", DefaultDiscount, nil, nil); err == nil || !strings.Contains(err.Error(), "dictionary") {
		t.Errorf("buildModel(missing dictionary) = %v, want a dictionary error", err)
	}
}

func TestVocabKey(t *testing.T) {
	a := agent.Vocabulary{Phrases: []string{"a", "b"}, Words: []string{"x"}}
	b := agent.Vocabulary{Phrases: []string{"b", "a", "a"}, Words: []string{"x"}}
	c := agent.Vocabulary{Phrases: []string{"a"}, Words: []string{"b", "x"}}
	if vocabKey(a, 0.3) != vocabKey(b, 0.3) {
		t.Error("order or duplicates changed the key")
	}
	if vocabKey(a, 0.3) == vocabKey(c, 0.3) || vocabKey(a, 0.3) == vocabKey(a, 0.4) {
		t.Error("different vocabularies share a key")
	}
}

func TestFliteToCMU(t *testing.T) {
	if got, ok := fliteToCMU([]string{"pau", "hh", "ax0", "l", "ow1", "axr"}); !ok || got != "HH AH L OW ER" {
		t.Errorf("fliteToCMU = %q, %v", got, ok)
	}
	if _, ok := fliteToCMU([]string{"q"}); ok {
		t.Error("fliteToCMU accepted an unknown phone")
	}
	if _, ok := fliteToCMU(nil); ok {
		t.Error("fliteToCMU accepted no phones")
	}
}

func TestDictFileExists(t *testing.T) {
	if _, err := os.Stat(cmudict); err != nil {
		t.Fatalf("the pocketsphinx-en-us package is needed: %v", err)
	}
}

// FuzzWords: normalisation never panics and yields words the language
// model file can hold (no spaces, no control characters, no empties).
func FuzzWords(f *testing.F) {
	for _, s := range []string{"Can I book at 9:30am?", "call (415) 555-0123", "$5.50 & 100%", "21st", "ǅ 𝔘 \x00 '''", "12:99pm", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, sent := range sentences(s) {
			if len(sent) == 0 {
				t.Fatalf("sentences(%q) gave an empty sentence", s)
			}
			for _, w := range sent {
				if w == "" || strings.ContainsFunc(w, func(r rune) bool { return r <= ' ' || r == 0x7f || r == utf8.RuneError }) {
					t.Fatalf("sentences(%q) gave word %q", s, w)
				}
			}
		}
	})
}
func TestCorpusSize(t *testing.T) {
	s, err := corpus(agent.Vocabulary{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d sentences", len(s))
	if len(s) < 1000 {
		t.Errorf("built-in corpus of %d sentences, want thousands", len(s))
	}
}
