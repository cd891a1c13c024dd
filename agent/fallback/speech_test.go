//go:build cgo

package fallback

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/agent"
	"github.com/frontdesk/frontdesk/agent/agenttest"
	"github.com/frontdesk/frontdesk/agent/stt/openai"
	"github.com/frontdesk/frontdesk/agent/stt/sphinx"
	"github.com/frontdesk/frontdesk/agent/tts/flite"
	ttsopenai "github.com/frontdesk/frontdesk/agent/tts/openai"
	"github.com/frontdesk/frontdesk/media"
)

var (
	fliteOnce sync.Once
	fliteSyn  *flite.Synth
	fliteErr  error
)

func fliteVoice(t *testing.T) *flite.Synth {
	t.Helper()
	fliteOnce.Do(func() { fliteSyn, fliteErr = flite.New(flite.Options{}) })
	if fliteErr != nil {
		t.Fatal(fliteErr)
	}
	return fliteSyn
}

func speechAt(t *testing.T, c *cloud, budget time.Duration) *ttsopenai.Synth {
	t.Helper()
	s, err := ttsopenai.New(ttsopenai.Options{BaseURL: c.url(), APIKey: "sk-test", Budget: budget})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newTTS(t *testing.T, c *cloud, budget time.Duration, opts Options) *TTS {
	t.Helper()
	tts, err := NewTTS(speechAt(t, c, budget), fliteVoice(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	return tts
}

func synth(t *testing.T, tts agent.TTS, text string) []int16 {
	t.Helper()
	var pcm []int16
	err := tts.Synthesize(context.Background(), text, func(c []int16) error { pcm = append(pcm, c...); return nil })
	if err != nil {
		t.Fatalf("Synthesize(%q) = %v", text, err)
	}
	return pcm
}

func TestTTSConformance(t *testing.T) {
	t.Run("PrimaryUp", func(t *testing.T) {
		agenttest.TestTTS(t, newTTS(t, newCloud(t, modeOK), primaryBudget, Options{}))
	})
	t.Run("PrimaryDown", func(t *testing.T) {
		agenttest.TestTTS(t, newTTS(t, newCloud(t, modeError), primaryBudget, Options{}))
	})
}

const sentence = "We are open from nine to five."

// TestTTSFallback: when the cloud fails before any audio, flite speaks
// the sentence, at the cloud's rate.
func TestTTSFallback(t *testing.T) {
	flitePCM := synth(t, fliteVoice(t), sentence)
	wantFlite := len(flitePCM) * cloudRate / flite.Rate
	wantCloud := len(sentence) * cloudRate / 40
	for _, tc := range []struct {
		mode        string
		ownBudget   time.Duration
		budget      time.Duration
		reason      string
		partial     bool
		wantSamples int
	}{
		{modeOK, primaryBudget, 0, "", false, wantCloud},
		{modeError, primaryBudget, 0, ReasonError, false, wantFlite},
		{modeRateLimit, primaryBudget, 0, ReasonError, false, wantFlite},
		{modeStall, primaryBudget, 0, ReasonBudget, false, wantFlite},
		{modeStall, time.Minute, primaryBudget, ReasonBudget, false, wantFlite},
		// The cloud's first 100 ms, then the whole sentence again.
		{modeStallAfter, primaryBudget, 0, ReasonBudget, true, cloudRate/10 + wantFlite},
	} {
		t.Run(tc.mode+"/"+tc.reason, func(t *testing.T) {
			var evs events
			tts := newTTS(t, newCloud(t, tc.mode), tc.ownBudget, Options{Budget: tc.budget, OnFallback: evs.add})
			if tts.Rate() != cloudRate {
				t.Fatalf("Rate() = %d, want the primary's %d", tts.Rate(), cloudRate)
			}
			pcm := synth(t, tts, sentence)
			// The resampler's filter delay may hold back a few samples.
			if d := len(pcm) - tc.wantSamples; d > 0 || d < -64 {
				t.Fatalf("%d samples, want %d", len(pcm), tc.wantSamples)
			}
			if lvl := media.DBFS(media.RMS(pcm)); lvl < -40 {
				t.Fatalf("audio at %.1f dBFS, want speech", lvl)
			}
			st, ev := tts.Stats(), evs.list()
			if tc.reason == "" {
				if st != (Stats{Requests: 1}) || len(ev) != 0 {
					t.Fatalf("stats %+v events %v, want no fallback", st, ev)
				}
				return
			}
			want := Stats{Requests: 1, Fallbacks: 1}
			if tc.partial {
				want.Partial = 1
			}
			if st != want || len(ev) != 1 || ev[0].Kind != KindTTS || ev[0].Reason != tc.reason || ev[0].Partial != tc.partial {
				t.Fatalf("stats %+v events %+v", st, ev)
			}
		})
	}
}

// ---- STT ----

var (
	sphinxOnce sync.Once
	sphinxEng  *sphinx.Engine
	sphinxErr  error
)

func embeddedSTT(t *testing.T) *sphinx.Engine {
	t.Helper()
	sphinxOnce.Do(func() { sphinxEng, sphinxErr = sphinx.New(sphinx.Options{Logger: slog.New(slog.DiscardHandler)}) })
	if sphinxErr != nil {
		t.Fatal(sphinxErr)
	}
	return sphinxEng
}

func transcriberAt(t *testing.T, c *cloud, budget time.Duration) *openai.Transcriber {
	t.Helper()
	tr, err := openai.New(openai.Options{BaseURL: c.url(), APIKey: "sk-test", Budget: budget})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

var vocab = agent.Vocabulary{
	Phrases: []string{"What are your opening hours?", "I would like to book a cleaning."},
	Words:   []string{"cleaning", "checkup"},
}

// caller is a caller's utterance as the session hears it: flite's voice
// with a little silence around it, through a phone line (8 kHz μ-law),
// at 16 kHz.
func caller(t *testing.T, text string) []int16 {
	t.Helper()
	pad := make([]int16, agent.Rate/4)
	pcm := append([]int16(nil), pad...)
	pcm = append(pcm, synth(t, fliteVoice(t), text)...)
	pcm = append(pcm, pad...)
	down, err := media.NewResampler(agent.Rate, 8000)
	if err != nil {
		t.Fatal(err)
	}
	up, err := media.NewResampler(8000, agent.Rate)
	if err != nil {
		t.Fatal(err)
	}
	narrow := down.Process(nil, pcm)
	ulaw := make([]byte, len(narrow))
	media.EncodeUlaw(ulaw, narrow)
	media.DecodeUlaw(narrow, ulaw)
	return up.Process(nil, narrow)
}

func hear(t *testing.T, r agent.Recognizer, pcm []int16) agent.Transcript {
	t.Helper()
	if err := r.Begin(agent.HintFree); err != nil {
		t.Fatal(err)
	}
	for len(pcm) > 0 {
		n := min(320, len(pcm))
		if _, err := r.Write(pcm[:n]); err != nil {
			t.Fatal(err)
		}
		pcm = pcm[n:]
	}
	tr, err := r.End()
	if err != nil {
		t.Fatalf("End = %v", err)
	}
	return tr
}

func TestSTTConformance(t *testing.T) {
	t.Run("PrimaryUp", func(t *testing.T) {
		agenttest.TestSTT(t, NewSTT(transcriberAt(t, newCloud(t, modeOK), primaryBudget), embeddedSTT(t), Options{}))
	})
	t.Run("PrimaryDown", func(t *testing.T) {
		agenttest.TestSTT(t, NewSTT(transcriberAt(t, newCloud(t, modeError), primaryBudget), embeddedSTT(t), Options{}))
	})
}

// TestSTTFallback: when the cloud fails or is late, the transcript is
// the embedded recogniser's, which heard the same audio.
func TestSTTFallback(t *testing.T) {
	question := caller(t, "What are your opening hours?")
	for _, tc := range []struct {
		mode      string
		ownBudget time.Duration
		budget    time.Duration
		reason    string
	}{
		{modeOK, primaryBudget, 0, ""},
		{modeError, primaryBudget, 0, ReasonError},
		{modeRateLimit, primaryBudget, 0, ReasonError},
		{modeStall, primaryBudget, 0, ReasonBudget},
		{modeStall, time.Minute, primaryBudget, ReasonBudget},
	} {
		t.Run(tc.mode+"/"+tc.reason, func(t *testing.T) {
			c := newCloud(t, tc.mode)
			var evs events
			stt := NewSTT(transcriberAt(t, c, tc.ownBudget), embeddedSTT(t), Options{Budget: tc.budget, OnFallback: evs.add})
			r, err := stt.NewRecognizer(context.Background(), vocab)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			tr := hear(t, r, question)
			if tc.reason == "" {
				if tr.Text != cloudHeard || stt.Stats() != (Stats{Requests: 1}) {
					t.Fatalf("transcript %+v, stats %+v; want the cloud's, no fallback", tr, stt.Stats())
				}
				return
			}
			if !tr.Final || !strings.Contains(tr.Text, "hours") || tr.Confidence <= 0 {
				t.Fatalf("transcript %+v, want the embedded recogniser's, with \"hours\"", tr)
			}
			ev := evs.list()
			if stt.Stats() != (Stats{Requests: 1, Fallbacks: 1}) || len(ev) != 1 || ev[0].Kind != KindSTT || ev[0].Reason != tc.reason {
				t.Fatalf("stats %+v events %+v", stt.Stats(), ev)
			}
			if tc.mode == modeRateLimit {
				return // cooling down: the cloud is not asked again
			}
			// The next utterance asks the cloud again (a new request,
			// after the late one was abandoned).
			c.set(modeOK)
			before := c.count()
			if tr := hear(t, r, question); tr.Text != cloudHeard || c.count() != before+1 {
				t.Fatalf("next utterance: %+v after %d requests, want the cloud's", tr, c.count()-before)
			}
		})
	}
}

// TestSTTCooldown: after a 429 the cloud hears nothing until Retry-After
// has passed.
func TestSTTCooldown(t *testing.T) {
	c := newCloud(t, modeRateLimit)
	stt := NewSTT(transcriberAt(t, c, primaryBudget), embeddedSTT(t), Options{})
	r, err := stt.NewRecognizer(context.Background(), vocab)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	question := caller(t, "What are your opening hours?")
	for range 2 {
		if tr := hear(t, r, question); !strings.Contains(tr.Text, "hours") {
			t.Fatalf("transcript %+v", tr)
		}
	}
	if c.count() != 1 {
		t.Fatalf("cloud saw %d requests, want 1", c.count())
	}
	if st := stt.Stats(); st != (Stats{Requests: 2, Fallbacks: 2, Cooldown: 1}) {
		t.Fatalf("stats %+v", st)
	}
}

// TestSTTCloseDuringEnd: a hang-up while the cloud is late ends End.
func TestSTTCloseDuringEnd(t *testing.T) {
	c := newCloud(t, modeStall)
	stt := NewSTT(transcriberAt(t, c, time.Minute), embeddedSTT(t), Options{})
	r, err := stt.NewRecognizer(context.Background(), vocab)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for c.count() == 0 {
			time.Sleep(time.Millisecond)
		}
		r.Close()
	}()
	if err := r.Begin(agent.HintFree); err != nil {
		t.Fatal(err)
	}
	r.Write(caller(t, "hello"))
	// End returns at the hang-up instead of waiting out the cloud's
	// minute; with the embedded final or an error, depending on whether
	// it was taken before Close.
	tr, err := r.End()
	if err == nil && !tr.Final {
		t.Fatalf("End = %+v, want a final or an error", tr)
	}
	if c.count() != 1 {
		t.Fatalf("cloud saw %d requests, want 1", c.count())
	}
}
