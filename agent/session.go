package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/frontdesk/frontdesk/media"
)

// Transport is how a Session speaks to the caller. The Twilio and WebRTC
// transports implement it; all three methods return at once and are safe
// for concurrent use. Audio is PCM16 at the rate given in Config.
type Transport interface {
	Play(pcm []int16)
	// Mark asks to be told (through Input.Mark) when the audio played so
	// far has reached the caller.
	Mark(name string)
	// Clear drops every bit of audio not yet heard.
	Clear()
}

// Action is what a tool asks the session to do beyond speaking.
type Action struct {
	EndCall  bool
	Transfer string // E.164 number to transfer the call to
}

// ToolResult is the outcome of one tool call.
type ToolResult struct {
	Content string // the tool message's content, usually JSON
	Action  Action
}

// Tools runs the dialogue engine's tool calls. Safe for concurrent use.
type Tools interface {
	Definitions() []Tool
	Execute(ctx context.Context, call ToolCall) (ToolResult, error)
}

// Turn is one finished turn of the conversation, on the call's timeline.
type Turn struct {
	Speaker     string // "caller" or "agent"
	Text        string
	Start, End  time.Duration
	Interrupted bool
	Confidence  float64
	Latency     *Latency // agent turns that answered the caller
}

// Hooks let the call observe the session. Every field may be nil. They are
// called from the session's goroutine and must not block.
type Hooks struct {
	Turn     func(Turn)
	Partial  func(text string)
	BargeIn  func(at time.Duration)
	ToolCall func(call ToolCall, result ToolResult)
	Transfer func(number string)
}

