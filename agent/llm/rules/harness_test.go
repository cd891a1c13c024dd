package rules

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/agent"
	"github.com/frontdesk/frontdesk/agent/tools"
	"github.com/frontdesk/frontdesk/configs"
)

// exampleBusiness loads a business of the example configuration.
func exampleBusiness(t testing.TB, id string) *configs.Business {
	t.Helper()
	cfg, err := configs.Load("../../../configs/example.yaml")
	if err != nil {
		t.Fatalf("load example config: %v", err)
	}
	biz, ok := cfg.Business(id)
	if !ok {
		t.Fatalf("example config has no business %q", id)
	}
	return biz
}

var newYork = func() *time.Location {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic(err)
	}
	return loc
}()

// ny returns a wall-clock instant in New York.
func ny(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, newYork)
}

// call is one simulated phone call: the conversation, the engine, and the
// tools executed over an in-memory backend, as the agent session will run
// them.
type call struct {
	t       testing.TB
	eng     *Engine
	exec    *tools.Executor
	mem     *tools.Memory
	msgs    []agent.Message
	actions []tools.Action
	calls   []agent.ToolCall // every tool call made, in order
	log     []string
}

func newCall(t testing.TB, biz *configs.Business, now time.Time, mem *tools.Memory) *call {
	t.Helper()
	clock := func() time.Time { return now }
	if mem == nil {
		var err error
		if mem, err = tools.NewMemory(biz, clock); err != nil {
			t.Fatal(err)
		}
	}
	eng, err := New(biz, Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	exec, err := tools.NewExecutor(biz, mem, tools.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	return &call{t: t, eng: eng, exec: exec, mem: mem,
		msgs: []agent.Message{{Role: agent.RoleSystem, Content: "You are the receptionist."}, {Role: agent.RoleAssistant, Content: biz.Greeting}}}
}

// say sends one caller utterance and runs the tool loop; it returns what
// the engine said in reply, across tool round trips.
func (c *call) say(text string) string {
	c.t.Helper()
	c.msgs = append(c.msgs, agent.Message{Role: agent.RoleUser, Content: text})
	c.log = append(c.log, "caller: "+text)
	var spoken []string
	for round := 0; ; round++ {
		if round == 6 {
			c.t.Fatalf("tool loop did not settle after %q", text)
		}
		var reply agent.Message
		reply.Role = agent.RoleAssistant
		err := c.eng.Complete(context.Background(), agent.Request{Messages: c.msgs, Tools: tools.Definitions()}, func(d agent.Delta) error {
			if d.ToolCall != nil {
				reply.ToolCalls = append(reply.ToolCalls, *d.ToolCall)
			}
			reply.Content += d.Text
			return nil
		})
		if err != nil {
			c.t.Fatalf("Complete after %q: %v", text, err)
		}
		if reply.Content != "" {
			spoken = append(spoken, reply.Content)
			c.log = append(c.log, "agent: "+reply.Content)
		}
		if reply.Content == "" && len(reply.ToolCalls) == 0 {
			break
		}
		c.msgs = append(c.msgs, reply)
		if len(reply.ToolCalls) == 0 {
			break
		}
		for _, tc := range reply.ToolCalls {
			res := c.exec.Execute(context.Background(), tc)
			c.calls = append(c.calls, tc)
			content := res.Content
			if len(content) > 160 {
				content = content[:160] + "…"
			}
			c.log = append(c.log, "tool: "+tc.Name+" "+string(tc.Arguments)+" -> "+content)
			if res.Action.Kind != tools.ActionNone {
				c.actions = append(c.actions, res.Action)
			}
			c.msgs = append(c.msgs, agent.Message{Role: agent.RoleTool, ToolCallID: tc.ID, Content: res.Content})
		}
	}
	return strings.Join(spoken, " ")
}

func (c *call) transcript() string { return strings.Join(c.log, "\n") }
