package sphinx

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/frontdesk/frontdesk/agent"
)

// modelText is a built language model and dictionary for one vocabulary,
// as the text pocketsphinx reads.
type modelText struct {
	arpa    []byte
	dict    []byte
	words   int      // in the language model
	dropped []string // words with no pronunciation, left out
}

// vocabKey identifies a vocabulary whatever the order of its phrases and
// words, so that one business's calls share one model.
func vocabKey(vocab agent.Vocabulary, discount float64) [32]byte {
	h := sha256.New()
	put := func(list []string) {
		s := slices.Clone(list)
		slices.Sort(s)
		s = slices.Compact(s)
		binary.Write(h, binary.LittleEndian, uint64(len(s)))
		for _, x := range s {
			binary.Write(h, binary.LittleEndian, uint64(len(x)))
			h.Write([]byte(x))
		}
	}
	put(vocab.Phrases)
	put(vocab.Words)
	binary.Write(h, binary.LittleEndian, discount)
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// buildModel builds the trigram model and reduced dictionary of vocab
// plus the built-in corpus. Words that neither the dictionary at dictPath
// nor guess can pronounce are dropped with the sentences holding them: a
// model word missing from the dictionary would be silently ignored by the
// decoder anyway, and a sentence with a hole would teach false trigrams.
//
// holdOut (tests only) removes the given normalised sentences from the
// corpus, built-in ones included, to measure recognition of sentences the
// model has never seen.
func buildModel(vocab agent.Vocabulary, dictPath string, discount float64, guess func(string) (string, bool), holdOut map[string]bool) (*modelText, error) {
	sents, err := corpus(vocab)
	if err != nil {
		return nil, fmt.Errorf("sphinx: build corpus: %w", err)
	}
	if len(holdOut) > 0 {
		kept := sents[:0]
		for _, s := range sents {
			if !holdOut[strings.Join(s, " ")] {
				kept = append(kept, s)
			}
		}
		sents = kept
	}
	seen := map[string]bool{}
	var all []string
	for _, s := range sents {
		for _, w := range s {
			if !seen[w] {
				seen[w] = true
				all = append(all, w)
			}
		}
	}
	for _, w := range grammarWords() {
		if !seen[w] {
			seen[w] = true
			all = append(all, w)
		}
	}
	dict, missing, err := reducedDict(dictPath, all, guess)
	if err != nil {
		return nil, fmt.Errorf("sphinx: build dictionary: %w", err)
	}
	if len(missing) > 0 {
		gone := map[string]bool{}
		for _, w := range missing {
			gone[w] = true
		}
		kept := sents[:0]
		for _, s := range sents {
			if !slices.ContainsFunc(s, func(w string) bool { return gone[w] }) {
				kept = append(kept, s)
			}
		}
		sents = kept
	}
	arpa, lmWords, err := buildARPA(sents, discount)
	if err != nil {
		return nil, fmt.Errorf("sphinx: build language model: %w", err)
	}
	for _, w := range grammarWords() {
		if slices.Contains(missing, w) {
			return nil, fmt.Errorf("sphinx: build dictionary: grammar word %q has no pronunciation in %s", w, dictPath)
		}
	}
	return &modelText{arpa: arpa, dict: dict, words: len(lmWords), dropped: missing}, nil
}

// String summarises the model for logs.
func (m *modelText) String() string {
	return fmt.Sprintf("%d words, %d KB ARPA, dropped [%s]", m.words, len(m.arpa)/1024, strings.Join(m.dropped, " "))
}