// Config is a Session's configuration. Zero durations take the defaults.
type Config struct {
	STT   STT
	LLM   LLM
	TTS   TTS
	VAD   VAD
	Tools Tools // may be nil: no tools
	// Vocabulary for the recognizer.
	Vocabulary Vocabulary
	// Hint chooses the recognizer's search for the next caller turn.
	Hint func([]Message) Hint
	// System is the dialogue engine's system prompt.
	System string
	// Greeting is spoken first (the disclosure included).
	Greeting string
	// OutputRate is the sample rate the transport plays.
	OutputRate int

	// Silence that ends a caller turn; default 400 ms.
	Silence time.Duration
	// Speculate is the silence after which the recogniser's final is
	// taken and the reply prepared, withheld until Silence (speculate.go);
	// default Silence/2, negative: never.
	Speculate time.Duration
	// MaxTurn caps a caller turn; default 15 s.
	MaxTurn time.Duration
	// BargeIn is how much caller speech interrupts the agent; default 300 ms.
	BargeIn time.Duration
	// MinConfidence rejects transcripts below it; default 0.3.
	MinConfidence float64
	// Idle is the silence after which the agent prompts; default 8 s. The
	// second time the agent says goodbye and hangs up.
	Idle time.Duration
	// TurnTimeout bounds one reply (dialogue and tools); default 15 s.
	TurnTimeout time.Duration

	Reprompt   string // default "Sorry, I didn't catch that. Could you say it again?"
	IdlePrompt string // default "Are you still there?"
	IdleBye    string // default "I'll let you go now. Goodbye!"

	Hooks  Hooks
	Logger *slog.Logger
	Now    func() time.Time
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Silence, 400*time.Millisecond)
	def(&c.MaxTurn, 15*time.Second)
	def(&c.BargeIn, 300*time.Millisecond)
	def(&c.Idle, 8*time.Second)
	def(&c.TurnTimeout, 15*time.Second)
	if c.Speculate == 0 {
		c.Speculate = c.Silence / 2
	}
	if c.MinConfidence == 0 {
		c.MinConfidence = 0.3
	}
	if c.Reprompt == "" {
		c.Reprompt = "Sorry, I didn't catch that. Could you say it again?"
	}
	if c.IdlePrompt == "" {
		c.IdlePrompt = "Are you still there?"
	}
	if c.IdleBye == "" {
		c.IdleBye = "I'll let you go now. Goodbye!"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// ErrEndCall is returned by Run when the agent ended the call (goodbye
// played, or the call was transferred).
var ErrEndCall = errors.New("agent: call ended by the agent")

// Session runs one call's conversation: endpointing, recognition, the
// dialogue with tools, synthesis, and barge-in. It is driven by the caller's
// audio, which is also its clock: 20 ms of input is 20 ms of call time, so
// a test can run it faster than real time. Run owns all of its state; it is
// not safe to call Run twice.
type Session struct {
	cfg  Config
	out  Transport // the gate in front of the transport
	gate *gate
	log  *slog.Logger

	// owned by Run
	rec       Recognizer
	toSTT     *media.Resampler
	frame16   []int16
	preroll   [][]int16 // the last frames before speech began, to feed the recognizer
	msgs      []Message
	now       time.Duration // call time: input audio received so far
	utt       *utterance
	speechRun int
	lastHeard time.Duration // when the agent was last audible or the caller last spoke
	idleCount int
	digits    strings.Builder
	digitAt   time.Duration
	reply     *reply  // the agent turn in progress, if any
	uttBuf    []int16 // reused for utterance.audio
	replySeq  int
	ending    bool
	events    chan replyEvent
	// early holds marks echoed before the loop saw the sentence they end
	// (a fast transport can echo before the reply's event arrives).
	early map[string]bool

	markSeq atomic.Int64 // names marks; used by reply goroutines
	whisper whispers     // supervisors' instructions (whisper.go)
}

type utterance struct {
	start    time.Duration
	voiced   time.Duration
	silence  time.Duration
	partial  string
	barged   bool
	duration time.Duration
	hint     Hint
	audio    []int16 // 16 kHz, all the recognizer was given: decoded again on resume
	spec     *spec   // finalised early, waiting for the endpoint
	specs    int
}

// NewSession returns a Session that speaks through out.
func NewSession(cfg Config, out Transport) (*Session, error) {
	cfg.defaults()
	if cfg.STT == nil || cfg.LLM == nil || cfg.TTS == nil || cfg.VAD == nil {
		return nil, errors.New("agent: session needs STT, LLM, TTS and VAD")
	}
	if cfg.OutputRate <= 0 {
		return nil, errors.New("agent: session needs the transport's output rate")
	}
	g := newGate(out)
	return &Session{cfg: cfg, out: g, gate: g, log: cfg.Logger, events: make(chan replyEvent, 64), early: map[string]bool{}}, nil
}

const prerollFrames = 10 // 200 ms of audio before speech was detected

// Run converses until the caller hangs up (in is closed: nil), the agent
// ends the call (ErrEndCall), or ctx ends.
func (s *Session) Run(ctx context.Context, in <-chan media.In) (err error) {
	s.rec, err = s.cfg.STT.NewRecognizer(ctx, s.cfg.Vocabulary)
	if err != nil {
		return fmt.Errorf("agent: recognizer: %w", err)
	}
	defer s.rec.Close()
	defer s.stopReply()
	if s.cfg.System != "" {
		s.msgs = append(s.msgs, Message{Role: RoleSystem, Content: s.cfg.System})
	}
	if s.cfg.Greeting != "" {
		s.say(ctx, s.cfg.Greeting, Action{})
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev := <-s.events:
			if done := s.handleEvent(ctx, ev); done {
				return ErrEndCall
			}
		case x, ok := <-in:
			if !ok {
				return nil // the caller hung up
			}
			switch x.Kind {
			case media.InMark:
				if done := s.handleMark(x.Mark); done {
					return ErrEndCall
				}
			case media.InDTMF:
				s.handleDigit(ctx, x.Digit)
			case media.InAudio:
				if err := s.handleAudio(ctx, x.Rate, x.PCM()); err != nil {
					return err
				}
			}
		}
	}
}

// audible reports whether the caller may be hearing the agent now.
func (s *Session) audible() bool {
	return s.reply != nil && !s.reply.held && (!s.reply.done || len(s.reply.pending) > 0)
}

