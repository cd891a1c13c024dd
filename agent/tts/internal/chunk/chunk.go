// Package chunk holds what the embedded synthesisers share: cutting a reply
// into sentences, so the first sentence can play while the next is being
// synthesised, and handing a sentence's audio out in short chunks with a
// context check between them, so a barge-in stops the audio at once.
package chunk

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxSentence is the length in bytes above which a sentence is cut again at
// a comma (or, failing that, a space), so that one long run-on sentence
// does not delay the first audio by its whole synthesis time.
const MaxSentence = 240

// abbreviations never end a sentence when followed by a period ("Dr. Lee").
// Lower case, without the period.
var abbreviations = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "dr": true, "prof": true, "st": true,
	"mt": true, "jr": true, "sr": true, "vs": true, "etc": false, "e.g": true,
	"i.e": true, "no": false, "ave": true, "approx": true, "dept": true,
	"a.m": false, "p.m": false,
}

// Sentences splits text into the sentences to synthesise one by one, in
// order, trimmed. Pieces without a letter or digit (stray punctuation) are
// dropped, so empty or blank text gives none.
func Sentences(text string) []string {
	var out []string
	add := func(s string) {
		s = strings.TrimSpace(s)
		if !hasWord(s) {
			return
		}
		for len(s) > MaxSentence {
			cut := splitLong(s)
			if head := strings.TrimSpace(s[:cut]); hasWord(head) {
				out = append(out, head)
			}
			s = strings.TrimSpace(s[cut:])
		}
		if hasWord(s) {
			out = append(out, s)
		}
	}
	start := 0
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch r {
		case '\n', '\r':
			add(text[start:i])
			start = i + size
		case ';':
			add(text[start : i+size])
			start = i + size
		case '.', '!', '?', '…':
			// Take the run of terminators and closing quotes or brackets.
			j := i + size
			for j < len(text) {
				r2, s2 := utf8.DecodeRuneInString(text[j:])
				if !strings.ContainsRune(".!?…\"'”’)]", r2) {
					break
				}
				j += s2
			}
			if j < len(text) {
				next, _ := utf8.DecodeRuneInString(text[j:])
				if !unicode.IsSpace(next) { // "3.5", "a.m.", "example.com"
					i = j
					continue
				}
			}
			if r == '.' && j == i+size && !endsSentence(text[start:i], text[j:]) {
				i = j
				continue
			}
			add(text[start:j])
			start = j
			i = j
			continue
		}
		i += size
	}
	add(text[start:])
	return out
}

// endsSentence reports whether a single period after before ends the
// sentence, given the text after it.
func endsSentence(before, after string) bool {
	k := strings.LastIndexFunc(before, unicode.IsSpace)
	word := strings.ToLower(strings.TrimLeft(before[k+1:], "(\"'“‘"))
	if n := utf8.RuneCountInString(word); n == 1 {
		// An initial, as in "J. Smith" — but not a digit: "at 5. Then".
		r, _ := utf8.DecodeRuneInString(word)
		return !unicode.IsLetter(r)
	}
	never, known := abbreviations[word]
	if !known {
		return true
	}
	if never {
		return false
	}
	// "a.m." and friends end a sentence only before a capital.
	rest := strings.TrimLeftFunc(after, unicode.IsSpace)
	r, _ := utf8.DecodeRuneInString(rest)
	return rest == "" || unicode.IsUpper(r)
}

// splitLong returns where to cut s (longer than MaxSentence): after the
// last comma within the limit, else at the last space, else at the limit on
// a rune boundary.
func splitLong(s string) int {
	head := s[:MaxSentence]
	if k := strings.LastIndexAny(head, ",;:"); k > MaxSentence/4 {
		return k + 1
	}
	if k := strings.LastIndexFunc(head, unicode.IsSpace); k > 0 {
		return k
	}
	k := MaxSentence
	for k > 0 && !utf8.RuneStart(s[k]) {
		k--
	}
	if k == 0 {
		return MaxSentence
	}
	return k
}

func hasWord(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0
}

// Emit hands pcm to out in chunks of at most n samples, checking ctx before
// each chunk. It returns ctx's error if ctx ends first, else out's first
// error. The chunks are subslices of pcm: the caller must not reuse pcm, so
// out may keep them.
func Emit(ctx context.Context, pcm []int16, n int, out func([]int16) error) error {
	if n <= 0 {
		n = len(pcm)
	}
	for len(pcm) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		k := min(n, len(pcm))
		if err := out(pcm[:k:k]); err != nil {
			return err
		}
		pcm = pcm[k:]
	}
	return nil
}
