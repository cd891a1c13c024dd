package server_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/agent"
	"github.com/frontdesk/frontdesk/agent/stt/sphinx"
	"github.com/frontdesk/frontdesk/agent/tts/flite"
	"github.com/frontdesk/frontdesk/internal/leaktest"
	"github.com/frontdesk/frontdesk/internal/servertest"
	"github.com/frontdesk/frontdesk/media"
	"github.com/frontdesk/frontdesk/media/webrtc"
	"github.com/frontdesk/frontdesk/media/webrtc/sim"
	"github.com/frontdesk/frontdesk/server"
)

// A WebRTC caller talks to the embedded receptionist: Opus both ways, the
// agent's greeting and its reply to a spoken question come back, the
// embedded recogniser makes out the greeting's words, and the call's
// transcript has the question.
func TestWebRTCReceptionist(t *testing.T) {
	leaktest.Check(t)
	checkPCs(t)
	logs := &syncBuffer{}
	ts := servertest.StartWith(t, "receptionist", servertest.Options{
		Logs:   logs,
		Server: []server.Option{server.WithWebRTC(webrtc.Config{IPs: []string{"127.0.0.1"}})},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	tts, err := flite.New(flite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var question []int16
	if err := tts.Synthesize(ctx, "What are your hours?", func(pcm []int16) error {
		question = append(question, pcm...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if tts.Rate() != sim.Rate {
		t.Fatalf("flite speaks at %d Hz, the caller at %d", tts.Rate(), sim.Rate)
	}
	// Listen to the greeting (the AI disclosure, then the business's), ask,
	// listen to the reply.
	lead := media.Samples(sim.Rate, 9*time.Second)
	audio := append(make([]int16, lead), question...)
	audio = append(audio, make([]int16, media.Samples(sim.Rate, 500*time.Millisecond))...)
	res, err := sim.Call(ctx, sim.Options{
		Server: ts.URL, Business: "clinic", Codec: sim.Opus,
		Audio: audio, Tail: 6 * time.Second, Record: true,
	})
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	if len(res.Out) < len(audio) {
		t.Fatalf("heard %v, want the whole call", media.Duration(sim.Rate, len(res.Out)))
	}
	greetingAudio := res.Out[:lead]
	reply := res.Out[lead+len(question):]
	if rms := media.RMS(greetingAudio); rms < 300 {
		t.Errorf("greeting RMS %.0f, want speech", rms)
	}
	if rms := media.RMS(reply); rms < 300 {
		t.Errorf("reply RMS %.0f, want speech", rms)
	}

	stt, err := sphinx.New(sphinx.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer stt.Close()
	vocab := agent.Vocabulary{Phrases: []string{
		"this call is answered by an ai assistant and may be recorded",
		"thank you for calling test clinic how can i help you",
		"we are closed", "we are open", "is there anything else i can help you with",
		"sorry i didn't catch that could you say it again",
	}}
	heard := transcribe16k(ctx, t, stt, vocab, greetingAudio)
	t.Logf("greeting as recognised: %q; reply as recognised: %q", heard, transcribe16k(ctx, t, stt, vocab, reply))
	for _, w := range []string{"calling", "clinic", "help"} {
		if !strings.Contains(heard, w) {
			t.Errorf("greeting %q lacks %q", heard, w)
		}
	}
	waitMetric(t, ts.URL, `frontdesk_calls_total{outcome="completed",transport="webrtc"}`, 1)

	// The call's transcript has the question as the agent understood it.
	// (Read from the turn log until the transcript API serves WebRTC
	// calls' transcripts to tests.)
	if l := logs.String(); !strings.Contains(l, `speaker=caller text="what are your hours"`) {
		var turns []string
		for _, line := range strings.Split(l, "\n") {
			if strings.Contains(line, "msg=turn") {
				turns = append(turns, line)
			}
		}
		t.Errorf("the transcript lacks the caller's question; turns:\n%s", strings.Join(turns, "\n"))
	}
}

// transcribe16k recognises 16 kHz audio with the embedded recogniser.
func transcribe16k(ctx context.Context, t *testing.T, stt *sphinx.Engine, vocab agent.Vocabulary, pcm []int16) string {
	t.Helper()
	rec, err := stt.NewRecognizer(ctx, vocab)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	if err := rec.Begin(agent.HintFree); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(pcm); i += 320 {
		if _, err := rec.Write(pcm[i:min(i+320, len(pcm))]); err != nil {
			t.Fatal(err)
		}
	}
	tr, err := rec.End()
	if err != nil {
		t.Fatal(err)
	}
	return tr.Text
}
