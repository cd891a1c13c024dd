package server_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/agent"
	"github.com/frontdesk/frontdesk/agent/tools"
	"github.com/frontdesk/frontdesk/agent/tts/flite"
	"github.com/frontdesk/frontdesk/internal/leaktest"
	"github.com/frontdesk/frontdesk/internal/servertest"
	"github.com/frontdesk/frontdesk/media"
	"github.com/frontdesk/frontdesk/media/twilio"
	"github.com/frontdesk/frontdesk/media/twilio/sim"
	"github.com/frontdesk/frontdesk/server"
)

// These tests hold real conversations: the real server in receptionist mode
// with the embedded engines (pocketsphinx, the rules engine, flite, WebRTC
// VAD), called by the real simulator speaking flite audio through 8 kHz
// μ-law, in real time.

// turns collects every finished turn the server reports.
type turns struct {
	mu sync.Mutex
	ts []agent.Turn
	on func(agent.Turn)
}

func (l *turns) add(_ string, t agent.Turn) {
	l.mu.Lock()
	l.ts = append(l.ts, t)
	on := l.on
	l.mu.Unlock()
	if on != nil {
		on(t)
	}
}

func (l *turns) all() []agent.Turn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]agent.Turn(nil), l.ts...)
}

// replyTo returns the first agent turn after the first caller turn whose
// text contains callerSaid.
func (l *turns) replyTo(callerSaid string) (caller, reply agent.Turn, ok bool) {
	ts := l.all()
	for i, t := range ts {
		if t.Speaker == "caller" && strings.Contains(t.Text, callerSaid) {
			for _, r := range ts[i+1:] {
				if r.Speaker == "agent" {
					return t, r, true
				}
			}
			return t, agent.Turn{}, false
		}
	}
	return agent.Turn{}, agent.Turn{}, false
}

func (l *turns) String() string {
	var b strings.Builder
	for _, t := range l.all() {
		b.WriteString(t.Speaker + ": " + t.Text)
		if t.Interrupted {
			b.WriteString(" [interrupted]")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func startAgentB(b *testing.B) (*servertest.Server, *turns) {
	log := &turns{}
	return servertest.StartWith(b, "receptionist", servertest.Options{Example: true, Server: []server.Option{server.WithTurns(log.add)}}), log
}

func startAgent(t *testing.T, opts ...server.Option) (*servertest.Server, *turns) {
	t.Helper()
	log := &turns{}
	opts = append(opts, server.WithTurns(log.add))
	srv := servertest.StartWith(t, "receptionist", servertest.Options{Example: true, Server: opts})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("conversation:\n%s", log)
		}
	})
	return srv, log
}

// speakB is speak for benchmarks.
func speakB(b *testing.B, lines ...string) [][]int16 { return speak(b, lines...) }

