package agent_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/agent"
	"github.com/frontdesk/frontdesk/media"
)

// These tests drive a Session frame by frame through an unbuffered input,
// so that when a frame is accepted the previous one has been handled, and
// give it a clock that moves 20 ms per frame: what the transport receives
// is then known to the frame.

// lengthSTT "recognises" how much audio the utterance had: it answers
// "short" below two seconds and "long" from there, so a test can tell a
// final taken early from the one of the whole utterance.
type lengthSTT struct{ ends atomic.Int32 }

func (s *lengthSTT) NewRecognizer(context.Context, agent.Vocabulary) (agent.Recognizer, error) {
	return &lengthRec{stt: s}, nil
}

type lengthRec struct {
	stt *lengthSTT
	n   int
}

func (r *lengthRec) Begin(agent.Hint) error { r.n = 0; return nil }
func (r *lengthRec) Write(pcm []int16) (agent.Transcript, error) {
	r.n += len(pcm)
	return agent.Transcript{}, nil
}
func (r *lengthRec) End() (agent.Transcript, error) {
	r.stt.ends.Add(1)
	text := "short"
	if r.n >= 2*agent.Rate {
		text = "long"
	}
	return agent.Transcript{Text: text, Confidence: 1, Final: true}, nil
}
func (r *lengthRec) Close() error { return nil }

// bookingLLM answers "You said <text>." and asks for the tool "book" with
// the caller's text, until the tool has answered.
type bookingLLM struct {
	mu    sync.Mutex
	heard []string
	asked chan string
}

func (l *bookingLLM) Complete(_ context.Context, req agent.Request, out func(agent.Delta) error) error {
	last := req.Messages[len(req.Messages)-1]
	if last.Role == agent.RoleTool {
		return out(agent.Delta{Text: "Done."})
	}
	l.mu.Lock()
	l.heard = append(l.heard, last.Content)
	l.mu.Unlock()
	if err := out(agent.Delta{Text: "You said " + last.Content + ". "}); err != nil {
		return err
	}
	args, _ := json.Marshal(map[string]string{"what": last.Content})
	err := out(agent.Delta{ToolCall: &agent.ToolCall{ID: "c1", Name: "book", Arguments: args}})
	select {
	case l.asked <- last.Content:
	default:
	}
	return err
}

type recordTools struct {
	mu    sync.Mutex
	calls []string
}

func (t *recordTools) Definitions() []agent.Tool { return []agent.Tool{{Name: "book"}} }
func (t *recordTools) Execute(_ context.Context, c agent.ToolCall) (agent.ToolResult, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.calls = append(t.calls, string(c.Arguments))
	return agent.ToolResult{Content: "{}"}, nil
}

// leadTTS says every sentence as 200 ms of silence, then 300 ms of tone,
// like a synthesiser that pauses before its first word.
type leadTTS struct{ synthesized chan string }

func (leadTTS) Rate() int { return 16000 }
func (t leadTTS) Synthesize(ctx context.Context, text string, out func([]int16) error) error {
	pcm := append(make([]int16, 3200), media.Sine(16000, 440, 300*time.Millisecond, 0.5)...)
	for len(pcm) > 0 {
		n := min(640, len(pcm))
		if err := out(pcm[:n]); err != nil {
			return err
		}
		pcm = pcm[n:]
	}
	select {
	case t.synthesized <- text:
	default:
	}
	return ctx.Err()
}

// frameClock is the session's clock: the test moves it 20 ms per frame.
type frameClock struct{ ns atomic.Int64 }

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func (c *frameClock) Now() time.Time { return epoch.Add(time.Duration(c.ns.Load())) }

// playLog records what the transport was given, at what clock reading,
// and echoes marks.
type playLog struct {
	clock *frameClock
	in    chan<- media.In
	mu    sync.Mutex
	plays []time.Time
	pcm   []int16
	marks chan string
}

func (p *playLog) Play(pcm []int16) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.plays = append(p.plays, p.clock.Now())
	p.pcm = append(p.pcm, pcm...)
}
func (p *playLog) Mark(name string) { p.marks <- name }
func (p *playLog) Clear()           {}

func (p *playLog) first() (time.Time, []int16) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.plays) == 0 {
		return time.Time{}, nil
	}
	return p.plays[0], append([]int16(nil), p.pcm...)
}

