//go:build cgo

package sphinx

import (
	"bufio"
	"context"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/frontdesk/frontdesk/agent"
	"github.com/frontdesk/frontdesk/agent/tts/flite"
	"github.com/frontdesk/frontdesk/media"
)

// dentalVocab is the vocabulary of a made-up dental practice: its FAQ
// phrasings, services and staff.
func dentalVocab() agent.Vocabulary {
	return agent.Vocabulary{
		Phrases: []string{
			"What are your opening hours?", "Are you open on Saturday?", "Do you take insurance?",
			"Which insurance plans do you accept?", "Is there parking near the office?",
			"How much does a cleaning cost?", "Do you do teeth whitening?", "Do you see children?",
			"Can I book a checkup?", "I need an emergency appointment.", "Do you accept credit cards?",
			"Can I leave a message for Doctor Lee?", "Is Doctor Patel available?",
			"I have a question about my bill.",
		},
		Words: []string{"cleaning", "checkup", "whitening", "filling", "crown", "root canal",
			"Doctor Lee", "Doctor Patel", "hygienist", "x-ray", "Invisalign"},
	}
}

// offTopic are sentences no receptionist corpus holds.
var offTopic = []string{
	"i lost my dog in the park yesterday",
	"the weather has been terrible all week",
	"my car broke down on the highway",
	"can you recommend a good italian restaurant",
	"the football game starts at eight tonight",
	"please turn off the lights in the kitchen",
	"i think the stock market will go up",
	"my daughter is learning to play the piano",
	"we are flying to paris for our holiday",
	"the printer on the third floor is out of paper",
	"have you seen the new movie about space",
	"my grandmother makes the best apple pie",
	"the train was delayed by forty minutes",
	"he bought a new bicycle for his son",
	"turn left at the second traffic light",
}

// utterances reads testdata/utterances.txt.
func utterances(t testing.TB) []string {
	t.Helper()
	f, err := os.Open("testdata/utterances.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}

var (
	synthMu    sync.Mutex
	synthCache = map[string][]int16{}
)

// speak synthesises text with a flite voice and sends it over a phone
// line: 16 → 8 kHz, μ-law and back, 8 → 16 kHz; with 300 ms of silence
// before and after, as an endpointer would cut it. Cached per voice and
// text.
func speak(t testing.TB, voice, text string) []int16 {
	t.Helper()
	key := voice + "\x00" + text
	synthMu.Lock()
	defer synthMu.Unlock()
	if pcm, ok := synthCache[key]; ok {
		return pcm
	}
	s, err := flite.New(flite.Options{Voice: voice})
	if err != nil {
		t.Fatal(err)
	}
	pad := make([]int16, media.Samples(16000, 300e6))
	pcm := append([]int16{}, pad...)
	err = s.Synthesize(context.Background(), text, func(c []int16) error { pcm = append(pcm, c...); return nil })
	if err != nil {
		t.Fatal(err)
	}
	pcm = append(pcm, pad...)
	pcm = phoneLine(t, pcm)
	synthCache[key] = pcm
	return pcm
}

// phoneLine passes 16 kHz audio through an 8 kHz μ-law channel.
func phoneLine(t testing.TB, pcm []int16) []int16 {
	t.Helper()
	down, err := media.NewResampler(16000, 8000)
	if err != nil {
		t.Fatal(err)
	}
	up, err := media.NewResampler(8000, 16000)
	if err != nil {
		t.Fatal(err)
	}
	narrow := down.Process(nil, pcm)
	narrow = down.Process(narrow, make([]int16, 64)) // flush the filter delay
	ulaw := make([]byte, len(narrow))
	media.EncodeUlaw(ulaw, narrow)
	media.DecodeUlaw(narrow, ulaw)
	return up.Process(nil, narrow)
}

// recognise runs one utterance through r in 20 ms frames.
func recognise(t testing.TB, r agent.Recognizer, hint agent.Hint, pcm []int16) agent.Transcript {
	t.Helper()
	if err := r.Begin(hint); err != nil {
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
		t.Fatal(err)
	}
	return tr
}