func (s *Session) handleAudio(ctx context.Context, rate int, pcm []int16) error {
	if s.toSTT == nil || s.toSTT.InRate() != rate {
		rs, err := media.NewResampler(rate, Rate)
		if err != nil {
			return fmt.Errorf("agent: caller audio: %w", err)
		}
		s.toSTT = rs
	}
	s.now += media.Duration(rate, len(pcm))
	s.frame16 = s.toSTT.Process(s.frame16[:0], pcm)
	frame := s.frame16
	speech := s.cfg.VAD.Speech(frame, Rate)
	if s.audible() {
		s.lastHeard = s.now
	}

	if s.utt == nil {
		s.pushPreroll(frame)
		if speech {
			s.speechRun++
		} else {
			s.speechRun = 0
		}
		if s.speechRun < 3 { // 60 ms of speech starts an utterance
			s.checkIdle(ctx)
			s.checkDigits(ctx)
			return nil
		}
		if err := s.beginUtterance(); err != nil {
			return err
		}
		return nil
	}

	u := s.utt
	u.duration += media.FrameDuration
	if speech {
		u.voiced += media.FrameDuration
		u.silence = 0
	} else {
		u.silence += media.FrameDuration
	}
	u.audio = append(u.audio, frame...)
	if u.spec != nil {
		if u.silence == 0 { // the caller goes on: what was finalised was not the end
			if err := s.resume(); err != nil {
				return err
			}
			return nil
		}
		if u.silence >= s.cfg.Silence || u.duration >= s.cfg.MaxTurn {
			return s.endUtterance(ctx)
		}
		return nil
	}
	t, err := s.rec.Write(frame)
	if err != nil {
		return fmt.Errorf("agent: recognize: %w", err)
	}
	if t.Text != "" && t.Text != u.partial {
		u.partial = t.Text
		if s.cfg.Hooks.Partial != nil {
			s.cfg.Hooks.Partial(t.Text)
		}
	}
	// Barge-in: enough caller speech while the agent is audible, unless
	// what we have so far is only a backchannel ("uh-huh", "okay").
	if s.audible() && !u.barged && u.voiced >= s.cfg.BargeIn && !isBackchannel(u.partial) {
		u.barged = true
		s.interrupt()
	}
	if u.silence >= s.cfg.Silence || u.duration >= s.cfg.MaxTurn {
		return s.endUtterance(ctx)
	}
	if s.cfg.Speculate > 0 && u.silence >= s.cfg.Speculate && u.specs < maxSpecs && !s.audible() {
		return s.speculate(ctx)
	}
	return nil
}

func (s *Session) pushPreroll(frame []int16) {
	var buf []int16
	if len(s.preroll) == prerollFrames {
		buf = s.preroll[0][:0]
		s.preroll = append(s.preroll[:0], s.preroll[1:]...)
	}
	s.preroll = append(s.preroll, append(buf, frame...))
}

func (s *Session) beginUtterance() error {
	hint := HintFree
	if s.cfg.Hint != nil {
		hint = s.cfg.Hint(s.msgs)
	}
	if err := s.rec.Begin(hint); err != nil {
		return fmt.Errorf("agent: recognize: %w", err)
	}
	start := s.now - time.Duration(len(s.preroll))*media.FrameDuration
	s.utt = &utterance{start: max(start, 0), voiced: 3 * media.FrameDuration, hint: hint, audio: s.uttBuf[:0]}
	for _, f := range s.preroll {
		if _, err := s.rec.Write(f); err != nil {
			return fmt.Errorf("agent: recognize: %w", err)
		}
		s.utt.audio = append(s.utt.audio, f...)
	}
	s.preroll = s.preroll[:0]
	s.speechRun = 0
	return nil
}

