package recording

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/media"
	"github.com/frontdesk/frontdesk/recording/crypt"
)

// testKeyring returns a keyring with one fixed KEK, the same in a crash
// test's child process; t may be nil there.
func testKeyring(t testing.TB) *crypt.Keyring {
	kr := crypt.NewKeyring()
	if err := kr.Add("test-1", bytes.Repeat([]byte{7}, crypt.KeySize)); err != nil {
		panic(err) // a constant key: cannot fail
	}
	return kr
}

// ramp returns n samples start, start+1, ...: every sample distinct and
// non-zero, so that a misplaced one shows.
func ramp(start, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(start + i)
	}
	return s
}

// readBack opens id's recording and returns its channels.
func readBack(t *testing.T, dir, id string, kr *crypt.Keyring) (left, right []int16, p *Playback) {
	t.Helper()
	p, err := Open(dir, id, kr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	a, err := media.ReadWAV(p.NewReader())
	if err != nil {
		t.Fatal(err)
	}
	if a.Channels != 2 {
		t.Fatalf("%d channels, want 2", a.Channels)
	}
	left, right = media.Deinterleave(nil, nil, a.Samples)
	return left, right, p
}

func TestRecorderAlignment(t *testing.T) {
	kr := testKeyring(t)
	dir := t.TempDir()
	r, err := Create(dir, "CA1", Options{Rate: 8000, Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	wantL := make([]int16, 0, 1000)
	wantR := make([]int16, 1200)
	step := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	step(r.WriteCaller(ramp(1, 160))) // 0..160: the agent is silent
	wantL = append(wantL, ramp(1, 160)...)
	step(r.WriteAgent(ramp(5000, 100))) // played now: at 160
	copy(wantR[160:], ramp(5000, 100))
	step(r.WriteAgent(ramp(6000, 100))) // right after: 260, ahead of the caller
	copy(wantR[260:], ramp(6000, 100))
	step(r.WriteAgentAt(500, ramp(7000, 50))) // at 500: silence 360..500
	copy(wantR[500:], ramp(7000, 50))
	step(r.WriteCaller(ramp(200, 240))) // 160..400
	wantL = append(wantL, ramp(200, 240)...)
	step(r.SkipCaller(200)) // 400..600: caller silent (DTX)
	wantL = append(wantL, make([]int16, 200)...)
	step(r.WriteAgentAt(300, ramp(8000, 20))) // 300 is written: goes to 600
	copy(wantR[600:], ramp(8000, 20))
	step(r.WriteAgentAt(610, ramp(9000, 10))) // 610 is taken: goes to 620
	copy(wantR[620:], ramp(9000, 10))
	if got := r.Position(); got != 600 {
		t.Errorf("Position() = %d, want 600", got)
	}
	step(r.WriteCaller(ramp(2000, 10))) // 600..610
	wantL = append(wantL, ramp(2000, 10)...)
	step(r.WriteAgentAt(700, ramp(9500, 50))) // past the caller's end: Close writes it
	copy(wantR[700:], ramp(9500, 50))
	st := r.Stats()
	if st.Frames != 610 || st.AgentShifted != 30 {
		t.Errorf("Stats = %+v, want 610 frames, 30 agent samples shifted", st)
	}
	step(r.Close())
	wantL = append(wantL, make([]int16, 750-len(wantL))...)
	wantR = wantR[:750]

	left, right, p := readBack(t, dir, "CA1", kr)
	if !slices.Equal(left, wantL) {
		t.Errorf("left channel: %d samples, want %d; first difference at %d", len(left), len(wantL), firstDiff(left, wantL))
	}
	if !slices.Equal(right, wantR) {
		t.Errorf("right channel: %d samples, want %d; first difference at %d", len(right), len(wantR), firstDiff(right, wantR))
	}
	if p.Duration() != 750*time.Second/8000 || p.Rate() != 8000 || p.Recovered() {
		t.Errorf("Duration, Rate, Recovered = %v, %d, %v; want 93.75ms, 8000, false", p.Duration(), p.Rate(), p.Recovered())
	}
}

func firstDiff(a, b []int16) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestRecorderErrors(t *testing.T) {
	kr := testKeyring(t)
	dir := t.TempDir()
	for _, tt := range []struct {
		id   string
		opts Options
	}{
		{"../x", Options{Rate: 8000, Keyring: kr}},
		{"a", Options{Rate: 44100, Keyring: kr}},
		{"a", Options{Rate: 8000}},
	} {
		if _, err := Create(dir, tt.id, tt.opts); err == nil {
			t.Errorf("Create(%q, rate %d, keyring %v): no error", tt.id, tt.opts.Rate, tt.opts.Keyring != nil)
		}
	}
	r, err := Create(dir, "a", Options{Rate: 16000, Keyring: kr, MaxAgentLead: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Create(dir, "a", Options{Rate: 16000, Keyring: kr}); !errors.Is(err, os.ErrExist) {
		t.Errorf("second Create of one id: err = %v, want ErrExist", err)
	}
	if err := r.WriteAgent(make([]int16, 1601)); !errors.Is(err, ErrAgentAhead) {
		t.Errorf("agent 100.06 ms ahead: err = %v, want ErrAgentAhead", err)
	}
	if err := r.WriteAgent(make([]int16, 1600)); err != nil {
		t.Errorf("agent 100 ms ahead: %v", err)
	}
	if err := r.WriteAgentAt(-1, nil); err == nil {
		t.Error("negative position: no error")
	}
	if err := r.SkipCaller(-1); err == nil {
		t.Error("negative skip: no error")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if err := r.WriteCaller(make([]int16, 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("write after Close: err = %v, want ErrClosed", err)
	}
}

// TestRecorderConcurrent writes the caller and the agent from two
// goroutines, as a call does: whatever the interleaving, the left channel
// is the caller's audio and the right one holds every agent sample, in
// order, never overwritten.
func TestRecorderConcurrent(t *testing.T) {
	kr := testKeyring(t)
	dir := t.TempDir()
	r, err := Create(dir, "CAconc", Options{Rate: 8000, Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	const frames = 400
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range frames {
			if err := r.WriteCaller(ramp(i*160+1, 160)); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Go(func() {
		for i := range frames / 2 {
			for r.Position() < int64(i)*320 { // a pacer: one frame per two caller frames
				time.Sleep(time.Microsecond)
			}
			if err := r.WriteAgent(ramp(1+i*160, 160)); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	left, right, _ := readBack(t, dir, "CAconc", kr)
	if want := ramp(1, frames*160); !slices.Equal(left[:len(want)], want) {
		t.Errorf("left channel differs from the caller's audio at %d", firstDiff(left, want))
	}
	var agent []int16
	for _, s := range right {
		if s != 0 {
			agent = append(agent, s)
		}
	}
	if want := ramp(1, frames/2*160); !slices.Equal(agent, want) {
		t.Errorf("right channel holds %d agent samples, want all %d in order", len(agent), len(want))
	}
	if st := r.Stats(); st.AgentShifted != 0 {
		t.Errorf("AgentShifted = %d, want 0 for WriteAgent", st.AgentShifted)
	}
}

func TestFlushEverySecondOfAudio(t *testing.T) {
	kr := testKeyring(t)
	r, err := Create(t.TempDir(), "f", Options{Rate: 16000, Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	frame := make([]int16, 320)
	for range 50*2 + 25 { // 2.5 s
		r.WriteCaller(frame)
	}
	if got := r.Stats().Flushes; got != 2 {
		t.Errorf("Flushes after 2.5 s = %d, want 2", got)
	}
	r.Flush()
	if got := r.Stats().Flushes; got != 3 {
		t.Errorf("Flushes after Flush = %d, want 3", got)
	}
}

// TestRecorderAllocs: once warmed up, a frame each way allocates nothing.
func TestRecorderAllocs(t *testing.T) {
	r, err := Create(t.TempDir(), "allocs", Options{Rate: 8000, Keyring: testKeyring(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	caller, agent := media.Sine(8000, 440, 20*time.Millisecond, 0.3), media.Sine(8000, 1000, 20*time.Millisecond, 0.3)
	for range 100 {
		r.WriteAgent(agent)
		r.WriteCaller(caller)
	}
	allocs := testing.AllocsPerRun(500, func() {
		r.WriteAgent(agent)
		r.WriteCaller(caller)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per frame, want 0", allocs)
	}
}

func TestPlaybackRangeAndSox(t *testing.T) {
	kr := testKeyring(t)
	dir := t.TempDir()
	r, err := Create(dir, "CAplay", Options{Rate: 16000, Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	caller := media.Sine(16000, 440, 2500*time.Millisecond, 0.5)
	agent := media.Sine(16000, 1000, time.Second, 0.5)
	r.WriteAgentAt(8000, agent)
	for f := range slices.Chunk(caller, 320) {
		if err := r.WriteCaller(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	p, err := Open(dir, "CAplay", kr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if want := int64(44 + 40000*4); p.Size() != want {
		t.Fatalf("Size() = %d, want %d", p.Size(), want)
	}
	whole, err := io.ReadAll(p.NewReader())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(whole[36:40]), "data"; got != want {
		t.Fatalf("bytes 36..40 = %q, want %q", got, want)
	}
	if size := int(whole[40]) | int(whole[41])<<8 | int(whole[42])<<16 | int(whole[43])<<24; size != 160000 {
		t.Errorf("data size in the header = %d, want 160000 (repaired)", size)
	}
	for _, rng := range [][2]int64{{0, 10}, {40, 100}, {43, 45}, {80_000, 90_000}, {p.Size() - 7, p.Size()}} {
		b := make([]byte, rng[1]-rng[0])
		if n, err := p.ReadAt(b, rng[0]); n != len(b) || err != nil || !bytes.Equal(b, whole[rng[0]:rng[1]]) {
			t.Errorf("ReadAt(%d..%d) = %d, %v; equal to the sequential read: %v", rng[0], rng[1], n, err, bytes.Equal(b[:n], whole[rng[0]:rng[0]+int64(n)]))
		}
	}
	if n, err := p.ReadAt(make([]byte, 10), p.Size()-4); n != 4 || err != io.EOF {
		t.Errorf("ReadAt over the end = %d, %v; want 4, EOF", n, err)
	}

	// SoX, an independent reader, agrees on the format and the length.
	sox, err := exec.LookPath("sox")
	if err != nil {
		t.Skip("sox not installed: skipping the independent check")
	}
	path := filepath.Join(t.TempDir(), "out.wav")
	os.WriteFile(path, whole, 0o600)
	out, err := exec.Command(sox, "--i", path).CombinedOutput()
	if err != nil {
		t.Fatalf("sox --i: %v: %s", err, out)
	}
	for _, want := range []string{"Channels       : 2", "Sample Rate    : 16000", "Duration       : 00:00:02.50 = 40000 samples", "16-bit Signed Integer PCM"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("sox --i lacks %q:\n%s", want, out)
		}
	}
}

// goertzel returns the power of freq in pcm.
func goertzel(pcm []int16, rate int, freq float64) float64 {
	w := 2 * math.Pi * freq / float64(rate)
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range pcm {
		s1, s2 = float64(x)+c*s1-s2, s1
	}
	return s1*s1 + s2*s2 - c*s1*s2
}