// speak synthesises lines as a caller on a phone line: 8 kHz.
func speak(t testing.TB, lines ...string) [][]int16 {
	t.Helper()
	tts, err := flite.New(flite.Options{Voice: "rms"})
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]int16, len(lines))
	for i, l := range lines {
		rs, _ := media.NewResampler(tts.Rate(), twilio.Rate)
		err := tts.Synthesize(context.Background(), l, func(pcm []int16) error {
			out[i] = rs.Process(out[i], pcm)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func exampleCall(srv *servertest.Server) sim.Options {
	return sim.Options{Server: srv.URL, AuthToken: servertest.AuthToken, From: "+12125550123", To: servertest.ExampleNumber}
}

func TestAgentAnswersHours(t *testing.T) {
	leaktest.Check(t)
	srv, log, st, key := recordedAgent(t)
	o := exampleCall(srv)
	o.Turns = speak(t, "what are your opening hours")
	res, err := sim.Call(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	caller, reply, ok := log.replyTo("hours")
	if !ok {
		t.Fatalf("no agent reply to an hours question")
	}
	// The configured hours: Mon–Fri 8–12 and 13–17, Sat 9–13.
	for _, want := range []string{"Monday to Friday", "8 AM", "5 PM", "Saturday"} {
		if !strings.Contains(reply.Text, want) {
			t.Errorf("reply %q does not say %q", reply.Text, want)
		}
	}
	if caller.Confidence < 0.5 {
		t.Errorf("caller turn %q has confidence %.2f", caller.Text, caller.Confidence)
	}
	if l := reply.Latency; l == nil || l.FirstAudio <= 0 || l.FirstMark < l.FirstAudio {
		t.Errorf("reply latency %+v: want first audio, then the first mark echoed", l)
	}
	// The caller heard the greeting and the reply.
	if len(res.TurnStarts) != 1 || media.RMS(res.Out[res.TurnStarts[0]:]) < 300 {
		t.Errorf("caller heard no reply (turn starts %v)", res.TurnStarts)
	}
	if len(res.MarksEchoed) == 0 || len(res.MarksEchoed) != len(res.Marks) {
		t.Errorf("marks sent %d, echoed %d", len(res.Marks), len(res.MarksEchoed))
	}
	// The reply's latency figures are stored with its turn, in ms.
	var tr struct {
		Turns []struct {
			Speaker string                 `json:"speaker"`
			Text    string                 `json:"text"`
			Latency map[string]json.Number `json:"latency"`
		} `json:"turns"`
	}
	if reply.Latency == nil {
		t.Fatal("the reply has no latency figures")
	}
	c := finishedCall(t, st, exampleBiz)
	if err := json.Unmarshal(getBody(t, srv.URL+"/v1/calls/"+c.ID+"/transcript", key), &tr); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, turn := range tr.Turns {
		if turn.Speaker != "agent" || !strings.Contains(turn.Text, "Saturday") {
			continue
		}
		found = true
		l := reply.Latency
		want := map[string]time.Duration{"stt_final_ms": l.STTFinal, "first_token_ms": l.FirstToken,
			"first_audio_ms": l.FirstAudio, "first_frame_ms": l.FirstFrame, "first_mark_ms": l.FirstMark}
		for k, d := range want {
			if got := turn.Latency[k].String(); got != strconv.FormatInt(d.Milliseconds(), 10) || d <= 0 {
				t.Errorf("transcript latency %s = %q, want %d ms (the session's figure)", k, got, d.Milliseconds())
			}
		}
	}
	if !found {
		t.Errorf("no reply about the hours in the transcript: %+v", tr.Turns)
	}
}

// TestAgentBooks books by voice and keypad, as a caller with a phone would:
// the result is exactly one appointment and one lead.
func TestAgentBooks(t *testing.T) {
	leaktest.Check(t)
	ny, _ := time.LoadLocation("America/New_York")
	// Sunday evening: the first opening is Monday 8 AM.
	base, started := time.Date(2026, 11, 22, 19, 0, 0, 0, ny), time.Now()
	clock := func() time.Time { return base.Add(time.Since(started)) }
	srv, _ := startAgent(t, server.WithClock(clock))
	o := exampleCall(srv)
	o.Turns = speak(t, "i would like to book a cleaning", "monday", "", "my name is sarah johnson", "", "", "thank you goodbye")
	o.Turns[2], o.Turns[4], o.Turns[5] = nil, nil, nil
	o.TurnDigits = map[int]string{2: "1", 4: "2125550123#", 5: "1"}
	if _, err := sim.Call(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	mem, ok := srv.ToolBackend("bright-smile").(*tools.Memory)
	if !ok {
		t.Fatal("no tool backend for the business")
	}
	booked := mem.Booked()
	if len(booked) != 1 {
		t.Fatalf("%d appointments booked, want 1: %+v", len(booked), booked)
	}
	a := booked[0]
	if got := a.Start.In(ny).Format("Mon 15:04"); got != "Mon 08:00" || a.Phone != "+12125550123" || !strings.Contains(strings.ToLower(a.Service.Name), "clean") {
		t.Errorf("appointment %s at %s for %s, want a cleaning on Monday 08:00 for +12125550123", a.Service.Name, got, a.Phone)
	}
	leads := mem.Leads()
	if len(leads) != 1 || leads[0].Phone != "+12125550123" {
		t.Errorf("leads %+v, want one for +12125550123", leads)
	}
}

// TestAgentBargeIn: the caller talks over the agent's long answer. The
// agent stops (a clear), its turn is cut to what the caller heard and
// flagged, and it answers the new question.
func TestAgentBargeIn(t *testing.T) {
	leaktest.Check(t)
	srv, log := startAgent(t)
	o := exampleCall(srv)
	o.Turns = speak(t, "what are your opening hours", "do you take insurance")
	o.Interrupt = map[int]time.Duration{1: 2 * time.Second}
	res, err := sim.Call(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Clears == 0 {
		t.Error("the agent never sent clear")
	}
	var cut *agent.Turn
	for _, tr := range log.all() {
		if tr.Speaker == "agent" && tr.Interrupted {
			cut = &tr
		}
	}
	_, full, _ := log.replyTo("hours")
	if cut == nil {
		t.Fatal("no agent turn was flagged interrupted")
	}
	if full.Interrupted && len(full.Text) >= len("Our hours are Monday to Friday, 8 AM to noon and 1 PM to 5 PM; Saturday, 9 AM to 1 PM; closed Sunday.") {
		t.Errorf("interrupted turn kept %q: more than the caller could have heard in 2 s", full.Text)
	}
	if _, reply, ok := log.replyTo("insurance"); !ok || !strings.Contains(reply.Text, "Delta Dental") {
		t.Errorf("after the barge-in the agent said %q, want the insurance answer", reply.Text)
	}
}

// TestAgentHangUpMidReply: the caller hangs up while the agent speaks; the
// call ends and everything it started stops.
func TestAgentHangUpMidReply(t *testing.T) {
	leaktest.Check(t)
	srv, log := startAgent(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log.on = func(tr agent.Turn) {
		if tr.Speaker == "caller" {
			time.AfterFunc(1500*time.Millisecond, cancel)
		}
	}
	o := exampleCall(srv)
	o.Turns = speak(t, "what are your opening hours")
	if _, err := sim.Call(ctx, o); err != context.Canceled {
		t.Fatalf("call: %v, want the caller's hang-up", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for srv.ActiveCalls() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the call is still live after the caller hung up")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, reply, ok := log.replyTo("hours"); ok && !reply.Interrupted && strings.Contains(reply.Text, "closed Sunday") {
		t.Errorf("the whole reply %q was reported heard, though the caller hung up 1.5 s in", reply.Text)
	}
}
