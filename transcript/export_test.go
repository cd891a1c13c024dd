package transcript

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestExportGolden writes the sample call in each export format and
// compares with testdata/sample.*; go test -run Golden -update rewrites
// them after a deliberate change.
func TestExportGolden(t *testing.T) {
	tr := sampleLog(t, t.TempDir())
	for _, f := range []struct {
		ext   string
		write func(*bytes.Buffer) error
	}{
		{"json", func(b *bytes.Buffer) error { return tr.WriteJSON(b) }},
		{"txt", func(b *bytes.Buffer) error { return tr.WriteText(b) }},
		{"vtt", func(b *bytes.Buffer) error { return tr.WriteVTT(b) }},
	} {
		t.Run(f.ext, func(t *testing.T) {
			var buf bytes.Buffer
			if err := f.write(&buf); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "sample."+f.ext)
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got := buf.String(); got != string(want) {
				t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
}

func TestJSONRoundTrip(t *testing.T) {
	tr := sampleLog(t, t.TempDir())
	var buf bytes.Buffer
	if err := tr.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back Transcript
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, tr) {
		t.Errorf("JSON round trip =\n%+v\nwant\n%+v", back, tr)
	}
	var empty bytes.Buffer
	(&Transcript{Meta: testMeta("e")}).WriteJSON(&empty)
	if !strings.Contains(empty.String(), `"turns": []`) || strings.Contains(empty.String(), "ended_at") {
		t.Errorf("empty transcript JSON = %s, want turns [] and no ended_at", empty.String())
	}
}

// TestVTTValid checks the WebVTT export against the format's rules.
func TestVTTValid(t *testing.T) {
	tr := sampleLog(t, t.TempDir())
	// Hostile text: cue terminators, tags, entities, blank lines.
	tr.Turns = append(tr.Turns,
		Turn{Speaker: Caller, Text: "a\n\nb --> c <b>bold</b> &amp; \r\n", StartMS: 20000, EndMS: 20000},
		Turn{Speaker: "robot", Text: "who?", StartMS: 21000, EndMS: 22000},
	)
	var buf bytes.Buffer
	if err := tr.WriteVTT(&buf); err != nil {
		t.Fatal(err)
	}
	if err := checkVTT(buf.String()); err != "" {
		t.Errorf("invalid WebVTT: %s\n%s", err, buf.String())
	}
}

var (
	vttTiming  = regexp.MustCompile(`^(\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3}) --> (\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3})$`)
	vttPayload = regexp.MustCompile(`^<v (Caller|Agent|System|Unknown)>([^<>]*)</v>$`)
	vttEntity  = regexp.MustCompile(`&(amp|lt|gt);`)
)

// checkVTT returns what breaks the WebVTT rules the export must keep, ""
// when nothing does: the header, blocks separated by one blank line, cue
// timings HH:MM:SS.mmm with the end after the start and starts in order,
// one payload line in a voice span with no raw '<', '>' or bare '&', and no
// "-->" outside the timing line.
func checkVTT(s string) string {
	if !strings.HasPrefix(s, "WEBVTT\n\n") {
		return "no WEBVTT header line followed by a blank line"
	}
	if !strings.HasSuffix(s, "\n\n") || strings.Contains(s, "\n\n\n") || strings.Contains(s, "\r") {
		return "blocks not separated by exactly one blank line"
	}
	var prev int64 = -1
	cues := 0
	for _, block := range strings.Split(strings.TrimSuffix(s, "\n\n"), "\n\n")[1:] {
		lines := strings.Split(block, "\n")
		if strings.HasPrefix(lines[0], "NOTE") {
			if strings.Contains(block, "-->") {
				return "NOTE holds -->"
			}
			continue
		}
		if len(lines) != 3 {
			return "cue of " + strings.Join(lines, "|") + ": want id, timing, one payload line"
		}
		m := vttTiming.FindStringSubmatch(lines[1])
		if m == nil {
			return "bad timing line " + lines[1]
		}
		ms := func(h, mi, se, f string) int64 {
			n := func(x string) int64 {
				var v int64
				for _, c := range x {
					v = v*10 + int64(c-'0')
				}
				return v
			}
			return ((n(h)*60+n(mi))*60+n(se))*1000 + n(f)
		}
		start, end := ms(m[1], m[2], m[3], m[4]), ms(m[5], m[6], m[7], m[8])
		if end <= start || start < prev {
			return "cue times out of order: " + lines[1]
		}
		prev = start
		p := vttPayload.FindStringSubmatch(lines[2])
		if p == nil || strings.Contains(lines[2], "-->") {
			return "bad payload " + lines[2]
		}
		if strings.Count(p[2], "&") != len(vttEntity.FindAllString(p[2], -1)) {
			return "bare & in " + lines[2]
		}
		cues++
	}
	if cues == 0 {
		return "no cues"
	}
	return ""
}
