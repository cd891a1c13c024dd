package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/configs"
	"github.com/frontdesk/frontdesk/internal/leaktest"
	"github.com/frontdesk/frontdesk/media/twilio/sim"
	"github.com/frontdesk/frontdesk/server"
)

// twilioCalls answers like Twilio's Calls API update
// (POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json): 200 with
// the call resource, or, while refuse is set, 400 with Twilio's error body.
type twilioCalls struct {
	refuse atomic.Bool
	mu     sync.Mutex
	sids   []string // CallSid of each accepted update
	twiml  []string
	errs   []string
}

func (f *twilioCalls) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	prefix := "/2010-04-01/Accounts/" + liveAccount + "/Calls/"
	sid, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, prefix), ".json")
	if r.Method != "POST" || !strings.HasPrefix(r.URL.Path, prefix) || !ok {
		f.errs = append(f.errs, fmt.Sprintf("unexpected %s %s", r.Method, r.URL.Path))
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if u, p, ok := r.BasicAuth(); !ok || u != liveAccount || p != liveToken {
		f.errs = append(f.errs, "bad credentials")
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if err := r.ParseForm(); err != nil {
		f.errs = append(f.errs, err.Error())
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if f.refuse.Load() {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"code": 21220, "message": "Call is not in-progress. Cannot redirect.",
			"more_info": "https://www.twilio.com/docs/errors/21220", "status": 400})
		return
	}
	f.sids = append(f.sids, sid)
	f.twiml = append(f.twiml, r.PostForm.Get("Twiml"))
	_ = json.NewEncoder(w).Encode(map[string]any{"sid": sid, "account_sid": liveAccount, "status": "in-progress",
		"api_version": "2010-04-01", "uri": prefix + sid + ".json"})
}

// TestTransferTakesOver: a supervisor transfers a live phone call; Twilio's
// Calls API gets TwiML that says so and dials the number, the agent leaves
// the call, and listeners see the transfer and the end.
func TestTransferTakesOver(t *testing.T) {
	leaktest.Check(t)
	fake := &twilioCalls{}
	tw := httptest.NewServer(fake)
	defer tw.Close()
	e := startLive(t, nil, server.WithTwilioAPI(tw.URL, 0))
	sup := e.keys["clinic/supervisor"]
	wait := startCall(t, e, sim.Options{Audio: tone(8000, 10*time.Second), Tail: time.Second})
	id, w := watchCall(t, e, sup)
	defer w.Close()
	l, _, err := e.dial(t, "/v1/calls/"+id+"/listen", sup)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	act := "/v1/calls/" + id
	for _, c := range []struct {
		name, path, key string
		body            any
		status          int
		code            string
	}{
		{"another business", act + "/transfer", e.keys["salon/owner"], nil, 404, "not_found"},
		{"a readonly key", act + "/hangup", e.keys["clinic/readonly"], nil, 403, "forbidden"},
		{"a bad number", act + "/transfer", sup, map[string]string{"to": "12"}, 400, "invalid"},
		{"whisper without an agent", act + "/whisper", sup, map[string]string{"text": "be nice"}, 409, "no_agent"},
		{"an empty whisper", act + "/whisper", sup, map[string]string{"text": " "}, 400, "invalid"},
		{"a long whisper", act + "/whisper", sup, map[string]string{"text": strings.Repeat("x", 501)}, 400, "invalid"},
	} {
		code, b := e.post(t, c.path, c.key, c.body)
		if code != c.status || !strings.Contains(string(b), `"code":"`+c.code+`"`) {
			t.Errorf("%s: %d %s, want %d %s", c.name, code, b, c.status, c.code)
		}
	}
	fake.refuse.Store(true)
	if code, b := e.post(t, act+"/transfer", sup, nil); code != 502 || !strings.Contains(string(b), "Cannot redirect") {
		t.Errorf("Twilio refusing: %d %s, want 502 with Twilio's message", code, b)
	}
	fake.refuse.Store(false)
	// No body: the business's transfer number.
	if code, b := e.post(t, act+"/transfer", sup, nil); code != 202 {
		t.Fatalf("transfer: %d %s", code, b)
	}
	msgs, closeCode := readAll(t, l, nil)
	res := wait()

	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.errs) > 0 {
		t.Errorf("fake Twilio: %v", fake.errs)
	}
	if len(fake.sids) != 1 || fake.sids[0] != res.CallSID {
		t.Errorf("updated calls %v, want the caller's %s", fake.sids, res.CallSID)
	} else if want := `<Say>Please hold while I transfer your call.</Say><Dial>+12125550199</Dial></Response>`; !strings.Contains(fake.twiml[0], want) {
		t.Errorf("TwiML %s, want it to contain %s", fake.twiml[0], want)
	}
	if res.FramesSent >= 500 {
		t.Errorf("the caller sent %d frames: the call was not left after the transfer", res.FramesSent)
	}
	var got []string
	for _, m := range msgs {
		if m.binary == nil && (m.typ() == "transfer" || m.typ() == "call.ended") {
			got = append(got, fmt.Sprint(m.typ(), " ", m.event["to"], m.event["outcome"]))
		}
	}
	if want := "[transfer +12125550199<nil> call.ended <nil>transferred]"; fmt.Sprint(got) != want || closeCode != websocket.CloseNormalClosure {
		t.Errorf("listener got %v (close %d), want %s and 1000", got, closeCode, want)
	}
}

