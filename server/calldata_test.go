package server

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/configs"
	"github.com/frontdesk/frontdesk/media"
	"github.com/frontdesk/frontdesk/recording"
	"github.com/frontdesk/frontdesk/recording/crypt"
	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/store/sqlite"
	"github.com/frontdesk/frontdesk/transcript"
)

// callsConfig is the API tests' config with the data directory dir and
// these plans (YAML flow mappings, e.g. "{recordings: 1h, transcripts: 2h}").
func callsConfig(dir, starter, pro string) string {
	cfg := strings.Replace(testConfig("Hello from the clinic."), "server:\n", fmt.Sprintf("server:\n  data_dir: %q\n", dir), 1)
	return cfg + fmt.Sprintf("plans:\n  starter: %s\n  pro: %s\n", starter, pro)
}

// testKeys is a fixed keyring in KeysEnv's format.
var testKeys = "k2:" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32))) +
	",k1:" + base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("j", 32)))

func testKeyring(t testing.TB) *crypt.Keyring {
	t.Helper()
	kr, err := LoadKeyring(&configs.Config{}, func(k string) (string, bool) { return testKeys, k == KeysEnv }, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// newCallsAPI is newAPIWith plus a data directory, plans and the call
// routes: a server on loopback with a real store and real files.
func newCallsAPI(t testing.TB, backend, starter, pro string, opts ...Option) (*apiEnv, string) {
	t.Helper()
	dir := t.TempDir()
	e := newAPIWith(t, backend, callsConfig(dir, starter, pro), append([]Option{WithKeyring(testKeyring(t))}, opts...)...)
	serveCallRoutes(t, e)
	return e, dir
}

// tone returns d of a sine at freq Hz.
func tone16(rate int, freq float64, d time.Duration) []int16 {
	n := int(d.Seconds() * float64(rate))
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(8000 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

// fakeCall runs a call's data through openCallData as a call would: two
// seconds of caller tone, agent tone, two turns, the disclosure; then
// closes it.
func fakeCall(t testing.TB, s *Server, biz, id, from string) store.Call {
	t.Helper()
	ctx := context.Background()
	b, ok := s.api.reg.config().Business(biz)
	if !ok {
		t.Fatalf("no business %s", biz)
	}
	d, err := s.openCallData(ctx, CallInfo{ID: id, Business: b, Transport: store.TransportTwilio, CarrierSID: "CA" + id,
		From: from, To: b.Numbers[0], Rate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Disclosed(ctx); err != nil {
		t.Fatal(err)
	}
	caller, agent := tone16(8000, 440, 2*time.Second), tone16(8000, 1000, time.Second)
	if err := d.AgentAudioAt(0, agent); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(caller); i += 160 { // 20 ms frames
		if err := d.CallerAudio(caller[i : i+160]); err != nil {
			t.Fatal(err)
		}
	}
	for _, turn := range []transcript.Turn{
		{Speaker: transcript.Agent, Text: "Hello, how can I help?", StartMS: 0, EndMS: 1000, Confidence: 1},
		{Speaker: transcript.Caller, Text: "I'd like a cleaning.", StartMS: 1100, EndMS: 1900, Confidence: 0.9},
	} {
		if _, err := d.Turn(turn); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(ctx, store.OutcomeCompleted); err != nil {
		t.Fatal(err)
	}
	c, err := s.api.store.Calls().Get(ctx, biz, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCallData(t *testing.T) {
	e, dir := newCallsAPI(t, "sqlite", "{recordings: 1h, transcripts: 2h}", "{recordings: 0s, transcripts: 2h}")
	ctx := context.Background()
	c := fakeCall(t, e.srv, "clinic", "call_one", "+12125550123")
	if c.Outcome != store.OutcomeCompleted || !c.Disclosed || c.EndedAt.IsZero() || c.RecordingID != "call_one" || c.TranscriptID != "call_one" ||
		!c.RecordingExpires.Equal(c.StartedAt.Add(time.Hour)) || !c.TranscriptExpires.Equal(c.StartedAt.Add(2*time.Hour)) ||
		c.From != "+12125550123" || c.To != clinicNumber || c.CarrierSID != "CAcall_one" || c.Transport != store.TransportTwilio {
		t.Errorf("call record: %+v", c)
	}
	for kind, due := range map[store.TimerKind]time.Time{store.TimerRecording: c.RecordingExpires, store.TimerTranscript: c.TranscriptExpires} {
		tm, err := e.st.Timers().Get(ctx, store.TimerID("clinic", kind, c.ID))
		if err != nil || !tm.Due.Equal(due) {
			t.Errorf("%s timer = %+v, %v; want due %v", kind, tm, err, due)
		}
	}
	p, err := recording.Open(filepath.Join(dir, "recordings"), c.ID, testKeyring(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	a, err := media.ReadWAV(p.NewReader())
	if err != nil {
		t.Fatal(err)
	}
	if a.Channels != 2 || a.Rate != 8000 || a.Frames() != 16000 {
		t.Errorf("recording: %d channels at %d Hz, %d frames; want stereo 8000 Hz, 16000 frames", a.Channels, a.Rate, a.Frames())
	}
	left, right := make([]int16, a.Frames()), make([]int16, a.Frames())
	for i := range left {
		left[i], right[i] = a.Samples[2*i], a.Samples[2*i+1]
	}
	if l, r := media.RMS(left), media.RMS(right[:8000]); l < 4000 || r < 4000 || media.RMS(right[8000:]) > 1 {
		t.Errorf("channels: caller RMS %.0f, agent RMS %.0f in its second, %.0f after", l, r, media.RMS(right[8000:]))
	}
	tr, err := transcript.Open(filepath.Join(dir, "transcripts"), c.ID, testKeyring(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Turns) != 2 || !tr.DisclosureGiven || tr.Outcome != "completed" || tr.From != "+12125550123" || tr.BusinessID != "clinic" {
		t.Errorf("transcript: %+v", tr)
	}

	// The salon's plan keeps no recordings: no audio is ever written.
	s := fakeCall(t, e.srv, "salon", "call_salon", "anonymous")
	if s.RecordingID != "" || !s.RecordingExpires.IsZero() || s.TranscriptID == "" || s.From != "" {
		t.Errorf("salon call: %+v", s)
	}
	if _, err := os.Stat(filepath.Join(dir, "recordings", "call_salon"+recording.Ext)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a recording was written under a plan that records nothing: %v", err)
	}
	if _, err := e.st.Timers().Get(ctx, store.TimerID("salon", store.TimerRecording, "call_salon")); err == nil {
		t.Error("a recording timer exists under a plan that records nothing")
	}

	if _, err := e.srv.openCallData(ctx, CallInfo{ID: "../evil", Business: &configs.Business{ID: "clinic"}}); err == nil {
		t.Error("openCallData accepted a traversal ID")
	}
	if _, err := e.srv.openCallData(ctx, CallInfo{ID: "call_one", Business: &configs.Business{ID: "clinic", Plan: "starter"}, Transport: store.TransportTwilio}); err == nil {
		t.Error("openCallData accepted an ID in use")
	}
}

// TestCallDataOptOut: after the caller opts out no more audio is
// recorded; what was recorded stays playable and the transcript says so.
func TestCallDataOptOut(t *testing.T) {
	e, dir := newCallsAPI(t, "sqlite", "{recordings: 1h, transcripts: 1h}", "{recordings: 1h, transcripts: 1h}")
	ctx := context.Background()
	b, _ := e.srv.api.reg.config().Business("clinic")
	d, err := e.srv.openCallData(ctx, CallInfo{ID: "call_optout", Business: b, Transport: store.TransportWebRTC, Rate: 16000})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.CallerAudio(tone16(16000, 440, 2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := d.StopRecording(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if err := d.StopRecording(ctx, ""); err != nil || d.Recording() {
		t.Errorf("second StopRecording: %v, recording %v", err, d.Recording())
	}
	for range 10 { // a second more after the opt-out: dropped
		if err := d.CallerAudio(make([]int16, 1600)); err != nil {
			t.Fatal(err)
		}
		if err := d.AgentAudio(make([]int16, 1600)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.Turn(transcript.Turn{Speaker: transcript.Caller, Text: "thanks", StartMS: 2500, EndMS: 2900, Confidence: 1}); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(ctx, store.OutcomeCompleted); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(ctx, store.OutcomeError); err != nil {
		t.Errorf("second Close: %v", err)
	}
	p, err := recording.Open(filepath.Join(dir, "recordings"), "call_optout", testKeyring(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Duration() != 2*time.Second {
		t.Errorf("recording lasts %v, want the 2s before the opt-out", p.Duration())
	}
	tr, err := transcript.Open(filepath.Join(dir, "transcripts"), "call_optout", testKeyring(t))
	if err != nil {
		t.Fatal(err)
	}
	if tr.RecordingStoppedMS == nil || *tr.RecordingStoppedMS != 2000 || len(tr.Turns) != 2 || tr.Turns[0].Speaker != transcript.System ||
		tr.Turns[0].Text != DefaultOptOutNote || tr.Outcome != "completed" {
		t.Errorf("transcript after opt-out: %+v", tr)
	}
	c, _ := e.st.Calls().Get(ctx, "clinic", "call_optout")
	if c.RecordingStoppedAt.IsZero() || c.Outcome != store.OutcomeCompleted || c.Transport != store.TransportWebRTC {
		t.Errorf("call record after opt-out: %+v", c)
	}
}

func TestLoadKeyring(t *testing.T) {
	log := &syncLog{}
	logger := slog.New(slog.NewTextHandler(log, nil))
	env := func(v string) func(string) (string, bool) {
		return func(k string) (string, bool) { return v, k == KeysEnv && v != "" }
	}
	dev, prod := &configs.Config{}, &configs.Config{Server: configs.Server{Mode: configs.ModeProduction}}
	kr, err := LoadKeyring(prod, env(testKeys), logger)
	if err != nil || kr.Current() != "k2" || len(kr.IDs()) != 2 {
		t.Fatalf("LoadKeyring = %v, %v; want k2 current of 2", kr, err)
	}
	secret := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("s", 31)))
	for _, bad := range []string{"k1", ":" + secret, "k1:" + secret, "k1:not base64!", testKeys + ",k2:" + base64.StdEncoding.EncodeToString(make([]byte, 32)), "bad id/:" + base64.StdEncoding.EncodeToString(make([]byte, 32))} {
		_, err := LoadKeyring(prod, env(bad), logger)
		if err == nil {
			t.Errorf("LoadKeyring(%q) succeeded", bad)
		} else if strings.Contains(err.Error(), secret) {
			t.Errorf("the error shows the key: %v", err)
		}
	}
	if _, err := LoadKeyring(prod, env(""), logger); err == nil || !strings.Contains(err.Error(), KeysEnv) {
		t.Errorf("production without keys: %v; want an error naming %s", err, KeysEnv)
	}
	kr, err = LoadKeyring(dev, env(""), logger)
	if err != nil || kr.Current() == "" {
		t.Fatalf("dev without keys: %v, %v", kr, err)
	}
	if !strings.Contains(log.String(), "level=WARN") || !strings.Contains(log.String(), "UNREADABLE") {
		t.Errorf("no loud warning in dev mode: %q", log.String())
	}

	// A production server without keys refuses to start.
	cfg, err := configs.Parse("t.yaml", []byte(strings.Replace(callsConfig(t.TempDir(), "{recordings: 1h, transcripts: 1h}", "{recordings: 1h, transcripts: 1h}"),
		"public_url: http://127.0.0.1:1", "mode: production\n  public_url: https://frontdesk.example", 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(KeysEnv, "")
	srv, err := New(cfg, logger)
	if err == nil {
		err = srv.setupCallData()
	}
	if err == nil || !strings.Contains(err.Error(), KeysEnv) {
		t.Errorf("a production server without recording keys: %v; want an error naming %s", err, KeysEnv)
	}
}

// TestRecoverAfterKill SIGKILLs a process in the middle of a recorded
// call, then recovers as the restarted server does: the call is marked
// interrupted, its recording plays up to the last second written and its
// transcript keeps every finished turn.
func TestRecoverAfterKill(t *testing.T) {
	if dir := os.Getenv("FRONTDESK_TEST_CALLDATA_CHILD"); dir != "" {
		callDataChild(t, dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRecoverAfterKill$")
	cmd.Env = append(os.Environ(), "FRONTDESK_TEST_CALLDATA_CHILD="+dir, KeysEnv+"="+testKeys)
	out := &syncLog{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := filepath.Join(dir, "ready")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child not ready:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = cmd.Wait()

	st, err := sqlite.Open(context.Background(), dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := childServer(t, dir, st)
	ids, err := srv.recoverCallData(context.Background())
	if err != nil || len(ids) != 1 || ids[0] != "call_killed" {
		t.Fatalf("recoverCallData = %v, %v", ids, err)
	}
	c, err := st.Calls().Get(context.Background(), "clinic", "call_killed")
	if err != nil || c.Outcome != store.OutcomeInterrupted {
		t.Fatalf("call after recovery: %+v, %v", c, err)
	}
	if d := c.EndedAt.Sub(c.StartedAt); d < 3*time.Second || d > 4*time.Second {
		t.Errorf("recovered call lasted %v, want 3-4s (what the files hold)", d)
	}
	p, err := recording.Open(filepath.Join(dir, "recordings"), "call_killed", testKeyring(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if !p.Recovered() || p.Duration() < 3*time.Second || p.Duration() > 3500*time.Millisecond {
		t.Errorf("recovered recording: %v long, recovered %v; want 3s (3.5s written, at most the last second lost)", p.Duration(), p.Recovered())
	}
	tr, err := transcript.Open(filepath.Join(dir, "transcripts"), "call_killed", testKeyring(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Turns) != 3 || !tr.DisclosureGiven {
		t.Errorf("recovered transcript: %d turns, disclosed %v; want 3 and true", len(tr.Turns), tr.DisclosureGiven)
	}
	if ids, err := srv.recoverCallData(context.Background()); err != nil || len(ids) != 0 {
		t.Errorf("second recovery = %v, %v; want nothing left", ids, err)
	}
}

func childServer(t testing.TB, dir string, st store.Store) *Server {
	cfg, err := configs.Parse("t.yaml", []byte(callsConfig(dir, "{recordings: 1h, transcripts: 1h}", "{recordings: 1h, transcripts: 1h}")), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(KeysEnv, testKeys)
	srv, err := New(cfg, slog.New(slog.DiscardHandler), WithStore(st)) // keys from KeysEnv
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// callDataChild records 3.5s of a call and three turns, says it is ready
// and waits to be killed.
func callDataChild(t *testing.T, dir string) {
	st, err := sqlite.Open(context.Background(), dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := childServer(t, dir, st)
	b, _ := srv.cfg.Business("clinic")
	ctx := context.Background()
	d, err := srv.openCallData(ctx, CallInfo{ID: "call_killed", Business: b, Transport: store.TransportTwilio, From: "+12125550123", Rate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Disclosed(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.CallerAudio(tone16(8000, 440, 3500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := d.Turn(transcript.Turn{Speaker: transcript.Caller, Text: fmt.Sprintf("turn %d", i), StartMS: int64(i) * 1000, EndMS: int64(i)*1000 + 900, Confidence: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "ready"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Minute) // killed long before
	t.Fatal("not killed")
}

// TestNilCallData: a call without call data goes on.
func TestNilCallData(t *testing.T) {
	var d *callData
	ctx := context.Background()
	if d.CallerAudio(make([]int16, 160)) != nil || d.CallerSilence(160) != nil || d.AgentAudio(nil) != nil || d.AgentAudioAt(0, nil) != nil ||
		d.Disclosed(ctx) != nil || d.StopRecording(ctx, "") != nil || d.SetLead(ctx, "l") != nil || d.Close(ctx, store.OutcomeCompleted) != nil ||
		d.Recording() || d.Transcribing() || d.Position() != 0 || d.ID() != "" {
		t.Error("a nil callData did something")
	}
	if i, err := d.Turn(transcript.Turn{}); i != -1 || err != nil {
		t.Errorf("Turn = %d, %v", i, err)
	}
	if _, err := d.Cut(0, 0); err != nil {
		t.Error(err)
	}
}

// TestCallDataAudioAllocs: the audio path allocates nothing per frame.
func TestCallDataAudioAllocs(t *testing.T) {
	e, _ := newCallsAPI(t, "sqlite", "{recordings: 1h, transcripts: 1h}", "{recordings: 1h, transcripts: 1h}")
	b, _ := e.srv.api.reg.config().Business("clinic")
	d, err := e.srv.openCallData(context.Background(), CallInfo{ID: "call_allocs", Business: b, Transport: store.TransportTwilio, Rate: 16000})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(context.Background(), store.OutcomeCompleted)
	frame := tone16(16000, 440, 20*time.Millisecond)
	for range 100 { // let the buffers grow
		d.CallerAudio(frame)
		d.AgentAudio(frame)
	}
	if n := testing.AllocsPerRun(200, func() {
		if err := d.CallerAudio(frame); err != nil {
			t.Fatal(err)
		}
		if err := d.AgentAudio(frame); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("%.1f allocations per frame, want 0", n)
	}
}

// BenchmarkCallDataSecond is one second of a call's audio (50 frames each
// way at 16 kHz) through callData: the recorder's cost plus the wrapper's.
func BenchmarkCallDataSecond(b *testing.B) {
	e, _ := newCallsAPI(b, "sqlite", "{recordings: 1h, transcripts: 1h}", "{recordings: 1h, transcripts: 1h}")
	biz, _ := e.srv.api.reg.config().Business("clinic")
	d, err := e.srv.openCallData(context.Background(), CallInfo{ID: "call_bench", Business: biz, Transport: store.TransportTwilio, Rate: 16000})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close(context.Background(), store.OutcomeCompleted)
	frame := tone16(16000, 440, 20*time.Millisecond)
	b.ReportAllocs()
	for b.Loop() {
		for range 50 {
			if err := d.CallerAudio(frame); err != nil {
				b.Fatal(err)
			}
			if err := d.AgentAudio(frame); err != nil {
				b.Fatal(err)
			}
		}
	}
}
