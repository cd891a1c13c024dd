package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/internal/servertest"
	"github.com/frontdesk/frontdesk/media"
	"github.com/frontdesk/frontdesk/media/twilio/sim"
	"github.com/frontdesk/frontdesk/server"
	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/store/sqlite"
)

// The example's Bright Smile Dental, as configs/example.yaml has it.
const (
	exampleBiz        = "bright-smile"
	exampleDisclosure = "This call is answered by an AI assistant and may be recorded."
)

// recordedAgent starts the example server in receptionist mode over an
// SQLite store the test can read, and returns a readonly API key of the
// example business.
func recordedAgent(t *testing.T) (*servertest.Server, *turns, store.Store, string) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() }) // after the server stops: registered first
	secret, k, err := store.NewAPIKey(exampleBiz, store.RoleReadonly, "disclosure test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.APIKeys().Create(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	srv, log := startAgent(t, server.WithStore(st))
	return srv, log, st, secret
}

// getBody GETs url with a bearer key and wants 200.
func getBody(t *testing.T, url, key string) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return b
}

// transcriptJSON is the JSON export as a client reads it.
type transcriptJSON struct {
	DisclosureGiven    bool   `json:"disclosure_given"`
	RecordingStoppedMS *int64 `json:"recording_stopped_ms"`
	Turns              []struct {
		Speaker string `json:"speaker"`
		Text    string `json:"text"`
		StartMS int64  `json:"start_ms"`
		EndMS   int64  `json:"end_ms"`
	} `json:"turns"`
}

func TestDisclosureFirst(t *testing.T) {
	srv, log, st, key := recordedAgent(t)
	o := exampleCall(srv)
	o.Turns = speak(t, "what are your opening hours")
	res, err := sim.Call(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	ts := log.all()
	if len(ts) == 0 || ts[0].Speaker != "agent" {
		t.Fatalf("first turn %+v, want the agent's greeting", ts)
	}
	if !strings.HasPrefix(ts[0].Text, exampleDisclosure) {
		t.Errorf("first thing said: %q, want it to start with the disclosure %q", ts[0].Text, exampleDisclosure)
	}
	// What the caller heard first is that turn: speech starts within the
	// first seconds and lasts about as long as the greeting.
	first := firstLoud(res.Out)
	if first < 0 || first > 3*8000 {
		t.Errorf("the caller heard nothing in the first 3 s (first speech at sample %d)", first)
	}
	if ts[0].Start > 3*time.Second {
		t.Errorf("greeting started at %v, want at once", ts[0].Start)
	}

	c := finishedCall(t, st, "bright-smile")
	if !c.Disclosed {
		t.Errorf("call record: disclosed = false, want true")
	}
	var tr transcriptJSON
	if err := json.Unmarshal(getBody(t, srv.URL+"/v1/calls/"+c.ID+"/transcript", key), &tr); err != nil {
		t.Fatal(err)
	}
	if !tr.DisclosureGiven {
		t.Errorf("transcript: disclosure_given = false")
	}
	if len(tr.Turns) == 0 || tr.Turns[0].Speaker != "agent" || !strings.HasPrefix(tr.Turns[0].Text, exampleDisclosure) {
		t.Errorf("transcript's first turn %+v, want the agent's disclosure", tr.Turns)
	}
}

func TestOptOutByVoice(t *testing.T) {
	srv, log, st, key := recordedAgent(t)
	o := exampleCall(srv)
	o.Turns = speak(t, "please do not record this call", "what are your opening hours")
	res, err := sim.Call(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := log.replyTo("hours"); !ok {
		t.Errorf("the call did not go on after the opt-out")
	}
	c := finishedCall(t, st, "bright-smile")
	if c.RecordingStoppedAt.IsZero() {
		t.Fatalf("call record: recording_stopped_at not set")
	}
	if c.RecordingID == "" {
		t.Fatalf("call record: no recording (what came before the opt-out should stay)")
	}

	var tr transcriptJSON
	if err := json.Unmarshal(getBody(t, srv.URL+"/v1/calls/"+c.ID+"/transcript", key), &tr); err != nil {
		t.Fatal(err)
	}
	if tr.RecordingStoppedMS == nil {
		t.Fatalf("transcript: no recording_stopped_ms: %+v", tr)
	}
	stopMS := *tr.RecordingStoppedMS
	said := false
	for _, turn := range tr.Turns {
		if turn.Speaker == "system" && strings.Contains(turn.Text, "not to be recorded") && turn.StartMS == stopMS {
			said = true
		}
	}
	if !said {
		t.Errorf("transcript does not say the recording stopped at %d ms: %+v", stopMS, tr.Turns)
	}

	a, err := media.ReadWAV(bytes.NewReader(getBody(t, srv.URL+"/v1/calls/"+c.ID+"/recording", key)))
	if err != nil {
		t.Fatal(err)
	}
	if a.Channels != 2 {
		t.Fatalf("recording has %d channels", a.Channels)
	}
	stop := int(stopMS) * a.Rate / 1000
	frames := a.Frames()
	t.Logf("recording: %d frames (%.2f s) at %d Hz, stopped at %d ms; the caller's second turn began at %.2f s",
		frames, float64(frames)/float64(a.Rate), a.Rate, stopMS, float64(res.TurnStarts[1])/8000)
	// The opt-out itself was recorded: the caller's left channel has speech.
	if e := channelRMS(a.Samples, 0, min(stop, frames), 0); e < 100 {
		t.Errorf("caller channel before the stop: rms %.0f, want the caller's words", e)
	}
	// Nothing of the caller after the stop: the file ends there (a frame's
	// slack), and whatever lies past it is silent.
	if frames > stop+a.Rate/50 {
		t.Errorf("recording runs %d frames past the stop at %d", frames-stop, stop)
	}
	if e := channelRMS(a.Samples, stop, frames-stop, 0); e > 1 {
		t.Errorf("caller channel after the stop: rms %.0f, want silence", e)
	}
	// The second turn, spoken after the opt-out, is not in the file.
	if second := res.TurnStarts[1] * a.Rate / 8000; frames > second {
		t.Errorf("recording (%d frames) reaches the caller's second turn at %d", frames, second)
	}
}

// firstLoud returns the first 8 kHz sample of pcm in a 20 ms window with
// speech-like energy, or -1.
func firstLoud(pcm []int16) int {
	const win = 160
	for off := 0; off+win <= len(pcm); off += win {
		var sum float64
		for _, v := range pcm[off : off+win] {
			sum += float64(v) * float64(v)
		}
		if math.Sqrt(sum/win) > 300 {
			return off
		}
	}
	return -1
}

// channelRMS is the RMS of channel ch of interleaved stereo samples over n
// frames from frame off.
func channelRMS(s []int16, off, n, ch int) float64 {
	if n <= 0 {
		return 0
	}
	var sum float64
	for i := off; i < off+n; i++ {
		v := float64(s[2*i+ch])
		sum += v * v
	}
	return math.Sqrt(sum / float64(n))
}
