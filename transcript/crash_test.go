package transcript

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/recording/crypt"
)

const (
	crashEnv   = "FRONTDESK_TRANSCRIPT_CRASH_DIR"
	crashID    = "CAcrash"
	crashTurns = 25
)

func crashTurn(i int) Turn {
	sp := []Speaker{Caller, Agent}[i%2]
	return Turn{Speaker: sp, Text: fmt.Sprintf("turn %d: %s", i, "some words said on the call"), StartMS: int64(i) * 2000, EndMS: int64(i)*2000 + 1500, Confidence: 0.9}
}

// runCrashChild logs a call's turns, a cut and the disclosure, says
// "ready" and waits to be killed: it never ends or closes the log.
func runCrashChild(dir string) {
	l, err := Create(dir, testMeta(crashID), Options{Keyring: testKeyring()})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	l.Disclosed()
	for i := range crashTurns {
		if _, err := l.Append(crashTurn(i)); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
	}
	if _, err := l.Cut(crashTurns-2, crashTurn(crashTurns-2).StartMS+100); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	time.Sleep(time.Minute) // killed long before
	os.Exit(2)
}

// TestCrashKeepsFinishedTurns logs a call in a child process, SIGKILLs it,
// recovers the log and checks every turn written before the kill is there.
func TestCrashKeepsFinishedTurns(t *testing.T) {
	if dir := os.Getenv(crashEnv); dir != "" {
		runCrashChild(dir)
		return
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashKeepsFinishedTurns$")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child said %q, %v; want ready", line, err)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	var exit *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want killed by SIGKILL", err)
	}

	kr := testKeyring()
	if _, err := Open(dir, crashID, kr); !errors.Is(err, crypt.ErrTruncated) {
		t.Fatalf("open before recovery: err = %v, want ErrTruncated", err)
	}
	ids, err := Recover(dir, kr)
	if err != nil || !slices.Equal(ids, []string{crashID}) {
		t.Fatalf("Recover = %v, %v; want [%s], nil", ids, err, crashID)
	}
	got, err := Open(dir, crashID, kr)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Turns) != crashTurns {
		t.Fatalf("recovered %d turns, want all %d", len(got.Turns), crashTurns)
	}
	for i, tu := range got.Turns {
		want := crashTurn(i)
		if i == crashTurns-2 {
			want = cutTurn(want, want.StartMS+100)
		}
		if tu != want {
			t.Errorf("turn %d = %+v, want %+v", i, tu, want)
		}
	}
	if !got.DisclosureGiven || !got.EndedAt.IsZero() || got.Outcome != "" {
		t.Errorf("disclosure %v, ended %v, outcome %q; want true and no end", got.DisclosureGiven, got.EndedAt, got.Outcome)
	}
}
