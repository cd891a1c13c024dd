package server

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/frontdesk/frontdesk/agent"
	"github.com/frontdesk/frontdesk/agent/fallback"
	llmopenai "github.com/frontdesk/frontdesk/agent/llm/openai"
	"github.com/frontdesk/frontdesk/agent/llm/rules"
	sttopenai "github.com/frontdesk/frontdesk/agent/stt/openai"
	"github.com/frontdesk/frontdesk/agent/stt/sphinx"
	"github.com/frontdesk/frontdesk/agent/tools"
	"github.com/frontdesk/frontdesk/agent/tts/flite"
	ttsopenai "github.com/frontdesk/frontdesk/agent/tts/openai"
	"github.com/frontdesk/frontdesk/agent/vad"
	"github.com/frontdesk/frontdesk/configs"
	"github.com/frontdesk/frontdesk/live"
	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/transcript"
)

// agentState is what the voice agent shares across calls.
type agentState struct {
	speech   speech
	backends backends
	onTurn   func(callID string, t agent.Turn) // immutable after New
	// background tracks pre-warm goroutines and the SMS confirmations of
	// phone bookings.
	background sync.WaitGroup
}

// speech holds the engines every call shares. They are built on first use:
// a server in echo mode never loads a model. With a cloud provider
// configured, stt/tts/chat wrap it around the embedded engine, which
// answers any turn the cloud fails or is late for.
type speech struct {
	once   sync.Once
	err    error
	sphinx *sphinx.Engine
	stt    agent.STT
	tts    agent.TTS
	chat   agent.LLM // the cloud dialogue engine; nil: the rules engine alone
	fb     fallback.Options

	// wide recognises wideband callers (WebRTC): the phone engine starts
	// from the statistics of 8 kHz μ-law speech, which a browser's audio
	// is not. Built on the first WebRTC call.
	wideOnce sync.Once
	wide     *sphinx.Engine
	wideErr  error
	log      *slog.Logger
}

// wideband returns the recogniser for wideband callers.
func (sp *speech) wideband() (agent.STT, error) {
	if sp.stt != agent.STT(sp.sphinx) {
		return sp.stt, nil // a cloud recogniser (with its fallback) serves both
	}
	sp.wideOnce.Do(func() {
		sp.wide, sp.wideErr = sphinx.New(sphinx.Options{Wideband: true, Logger: sp.log})
	})
	return sp.wide, sp.wideErr
}

func (sp *speech) init(cfg configs.Agent, m *metrics, log *slog.Logger) error {
	sp.once.Do(func() { sp.err = sp.build(cfg, m, log) })
	return sp.err
}

func (sp *speech) build(cfg configs.Agent, m *metrics, log *slog.Logger) error {
	var err error
	if sp.sphinx, err = sphinx.New(sphinx.Options{Logger: log}); err != nil {
		return fmt.Errorf("speech recognition: %w", err)
	}
	fl, err := flite.New(flite.Options{})
	if err != nil {
		return fmt.Errorf("speech synthesis: %w", err)
	}
	sp.stt, sp.tts, sp.log = sp.sphinx, fl, log
	o := cfg.OpenAI
	sp.fb = fallback.Options{Budget: o.Budget, Logger: log, OnFallback: func(e fallback.Event) {
		m.fallbacks.WithLabelValues(e.Kind, e.Reason).Inc()
	}}
	if cfg.STT == configs.ProviderOpenAI {
		cloud, err := sttopenai.New(sttopenai.Options{BaseURL: o.BaseURL, APIKey: o.APIKey, Model: o.TranscriptionModel, Budget: o.Budget})
		if err != nil {
			return fmt.Errorf("openai transcription: %w", err)
		}
		sp.stt = fallback.NewSTT(cloud, sp.sphinx, sp.fb)
	}
	if cfg.TTS == configs.ProviderOpenAI {
		cloud, err := ttsopenai.New(ttsopenai.Options{BaseURL: o.BaseURL, APIKey: o.APIKey, Model: o.SpeechModel, Voice: o.Voice, Budget: o.Budget})
		if err != nil {
			return fmt.Errorf("openai speech: %w", err)
		}
		if sp.tts, err = fallback.NewTTS(cloud, fl, sp.fb); err != nil {
			return fmt.Errorf("openai speech: %w", err)
		}
	}
	if cfg.LLM == configs.ProviderOpenAI {
		if sp.chat, err = llmopenai.New(llmopenai.Options{BaseURL: o.BaseURL, APIKey: o.APIKey, Model: o.ChatModel, Budget: o.Budget}); err != nil {
			return fmt.Errorf("openai chat: %w", err)
		}
	}
	return nil
}