func (s *Session) endUtterance(ctx context.Context) error {
	u := s.utt
	s.utt = nil
	s.uttBuf = u.audio[:0]
	// The caller stopped speaking u.silence ago: input arrives in real time.
	t0 := s.cfg.Now().Add(-u.silence)
	var t Transcript
	var ready time.Time
	if sp := u.spec; sp != nil {
		t, t0, ready = sp.t, sp.t0, sp.ready
		if ok, end := s.commit(ctx, sp, Turn{Speaker: "caller", Text: cleanText(t), Start: u.start, End: s.now - u.silence, Confidence: t.Confidence}); ok {
			s.lastHeard = s.now
			s.idleCount = 0
			if end {
				return ErrEndCall
			}
			return nil
		}
		if sp.reply != nil && s.reply == sp.reply {
			s.stopReply()
			s.reply = nil
		}
		s.gate.drop()
	} else {
		var err error
		if t, err = s.rec.End(); err != nil {
			return fmt.Errorf("agent: recognize: %w", err)
		}
		ready = s.cfg.Now()
	}
	text := cleanText(t)
	s.lastHeard = s.now
	s.idleCount = 0
	if s.audible() && !u.barged {
		if text == "" || isBackchannel(text) {
			return nil // a backchannel while the agent talks: let it talk
		}
		s.interrupt()
	}
	callerEnd := s.now - u.silence
	if !s.accept(t) {
		s.log.Debug("agent: rejected transcript", "text", text, "confidence", t.Confidence)
		s.emitTurn(Turn{Speaker: "caller", Text: text, Start: u.start, End: callerEnd, Confidence: t.Confidence})
		s.say(ctx, s.cfg.Reprompt, Action{})
		return nil
	}
	s.emitTurn(Turn{Speaker: "caller", Text: text, Start: u.start, End: callerEnd, Confidence: t.Confidence})
	s.msgs = append(s.msgs, Message{Role: RoleUser, Content: text})
	lat := &Latency{STTFinal: ready.Sub(t0)}
	s.startReply(ctx, t0, lat)
	return nil
}

// accept reports whether a final transcript is good enough to act on.
func (s *Session) accept(t Transcript) bool {
	return cleanText(t) != "" && t.Confidence >= s.cfg.MinConfidence
}

func cleanText(t Transcript) string { return strings.TrimSpace(t.Text) }

func (s *Session) checkIdle(ctx context.Context) {
	if s.audible() || s.reply != nil && !s.reply.done || s.ending {
		return
	}
	if s.now-s.lastHeard < s.cfg.Idle {
		return
	}
	s.lastHeard = s.now
	s.idleCount++
	if s.idleCount == 1 {
		s.say(ctx, s.cfg.IdlePrompt, Action{})
		return
	}
	s.say(ctx, s.cfg.IdleBye, Action{EndCall: true})
}

// handleDigit collects key presses; '#' or 1.5 s without a key sends them
// to the dialogue as the user turn "DTMF: <digits>".
func (s *Session) handleDigit(ctx context.Context, d string) {
	s.lastHeard = s.now
	if d == "#" {
		s.flushDigits(ctx)
		return
	}
	s.digits.WriteString(d)
	s.digitAt = s.now
}

func (s *Session) checkDigits(ctx context.Context) {
	if s.digits.Len() > 0 && s.now-s.digitAt >= 1500*time.Millisecond {
		s.flushDigits(ctx)
	}
}

func (s *Session) flushDigits(ctx context.Context) {
	if s.digits.Len() == 0 {
		return
	}
	text := "DTMF: " + s.digits.String()
	s.digits.Reset()
	if s.audible() {
		s.interrupt()
	}
	s.emitTurn(Turn{Speaker: "caller", Text: text, Start: s.digitAt, End: s.now, Confidence: 1})
	s.msgs = append(s.msgs, Message{Role: RoleUser, Content: text})
	s.startReply(ctx, s.cfg.Now(), &Latency{})
}

func (s *Session) emitTurn(t Turn) {
	if h := s.cfg.Hooks.Turn; h != nil {
		h(t)
	}
}

func isBackchannel(text string) bool {
	text = strings.TrimSpace(strings.ToLower(text))
	if text == "" {
		return true
	}
	for _, w := range strings.Fields(text) {
		switch strings.Trim(w, ".,!?") {
		case "uh", "huh", "uh-huh", "um", "mm", "mhm", "hmm", "mm-hmm", "yeah", "yep", "ok", "okay", "right", "sure", "i", "see", "got", "it", "alright":
		default:
			return false
		}
	}
	return true
}

// ---- the agent's replies ----

// reply is one agent turn in progress: the dialogue, tools and synthesis
// run in a goroutine; the session's loop tracks its marks.
type reply struct {
	id        int
	cancel    context.CancelFunc
	finished  chan struct{}
	start     time.Duration
	sentences []string // queued to the transport, in order
	heard     int      // sentences whose marks came back
	pending   []string // marks sent, not yet echoed
	done      bool     // the goroutine has finished
	action    Action
	lat       *Latency
	t0        time.Time // end of the caller's speech
	cleared   bool
	held      bool        // speculative: withheld until the caller's turn is committed
	doneEv    *replyEvent // its done event, applied at commit
	released  time.Time   // when a withheld reply was committed
}

