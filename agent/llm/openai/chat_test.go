package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	oai "github.com/sashabaranov/go-openai"

	"github.com/frontdesk/frontdesk/agent"
	"github.com/frontdesk/frontdesk/agent/agenttest"
)

// wireRequest is the part of a chat completion request the fakes read.
type wireRequest struct {
	Model    string `json:"model"`
	Stream   bool   `json:"stream"`
	Messages []struct {
		Role       string         `json:"role"`
		Content    *string        `json:"content"`
		ToolCallID string         `json:"tool_call_id"`
		ToolCalls  []wireToolCall `json:"tool_calls"`
	} `json:"messages"`
	Tools []struct {
		Type     string `json:"type"`
		Function struct {
			Name        string          `json:"name"`
			Description string          `json:"description"`
			Parameters  json.RawMessage `json:"parameters"`
		} `json:"function"`
	} `json:"tools"`
}

type wireToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// apiError writes an error the way OpenAI does.
func apiError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"message":%q,"type":%q,"param":null,"code":null}}`, msg, typ)
}

// sse starts an event stream.
func sse(w http.ResponseWriter) func(data string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	f := w.(http.Flusher)
	f.Flush()
	return func(data string) {
		fmt.Fprintf(w, "data: %s\n\n", data)
		f.Flush()
	}
}

// chunk is one chat.completion.chunk with the given delta JSON.
func chunk(delta string, finish string) string {
	fr := "null"
	if finish != "" {
		fr = `"` + finish + `"`
	}
	return `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","system_fingerprint":"fp_1",` +
		`"choices":[{"index":0,"delta":` + delta + `,"logprobs":null,"finish_reason":` + fr + `}]}`
}

func textDelta(s string) string {
	b, _ := json.Marshal(s)
	return `{"content":` + string(b) + `}`
}

// fakeModel answers any conversation the way a chat model with tools
// would, and refuses what OpenAI refuses: tool results without their call,
// assistant messages with neither content nor tool calls.
func fakeModel(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" || r.Method != http.MethodPost {
			apiError(w, http.StatusNotFound, "invalid_request_error", "no route "+r.URL.Path)
			return
		}
		var req wireRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			apiError(w, http.StatusBadRequest, "invalid_request_error", err.Error())
			return
		}
		if !req.Stream || req.Model == "" {
			apiError(w, http.StatusBadRequest, "invalid_request_error", "want stream and model")
			return
		}
		calls := map[string]bool{}
		lastRole, lastUser := "", ""
		for i, m := range req.Messages {
			switch {
			case m.Role == "assistant" && (m.Content == nil || *m.Content == "") && len(m.ToolCalls) == 0:
				apiError(w, http.StatusBadRequest, "invalid_request_error", fmt.Sprintf("messages[%d]: assistant needs content or tool_calls", i))
				return
			case m.Role == "tool" && !calls[m.ToolCallID]:
				apiError(w, http.StatusBadRequest, "invalid_request_error", fmt.Sprintf("messages[%d]: tool_call_id %q answers no tool call", i, m.ToolCallID))
				return
			}
			for _, c := range m.ToolCalls {
				calls[c.ID] = true
				if !json.Valid([]byte(c.Function.Arguments)) {
					apiError(w, http.StatusBadRequest, "invalid_request_error", "arguments are not JSON")
					return
				}
			}
			lastRole = m.Role
			if m.Role == "user" && m.Content != nil {
				lastUser = *m.Content
			}
		}
		send := sse(w)
		send(chunk(`{"role":"assistant","content":""}`, ""))
		if lastRole == "user" && len(req.Tools) > 0 {
			// Think aloud, then call the first tool with fragmented arguments.
			for _, w := range []string{"Let me ", "check."} {
				send(chunk(textDelta(w), ""))
			}
			name := req.Tools[0].Function.Name
			args, _ := json.Marshal(map[string]string{"query": lastUser})
			if name == "get_hours" {
				args = []byte(`{"day":"today"}`)
			}
			send(chunk(`{"tool_calls":[{"index":0,"id":"call_`+fmt.Sprint(len(req.Messages))+`","type":"function","function":{"name":"`+name+`","arguments":""}}]}`, ""))
			for i := 0; i < len(args); i += 5 {
				frag, _ := json.Marshal(string(args[i:min(i+5, len(args))]))
				send(chunk(`{"tool_calls":[{"index":0,"function":{"arguments":`+string(frag)+`}}]}`, ""))
			}
			send(chunk(`{}`, "tool_calls"))
		} else {
			for _, w := range strings.SplitAfter("We are open Monday to Friday, nine to five. Anything else?", " ") {
				send(chunk(textDelta(w), ""))
			}
			send(chunk(`{}`, "stop"))
		}
		send("[DONE]")
	})
}