type sessionRig struct {
	t      *testing.T
	clock  *frameClock
	in     chan media.In
	tr     *playLog
	stt    *lengthSTT
	llm    *bookingLLM
	tools  *recordTools
	tts    leadTTS
	mu     sync.Mutex
	turns  []agent.Turn
	frames int
	done   chan error
}

func newRig(t *testing.T) *sessionRig {
	r := &sessionRig{
		t: t, clock: &frameClock{}, in: make(chan media.In),
		stt: &lengthSTT{}, llm: &bookingLLM{asked: make(chan string, 8)}, tools: &recordTools{},
		tts: leadTTS{synthesized: make(chan string, 8)}, done: make(chan error, 1),
	}
	r.tr = &playLog{clock: r.clock, marks: make(chan string, 64)}
	s, err := agent.NewSession(agent.Config{
		STT: r.stt, LLM: r.llm, TTS: r.tts, VAD: levelVAD{}, Tools: r.tools, OutputRate: 8000,
		Hooks: agent.Hooks{Turn: func(tr agent.Turn) {
			r.mu.Lock()
			r.turns = append(r.turns, tr)
			r.mu.Unlock()
		}},
		Now: r.clock.Now,
	}, r.tr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { r.done <- s.Run(ctx, r.in) }()
	t.Cleanup(func() {
		cancel()
		if err := <-r.done; err != nil && err != context.Canceled {
			t.Errorf("run: %v", err)
		}
	})
	return r
}

// The caller's audio is at the pipeline's rate: no resampling filter
// smears the end of speech into the next frame.
var loud16 = media.Sine(agent.Rate, 300, 20*time.Millisecond, 0.5)

// send gives the session n frames of speech (or silence), each at its own
// clock reading, and echoes the marks the transport got meanwhile.
func (r *sessionRig) send(n int, speech bool) {
	r.t.Helper()
	for range n {
		x := media.In{Kind: media.InAudio, Rate: agent.Rate, N: len(loud16)}
		if speech {
			copy(x.Frame[:], loud16)
		}
		r.clock.ns.Store(int64(r.frames) * int64(media.FrameDuration))
		r.frames++
		r.put(x)
		// Once the session takes the next input, it has handled the frame
		// at this clock reading. A mark of no turn is ignored.
		r.put(media.In{Kind: media.InMark, Mark: "sync"})
		for len(r.tr.marks) > 0 {
			r.put(media.In{Kind: media.InMark, Mark: <-r.tr.marks})
		}
	}
}

func (r *sessionRig) put(x media.In) {
	r.t.Helper()
	select {
	case r.in <- x:
	case <-time.After(10 * time.Second):
		r.t.Fatal("the session stopped taking input")
	}
}

// until sends silence, a frame every few milliseconds, until cond holds.
func (r *sessionRig) until(what string, cond func([]agent.Turn) bool) {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond(r.allTurns()) {
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out waiting for %s; turns %+v", what, r.allTurns())
		}
		r.send(1, false)
		time.Sleep(2 * time.Millisecond)
	}
}

func hasAgentTurn(ts []agent.Turn) bool {
	for _, t := range ts {
		if t.Speaker == "agent" {
			return true
		}
	}
	return false
}

func (r *sessionRig) waitFor(ch <-chan string, what string) string {
	r.t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		r.t.Fatalf("timed out waiting for %s", what)
		return ""
	}
}

func (r *sessionRig) allTurns() []agent.Turn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]agent.Turn(nil), r.turns...)
}

