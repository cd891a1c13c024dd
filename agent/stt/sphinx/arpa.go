package sphinx

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"
)

// The language model is a trigram model with interpolated Kneser-Ney
// smoothing and one absolute discount D for every order, written as ARPA
// text, which pocketsphinx reads directly (Debian has no LM toolkit).
//
// Why Kneser-Ney: the corpus is small and skewed (template expansion makes
// "at" follow hundreds of times, the business's own words a few), and KN's
// lower orders count the contexts a word continues rather than its raw
// frequency, so a word is not made likely in new contexts just because
// one template repeats it. Why interpolated: a seen trigram still gets
// some of its bigram's mass, which helps the held-out sentences that mix
// known pieces. Interpolated KN fits the ARPA backoff format exactly: the
// stored probabilities are the interpolated ones and each context's
// backoff weight is its interpolation weight D·N1+(h•)/c(h).
//
// Why a small discount (DefaultDiscount, 0.3 rather than the textbook
// 0.75): the corpus is the domain, not a sample of it, so the model
// should believe it, and keep just enough mass for recombinations the
// held-out test needs. Measured with the round-trip test, see
// docs/speech.md.

// DefaultDiscount is the Kneser-Ney discount when Options.Discount is 0.
const DefaultDiscount = 0.3

const (
	bos = "<s>"
	eos = "</s>"
)

type (
	bigram  [2]int32
	trigram [3]int32
)

// buildARPA estimates the trigram model of sents (sentences of words)
// and returns it as ARPA text, with the sorted vocabulary (without the
// sentence markers). d is the discount, in (0, 1).
func buildARPA(sents [][]string, d float64) (arpa []byte, vocab []string, err error) {
	if d <= 0 || d >= 1 {
		return nil, nil, fmt.Errorf("discount %v out of (0, 1)", d)
	}
	if len(sents) == 0 {
		return nil, nil, fmt.Errorf("empty corpus")
	}
	ids := map[string]int32{bos: 0, eos: 1}
	names := []string{bos, eos}
	id := func(w string) int32 {
		i, ok := ids[w]
		if !ok {
			i = int32(len(names))
			ids[w] = i
			names = append(names, w)
		}
		return i
	}
	c3 := map[trigram]float64{}
	c2raw := map[bigram]float64{} // only those starting with <s>
	for _, s := range sents {
		if len(s) == 0 {
			continue
		}
		seq := make([]int32, 0, len(s)+2)
		seq = append(seq, 0)
		for _, w := range s {
			seq = append(seq, id(w))
		}
		seq = append(seq, 1)
		c2raw[bigram{0, seq[1]}]++
		for i := 2; i < len(seq); i++ {
			c3[trigram{seq[i-2], seq[i-1], seq[i]}]++
		}
	}

	// Kneser-Ney counts for the lower orders: the number of distinct
	// words a lower-order n-gram follows, except for n-grams that start
	// with <s>, which nothing can precede and which keep their raw count.
	c2 := map[bigram]float64{}
	for g := range c3 {
		c2[bigram{g[1], g[2]}]++
	}
	for g, c := range c2raw {
		c2[g] = c
	}
	c1 := make([]float64, len(names))
	for g := range c2 {
		c1[g[1]]++
	}

	// Unigrams interpolate with the uniform distribution over every word
	// that can be predicted (all but <s>).
	var total1, types1 float64
	for w := 1; w < len(names); w++ {
		total1 += c1[w]
		if c1[w] > 0 {
			types1++
		}
	}
	p1 := make([]float64, len(names))
	for w := 1; w < len(names); w++ {
		p1[w] = math.Max(c1[w]-d, 0)/total1 + d*types1/total1/float64(len(names)-1)
	}

	// Bigram and trigram context totals and type counts.
	type ctx struct{ total, types float64 }
	h2 := map[int32]ctx{}
	for g, c := range c2 {
		x := h2[g[0]]
		x.total += c
		x.types++
		h2[g[0]] = x
	}
	h3 := map[bigram]ctx{}
	for g, c := range c3 {
		k := bigram{g[0], g[1]}
		x := h3[k]
		x.total += c
		x.types++
		h3[k] = x
	}
	gamma2 := func(v int32) float64 { x := h2[v]; return d * x.types / x.total }
	p2 := func(g bigram) float64 {
		x := h2[g[0]]
		return (c2[g]-d)/x.total + gamma2(g[0])*p1[g[1]]
	}

	// Write in a stable order: by words.
	order := func(a, b []int32) int {
		for i := range a {
			if c := strings.Compare(names[a[i]], names[b[i]]); c != 0 {
				return c
			}
		}
		return 0
	}
	uni := make([]int32, 0, len(names))
	for i := range names {
		uni = append(uni, int32(i))
	}
	slices.SortFunc(uni, func(a, b int32) int { return strings.Compare(names[a], names[b]) })
	bis := make([]bigram, 0, len(c2))
	for g := range c2 {
		bis = append(bis, g)
	}
	slices.SortFunc(bis, func(a, b bigram) int { return order(a[:], b[:]) })
	tris := make([]trigram, 0, len(c3))
	for g := range c3 {
		tris = append(tris, g)
	}
	slices.SortFunc(tris, func(a, b trigram) int { return order(a[:], b[:]) })

	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	fmt.Fprintf(w, "\\data\\\nngram 1=%d\nngram 2=%d\nngram 3=%d\n\n\\1-grams:\n", len(uni), len(bis), len(tris))
	for _, u := range uni {
		p := -99.0 // <s> is never predicted
		if u != 0 {
			p = math.Log10(p1[u])
		}
		if _, isCtx := h2[u]; isCtx {
			fmt.Fprintf(w, "%.6f %s %.6f\n", p, names[u], math.Log10(gamma2(u)))
		} else {
			fmt.Fprintf(w, "%.6f %s\n", p, names[u])
		}
	}
	fmt.Fprintf(w, "\n\\2-grams:\n")
	for _, g := range bis {
		if x, isCtx := h3[g]; isCtx {
			fmt.Fprintf(w, "%.6f %s %s %.6f\n", math.Log10(p2(g)), names[g[0]], names[g[1]], math.Log10(d*x.types/x.total))
		} else {
			fmt.Fprintf(w, "%.6f %s %s\n", math.Log10(p2(g)), names[g[0]], names[g[1]])
		}
	}
	fmt.Fprintf(w, "\n\\3-grams:\n")
	for _, g := range tris {
		x := h3[bigram{g[0], g[1]}]
		p := (c3[g]-d)/x.total + d*x.types/x.total*p2(bigram{g[1], g[2]})
		fmt.Fprintf(w, "%.6f %s %s %s\n", math.Log10(p), names[g[0]], names[g[1]], names[g[2]])
	}
	fmt.Fprintf(w, "\n\\end\\\n")
	if err := w.Flush(); err != nil {
		return nil, nil, err
	}
	vocab = slices.Clone(names[2:])
	slices.Sort(vocab)
	return buf.Bytes(), vocab, nil
}