// server starts h on loopback and returns a Chat pointed at it.
func server(t *testing.T, h http.Handler, opts Options) *Chat {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	opts.BaseURL = srv.URL + "/v1"
	if opts.APIKey == "" {
		opts.APIKey = "sk-test"
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConformance(t *testing.T) {
	agenttest.TestLLM(t, server(t, fakeModel(t), Options{}))
}

// TestRequest checks what goes on the wire: path, key, model, stream,
// tools, and the conversation with tool calls and results.
func TestRequest(t *testing.T) {
	got := make(chan wireRequest, 1)
	var auth string
	c := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		var req wireRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			t.Error(err)
		}
		got <- req
		send := sse(w)
		send(chunk(textDelta("Hi."), "stop"))
		send("[DONE]")
	}), Options{APIKey: "sk-abc", Model: "my-model"})
	req := agent.Request{
		Messages: []agent.Message{
			{Role: agent.RoleSystem, Content: "sys"},
			{Role: agent.RoleUser, Content: "book me in"},
			{Role: agent.RoleAssistant, Content: "One moment.", ToolCalls: []agent.ToolCall{{ID: "c1", Name: "check_availability", Arguments: json.RawMessage(`{"day":"mon"}`)}, {ID: "c2", Name: "get_hours"}}},
			{Role: agent.RoleTool, ToolCallID: "c1", Content: `{"slots":[]}`},
			{Role: agent.RoleTool, ToolCallID: "c2", Content: `{}`},
			{Role: agent.RoleAssistant}, // interrupted, nothing heard: dropped
			{Role: agent.RoleUser, Content: "thanks"},
		},
		Tools: []agent.Tool{{Name: "get_hours", Description: "hours"}, {Name: "check_availability", Parameters: json.RawMessage(`{"type":"object","properties":{"day":{"type":"string"}}}`)}},
	}
	if _, err := collect(c, req); err != nil {
		t.Fatal(err)
	}
	w := <-got
	if auth != "Bearer sk-abc" {
		t.Errorf("Authorization = %q, want Bearer sk-abc", auth)
	}
	if w.Model != "my-model" || !w.Stream {
		t.Errorf("model %q stream %v, want my-model true", w.Model, w.Stream)
	}
	var roles []string
	for _, m := range w.Messages {
		roles = append(roles, m.Role)
	}
	if got, want := strings.Join(roles, ","), "system,user,assistant,tool,tool,user"; got != want {
		t.Errorf("roles = %s, want %s", got, want)
	}
	a := w.Messages[2]
	if len(a.ToolCalls) != 2 || a.ToolCalls[0].ID != "c1" || a.ToolCalls[0].Type != "function" || a.ToolCalls[0].Function.Name != "check_availability" ||
		a.ToolCalls[0].Function.Arguments != `{"day":"mon"}` || a.ToolCalls[1].Function.Arguments != "{}" {
		t.Errorf("assistant tool calls = %+v", a.ToolCalls)
	}
	if w.Messages[3].ToolCallID != "c1" || w.Messages[4].ToolCallID != "c2" {
		t.Errorf("tool_call_ids = %q %q", w.Messages[3].ToolCallID, w.Messages[4].ToolCallID)
	}
	if len(w.Tools) != 2 || w.Tools[0].Type != "function" || w.Tools[0].Function.Name != "get_hours" || w.Tools[0].Function.Description != "hours" ||
		string(w.Tools[0].Function.Parameters) != `{"type":"object","properties":{}}` || w.Tools[1].Function.Name != "check_availability" {
		t.Errorf("tools = %+v", w.Tools)
	}
}

