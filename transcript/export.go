package transcript

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// WriteJSON writes the whole transcript as one indented JSON object: the
// metadata fields and "turns", in the order they finished.
func (t *Transcript) WriteJSON(w io.Writer) error {
	c := *t
	if c.Turns == nil {
		c.Turns = []Turn{} // "turns": [] rather than null
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // a file, not HTML: keep "&" readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(&c); err != nil {
		return fmt.Errorf("transcript: write JSON: %w", err)
	}
	return nil
}

// spoken returns the turns with text, ordered by start time (stable, so
// turns starting together keep the order they finished in): the order a
// reader and WebVTT want.
func (t *Transcript) spoken() []Turn {
	var out []Turn
	for _, tu := range t.Turns {
		if strings.TrimSpace(tu.Text) != "" {
			out = append(out, tu)
		}
	}
	slices.SortStableFunc(out, func(a, b Turn) int { return cmp.Compare(a.StartMS, b.StartMS) })
	return out
}

// oneLine folds line breaks and other control characters into spaces, so
// a turn is one line of text or one cue line.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == '\n' || r == '\r' || r == '\t' || r == '\u2028' || r == '\u2029' || r < 0x20 || r == 0x7f
	}), " ")
}

// WriteText writes a plain-text transcript: a header with the call's
// metadata, a blank line, then one line per turn with text, in order of
// start time: "[00:03] Caller: …" ("[1:02:03]" past an hour), an
// interrupted turn ending in " [interrupted]".
func (t *Transcript) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "Call %s for %s\n", t.CallID, t.BusinessID)
	if t.From != "" || t.To != "" {
		fmt.Fprintf(bw, "From %s to %s\n", orDash(t.From), orDash(t.To))
	}
	fmt.Fprintf(bw, "Started %s", t.StartedAt.UTC().Format(time.RFC3339))
	if !t.EndedAt.IsZero() {
		fmt.Fprintf(bw, ", ended %s (%s)", t.EndedAt.UTC().Format(time.RFC3339), t.EndedAt.Sub(t.StartedAt).Round(time.Second))
	} else {
		fmt.Fprint(bw, ", no end recorded")
	}
	if t.Outcome != "" {
		fmt.Fprintf(bw, ", outcome %s", oneLine(t.Outcome))
	}
	fmt.Fprintln(bw)
	if t.DisclosureGiven {
		fmt.Fprintln(bw, "Recording disclosure given")
	} else {
		fmt.Fprintln(bw, "No recording disclosure recorded")
	}
	if p := t.RecordingStoppedMS; p != nil {
		fmt.Fprintf(bw, "Recording stopped at %s at the caller's request\n", clock(*p))
	}
	fmt.Fprintln(bw)
	for _, tu := range t.spoken() {
		fmt.Fprintf(bw, "[%s] %s: %s", clock(tu.StartMS), tu.Speaker.Label(), oneLine(tu.Text))
		if tu.Interrupted {
			fmt.Fprint(bw, " [interrupted]")
		}
		fmt.Fprintln(bw)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("transcript: write text: %w", err)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// clock formats ms as m:ss with two-digit minutes, h:mm:ss past an hour.
func clock(ms int64) string {
	s := ms / 1000
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}

// WriteVTT writes the transcript as WebVTT captions: the "WEBVTT" header,
// a NOTE naming the call, then one cue per turn with text, in order of
// start time, numbered from 1, timed HH:MM:SS.mmm, its text in a voice
// span ("<v Caller>…</v>") with &, < and > escaped and line breaks folded,
// so no text can end a cue or forge a tag. A cue lasts at least 1 ms, as
// WebVTT wants its end after its start.
func (t *Transcript) WriteVTT(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprint(bw, "WEBVTT\n\n")
	// Ids are [A-Za-z0-9_-] (checked on write and read): safe in a NOTE.
	fmt.Fprintf(bw, "NOTE call %s, business %s\n\n", t.CallID, t.BusinessID)
	for i, tu := range t.spoken() {
		end := max(tu.EndMS, tu.StartMS+1)
		fmt.Fprintf(bw, "%d\n%s --> %s\n<v %s>%s</v>\n\n", i+1, vttTime(tu.StartMS), vttTime(end), tu.Speaker.Label(), vttEscape.Replace(oneLine(tu.Text)))
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("transcript: write WebVTT: %w", err)
	}
	return nil
}

var vttEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func vttTime(ms int64) string {
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}