// dialogue is the call's dialogue engine: the rules engine, or the cloud
// engine falling back to it.
func (sp *speech) dialogue(rulesEngine agent.LLM) agent.LLM {
	if sp.chat == nil {
		return rulesEngine
	}
	return fallback.NewLLM(sp.chat, rulesEngine, sp.fb)
}

func (a *agentState) close() { a.speech.close() }

func (sp *speech) close() {
	if sp.sphinx != nil {
		_ = sp.sphinx.Close()
	}
	if sp.wide != nil {
		_ = sp.wide.Close()
	}
}

// vocabulary is what callers of biz are likely to say, for the recognizer's
// language model: the FAQ phrasings, the services and the business's name.
func vocabulary(biz *configs.Business) agent.Vocabulary {
	var v agent.Vocabulary
	for _, f := range biz.FAQs {
		v.Phrases = append(v.Phrases, f.Questions...)
		v.Words = append(v.Words, f.Keywords...)
	}
	for _, s := range biz.Services {
		v.Phrases = append(v.Phrases, "i would like to book a "+strings.ToLower(s.Name))
		v.Words = append(v.Words, strings.Fields(strings.ToLower(s.Name))...)
	}
	v.Words = append(v.Words, strings.Fields(strings.ToLower(biz.Name))...)
	v.Phrases = append(v.Phrases, optOutPhrases...) // the opt-out must be heard (calltap.go)
	return v
}

// greeting is the first thing the agent says: the disclosure, then the
// business's greeting.
func greeting(biz *configs.Business) string {
	g := strings.TrimSpace(biz.Greeting)
	if g == "" {
		g = "Thank you for calling " + biz.Name + ". How can I help you?"
	}
	if d := strings.TrimSpace(biz.Disclosure); d != "" {
		return d + " " + g
	}
	return g
}

// prewarm builds the recognizer's model for biz while Twilio sets up the
// stream, so the first caller turn is not slowed by it.
func (s *Server) prewarm(biz *configs.Business) {
	if s.cfg.Agent.Mode != configs.AgentReceptionist {
		return
	}
	a := &s.agent
	a.background.Add(1)
	go func() {
		defer a.background.Done()
		if a.speech.init(s.cfg.Agent, s.metrics, s.log) != nil {
			return
		}
		if r, err := a.speech.sphinx.NewRecognizer(s.callsCtx, vocabulary(biz)); err == nil {
			_ = r.Close()
		}
	}()
}

// toolRunner adapts the tool set to the session's Tools interface.
type toolRunner struct{ exec *tools.Executor }

func (t toolRunner) Definitions() []agent.Tool { return tools.Definitions() }

func (t toolRunner) Execute(ctx context.Context, call agent.ToolCall) (agent.ToolResult, error) {
	r := t.exec.Execute(ctx, call)
	res := agent.ToolResult{Content: r.Content}
	switch r.Action.Kind {
	case tools.ActionEndCall:
		res.Action.EndCall = true
	case tools.ActionTransfer:
		res.Action.Transfer = r.Action.Number
	}
	return res, nil
}

// backends keeps one tool backend per business: over the store when the
// server has one, in memory otherwise.
type backends struct {
	mu sync.Mutex
	m  map[string]tools.Backend
}

func (b *backends) get(s *Server, biz *configs.Business) (tools.Backend, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// A reloaded configuration brings a new *Business: the store backend
	// is rebuilt for its calendar; a memory backend keeps its bookings.
	if be, ok := b.m[biz.ID]; ok {
		if sb, isStore := be.(*storeBackend); !isStore || sb.biz == biz {
			return be, nil
		}
	}
	var be tools.Backend
	var err error
	if s.api.store != nil {
		var sb *storeBackend
		if sb, err = newStoreBackend(s.api.store, biz, s.now); err == nil {
			sb.booked = func(a scheduling.Appointment, moved bool) { s.confirmLater(biz, a, moved) }
			be = sb
		}
	} else {
		// No store (echo-free dev runs, tests): bookings live in memory.
		be, err = tools.NewMemory(biz, s.now)
	}
	if err != nil {
		return nil, err
	}
	if b.m == nil {
		b.m = map[string]tools.Backend{}
	}
	b.m[biz.ID] = be
	return be, nil
}