// TestSpeculativeReplyWaitsForEndpoint: the reply is prepared during the
// endpointing silence but not one sample reaches the caller before the
// silence is complete; then it goes out in that very frame, its leading
// silence trimmed, and the turn's latency says so.
func TestSpeculativeReplyWaitsForEndpoint(t *testing.T) {
	r := newRig(t)
	r.send(50, true) // 1 s of speech
	r.send(10, false)
	// Past the speculation point (200 ms): the reply is prepared now.
	r.waitFor(r.llm.asked, "the speculative dialogue")
	r.waitFor(r.tts.synthesized, "the speculative synthesis")
	if at, _ := r.tr.first(); !at.IsZero() {
		t.Fatalf("audio reached the transport at %v, before the endpoint", at.Sub(epoch))
	}
	r.tools.mu.Lock()
	if len(r.tools.calls) != 0 {
		t.Errorf("a tool ran before the caller's turn was over: %v", r.tools.calls)
	}
	r.tools.mu.Unlock()
	r.send(9, false) // 380 ms of silence: one frame short
	if at, _ := r.tr.first(); !at.IsZero() {
		t.Fatalf("audio reached the transport at %v, before the endpoint", at.Sub(epoch))
	}
	r.send(1, false) // 400 ms: the endpoint
	endpoint := r.clock.Now()
	r.send(1, false) // the next frame is taken once the endpoint frame is handled
	at, pcm := r.tr.first()
	if !at.Equal(endpoint) {
		t.Errorf("first audio at %v, want at the endpoint %v", at.Sub(epoch), endpoint.Sub(epoch))
	}
	// 20 ms of margin kept of the TTS's 200 ms of silence: at 8 kHz the
	// tone starts within the first 30 ms.
	onset := -1
	for i := 0; i+40 <= len(pcm); i += 40 {
		if media.RMS(pcm[i:i+40]) > 1000 {
			onset = i
			break
		}
	}
	if onset < 0 || onset > 240 {
		t.Errorf("the tone starts %d samples into the reply, want ≤ 240 (leading silence trimmed)", onset)
	}
	r.until("the agent's turn", hasAgentTurn) // the reply plays, the marks come back
	var reply *agent.Turn
	for _, tr := range r.allTurns() {
		if tr.Speaker == "agent" && tr.Latency != nil {
			reply = &tr
		}
	}
	if reply == nil {
		t.Fatalf("no agent turn with latency figures: %+v", r.allTurns())
	}
	l := reply.Latency
	// The speech ended after frame 49; the final was taken at 200 ms of
	// silence and the first frame left at 400 ms.
	if l.STTFinal != 200*time.Millisecond || l.FirstFrame != 400*time.Millisecond || l.FirstAudio > l.FirstFrame || l.FirstToken < l.STTFinal {
		t.Errorf("latency %+v: want STT final at 200 ms, first frame at 400 ms", l)
	}
	r.tools.mu.Lock()
	defer r.tools.mu.Unlock()
	if len(r.tools.calls) != 1 {
		t.Errorf("tools ran %d times, want once: %v", len(r.tools.calls), r.tools.calls)
	}
}

// TestSpeculationDroppedWhenCallerGoesOn: the caller pauses for longer than
// the speculation point and goes on. The early reply is dropped unheard
// (its tool never runs), and the turn is recognised again from its start.
func TestSpeculationDroppedWhenCallerGoesOn(t *testing.T) {
	r := newRig(t)
	r.send(50, true)  // 1 s: "short" so far
	r.send(15, false) // 300 ms pause
	if got := r.waitFor(r.llm.asked, "the speculative dialogue"); got != "short" {
		t.Fatalf("speculative dialogue heard %q, want short", got)
	}
	r.waitFor(r.tts.synthesized, "the speculative synthesis")
	r.send(60, true) // the caller goes on: 1.2 s more
	if at, _ := r.tr.first(); !at.IsZero() {
		t.Fatalf("the dropped reply reached the transport at %v", at.Sub(epoch))
	}
	r.send(20, false)
	r.until("the agent's turn", hasAgentTurn)
	var callers, agents []string
	for _, tr := range r.allTurns() {
		if tr.Speaker == "caller" {
			callers = append(callers, tr.Text)
		} else {
			agents = append(agents, tr.Text)
		}
	}
	if strings.Join(callers, "|") != "long" {
		t.Errorf("caller turns %q, want one: long (the whole utterance decoded again)", callers)
	}
	if len(agents) != 1 || !strings.HasPrefix(agents[0], "You said long.") {
		t.Errorf("agent turns %q, want one answering long", agents)
	}
	r.tools.mu.Lock()
	defer r.tools.mu.Unlock()
	if len(r.tools.calls) != 1 || !strings.Contains(r.tools.calls[0], "long") {
		t.Errorf("tool calls %v, want one, for long", r.tools.calls)
	}
	if _, pcm := r.tr.first(); media.RMS(pcm) < 1000 {
		t.Errorf("the caller heard no reply")
	}
}
