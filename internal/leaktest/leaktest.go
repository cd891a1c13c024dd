// Package leaktest fails a test that leaves goroutines behind, in the manner
// of pion's test.CheckRoutines: snapshot the goroutines at the start, and at
// cleanup wait a few seconds for every new one to end.
package leaktest

import (
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// Check registers a cleanup that fails t if goroutines started during the
// test are still running a few seconds after it.
func Check(t testing.TB) {
	t.Helper()
	before := ids(stacks())
	t.Cleanup(func() {
		var extra []string
		deadline := time.Now().Add(5 * time.Second)
		for {
			extra = extra[:0]
			for _, g := range stacks() {
				if !slices.Contains(before, id(g)) && !benign(g) {
					extra = append(extra, g)
				}
			}
			if len(extra) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if len(extra) > 0 {
			t.Errorf("%d goroutines leaked:\n\n%s", len(extra), strings.Join(extra, "\n\n"))
		}
	})
}

func stacks() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	gs := strings.Split(string(buf), "\n\n")
	return gs[1:] // the first is this goroutine
}

func id(g string) string {
	head, _, _ := strings.Cut(g, "[")
	return strings.TrimSpace(head)
}

func ids(gs []string) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = id(g)
	}
	return out
}

// benign goroutines belong to the runtime or the test framework.
func benign(g string) bool {
	for _, s := range []string{
		"testing.(*T).Run", "testing.tRunner", "testing.runFuzzing",
		"created by runtime.gc", "signal.signal_recv", "runtime.ensureSigM",
		"net/http.(*persistConn)", // idle keep-alive clients of http.DefaultTransport
	} {
		if strings.Contains(g, s) && !strings.Contains(g, "frontdesk") {
			return true
		}
	}
	return strings.Contains(g, "testing.(*T).Parallel") || strings.Contains(g, "testing.tRunner.func")
}