type replyEvent struct {
	id       int
	sentence string // a sentence was queued, followed by mark
	mark     string
	firstTok bool
	audioAt  time.Time
	done     bool
	msgs     []Message // with done: the messages the turn added
	action   Action
	err      error
	tool     *ToolCall
	result   ToolResult
}

// say speaks fixed text as an agent turn, without the dialogue engine.
func (s *Session) say(ctx context.Context, text string, act Action) {
	s.stopReply()
	s.msgs = append(s.msgs, Message{Role: RoleAssistant, Content: text})
	s.launch(ctx, func(ctx context.Context, emit func(replyEvent)) ([]Message, Action, error) {
		sp := &speaker{s: s, emit: emit}
		err := sp.speak(ctx, splitSentences(text))
		return nil, act, err
	}, s.cfg.Now(), nil)
}

func (s *Session) startReply(ctx context.Context, t0 time.Time, lat *Latency) {
	s.launchReply(ctx, append([]Message(nil), s.msgs...), t0, lat)
}

// launchReply starts the dialogue's reply to msgs.
func (s *Session) launchReply(ctx context.Context, msgs []Message, t0 time.Time, lat *Latency) {
	s.stopReply()
	s.launch(ctx, func(ctx context.Context, emit func(replyEvent)) ([]Message, Action, error) {
		return s.converse(ctx, msgs, emit)
	}, t0, lat)
}

func (s *Session) launch(parent context.Context, work func(context.Context, func(replyEvent)) ([]Message, Action, error), t0 time.Time, lat *Latency) {
	s.replySeq++
	ctx, cancel := context.WithTimeout(parent, s.cfg.TurnTimeout)
	r := &reply{id: s.replySeq, cancel: cancel, finished: make(chan struct{}), start: s.now, lat: lat, t0: t0}
	s.reply = r
	emit := func(ev replyEvent) {
		ev.id = r.id
		select {
		case s.events <- ev:
		case <-ctx.Done():
		}
	}
	go func() {
		defer close(r.finished)
		defer cancel()
		msgs, act, err := work(ctx, emit)
		// The done event must arrive even when ctx has ended, unless the
		// session stopped listening (stopReply waits on finished instead).
		select {
		case s.events <- replyEvent{id: r.id, done: true, msgs: msgs, action: act, err: err}:
		case <-parent.Done():
		}
	}()
}

// stopReply cancels the reply in progress and waits for its goroutine.
func (s *Session) stopReply() {
	r := s.reply
	if r == nil {
		return
	}
	r.cancel()
	for {
		select {
		case <-r.finished:
			if r.held {
				s.gate.drop() // its withheld audio is never heard
			}
			// Drain what it sent so a stale event is never mistaken for news.
			for {
				select {
				case <-s.events:
				default:
					return
				}
			}
		case <-s.events:
		}
	}
}

// interrupt is barge-in: silence the agent now, cancel its turn, and keep
// in the transcript only what the caller heard.
func (s *Session) interrupt() {
	r := s.reply
	if r == nil || r.cleared {
		return
	}
	s.out.Clear()
	r.cleared = true
	if h := s.cfg.Hooks.BargeIn; h != nil {
		h(s.now)
	}
	s.stopReply()
	heard := strings.Join(r.sentences[:r.heard], " ")
	s.replaceLastAssistant(r, heard)
	s.emitTurn(Turn{Speaker: "agent", Text: heard, Start: r.start, End: s.now, Interrupted: true, Latency: r.lat})
	s.reply = nil
}

// replaceLastAssistant makes the conversation say what the caller heard
// of an interrupted turn, so the dialogue engine does not assume more.
func (s *Session) replaceLastAssistant(r *reply, heard string) {
	for i := len(s.msgs) - 1; i >= 0; i-- {
		if s.msgs[i].Role == RoleAssistant && len(s.msgs[i].ToolCalls) == 0 {
			s.msgs[i].Content = heard
			return
		}
		if s.msgs[i].Role == RoleUser {
			s.msgs = append(s.msgs, Message{Role: RoleAssistant, Content: heard})
			return
		}
	}
}

