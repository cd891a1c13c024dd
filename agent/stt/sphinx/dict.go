package sphinx

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
)

// reducedDict returns the pronunciation dictionary for words, in
// pocketsphinx's format ("word PH ON ES", alternates as "word(2) …"),
// taken from the full dictionary at path. Words the dictionary lacks are
// given to guess (letter to sound), when not nil; words without any
// pronunciation are returned in missing, for the caller to drop from the
// language model. A decoder with the reduced dictionary starts in a few
// milliseconds instead of the 200 ms the full 134,000 words take.
func reducedDict(path string, words []string, guess func(string) (string, bool)) (dict []byte, missing []string, err error) {
	want := make(map[string]bool, len(words))
	for _, w := range words {
		want[w] = true
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open dictionary: %w", err)
	}
	defer f.Close()
	found := make(map[string][]string, len(words))
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		head, phones, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		base := head
		if i := strings.IndexByte(head, '('); i > 0 {
			base = head[:i]
		}
		if want[base] {
			found[base] = append(found[base], strings.Join(strings.Fields(phones), " "))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("read dictionary %s: %w", path, err)
	}
	sorted := slices.Sorted(func(yield func(string) bool) {
		for w := range want {
			if !yield(w) {
				return
			}
		}
	})
	var buf bytes.Buffer
	for _, w := range sorted {
		prons := found[w]
		if len(prons) == 0 && guess != nil {
			if p, ok := guess(w); ok {
				prons = []string{p}
			}
		}
		if len(prons) == 0 {
			missing = append(missing, w)
			continue
		}
		for i, p := range prons {
			if i == 0 {
				fmt.Fprintf(&buf, "%s %s\n", w, p)
			} else {
				fmt.Fprintf(&buf, "%s(%d) %s\n", w, i+1, p)
			}
		}
	}
	return buf.Bytes(), missing, nil
}

// cmuPhones is the phone set of the en-us acoustic model (besides SIL).
var cmuPhones = map[string]bool{
	"AA": true, "AE": true, "AH": true, "AO": true, "AW": true, "AY": true, "B": true, "CH": true,
	"D": true, "DH": true, "EH": true, "ER": true, "EY": true, "F": true, "G": true, "HH": true,
	"IH": true, "IY": true, "JH": true, "K": true, "L": true, "M": true, "N": true, "NG": true,
	"OW": true, "OY": true, "P": true, "R": true, "S": true, "SH": true, "T": true, "TH": true,
	"UH": true, "UW": true, "V": true, "W": true, "Y": true, "Z": true, "ZH": true,
}

// fliteToCMU maps flite's lexicon phones (lower case, vowels with a
// stress digit, "ax" for schwa, "pau" for pauses) onto the acoustic
// model's phone set; ok is false when a phone has no counterpart.
func fliteToCMU(phones []string) (string, bool) {
	out := make([]string, 0, len(phones))
	for _, p := range phones {
		p = strings.ToUpper(strings.TrimRight(p, "0123456789"))
		switch p {
		case "PAU", "":
			continue
		case "AX":
			p = "AH"
		case "AXR":
			p = "ER"
		}
		if !cmuPhones[p] {
			return "", false
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return "", false
	}
	return strings.Join(out, " "), true
}
