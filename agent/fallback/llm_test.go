package fallback

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/agent"
	"github.com/frontdesk/frontdesk/agent/agenttest"
	"github.com/frontdesk/frontdesk/agent/llm/openai"
	"github.com/frontdesk/frontdesk/agent/llm/rules"
	"github.com/frontdesk/frontdesk/configs"
)

// Budgets are small so that tests are fast; nothing asserts how long
// anything took.
const primaryBudget = 200 * time.Millisecond

func receptionist(t *testing.T) *rules.Engine {
	t.Helper()
	cfg, err := configs.Load("../../configs/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	biz, ok := cfg.Business("bright-smile")
	if !ok {
		t.Fatal("no business bright-smile in the example config")
	}
	e, err := rules.New(biz, rules.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func chatAt(t *testing.T, c *cloud, budget time.Duration) *openai.Chat {
	t.Helper()
	ch, err := openai.New(openai.Options{BaseURL: c.url(), APIKey: "sk-test", Budget: budget})
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// events collects OnFallback events.
type events struct {
	mu  sync.Mutex
	evs []Event
}

func (e *events) add(ev Event) {
	e.mu.Lock()
	e.evs = append(e.evs, ev)
	e.mu.Unlock()
}

func (e *events) list() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Event(nil), e.evs...)
}

var hoursQuestion = agent.Request{Messages: []agent.Message{
	{Role: agent.RoleSystem, Content: "You are the receptionist."},
	{Role: agent.RoleUser, Content: "what are your opening hours"},
}}

// The embedded engine's answer to hoursQuestion starts so.
const rulesHours = "Our hours are Monday to Friday"

func say(l agent.LLM, req agent.Request) (string, error) {
	var b strings.Builder
	err := l.Complete(context.Background(), req, func(d agent.Delta) error { b.WriteString(d.Text); return nil })
	return b.String(), err
}

func TestRulesConformance(t *testing.T) {
	agenttest.TestLLM(t, receptionist(t))
}

func TestLLMConformance(t *testing.T) {
	t.Run("PrimaryUp", func(t *testing.T) {
		agenttest.TestLLM(t, NewLLM(chatAt(t, newCloud(t, modeOK), primaryBudget), receptionist(t), Options{}))
	})
	t.Run("PrimaryDown", func(t *testing.T) {
		agenttest.TestLLM(t, NewLLM(chatAt(t, newCloud(t, modeError), primaryBudget), receptionist(t), Options{}))
	})
}

// TestLLMFallback: whenever the cloud fails before it has said anything,
// the embedded receptionist answers the same request.
func TestLLMFallback(t *testing.T) {
	for _, tc := range []struct {
		mode       string
		chatBudget time.Duration // the provider's own
		budget     time.Duration // the wrapper's
		reason     string
	}{
		{modeOK, primaryBudget, 0, ""},
		{modeError, primaryBudget, 0, ReasonError},
		{modeRateLimit, primaryBudget, 0, ReasonError},
		{modeStall, primaryBudget, 0, ReasonBudget},           // the provider's budget
		{modeStall, time.Minute, primaryBudget, ReasonBudget}, // the wrapper's budget
	} {
		t.Run(tc.mode+"/"+tc.reason, func(t *testing.T) {
			c := newCloud(t, tc.mode)
			var evs events
			l := NewLLM(chatAt(t, c, tc.chatBudget), receptionist(t), Options{Budget: tc.budget, OnFallback: evs.add})
			got, err := say(l, hoursQuestion)
			if err != nil {
				t.Fatalf("Complete = %v", err)
			}
			want := cloudReply
			if tc.reason != "" {
				want = rulesHours
			}
			if !strings.HasPrefix(got, want) {
				t.Fatalf("reply %q, want it to start %q", got, want)
			}
			st := l.Stats()
			if tc.reason == "" {
				if st != (Stats{Requests: 1}) || len(evs.list()) != 0 {
					t.Fatalf("stats %+v, events %v; want one request, no fallback", st, evs.list())
				}
				return
			}
			if st != (Stats{Requests: 1, Fallbacks: 1}) {
				t.Errorf("stats %+v, want one request, one fallback", st)
			}
			ev := evs.list()
			if len(ev) != 1 || ev[0].Kind != KindLLM || ev[0].Reason != tc.reason || ev[0].Partial || ev[0].Err == nil {
				t.Errorf("events %+v, want one %s %s", ev, KindLLM, tc.reason)
			}
		})
	}
}

// TestLLMCooldown: after a 429 with Retry-After the cloud is left alone:
// the next turns go straight to the embedded engine, until the time is up.
func TestLLMCooldown(t *testing.T) {
	c := newCloud(t, modeRateLimit)
	now := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	var evs events
	l := NewLLM(chatAt(t, c, primaryBudget), receptionist(t), Options{OnFallback: evs.add, Now: clock, MaxCooldown: 45 * time.Second})
	for i := range 3 {
		if got, err := say(l, hoursQuestion); err != nil || !strings.HasPrefix(got, rulesHours) {
			t.Fatalf("turn %d: %q, %v", i, got, err)
		}
	}
	if n := c.count(); n != 1 {
		t.Fatalf("cloud saw %d requests, want 1 (then left alone)", n)
	}
	c.set(modeOK)
	mu.Lock()
	now = now.Add(46 * time.Second) // Retry-After 60 s, capped at 45 s
	mu.Unlock()
	if got, err := say(l, hoursQuestion); err != nil || !strings.HasPrefix(got, cloudReply) {
		t.Fatalf("after the cooldown: %q, %v; want the cloud's reply", got, err)
	}
	if st := l.Stats(); st != (Stats{Requests: 4, Fallbacks: 3, Cooldown: 2}) {
		t.Errorf("stats %+v", st)
	}
	var reasons []string
	for _, ev := range evs.list() {
		reasons = append(reasons, ev.Reason)
	}
	if strings.Join(reasons, ",") != "error,cooldown,cooldown" {
		t.Errorf("reasons %v", reasons)
	}
}

// TestLLMApology: a cloud that fails after it has begun to speak is not
// replayed by the embedded engine: the turn ends with an apology.
func TestLLMApology(t *testing.T) {
	c := newCloud(t, modeStallAfter)
	var evs events
	l := NewLLM(chatAt(t, c, primaryBudget), receptionist(t), Options{OnFallback: evs.add})
	got, err := say(l, hoursQuestion)
	if err != nil {
		t.Fatalf("Complete = %v, want nil (the apology ends the turn)", err)
	}
	if want := "This is the cloud ... " + DefaultApology; got != want {
		t.Fatalf("reply %q, want %q", got, want)
	}
	if st := l.Stats(); st != (Stats{Requests: 1, Fallbacks: 1, Partial: 1}) {
		t.Errorf("stats %+v", st)
	}
	if ev := evs.list(); len(ev) != 1 || !ev[0].Partial || ev[0].Reason != ReasonBudget {
		t.Errorf("events %+v", ev)
	}
}

// TestLLMNotFailures: the caller's cancellation and out's error are
// returned, not fallen back from.
func TestLLMNotFailures(t *testing.T) {
	c := newCloud(t, modeStall)
	l := NewLLM(chatAt(t, c, time.Minute), receptionist(t), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for c.count() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel() // barge-in while the cloud thinks
	}()
	err := l.Complete(ctx, hoursQuestion, func(agent.Delta) error { t.Error("output after cancellation"); return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Complete cancelled = %v, want context.Canceled", err)
	}
	c.set(modeOK)
	stop := errors.New("hung up")
	n := 0
	err = l.Complete(context.Background(), hoursQuestion, func(agent.Delta) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("Complete with failing out = %v after %d deltas", err, n)
	}
	if st := l.Stats(); st.Fallbacks != 0 {
		t.Errorf("stats %+v, want no fallbacks", st)
	}
}

func TestApologyText(t *testing.T) {
	for _, tc := range []struct{ said, want string }{
		{"", "Sorry."},
		{"We are open.", " Sorry."},
		{"We are open. ", "Sorry."},
		{"We are open from", "... Sorry."},
		{"We are open from ", "... Sorry."},
	} {
		if got := apology(tc.said, "Sorry."); got != tc.want {
			t.Errorf("apology(%q) = %q, want %q", tc.said, got, tc.want)
		}
	}
}
