//go:build cgo

package fallback

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/agent"
	"github.com/frontdesk/frontdesk/agent/llm/rules"
	"github.com/frontdesk/frontdesk/agent/tools"
	"github.com/frontdesk/frontdesk/agent/vad"
	"github.com/frontdesk/frontdesk/configs"
	"github.com/frontdesk/frontdesk/media"
)

// line is a transport that plays into a counter and echoes each mark back
// to the session at once, as a caller who hears everything.
type line struct {
	played atomic.Int64 // samples at the output rate
	marks  chan string
}

func (l *line) Play(pcm []int16) { l.played.Add(int64(len(pcm))) }
func (l *line) Mark(name string) { l.marks <- name }
func (l *line) Clear()           {}

type toolRunner struct{ exec *tools.Executor }

func (t toolRunner) Definitions() []agent.Tool { return tools.Definitions() }
func (t toolRunner) Execute(ctx context.Context, call agent.ToolCall) (agent.ToolResult, error) {
	r := t.exec.Execute(ctx, call)
	return agent.ToolResult{Content: r.Content, Action: agent.Action{EndCall: r.Action.Kind == tools.ActionEndCall}}, nil
}

// TestSessionAllCloudDown is a call through agent.Session whose three
// cloud providers all fail (transcription 500, chat stalls, speech 429):
// the caller's question is still heard, answered and spoken, by the
// embedded engines.
func TestSessionAllCloudDown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := configs.Load("../../configs/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	biz, _ := cfg.Business("bright-smile")
	rulesEng, err := rules.New(biz, rules.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mem, err := tools.NewMemory(biz, nil)
	if err != nil {
		t.Fatal(err)
	}
	exec, err := tools.NewExecutor(biz, mem, tools.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := vad.New(vad.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sttCloud, llmCloud, ttsCloud := newCloud(t, modeError), newCloud(t, modeStall), newCloud(t, modeRateLimit)
	stt := NewSTT(transcriberAt(t, sttCloud, primaryBudget), embeddedSTT(t), Options{})
	llm := NewLLM(chatAt(t, llmCloud, primaryBudget), rulesEng, Options{})
	tts := newTTS(t, ttsCloud, primaryBudget, Options{})

	tr := &line{marks: make(chan string, 64)}
	var mu sync.Mutex
	var turns []agent.Turn
	answered := make(chan struct{})
	var once sync.Once
	sess, err := agent.NewSession(agent.Config{
		STT: stt, LLM: llm, TTS: tts, VAD: v, Tools: toolRunner{exec},
		Vocabulary: agent.Vocabulary{Phrases: []string{"What are your opening hours?"}},
		Hint:       rulesEng.HintFor,
		System:     "You are the receptionist.",
		Greeting:   "Thank you for calling Bright Smile. How can I help you?",
		OutputRate: 8000,
		Idle:       time.Hour,
		Hooks: agent.Hooks{Turn: func(tu agent.Turn) {
			mu.Lock()
			turns = append(turns, tu)
			mu.Unlock()
			if tu.Speaker == "agent" && strings.Contains(tu.Text, "hours") {
				once.Do(func() { close(answered) })
			}
		}},
	}, tr)
	if err != nil {
		t.Fatal(err)
	}

	in := make(chan media.In)
	done := make(chan error, 1)
	go func() { done <- sess.Run(ctx, in) }()

	// The caller: a second of line noise floor, the question, then
	// silence until the answer has been heard. Audio runs at about ten
	// times real time; marks are echoed as they come.
	question := caller(t, "What are your opening hours?")
	audio := append(make([]int16, agent.Rate), question...)
	var heardAt int64
	feed := func(frame []int16) bool {
		x := media.In{Kind: media.InAudio, Rate: agent.Rate, N: len(frame)}
		copy(x.Frame[:], frame)
		for {
			select {
			case name := <-tr.marks:
				select {
				case in <- media.In{Kind: media.InMark, Mark: name}:
				case <-ctx.Done():
					return false
				}
			case in <- x:
				return true
			case <-ctx.Done():
				return false
			}
		}
	}
	silence := make([]int16, 320)
loop:
	for i := 0; ; i++ {
		frame := silence
		if i*320 < len(audio) {
			frame = audio[i*320 : min((i+1)*320, len(audio))]
			if len(frame) < 320 {
				frame = append(append([]int16(nil), frame...), silence[len(frame):]...)
			}
		}
		if i*320 == len(audio)/320*320 {
			heardAt = tr.played.Load()
		}
		select {
		case <-answered:
			break loop
		default:
		}
		if !feed(frame) {
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("no answer before the deadline; turns %+v", turns)
		}
		time.Sleep(2 * time.Millisecond)
	}
	close(in)
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}

	mu.Lock()
	defer mu.Unlock()
	var callerText, agentText string
	for _, tu := range turns {
		if tu.Speaker == "caller" {
			callerText = tu.Text
		} else if strings.Contains(tu.Text, "hours") {
			agentText = tu.Text
		}
	}
	if !strings.Contains(callerText, "hours") {
		t.Errorf("caller turn %q, want the question heard by the embedded recogniser", callerText)
	}
	if !strings.HasPrefix(agentText, rulesHours) {
		t.Errorf("agent turn %q, want the embedded receptionist's answer", agentText)
	}
	// The answer was spoken: at least a second of audio after the question.
	if got := tr.played.Load() - heardAt; got < 8000 {
		t.Errorf("%d samples played after the question, want the spoken answer", got)
	}
	for name, st := range map[string]Stats{"stt": stt.Stats(), "llm": llm.Stats(), "tts": tts.Stats()} {
		if st.Requests == 0 || st.Fallbacks != st.Requests {
			t.Errorf("%s stats %+v, want every request fallen back", name, st)
		}
	}
}