// TestHangupEndsCall: a business without a transfer number cannot
// transfer (422); hang-up ends the call at once.
func TestHangupEndsCall(t *testing.T) {
	leaktest.Check(t)
	e := startLive(t, nil)
	sup := e.keys["salon/supervisor"]
	wait := startCall(t, e, sim.Options{To: salonNumber, Audio: tone(8000, 10*time.Second), Tail: time.Second})
	id, w := watchCall(t, e, sup)
	defer w.Close()
	l, _, err := e.dial(t, "/v1/calls/"+id+"/listen", sup)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if code, b := e.post(t, "/v1/calls/"+id+"/transfer", sup, nil); code != 422 || !strings.Contains(string(b), "no_transfer_number") {
		t.Errorf("transfer without a number: %d %s, want 422", code, b)
	}
	if code, b := e.post(t, "/v1/calls/"+id+"/hangup", sup, nil); code != 202 {
		t.Fatalf("hangup: %d %s", code, b)
	}
	msgs, _ := readAll(t, l, nil)
	res := wait()
	if res.FramesSent >= 500 {
		t.Errorf("the caller sent %d frames: the call went on after the hang-up", res.FramesSent)
	}
	if last := msgs[len(msgs)-1]; last.typ() != "call.ended" || last.event["outcome"] != "hangup" {
		t.Errorf("last message %v, want call.ended with outcome hangup", last.event)
	}
	if code, _ := e.post(t, "/v1/calls/"+id+"/hangup", sup, nil); code != 404 {
		t.Errorf("hang up an ended call: %d, want 404", code)
	}
}

