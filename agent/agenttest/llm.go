package agenttest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/frontdesk/frontdesk/agent"
)

// llmTools are the tools the LLM suite offers: two of the receptionist's
// own, so that an engine that knows them behaves as in a call.
var llmTools = []agent.Tool{
	{
		Name:        "get_hours",
		Description: "Get the business's opening hours and whether it is open now.",
		Parameters:  json.RawMessage(`{"type":"object","properties":{"day":{"type":"string","description":"a day, e.g. monday or tomorrow"}}}`),
	},
	{
		Name:        "search_faq",
		Description: "Search the business's frequently asked questions.",
		Parameters:  json.RawMessage(`{"type":"object","properties":{"query":{"type":"string"}},"required":["query"]}`),
	},
}

// llmQuestion is the caller's turn the suite asks about.
const llmQuestion = "what are your opening hours"

// TestLLM checks llm against the agent.LLM contract: a question gets a
// reply (text or tool calls) and no error; every delta is either text or
// one tool call, with an ID, a name among the offered tools and arguments
// that are a JSON object; the results of its tool calls are accepted and
// answered; a conversation holding earlier tool calls, interrupted
// (empty) assistant turns or no user message yet is accepted; a cancelled
// context fails at once with ctx's error and no deltas; cancelling during
// the reply ends it promptly; out's error stops the reply and is returned;
// concurrent calls work.
//
// The suite cannot judge what is said; a provider's own tests do. A cloud
// provider should be pointed at a local fake that speaks the real wire
// format and answers any conversation.
func TestLLM(t *testing.T, llm agent.LLM) {
	t.Helper()
	ctx := context.Background()
	ask := []agent.Message{
		{Role: agent.RoleSystem, Content: "You are the receptionist of a dental practice. Answer briefly."},
		{Role: agent.RoleAssistant, Content: "Thank you for calling. How can I help you?"},
		{Role: agent.RoleUser, Content: llmQuestion},
	}
	t.Run("Reply", func(t *testing.T) {
		r, err := complete(ctx, llm, agent.Request{Messages: ask, Tools: llmTools})
		if err != nil {
			t.Fatalf("Complete = %v, want nil", err)
		}
		if err := r.check(llmTools); err != nil {
			t.Fatal(err)
		}
		if r.text == "" && len(r.calls) == 0 {
			t.Fatal("Complete gave no text and no tool call for a question")
		}
	})
	t.Run("ToolRoundTrip", func(t *testing.T) {
		msgs := append([]agent.Message(nil), ask...)
		for round := 0; round < 4; round++ {
			r, err := complete(ctx, llm, agent.Request{Messages: msgs, Tools: llmTools})
			if err != nil {
				t.Fatalf("round %d: Complete = %v, want nil", round, err)
			}
			if err := r.check(llmTools); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			if len(r.calls) == 0 {
				return // answered
			}
			msgs = append(msgs, agent.Message{Role: agent.RoleAssistant, Content: r.text, ToolCalls: r.calls})
			for _, c := range r.calls {
				msgs = append(msgs, agent.Message{Role: agent.RoleTool, ToolCallID: c.ID, Content: toolResult(c.Name)})
			}
		}
		t.Fatal("still calling tools after 4 rounds of results")
	})
	t.Run("History", func(t *testing.T) {
		msgs := []agent.Message{
			ask[0], ask[1],
			{Role: agent.RoleUser, Content: "are you open on saturday"},
			{Role: agent.RoleAssistant, ToolCalls: []agent.ToolCall{{ID: "call_h1", Name: "get_hours", Arguments: json.RawMessage(`{"day":"saturday"}`)}}},
			{Role: agent.RoleTool, ToolCallID: "call_h1", Content: toolResult("get_hours")},
			{Role: agent.RoleAssistant, Content: ""}, // interrupted before a word was heard
			{Role: agent.RoleUser, Content: "do you take insurance"},
		}
		r, err := complete(ctx, llm, agent.Request{Messages: msgs, Tools: llmTools})
		if err != nil {
			t.Fatalf("Complete(conversation with tool calls) = %v, want nil", err)
		}
		if err := r.check(llmTools); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("NoTools", func(t *testing.T) {
		r, err := complete(ctx, llm, agent.Request{Messages: ask})
		if err != nil {
			t.Fatalf("Complete without tools = %v, want nil", err)
		}
		// An engine may take "no tools" as "its own tools" (package
		// rules does), so tool names are not checked here.
		if err := r.check(nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("NothingToAnswer", func(t *testing.T) {
		r, err := complete(ctx, llm, agent.Request{Messages: ask[:1], Tools: llmTools})
		if err != nil {
			t.Fatalf("Complete(system prompt only) = %v, want nil", err)
		}
		if err := r.check(llmTools); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("CancelBefore", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		n := 0
		err := llm.Complete(cctx, agent.Request{Messages: ask, Tools: llmTools}, func(agent.Delta) error { n++; return nil })
		if !errors.Is(err, context.Canceled) || n != 0 {
			t.Fatalf("Complete(cancelled ctx) = %v with %d deltas, want context.Canceled and none", err, n)
		}
	})
	t.Run("CancelDuring", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		after := 0
		err := llm.Complete(cctx, agent.Request{Messages: ask, Tools: llmTools}, func(agent.Delta) error {
			if cctx.Err() != nil {
				after++
			}
			cancel() // the caller barged in
			return nil
		})
		// A reply may have been complete when the cancellation came.
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("Complete cancelled during the reply = %v, want nil or context.Canceled", err)
		}
		if after > 1 {
			t.Fatalf("%d deltas after cancellation, want at most 1", after)
		}
	})
	t.Run("OutError", func(t *testing.T) {
		stop := errors.New("agenttest: caller hung up")
		n := 0
		err := llm.Complete(ctx, agent.Request{Messages: ask, Tools: llmTools}, func(agent.Delta) error { n++; return stop })
		if !errors.Is(err, stop) || n != 1 {
			t.Fatalf("Complete with failing out = %v after %d deltas, want an error wrapping %v after 1", err, n, stop)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := range 8 {
			wg.Go(func() {
				msgs := append(append([]agent.Message(nil), ask[:2]...), agent.Message{Role: agent.RoleUser, Content: []string{llmQuestion, "do you take insurance"}[i%2]})
				r, err := complete(ctx, llm, agent.Request{Messages: msgs, Tools: llmTools})
				if err == nil {
					err = r.check(llmTools)
				}
				if err != nil {
					errs <- fmt.Errorf("call %d: %w", i, err)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

// toolResult is a plausible result of the suite's tools.
func toolResult(name string) string {
	switch name {
	case "get_hours":
		return `{"open_now":false,"hours":"Monday to Friday 9 am to 5 pm"}`
	case "search_faq":
		return `{"results":[]}`
	}
	return `{"error":"unknown tool"}`
}

// llmReply is what one Complete streamed.
type llmReply struct {
	text   string
	calls  []agent.ToolCall
	deltas []agent.Delta
}

func complete(ctx context.Context, llm agent.LLM, req agent.Request) (llmReply, error) {
	var r llmReply
	var b strings.Builder
	err := llm.Complete(ctx, req, func(d agent.Delta) error {
		r.deltas = append(r.deltas, d)
		b.WriteString(d.Text)
		if d.ToolCall != nil {
			r.calls = append(r.calls, *d.ToolCall)
		}
		return nil
	})
	r.text = b.String()
	return r, err
}

// check verifies each delta: text or one tool call, never both or
// neither; tool calls with an ID unique in the reply, an offered name
// (any name when offered is nil) and a JSON object of arguments.
func (r llmReply) check(offered []agent.Tool) error {
	ids := map[string]bool{}
	for i, d := range r.deltas {
		if (d.Text == "") == (d.ToolCall == nil) {
			return fmt.Errorf("delta %d = %+v, want either text or a tool call", i, d)
		}
		c := d.ToolCall
		if c == nil {
			continue
		}
		if c.ID == "" || ids[c.ID] {
			return fmt.Errorf("tool call %d has ID %q, want a non-empty ID unique in the reply", i, c.ID)
		}
		ids[c.ID] = true
		found := offered == nil
		for _, t := range offered {
			found = found || t.Name == c.Name
		}
		if !found {
			return fmt.Errorf("tool call %q: not an offered tool", c.Name)
		}
		var obj map[string]any
		if err := json.Unmarshal(c.Arguments, &obj); err != nil || obj == nil {
			return fmt.Errorf("tool call %s arguments %s: want a JSON object", c.Name, c.Arguments)
		}
	}
	return nil
}
