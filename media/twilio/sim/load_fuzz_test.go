package sim_test

import (
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/media/twilio/sim"
)

// FuzzParseMetrics: the load tool reads whatever the server's /metrics
// answers; any text parses without panicking, and a well-formed sample
// line is read back.
func FuzzParseMetrics(f *testing.F) {
	f.Add("# HELP go_goroutines x\n# TYPE go_goroutines gauge\ngo_goroutines 12\n")
	f.Add(`frontdesk_outbound_frame_lateness_seconds_bucket{le="+Inf"} 3` + "\n")
	f.Add("x NaN\ny +Inf\nz\n \n")
	f.Add(strings.Repeat("a", 70000) + " 1\n")
	f.Fuzz(func(t *testing.T, text string) {
		_, _ = sim.ParseMetrics(strings.NewReader(text))
		if strings.ContainsAny(text, " \n\r#") {
			return
		}
		m, err := sim.ParseMetrics(strings.NewReader(text + " 42\n"))
		if err == nil && text != "" && m[text] != 42 {
			t.Fatalf("series %q: got %v, want 42", text, m[text])
		}
	})
}
