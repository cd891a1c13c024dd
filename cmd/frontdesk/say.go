package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/frontdesk/frontdesk/agent"
	"github.com/frontdesk/frontdesk/agent/stt/sphinx"
	"github.com/frontdesk/frontdesk/agent/tts/flite"
	"github.com/frontdesk/frontdesk/configs"
	"github.com/frontdesk/frontdesk/media"
	"github.com/frontdesk/frontdesk/media/twilio"
	"github.com/frontdesk/frontdesk/media/twilio/sim"
)

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " | ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// synthesize speaks text with the embedded TTS and returns 8 kHz audio, as
// it would reach us over a phone line.
func synthesize(ctx context.Context, tts *flite.Synth, text string) ([]int16, error) {
	rs, err := media.NewResampler(tts.Rate(), twilio.Rate)
	if err != nil {
		return nil, err
	}
	var out []int16
	err = tts.Synthesize(ctx, text, func(pcm []int16) error {
		out = rs.Process(out, pcm)
		return nil
	})
	return out, err
}

// Exchange is one caller line of a scripted conversation and what the
// caller heard in reply.
type Exchange struct {
	Said  string
	Heard string // the agent's reply as the embedded STT heard it
	Audio []int16
}

// converse places a scripted call: each line is spoken after the agent's
// previous reply, and each reply is transcribed.
func converse(ctx context.Context, o sim.Options, cfg *configs.Config, lines []string) (greeting Exchange, ex []Exchange, res *sim.Result, err error) {
	tts, err := flite.New(flite.Options{})
	if err != nil {
		return greeting, nil, nil, err
	}
	for _, l := range lines {
		a, err := synthesize(ctx, tts, l)
		if err != nil {
			return greeting, nil, nil, fmt.Errorf("synthesize %q: %w", l, err)
		}
		o.Turns = append(o.Turns, a)
	}
	res, err = sim.Call(ctx, o)
	if err != nil {
		return greeting, nil, res, err
	}
	stt, err := sphinx.New(sphinx.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return greeting, nil, res, err
	}
	defer stt.Close()
	vocab := agentVocabulary(cfg, o.To)
	// The reply to line k lies between the end of line k and the start of
	// line k+1 (or the end of the call).
	segment := func(from, to int) []int16 {
		from, to = min(max(from, 0), len(res.Out)), min(max(to, 0), len(res.Out))
		return res.Out[from:to]
	}
	bounds := append(res.TurnStarts, len(res.Out))
	greeting.Audio = segment(0, bounds[0])
	if greeting.Heard, err = transcribe(ctx, stt, vocab, greeting.Audio); err != nil {
		return greeting, nil, res, err
	}
	for k, l := range lines {
		e := Exchange{Said: l}
		if k < len(res.TurnStarts) {
			e.Audio = segment(res.TurnStarts[k]+len(o.Turns[k]), bounds[k+1])
			if e.Heard, err = transcribe(ctx, stt, vocab, e.Audio); err != nil {
				return greeting, ex, res, err
			}
		}
		ex = append(ex, e)
	}
	return greeting, ex, res, nil
}

// agentVocabulary is what the agent of the called business may say, for
// transcribing its replies: greeting, disclosure, FAQ answers, hours words.
func agentVocabulary(cfg *configs.Config, to string) agent.Vocabulary {
	var v agent.Vocabulary
	if cfg == nil {
		return v
	}
	biz, ok := cfg.BusinessByNumber(to)
	if !ok {
		return v
	}
	v.Phrases = append(v.Phrases, biz.Greeting, biz.Disclosure)
	for _, f := range biz.FAQs {
		v.Phrases = append(v.Phrases, f.Answer)
	}
	for _, s := range biz.Services {
		v.Words = append(v.Words, strings.Fields(strings.ToLower(s.Name))...)
	}
	v.Phrases = append(v.Phrases,
		"we are open monday to friday from eight in the morning to five in the afternoon",
		"what day and time would you like", "can i have your name please", "what is the best number to reach you",
		"let me check", "is that right", "you are all set", "goodbye", "thank you for calling",
		"sorry i didn't catch that could you say it again", "are you still there")
	return v
}

// transcribe recognises 8 kHz audio (upsampled to the recogniser's 16 kHz)
// utterance by utterance, splitting on silences.
func transcribe(ctx context.Context, stt *sphinx.Engine, vocab agent.Vocabulary, pcm []int16) (string, error) {
	if media.RMS(pcm) < 50 {
		return "", nil
	}
	rec, err := stt.NewRecognizer(ctx, vocab)
	if err != nil {
		return "", err
	}
	defer rec.Close()
	rs, err := media.NewResampler(twilio.Rate, agent.Rate)
	if err != nil {
		return "", err
	}
	wide := rs.Process(nil, pcm)
	if err := rec.Begin(agent.HintFree); err != nil {
		return "", err
	}
	for i := 0; i < len(wide); i += 320 {
		if _, err := rec.Write(wide[i:min(i+320, len(wide))]); err != nil {
			return "", err
		}
	}
	t, err := rec.End()
	return t.Text, err
}

func sayCmdOutput(greeting Exchange, ex []Exchange, res *sim.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "agent:  %s\n", orSilence(greeting))
	for _, e := range ex {
		fmt.Fprintf(&b, "caller: %s\n", e.Said)
		fmt.Fprintf(&b, "agent:  %s\n", orSilence(e))
	}
	fmt.Fprintf(&b, "(%d frames sent, %d received, %d marks echoed, %d clears; the agent's words as the embedded recogniser heard them)\n",
		res.FramesSent, res.FramesReceived, len(res.MarksEchoed), res.Clears)
	return b.String()
}

func orSilence(e Exchange) string {
	switch {
	case e.Heard != "":
		return e.Heard
	case media.RMS(e.Audio) > 50:
		return fmt.Sprintf("(%.1fs of speech the recogniser could not make out)", float64(len(e.Audio))/twilio.Rate)
	}
	return "(silence)"
}