// TestStream: text is delivered as it arrives; tool calls split across
// chunks come out whole, the first as soon as the second starts.
func TestStream(t *testing.T) {
	firstSeen := make(chan struct{})
	c := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		send := sse(w)
		send(chunk(`{"role":"assistant","content":""}`, ""))
		send(chunk(textDelta("Sure, "), ""))
		// The client must hand the text on before the rest exists.
		io.Copy(io.Discard, r.Body)
		select {
		case <-firstSeen:
		case <-r.Context().Done():
			return
		}
		send(chunk(textDelta("one moment."), ""))
		send(chunk(`{"tool_calls":[{"index":0,"id":"call_A","type":"function","function":{"name":"check_avail","arguments":""}}]}`, ""))
		send(chunk(`{"tool_calls":[{"index":0,"function":{"name":"ability","arguments":"{\"da"}}]}`, ""))
		send(chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"y\": \"tue"}}]}`, ""))
		send(chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"sday\"}"}}]}`, ""))
		send(chunk(`{"tool_calls":[{"index":1,"id":"call_B","type":"function","function":{"name":"get_hours","arguments":""}}]}`, ""))
		send(chunk(`{"tool_calls":[{"index":1,"function":{"arguments":"{}"}}]}`, ""))
		send(chunk(`{}`, "tool_calls"))
		// A usage chunk with no choices, as stream_options.include_usage sends.
		send(`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":9,"total_tokens":18}}`)
		send("[DONE]")
	}), Options{})
	var log []string
	err := c.Complete(context.Background(), agent.Request{Messages: []agent.Message{{Role: agent.RoleUser, Content: "hi"}}}, func(d agent.Delta) error {
		if d.ToolCall != nil {
			log = append(log, "call "+d.ToolCall.ID+" "+d.ToolCall.Name+" "+string(d.ToolCall.Arguments))
		} else {
			log = append(log, "text "+d.Text)
		}
		if len(log) == 1 {
			close(firstSeen)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"text Sure, ", "text one moment.", `call call_A check_availability {"day": "tuesday"}`, "call call_B get_hours {}"}
	if strings.Join(log, "\n") != strings.Join(want, "\n") {
		t.Errorf("deltas:\n%s\nwant:\n%s", strings.Join(log, "\n"), strings.Join(want, "\n"))
	}
}

// TestToolCallEmittedWhenNextStarts: the first call reaches out before
// the stream ends.
func TestToolCallEmittedWhenNextStarts(t *testing.T) {
	gotFirst := make(chan struct{})
	c := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		send := sse(w)
		send(chunk(`{"tool_calls":[{"index":0,"id":"a","type":"function","function":{"name":"get_hours","arguments":"{}"}}]}`, ""))
		send(chunk(`{"tool_calls":[{"index":1,"id":"b","type":"function","function":{"name":"search_faq","arguments":"{\"query\":"}}]}`, ""))
		io.Copy(io.Discard, r.Body)
		select {
		case <-gotFirst:
		case <-r.Context().Done():
			return
		}
		send(chunk(`{"tool_calls":[{"index":1,"function":{"arguments":"\"parking\"}"}}]}`, ""))
		send(chunk(`{}`, "tool_calls"))
		send("[DONE]")
	}), Options{})
	var names []string
	err := c.Complete(context.Background(), agent.Request{Messages: []agent.Message{{Role: agent.RoleUser, Content: "hi"}}}, func(d agent.Delta) error {
		names = append(names, d.ToolCall.Name)
		if len(names) == 1 {
			close(gotFirst)
		}
		return nil
	})
	if err != nil || strings.Join(names, ",") != "get_hours,search_faq" {
		t.Fatalf("calls %v, err %v", names, err)
	}
}