// handleEvent applies a reply event; it returns true when the call should end.
func (s *Session) handleEvent(ctx context.Context, ev replyEvent) bool {
	r := s.reply
	if r == nil || ev.id != r.id {
		return false // from a turn already stopped
	}
	switch {
	case ev.tool != nil:
		if h := s.cfg.Hooks.ToolCall; h != nil {
			h(*ev.tool, ev.result)
		}
	case ev.firstTok:
		if r.lat != nil && r.lat.FirstToken == 0 {
			r.lat.FirstToken = s.cfg.Now().Sub(r.t0)
		}
	case ev.sentence != "":
		if r.lat != nil && r.lat.FirstAudio == 0 {
			r.lat.FirstAudio = ev.audioAt.Sub(r.t0)
			if !r.held {
				r.lat.FirstFrame = later(ev.audioAt, r.released).Sub(r.t0)
			}
		}
		r.sentences = append(r.sentences, ev.sentence)
		if s.early[ev.mark] {
			delete(s.early, ev.mark)
			r.heard++
			return s.finishIfDone()
		}
		r.pending = append(r.pending, ev.mark)
	case ev.done && r.held:
		r.doneEv = &ev // what the turn added counts once the caller's turn does
	case ev.done:
		r.done = true
		r.action = ev.action
		if ev.err != nil && !errors.Is(ev.err, context.Canceled) {
			s.log.Warn("agent: reply failed", "err", ev.err)
		}
		// Messages the turn added (assistant text, tool calls, results).
		s.msgs = append(s.msgs, ev.msgs...)
		if ev.action.Transfer != "" {
			if h := s.cfg.Hooks.Transfer; h != nil {
				h(ev.action.Transfer)
			}
		}
		if ev.action.EndCall || ev.action.Transfer != "" {
			s.ending = true
		}
		return s.finishIfDone()
	}
	return false
}

// handleMark records that the caller heard a sentence.
func (s *Session) handleMark(name string) bool {
	r := s.reply
	if r == nil || r.cleared {
		return false // a mark of a cleared or older turn
	}
	if len(r.pending) == 0 || r.pending[0] != name {
		if len(s.early) < 64 {
			s.early[name] = true
		}
		return false
	}
	r.pending = r.pending[1:]
	r.heard++
	if r.lat != nil && r.lat.FirstMark == 0 && r.heard == 1 {
		r.lat.FirstMark = s.cfg.Now().Sub(r.t0)
	}
	s.lastHeard = s.now
	return s.finishIfDone()
}

// finishIfDone closes the agent turn once it is complete and heard; it
// returns true when the call should now end.
func (s *Session) finishIfDone() bool {
	r := s.reply
	if r == nil || !r.done || len(r.pending) > 0 {
		return false
	}
	text := strings.Join(r.sentences, " ")
	if text != "" {
		var lat *Latency
		if r.lat != nil && r.lat.FirstAudio > 0 {
			lat = r.lat
		}
		s.emitTurn(Turn{Speaker: "agent", Text: text, Start: r.start, End: s.now, Latency: lat})
	}
	s.reply = nil
	clear(s.early)
	s.lastHeard = s.now
	return s.ending
}

