package rules

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/agent"
	"github.com/frontdesk/frontdesk/agent/tools"
)

func complete(t testing.TB, e *Engine, msgs []agent.Message, ts []agent.Tool) (string, []agent.ToolCall) {
	t.Helper()
	var text strings.Builder
	var calls []agent.ToolCall
	err := e.Complete(context.Background(), agent.Request{Messages: msgs, Tools: ts}, func(d agent.Delta) error {
		text.WriteString(d.Text)
		if d.ToolCall != nil {
			calls = append(calls, *d.ToolCall)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	return text.String(), calls
}

func user(s string) agent.Message { return agent.Message{Role: agent.RoleUser, Content: s} }

func TestHintFor(t *testing.T) {
	biz := exampleBusiness(t, "bright-smile")
	c := newCall(t, biz, tue9, nil)
	if h := c.eng.HintFor(c.msgs); h != agent.HintFree {
		t.Errorf("after the greeting: %q", h)
	}
	for _, tc := range []struct {
		say  string
		want agent.Hint
	}{
		{"i want to book a cleaning", agent.HintTime}, // what day?
		{"thursday", agent.HintTime},                  // offers
		{"nine", agent.HintFree},                      // name
		{"kim", agent.HintDigits},                     // phone
		{"two one two five five five oh one two three", agent.HintYesNo},
		{"no", agent.HintFree}, // what to change?
		{"the number", agent.HintDigits},
		{"2125550124", agent.HintYesNo},
		{"yes", agent.HintFree},
	} {
		c.say(tc.say)
		if h := c.eng.HintFor(c.msgs); h != tc.want {
			t.Errorf("after %q: hint %q, want %q\n%s", tc.say, h, tc.want, c.transcript())
		}
	}
}

func TestCompleteContract(t *testing.T) {
	biz := exampleBusiness(t, "bright-smile")
	e, err := New(biz, Options{Now: func() time.Time { return tue9 }})
	if err != nil {
		t.Fatal(err)
	}
	// Nothing to answer: no deltas.
	for _, msgs := range [][]agent.Message{
		nil,
		{{Role: agent.RoleSystem, Content: "sys"}},
		{user("hi"), {Role: agent.RoleAssistant, Content: "Hi!"}},
	} {
		if text, calls := complete(t, e, msgs, nil); text != "" || calls != nil {
			t.Errorf("Complete(%v) = %q, %v; want nothing", msgs, text, calls)
		}
	}
	// Sentences stream one delta each.
	var deltas []string
	err = e.Complete(context.Background(), agent.Request{Messages: []agent.Message{user("what are your hours")}}, func(d agent.Delta) error {
		deltas = append(deltas, d.Text)
		return nil
	})
	if err != nil || len(deltas) != 2 || !strings.HasSuffix(deltas[0], ". ") || deltas[1] != "Is there anything else I can help you with?" {
		t.Errorf("deltas = %q, %v", deltas, err)
	}
	// The callback's error stops the reply and is returned.
	stop := errors.New("caller hung up")
	n := 0
	err = e.Complete(context.Background(), agent.Request{Messages: []agent.Message{user("what are your hours")}}, func(agent.Delta) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("Complete with failing out = %v after %d deltas", err, n)
	}
	// A cancelled context.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.Complete(ctx, agent.Request{Messages: []agent.Message{user("hi")}}, func(agent.Delta) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	// Tools not offered are not called: no transfer, no end_call.
	only := []agent.Tool{{Name: tools.SearchFAQ}, {Name: tools.UpdateLead}}
	text, calls := complete(t, e, []agent.Message{user("can i talk to a person")}, only)
	if len(calls) != 0 || !strings.Contains(text, "not able to transfer") {
		t.Errorf("transfer not offered: %q %v", text, calls)
	}
	text, calls = complete(t, e, []agent.Message{user("bye")}, only)
	if len(calls) != 0 || !strings.Contains(text, "Goodbye") {
		t.Errorf("end_call not offered: %q %v", text, calls)
	}
	text, calls = complete(t, e, []agent.Message{user("book a cleaning tomorrow at ten")}, only)
	if len(calls) != 0 || !strings.Contains(text, "can't make bookings") {
		t.Errorf("booking not offered: %q %v", text, calls)
	}
	// A result of a tool it never called, and garbage, are ignored.
	msgs := []agent.Message{user("hi"), {Role: agent.RoleAssistant, ToolCalls: []agent.ToolCall{{ID: "x", Name: tools.BookAppointment}}},
		{Role: agent.RoleTool, ToolCallID: "x", Content: "not json"}, {Role: agent.RoleTool, ToolCallID: "y", Content: "{}"}}
	complete(t, e, msgs, nil) // must not panic
	if _, err := New(nil, Options{}); err == nil {
		t.Error("New(nil) succeeded")
	}
}

// TestDeterministic: the engine is a function of the conversation, so
// replaying any prefix gives the reply that was given then.
func TestDeterministic(t *testing.T) {
	biz := exampleBusiness(t, "bright-smile")
	c := newCall(t, biz, tue9, nil)
	for _, s := range []string{"book a cleaning tomorrow morning", "the first one", "lee", "2125550123", "yes", "bye"} {
		c.say(s)
	}
	for i, m := range c.msgs {
		if m.Role != agent.RoleAssistant || i < 3 {
			continue
		}
		text, calls := complete(t, c.eng, c.msgs[:i], tools.Definitions())
		if text != m.Content || len(calls) != len(m.ToolCalls) {
			t.Errorf("replay before message %d = %q %v, want %q %v", i, text, calls, m.Content, m.ToolCalls)
			continue
		}
		for j := range calls {
			if !reflect.DeepEqual(calls[j], m.ToolCalls[j]) {
				t.Errorf("replay before message %d: call %v, want %v", i, calls[j], m.ToolCalls[j])
			}
		}
	}
}

// TestConcurrentCalls runs calls on one Engine and one backend at once:
// run with -race. Each caller books their own hour (a 35-minute block); all succeed.
func TestConcurrentCalls(t *testing.T) {
	biz := exampleBusiness(t, "bright-smile")
	mem, err := tools.NewMemory(biz, func() time.Time { return tue9 })
	if err != nil {
		t.Fatal(err)
	}
	shared := newCall(t, biz, tue9, mem)
	var wg sync.WaitGroup
	hours := []string{"eight", "nine", "ten", "eleven", "one", "two", "three"}
	names := []string{"ava", "ben", "cleo", "dan", "eli", "fay", "gus"}
	for i, h := range hours {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &call{t: t, eng: shared.eng, exec: shared.exec, mem: mem, msgs: append([]agent.Message(nil), shared.msgs...)}
			c.say("i'd like a checkup for my daughter on thursday at " + h + " o'clock")
			c.say("my name is " + names[i])
			c.say(fmt.Sprintf("212555%04d", 100+i))
			if reply := c.say("yes"); !strings.Contains(reply, "You're all set") {
				t.Errorf("caller %d: %q\n%s", i, reply, c.transcript())
			}
		}()
	}
	wg.Wait()
	if got := len(mem.Booked()); got != len(hours) {
		t.Errorf("%d bookings, want %d: %+v", got, len(hours), mem.Booked())
	}
}

// TestOpenNowAcrossDST asks "are you open" at fixed UTC instants around
// New York's spring-forward change (March 8, 2026).
func TestOpenNowAcrossDST(t *testing.T) {
	biz := exampleBusiness(t, "bright-smile")
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 3, 6, 13, 30, 0, 0, time.UTC), "Yes, we're open right now, until noon."},                       // 8:30 EST
		{time.Date(2026, 3, 6, 12, 30, 0, 0, time.UTC), "No, we're closed right now, and we open again today at 8 AM."}, // 7:30 EST
		{time.Date(2026, 3, 9, 12, 30, 0, 0, time.UTC), "Yes, we're open right now, until noon."},                       // 8:30 EDT
		{time.Date(2026, 3, 9, 11, 30, 0, 0, time.UTC), "No, we're closed right now, and we open again today at 8 AM."}, // 7:30 EDT
		{time.Date(2026, 3, 7, 19, 0, 0, 0, time.UTC), "No, we're closed right now, and we open again on Monday, March 9 at 8 AM."},
		{time.Date(2026, 3, 9, 21, 30, 0, 0, time.UTC), "No, we're closed right now, and we open again tomorrow at 8 AM."}, // 17:30 EDT
	} {
		e, err := New(biz, Options{Now: func() time.Time { return tc.at }})
		if err != nil {
			t.Fatal(err)
		}
		if text, _ := complete(t, e, []agent.Message{user("are you open right now")}, nil); !strings.HasPrefix(text, tc.want) {
			t.Errorf("at %v (%v): %q, want %q", tc.at, tc.at.In(newYork).Format("Mon 15:04 MST"), text, tc.want)
		}
	}
}

