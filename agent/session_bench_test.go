package agent_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/agent"
	"github.com/frontdesk/frontdesk/media"
)

// The issue asks for the session's own share of the reply latency with
// instant providers: these four answer at once, so what is measured is the
// session (endpointing decision, dialogue loop, sentence splitting,
// resampling, hand-off to the transport), not the engines. Real engines are
// measured end to end by server.BenchmarkAgentReplyLatency.

type instantSTT struct{}

func (instantSTT) NewRecognizer(context.Context, agent.Vocabulary) (agent.Recognizer, error) {
	return &instantRec{}, nil
}

type instantRec struct{ n int }

func (r *instantRec) Begin(agent.Hint) error { r.n = 0; return nil }
func (r *instantRec) Write(pcm []int16) (agent.Transcript, error) {
	r.n += len(pcm)
	return agent.Transcript{}, nil
}
func (r *instantRec) End() (agent.Transcript, error) {
	return agent.Transcript{Text: "what are your hours", Confidence: 1, Final: true}, nil
}
func (r *instantRec) Close() error { return nil }

type instantLLM struct{}

func (instantLLM) Complete(_ context.Context, _ agent.Request, out func(agent.Delta) error) error {
	return out(agent.Delta{Text: "We are open nine to five. "})
}

type instantTTS struct{}

func (instantTTS) Rate() int { return 16000 }
func (instantTTS) Synthesize(_ context.Context, text string, out func([]int16) error) error {
	return out(make([]int16, 3200))
}

// levelVAD calls loud frames speech.
type levelVAD struct{}

func (levelVAD) Speech(frame []int16, _ int) bool { return media.RMS(frame) > 1000 }

// clockTransport records when the first audio of a reply arrives and echoes
// marks at once.
type clockTransport struct {
	mu     sync.Mutex
	first  time.Time
	marks  chan<- media.In
	played chan struct{}
}

func (c *clockTransport) Play([]int16) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.first.IsZero() {
		c.first = time.Now()
		close(c.played)
	}
}
func (c *clockTransport) Mark(name string) { c.marks <- media.In{Kind: media.InMark, Mark: name} }
func (c *clockTransport) Clear()           {}

func BenchmarkSessionOwnLatency(b *testing.B) {
	loud := media.Sine(8000, 300, 20*time.Millisecond, 0.5)
	var lats []time.Duration
	for b.Loop() {
		in := make(chan media.In, 256)
		tr := &clockTransport{marks: in, played: make(chan struct{})}
		s, err := agent.NewSession(agent.Config{
			STT: instantSTT{}, LLM: instantLLM{}, TTS: instantTTS{}, VAD: levelVAD{}, OutputRate: 8000,
		}, tr)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx, in) }()
		frame := func(pcm []int16) media.In {
			x := media.In{Kind: media.InAudio, Rate: 8000, N: len(pcm)}
			copy(x.Frame[:], pcm)
			return x
		}
		for range 25 { // half a second of speech
			in <- frame(loud)
		}
		for range 15 { // silence, short of the 400 ms endpoint
			in <- frame(make([]int16, 160))
		}
		// Then a silent frame every 30 ms: the one after which the reply
		// starts ended the caller's turn. (The resampler's tail makes the
		// exact frame count depend on the filter, so it is found, not assumed.)
		var sent time.Time
	wait:
		for range 100 {
			sent = time.Now()
			in <- frame(make([]int16, 160))
			select {
			case <-tr.played:
				break wait
			case <-time.After(30 * time.Millisecond):
			}
		}
		if tr.first.IsZero() {
			b.Fatal("no reply")
		}
		lats = append(lats, tr.first.Sub(sent))
		cancel()
		<-done
	}
	if len(lats) == 0 {
		return
	}
	slices.Sort(lats)
	p := func(q float64) float64 { return float64(lats[int(q*float64(len(lats)-1))].Microseconds()) / 1000 }
	b.ReportMetric(p(0.5), "p50-ms")
	b.ReportMetric(p(0.99), "p99-ms")
}