// converse runs the dialogue engine with tools until it produces a reply
// without tool calls, speaking sentences as they complete.
func (s *Session) converse(ctx context.Context, msgs []Message, emit func(replyEvent)) ([]Message, Action, error) {
	var added []Message
	var act Action
	var tools []Tool
	if s.cfg.Tools != nil {
		tools = s.cfg.Tools.Definitions()
	}
	first := true
	for round := 0; round < 5; round++ {
		var text strings.Builder
		var calls []ToolCall
		sp := &speaker{s: s, emit: emit}
		err := s.cfg.LLM.Complete(ctx, Request{Messages: s.whisper.with(append(msgs, added...)), Tools: tools}, func(d Delta) error {
			if first {
				first = false
				emit(replyEvent{firstTok: true})
			}
			if d.ToolCall != nil {
				calls = append(calls, *d.ToolCall)
				return nil
			}
			text.WriteString(d.Text)
			return sp.feed(ctx, d.Text)
		})
		if err == nil {
			err = sp.flush(ctx)
		}
		if err != nil {
			return added, act, fmt.Errorf("agent: dialogue: %w", err)
		}
		added = append(added, Message{Role: RoleAssistant, Content: text.String(), ToolCalls: calls})
		if len(calls) == 0 {
			return added, act, nil
		}
		// A withheld reply acts only once the caller's turn is committed.
		if err := s.gate.wait(ctx); err != nil {
			return added, act, err
		}
		for _, c := range calls {
			res, err := s.cfg.Tools.Execute(ctx, c)
			if err != nil {
				res = ToolResult{Content: fmt.Sprintf(`{"error":%q}`, err.Error())}
			}
			emit(replyEvent{tool: &c, result: res})
			if res.Action.EndCall {
				act.EndCall = true
			}
			if res.Action.Transfer != "" {
				act.Transfer = res.Action.Transfer
			}
			added = append(added, Message{Role: RoleTool, ToolCallID: c.ID, Content: res.Content})
		}
	}
	return added, act, errors.New("agent: dialogue: too many tool rounds")
}

// speaker turns streamed text into sentences and speaks each as soon as it
// is complete.
type speaker struct {
	s       *Session
	emit    func(replyEvent)
	buf     strings.Builder
	started bool // the first sentence was spoken
}

func (sp *speaker) feed(ctx context.Context, text string) error {
	sp.buf.WriteString(text)
	done, rest := cutSentences(sp.buf.String())
	if len(done) == 0 {
		return nil
	}
	sp.buf.Reset()
	sp.buf.WriteString(rest)
	return sp.speak(ctx, done)
}

func (sp *speaker) flush(ctx context.Context) error {
	rest := strings.TrimSpace(sp.buf.String())
	sp.buf.Reset()
	if rest == "" {
		return nil
	}
	return sp.speak(ctx, []string{rest})
}

// speak synthesises each sentence, plays it and marks its end. The
// silence before the first sentence's first word is trimmed: it would only
// add to the reply's latency.
func (sp *speaker) speak(ctx context.Context, sentences []string) error {
	s, emit := sp.s, sp.emit
	for _, sentence := range sentences {
		rs, err := media.NewResampler(s.cfg.TTS.Rate(), s.cfg.OutputRate)
		if err != nil {
			return fmt.Errorf("agent: speak: %w", err)
		}
		var lead *leadTrimmer
		if !sp.started {
			sp.started = true
			lead = newLeadTrimmer(s.cfg.TTS.Rate())
		}
		var out []int16
		first := time.Time{}
		play := func(pcm []int16) {
			if len(pcm) == 0 {
				return
			}
			out = rs.Process(out[:0], pcm)
			if first.IsZero() {
				first = s.cfg.Now()
			}
			s.out.Play(out)
		}
		err = s.cfg.TTS.Synthesize(ctx, sentence, func(pcm []int16) error {
			if lead != nil {
				pcm = lead.trim(pcm)
			}
			play(pcm)
			return ctx.Err()
		})
		if err == nil && lead != nil {
			play(lead.flush())
		}
		if err != nil {
			return fmt.Errorf("agent: speak: %w", err)
		}
		if first.IsZero() {
			continue // nothing to say
		}
		mark := "m" + strconv.FormatInt(s.markSeq.Add(1), 10)
		s.out.Mark(mark)
		emit(replyEvent{sentence: sentence, mark: mark, audioAt: first})
	}
	return ctx.Err()
}

// cutSentences splits complete sentences off the front of text.
func cutSentences(text string) (done []string, rest string) {
	start := 0
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '.', '!', '?':
			if i+1 < len(text) && text[i+1] == ' ' {
				if sentence := strings.TrimSpace(text[start : i+1]); sentence != "" {
					done = append(done, sentence)
				}
				start = i + 1
			}
		}
	}
	return done, text[start:]
}

func splitSentences(text string) []string {
	done, rest := cutSentences(text)
	if rest = strings.TrimSpace(rest); rest != "" {
		done = append(done, rest)
	}
	return done
}

func later(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}