// FuzzComplete feeds arbitrary caller text and tool results: the engine
// must answer without panicking and produce valid tool calls.
func FuzzComplete(f *testing.F) {
	for _, s := range []string{"book a cleaning tomorrow at ten thirty", "DTMF: 12#", "the thirty first of february at 99",
		"two one two five five five", "next next tuesday at half past", "cancel", "my name is", "yes no", "\x00\xff", "quarter to"} {
		f.Add(s, `{"error":"x","code":"conflict","next":[{"start":"bad"}]}`)
	}
	f.Add("yes", `{"appointment":{"name":"  "}}`)
	f.Add("the first one", `{"appointments":[{"id":"a","service":"Nope","start":"x"},{}]}`)
	f.Add("tuesday", `{"slots":[{"start":"2026-03-11T10:00:00-04:00"}],"next":[{"start":"2026-03-11T10:00:00Z"}]}`)
	biz := exampleBusiness(f, "bright-smile")
	e, err := New(biz, Options{Now: func() time.Time { return tue9 }})
	if err != nil {
		f.Fatal(err)
	}
	// A conversation at its read-back, where every tool result matters.
	c := newCall(f, biz, tue9, nil)
	for _, s := range []string{"book a cleaning tomorrow at ten", "ann", "2125550123"} {
		c.say(s)
	}
	readBack := c.msgs
	f.Fuzz(func(t *testing.T, say, result string) {
		for _, name := range []string{tools.CheckAvailability, tools.BookAppointment, tools.FindAppointments,
			tools.CancelAppointment, tools.UpdateLead, tools.TransferCall} {
			msgs := append(append([]agent.Message(nil), readBack...), user(say),
				agent.Message{Role: agent.RoleAssistant, ToolCalls: []agent.ToolCall{{ID: "f", Name: name}}},
				agent.Message{Role: agent.RoleTool, ToolCallID: "f", Content: result})
			complete(t, e, msgs, nil)
			complete(t, e, append(msgs, user(say)), nil)
		}
		msgs := []agent.Message{user("i want a cleaning tomorrow"), user(say)}
		_, calls := complete(t, e, msgs, nil)
		for _, c := range calls {
			msgs = append(msgs, agent.Message{Role: agent.RoleAssistant, ToolCalls: []agent.ToolCall{c}},
				agent.Message{Role: agent.RoleTool, ToolCallID: c.ID, Content: result})
			if !strings.HasPrefix(string(c.Arguments), "{") {
				t.Fatalf("tool call %s arguments %s", c.Name, c.Arguments)
			}
		}
		complete(t, e, append(msgs, user(say)), nil)
		e.HintFor(msgs)
	})
}

// BenchmarkComplete10Turns measures one Complete at the end of a ten-turn
// booking conversation (the whole replay included), the latency the
// engine adds to a caller's turn.
func BenchmarkComplete10Turns(b *testing.B) {
	biz := exampleBusiness(b, "bright-smile")
	c := newCall(b, biz, tue9, nil)
	for _, s := range []string{"hi", "what are your hours", "is there parking", "i'd like to book a cleaning",
		"tomorrow morning", "the second one", "my name is john smith", "two one two five five five oh one two three", "no", "the time"} {
		c.say(s)
	}
	msgs := append(c.msgs, user("thursday at ten thirty"))
	req := agent.Request{Messages: msgs, Tools: tools.Definitions()}
	out := func(agent.Delta) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		if err := c.eng.Complete(context.Background(), req, out); err != nil {
			b.Fatal(err)
		}
	}
}