// TestErrors: refusals, failures, stalls and broken streams become errors
// that say what happened, promptly.
func TestErrors(t *testing.T) {
	const budget = 150 * time.Millisecond
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	stall := func(r *http.Request) {
		// The server notices a client that hangs up only once the
		// request body is read.
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
	for _, tc := range []struct {
		name    string
		h       http.HandlerFunc
		check   func(error) string // "" when err is as expected
		partial bool               // text reached out before the error
	}{
		{
			name: "RateLimited",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "7")
				apiError(w, http.StatusTooManyRequests, "rate_limit_exceeded", "Rate limit reached for gpt-4o-mini")
			},
			check: func(err error) string {
				var api *oai.APIError
				var ra interface{ RetryAfter() time.Duration }
				switch {
				case !errors.As(err, &api) || api.HTTPStatusCode != 429 || !strings.Contains(api.Message, "Rate limit"):
					return "want an *openai.APIError with status 429 and the message"
				case !errors.As(err, &ra) || ra.RetryAfter() != 7*time.Second:
					return "want RetryAfter() = 7s"
				}
				return ""
			},
		},
		{
			name: "RateLimitedDate",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", time.Now().Add(90*time.Second).UTC().Format(http.TimeFormat))
				apiError(w, http.StatusTooManyRequests, "rate_limit_exceeded", "slow down")
			},
			check: func(err error) string {
				var ra interface{ RetryAfter() time.Duration }
				if !errors.As(err, &ra) || ra.RetryAfter() < 80*time.Second || ra.RetryAfter() > 91*time.Second {
					return "want RetryAfter() about 90s"
				}
				return ""
			},
		},
		{
			name: "ServerError",
			h: func(w http.ResponseWriter, r *http.Request) {
				apiError(w, http.StatusInternalServerError, "server_error", "The server had an error while processing your request.")
			},
			check: func(err error) string {
				var api *oai.APIError
				var ra interface{ RetryAfter() time.Duration }
				if !errors.As(err, &api) || api.HTTPStatusCode != 500 {
					return "want an *openai.APIError with status 500"
				}
				if errors.As(err, &ra) {
					return "want no RetryAfter without the header"
				}
				return ""
			},
		},
		{
			name: "BadGatewayHTML",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusBadGateway)
				io.WriteString(w, "<html>502 Bad Gateway</html>")
			},
			check: func(err error) string {
				var re *oai.RequestError
				if !errors.As(err, &re) || re.HTTPStatusCode != 502 {
					return "want an *openai.RequestError with status 502"
				}
				return ""
			},
		},
		{
			name:  "StallBeforeHeaders",
			h:     func(w http.ResponseWriter, r *http.Request) { stall(r) },
			check: isBudget,
		},
		{
			name: "StallMidStream",
			h: func(w http.ResponseWriter, r *http.Request) {
				send := sse(w)
				send(chunk(textDelta("We are open "), ""))
				stall(r)
			},
			check:   isBudget,
			partial: true,
		},
		{
			name: "StallAfterRole",
			h: func(w http.ResponseWriter, r *http.Request) {
				send := sse(w)
				send(chunk(`{"role":"assistant","content":""}`, ""))
				stall(r)
			},
			check: isBudget,
		},
		{
			name: "MalformedLine",
			h: func(w http.ResponseWriter, r *http.Request) {
				send := sse(w)
				send(chunk(textDelta("Hello "), ""))
				send(`{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"content":"wor`)
				send("[DONE]")
			},
			check:   func(err error) string { return expect(err != nil, "want an error") },
			partial: true,
		},
		{
			name: "ErrorEvent",
			h: func(w http.ResponseWriter, r *http.Request) {
				send := sse(w)
				send(`{"error":{"message":"The model is overloaded","type":"server_error","param":null,"code":null}}`)
			},
			check: func(err error) string {
				return expect(err != nil && strings.Contains(err.Error(), "overloaded"), "want the in-stream error's message")
			},
		},
		{
			name: "CutShort",
			h: func(w http.ResponseWriter, r *http.Request) {
				send := sse(w)
				send(chunk(textDelta("We are "), ""))
			},
			check:   func(err error) string { return expect(errors.Is(err, io.ErrUnexpectedEOF), "want io.ErrUnexpectedEOF") },
			partial: true,
		},
		{
			name: "BadArguments",
			h: func(w http.ResponseWriter, r *http.Request) {
				send := sse(w)
				send(chunk(`{"tool_calls":[{"index":0,"id":"a","type":"function","function":{"name":"get_hours","arguments":"{\"day\": tue"}}]}`, ""))
				send(chunk(`{}`, "tool_calls"))
				send("[DONE]")
			},
			check: func(err error) string {
				return expect(err != nil && strings.Contains(err.Error(), "JSON object"), "want a JSON object error")
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := server(t, tc.h, Options{Budget: budget})
			text := ""
			err := c.Complete(context.Background(), agent.Request{Messages: []agent.Message{{Role: agent.RoleUser, Content: "hours?"}}}, func(d agent.Delta) error {
				text += d.Text
				return nil
			})
			if msg := tc.check(err); msg != "" {
				t.Fatalf("Complete = %v: %s", err, msg)
			}
			if !strings.HasPrefix(err.Error(), "openai: ") {
				t.Errorf("error %q does not name the provider", err)
			}
			if (text != "") != tc.partial {
				t.Errorf("text before the error %q, want some: %v", text, tc.partial)
			}
		})
	}
}