// TestWhisperReachesLLM: a whisper is in every later chat request to the
// LLM, as a system message after the prompt (not last, where the turn to
// answer is). The OpenAI-speaking server fails, so the embedded engine
// answers; what matters is what it was sent.
func TestWhisperReachesLLM(t *testing.T) {
	leaktest.Check(t)
	var mu sync.Mutex
	var bodies [][]byte
	cloud := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b []byte
		if r.URL.Path == "/v1/chat/completions" {
			b, _ = io.ReadAll(r.Body)
			mu.Lock()
			bodies = append(bodies, b)
			mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}`))
	}))
	defer cloud.Close()
	e := startLive(t, func(c *configs.Config) {
		c.Agent.Mode = configs.AgentReceptionist
		c.Agent.LLM = configs.ProviderOpenAI
		c.Agent.OpenAI.BaseURL, c.Agent.OpenAI.APIKey, c.Agent.OpenAI.Budget = cloud.URL+"/v1", "sk-test", time.Second
	})
	sup := e.keys["clinic/supervisor"]
	wait := startCall(t, e, sim.Options{Turns: speak(t, "what are your opening hours")})
	id, w := watchCall(t, e, sup)
	defer w.Close()
	l, _, err := e.dial(t, "/v1/calls/"+id+"/listen", sup)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	listened := make(chan []liveMsg, 1)
	go func() { msgs, _ := readAll(t, l, nil); listened <- msgs }()
	const text = "offer the ten percent new patient discount"
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		code, b := e.post(t, "/v1/calls/"+id+"/whisper", sup, map[string]string{"text": text})
		if code == 202 {
			break
		}
		if code != 409 || time.Now().After(deadline) { // 409: the agent is not up yet
			t.Fatalf("whisper: %d %s", code, b)
		}
	}
	wait()
	checkAgentEvents(t, <-listened, text)
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) == 0 {
		t.Fatal("the LLM got no request")
	}
	var req struct {
		Messages []struct{ Role, Content string } `json:"messages"`
	}
	if err := json.Unmarshal(bodies[0], &req); err != nil {
		t.Fatalf("chat request %s: %v", bodies[0], err)
	}
	at := -1
	for i, m := range req.Messages {
		if m.Role == "system" && strings.Contains(m.Content, text) {
			at = i
		}
	}
	if at < 0 || at == len(req.Messages)-1 || req.Messages[len(req.Messages)-1].Role != "user" {
		t.Errorf("chat messages %+v: want the whisper as a system message before the caller's turn", req.Messages)
	}
}

// TestAgentTransfer: the rules engine's transfer tool, asked for by the
// caller, is carried out once the agent's "I'll transfer you" was heard:
// Twilio's Calls API dials the business's transfer number.
func TestAgentTransfer(t *testing.T) {
	leaktest.Check(t)
	fake := &twilioCalls{}
	tw := httptest.NewServer(fake)
	defer tw.Close()
	e := startLive(t, func(c *configs.Config) {
		c.Agent.Mode = configs.AgentReceptionist
		for d := range c.Businesses[0].Hours {
			c.Businesses[0].Hours[d] = []configs.TimeRange{{Start: 0, End: 24 * 60}} // open now, whenever the test runs
		}
	}, server.WithTwilioAPI(tw.URL, 0))
	res := startCall(t, e, sim.Options{Turns: speak(t, "can i speak to a person please")})()
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.sids) != 1 || fake.sids[0] != res.CallSID {
		t.Fatalf("updated calls %v (errors %v), want the caller's %s", fake.sids, fake.errs, res.CallSID)
	}
	if tw := fake.twiml[0]; !strings.Contains(tw, "<Dial>+12125550199</Dial>") || strings.Contains(tw, "<Say>") {
		t.Errorf("TwiML %s, want a <Dial> of the transfer number (the agent already said it)", tw)
	}
}

// checkAgentEvents checks a receptionist call's live events: in sequence,
// the greeting's final, the whisper, the caller's partials then final, the
// agent's states in a sensible order, and the end.
func checkAgentEvents(t *testing.T, msgs []liveMsg, whisper string) {
	t.Helper()
	var seq float64
	var got []string
	for _, m := range msgs {
		if m.binary != nil || m.typ() == "hello" {
			continue
		}
		if s := m.event["seq"].(float64); s != seq+1 {
			t.Errorf("event seq %v after %v: %v", s, seq, m.event)
		} else {
			seq = s
		}
		switch m.typ() {
		case "transcript.partial":
			if n := len(got); n == 0 || got[n-1] != "partial" {
				got = append(got, "partial")
			}
		case "transcript.final":
			got = append(got, fmt.Sprintf("final %v interrupted=%v", m.event["speaker"], m.event["interrupted"]))
			if m.event["speaker"] == "caller" && !strings.Contains(fmt.Sprint(m.event["text"]), "hours") {
				t.Errorf("caller's final %q, want the hours question", m.event["text"])
			}
		case "agent.state":
			got = append(got, fmt.Sprint(m.event["state"]))
		case "whisper":
			if m.event["text"] != whisper {
				t.Errorf("whisper event %v", m.event)
			}
			got = append(got, "whisper")
		default:
			got = append(got, m.typ())
		}
	}
	// The whisper lands while the greeting plays; the reply follows the
	// caller's final.
	s := strings.Join(got, ", ")
	for _, want := range []string{
		"speaking, ", "final agent interrupted=false, listening, ", "partial, final caller interrupted=<nil>, thinking, speaking, ",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("events %s: want %q in them", s, want)
		}
	}
	if !strings.HasSuffix(s, "call.ended") || !strings.Contains(s, "whisper") {
		t.Errorf("events %s: want a whisper, and the end last", s)
	}
}
