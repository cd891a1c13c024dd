package transcript

import (
	"strings"
	"unicode"
)

// cutTurn applies the rule Log.Cut documents.
func cutTurn(t Turn, atMS int64) Turn {
	frac := 0.0
	if d := t.EndMS - t.StartMS; d > 0 && atMS > t.StartMS {
		frac = float64(atMS-t.StartMS) / float64(d)
	}
	t.Text = cutText(t.Text, frac)
	t.EndMS = max(atMS, t.StartMS)
	t.Interrupted = true
	return t
}

// cutText keeps the part of text heard when frac of it was played.
func cutText(text string, frac float64) string {
	rs := []rune(text)
	h := frac * float64(len(rs))
	tol := float64(max(3, len(rs)/20))
	sentence, word := 0, 0
	for p := 1; p <= len(rs); p++ {
		atEnd := p == len(rs) || unicode.IsSpace(rs[p])
		if !atEnd || unicode.IsSpace(rs[p-1]) {
			continue
		}
		if strings.ContainsRune(".!?…", rs[p-1]) && float64(p) <= h+tol {
			sentence = p
		}
		if float64(p) <= h {
			word = p
		}
	}
	if sentence > 0 {
		return strings.TrimRightFunc(string(rs[:sentence]), unicode.IsSpace)
	}
	return strings.TrimRightFunc(string(rs[:word]), unicode.IsSpace)
}