func isBudget(err error) string {
	if !errors.Is(err, ErrBudget) || !errors.Is(err, context.DeadlineExceeded) {
		return "want ErrBudget (and context.DeadlineExceeded)"
	}
	return ""
}

func expect(ok bool, msg string) string {
	if ok {
		return ""
	}
	return msg
}

// TestSlowConsumer: the time out takes (synthesis) is not the server's.
func TestSlowConsumer(t *testing.T) {
	const budget = 50 * time.Millisecond
	c := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		send := sse(w)
		for _, s := range []string{"One. ", "Two. ", "Three."} {
			send(chunk(textDelta(s), ""))
		}
		send(chunk(`{}`, "stop"))
		send("[DONE]")
	}), Options{Budget: budget})
	var text string
	err := c.Complete(context.Background(), agent.Request{Messages: []agent.Message{{Role: agent.RoleUser, Content: "count"}}}, func(d agent.Delta) error {
		time.Sleep(3 * budget)
		text += d.Text
		return nil
	})
	if err != nil || text != "One. Two. Three." {
		t.Fatalf("Complete = %q, %v; want all text and nil", text, err)
	}
}

func TestNew(t *testing.T) {
	for _, u := range []string{"ftp://x", "localhost:8080", "http://"} {
		if _, err := New(Options{BaseURL: u}); err == nil {
			t.Errorf("New(BaseURL %q) succeeded", u)
		}
	}
	c, err := New(Options{})
	if err != nil || c.Model() != DefaultModel {
		t.Fatalf("New(zero) = %v, model %q", err, c.Model())
	}
}

func collect(c *Chat, req agent.Request) (string, error) {
	var b strings.Builder
	err := c.Complete(context.Background(), req, func(d agent.Delta) error { b.WriteString(d.Text); return nil })
	return b.String(), err
}

func TestWarm(t *testing.T) {
	var auth string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		if r.URL.Path != "/v1/models" || auth != "Bearer sk-good" {
			apiError(w, http.StatusUnauthorized, "invalid_request_error", "Incorrect API key provided")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"object":"list","data":[{"id":"gpt-4o-mini","object":"model","created":1686935002,"owned_by":"openai"}]}`)
	})
	good, bad := server(t, h, Options{APIKey: "sk-good"}), server(t, h, Options{APIKey: "sk-bad"})
	if err := good.Warm(context.Background()); err != nil {
		t.Fatalf("Warm = %v", err)
	}
	var api *oai.APIError
	if err := bad.Warm(context.Background()); !errors.As(err, &api) || api.HTTPStatusCode != 401 {
		t.Fatalf("Warm with a wrong key = %v, want a 401", err)
	}
}
