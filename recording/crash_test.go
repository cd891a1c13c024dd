package recording

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

	"github.com/frontdesk/frontdesk/media"
	"github.com/frontdesk/frontdesk/recording/crypt"
)

const (
	crashEnv   = "FRONTDESK_RECORDING_CRASH_DIR"
	crashID    = "CAcrash"
	crashRate  = 8000
	crashWrote = 5500 * time.Millisecond // what the child records before it is killed
)

// crashAudio is what the child records: a 440 Hz caller tone throughout
// and a 1 kHz agent tone from 1.0 s to 3.5 s, silence around it.
func crashAudio() (caller, agent []int16) {
	caller = media.Sine(crashRate, 440, crashWrote, 0.4)
	agent = make([]int16, len(caller))
	copy(agent[crashRate:], media.Sine(crashRate, 1000, 2500*time.Millisecond, 0.4))
	return caller, agent
}

// runCrashChild records like a call (20 ms frames, the agent placed 100 ms
// ahead of the caller as a pacer's lead), says "ready" and waits to be
// killed: it never closes the recording.
func runCrashChild(dir string) {
	r, err := Create(dir, crashID, Options{Rate: crashRate, Keyring: testKeyring(nil)})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	caller, agent := crashAudio()
	const frame, lead = 160, 800
	for pos := 0; pos < len(caller); pos += frame {
		if a := pos + lead; a < len(agent) && a >= crashRate && a < crashRate*7/2 {
			if err := r.WriteAgentAt(int64(a), agent[a:min(a+frame, crashRate*7/2)]); err != nil {
				fmt.Println("error:", err)
				os.Exit(1)
			}
		}
		if err := r.WriteCaller(caller[pos:min(pos+frame, len(caller))]); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
	}
	fmt.Println("ready")
	time.Sleep(time.Minute) // killed long before
	os.Exit(2)
}

// TestCrashRecovery records a call in a child process, SIGKILLs it
// mid-call, recovers the file and checks that it holds the audio up to the
// last whole second, each channel with its own content, sample for sample.
func TestCrashRecovery(t *testing.T) {
	if dir := os.Getenv(crashEnv); dir != "" {
		runCrashChild(dir)
		return
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashRecovery$")
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
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var exit *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want killed by SIGKILL", err)
	}

	kr := testKeyring(t)
	if _, err := Open(dir, crashID, kr); !errors.Is(err, crypt.ErrTruncated) {
		t.Fatalf("open before recovery: err = %v, want ErrTruncated", err)
	}
	ids, err := Recover(dir, kr)
	if err != nil || !slices.Equal(ids, []string{crashID}) {
		t.Fatalf("Recover = %v, %v; want [%s], nil", ids, err, crashID)
	}
	left, right, p := readBack(t, dir, crashID, kr)
	if !p.Recovered() {
		t.Error("Recovered() = false for a recovered file")
	}
	got := p.Duration()
	t.Logf("killed after %v of audio, recovered %v", crashWrote, got)
	if got < crashWrote-time.Second || got > crashWrote {
		t.Fatalf("recovered %v of audio, want between %v and %v", got, crashWrote-time.Second, crashWrote)
	}
	caller, agent := crashAudio()
	if i := firstDiff(left, caller); i < len(left) {
		t.Errorf("left channel differs from the caller's audio at sample %d", i)
	}
	if i := firstDiff(right, agent); i < len(right) {
		t.Errorf("right channel differs from the agent's audio at sample %d", i)
	}
	// The same by frequency, window by window, as a listener would check.
	const win = crashRate / 4
	for at := 0; at+win <= len(left); at += win {
		l, r := left[at:at+win], right[at:at+win]
		if goertzel(l, crashRate, 440) < 100*goertzel(l, crashRate, 1000) {
			t.Errorf("left at %v: 440 Hz does not dominate", media.Duration(crashRate, at))
		}
		talking := at >= crashRate && at < crashRate*7/2
		switch {
		case talking && goertzel(r, crashRate, 1000) < 100*goertzel(r, crashRate, 440):
			t.Errorf("right at %v: 1 kHz does not dominate", media.Duration(crashRate, at))
		case !talking && media.RMS(r) != 0:
			t.Errorf("right at %v: RMS %.1f, want silence", media.Duration(crashRate, at), media.RMS(r))
		}
	}
	if ids, err := Recover(dir, kr); len(ids) != 0 || err != nil {
		t.Errorf("second Recover = %v, %v; want nothing to do", ids, err)
	}
}