// receptionist runs the voice agent on the call.
func (c *call) receptionist(ctx context.Context) error {
	s := c.srv
	sp := &s.agent.speech
	if err := sp.init(s.cfg.Agent, s.metrics, s.log); err != nil {
		return err
	}
	biz := c.business
	eng, err := rules.New(biz, rules.Options{Now: s.now})
	if err != nil {
		return fmt.Errorf("dialogue: %w", err)
	}
	be, err := s.agent.backends.get(s, biz)
	if err != nil {
		return fmt.Errorf("tools: %w", err)
	}
	source := scheduling.SourceCall
	if c.transport == "webrtc" {
		source = scheduling.SourceWebRTC
	}
	exec, err := tools.NewExecutor(biz, be, tools.Options{Now: s.now, Source: source})
	if err != nil {
		return fmt.Errorf("tools: %w", err)
	}
	v, err := vad.New(vad.Options{})
	if err != nil {
		return fmt.Errorf("voice activity: %w", err)
	}
	defer v.Close()
	stt := sp.stt
	if c.transport == "webrtc" {
		if stt, err = sp.wideband(); err != nil {
			return fmt.Errorf("speech recognition: %w", err)
		}
	}
	sess, err := agent.NewSession(agent.Config{
		STT:        stt,
		LLM:        sp.dialogue(eng),
		TTS:        sp.tts,
		VAD:        v,
		Tools:      toolRunner{exec},
		Vocabulary: vocabulary(biz),
		Hint:       eng.HintFor,
		Greeting:   greeting(biz),
		OutputRate: c.tr.OutputRate(),
		Hooks:      c.agentHooks(),
		Logger:     c.log,
		Now:        s.now,
	}, c.tr)
	if err != nil {
		return err
	}
	c.session.Store(sess)
	defer c.session.Store(nil)
	if biz.Disclosure != "" {
		if err := c.data.Disclosed(ctx); err != nil {
			c.log.Error("call data: disclosure", "err", err)
		}
	}
	return sess.Run(ctx, c.in)
}

func (c *call) agentHooks() agent.Hooks {
	m := c.srv.metrics
	return agent.Hooks{
		Turn: func(t agent.Turn) {
			c.recordTurn(t)
			c.live.turn(t)
			if f := c.srv.agent.onTurn; f != nil {
				f(c.id, t)
			}
			c.log.Info("turn", "speaker", t.Speaker, "text", t.Text, "start", t.Start, "end", t.End,
				"interrupted", t.Interrupted, "confidence", t.Confidence)
			if l := t.Latency; l != nil {
				m.observeLatency(l)
			}
		},
		BargeIn: func(time.Duration) {
			m.bargeIns.Inc()
			c.live.event(live.Event{Type: live.EventBargeIn})
		},
		ToolCall: func(call agent.ToolCall, res agent.ToolResult) {
			c.log.Info("tool call", "tool", call.Name)
			c.live.toolCall(call, res)
		},
		Partial: func(text string) {
			c.live.event(live.Event{Type: live.EventPartial, Speaker: "caller", Text: text})
		},
		Transfer: func(number string) {
			c.live.agentTransfer(number)
		},
	}
}

// turnLatency is an agent turn's latency figures as the transcript keeps
// them, in ms; nil for turns without.
func turnLatency(t agent.Turn) *transcript.Latency {
	l := t.Latency
	if l == nil || t.Speaker != "agent" {
		return nil
	}
	ms := func(d time.Duration) int64 { return max(d.Milliseconds(), 0) }
	return &transcript.Latency{
		STTFinalMS: ms(l.STTFinal), FirstTokenMS: ms(l.FirstToken), FirstAudioMS: ms(l.FirstAudio),
		FirstFrameMS: ms(l.FirstFrame), FirstMarkMS: ms(l.FirstMark),
	}
}

// WithTurns calls f with every finished turn of every call, from the call's
// goroutine; f must not block. Tests and the live hub observe calls with it.
func WithTurns(f func(callID string, t agent.Turn)) Option {
	return func(s *Server) { s.agent.onTurn = f }
}
