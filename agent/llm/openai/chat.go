package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/frontdesk/frontdesk/agent/internal/openaiapi"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	oai "github.com/sashabaranov/go-openai"

	"github.com/frontdesk/frontdesk/agent"
)

// Defaults of Options.
const (
	DefaultModel  = "gpt-4o-mini"
	DefaultBudget = 3 * time.Second
)

// Options configure a Chat. The zero value talks to OpenAI with
// DefaultModel and no API key (which OpenAI refuses; local servers may not).
type Options struct {
	// BaseURL of the API, up to and including the version ("…/v1");
	// default DefaultBaseURL.
	BaseURL string
	// APIKey is sent as a bearer token; empty sends none.
	APIKey string
	// Model; default DefaultModel.
	Model string
	// Budget bounds each wait on the server: the response to start and
	// every chunk after it. Default DefaultBudget.
	Budget time.Duration
	// Temperature; zero leaves the server's default.
	Temperature float32
	// HTTPClient; default a new client without an overall timeout (Budget
	// bounds the waits).
	HTTPClient *http.Client
}

// Chat is an agent.LLM over the chat completions API. It is safe for
// concurrent use.
type Chat struct {
	client *oai.Client
	opts   Options
}

var _ agent.LLM = (*Chat)(nil)

// New returns a Chat configured by opts. It makes no request.
func New(opts Options) (*Chat, error) {
	if opts.Model == "" {
		opts.Model = DefaultModel
	}
	if opts.Budget <= 0 {
		opts.Budget = DefaultBudget
	}
	cfg, err := openaiapi.ClientConfig(opts.BaseURL, opts.APIKey, opts.HTTPClient)
	if err != nil {
		return nil, err
	}
	return &Chat{client: oai.NewClientWithConfig(cfg), opts: opts}, nil
}

// Model returns the model the chat asks for.
func (c *Chat) Model() string { return c.opts.Model }

// Complete implements agent.LLM: it streams the reply's text to out as it
// arrives and each tool call once it is complete.
func (c *Chat) Complete(ctx context.Context, req agent.Request, out func(agent.Delta) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	creq, err := chatRequest(c.opts, req)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ctx, hold := openaiapi.WithHolder(ctx)
	wd := openaiapi.NewWatchdog(c.opts.Budget, cancel)
	defer wd.Disarm()

	stream, err := c.client.CreateChatCompletionStream(ctx, creq)
	if err != nil {
		return openaiapi.Failure(ctx, "chat", hold, err)
	}
	defer stream.Close()
	wd.Disarm()

	var calls toolCalls
	finished := false
	for {
		wd.Arm()
		chunk, err := stream.Recv()
		wd.Disarm()
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil {
			err = ctx.Err() // chunks already buffered are not news after a barge-in
		}
		if err != nil {
			return openaiapi.Failure(ctx, "chat stream", hold, err)
		}
		for _, ch := range chunk.Choices {
			if ch.Index != 0 {
				continue // we ask for one choice; ignore any other
			}
			if ch.FinishReason != "" {
				finished = true
			}
			d := ch.Delta
			for _, tc := range d.ToolCalls {
				done, err := calls.add(tc)
				if err != nil {
					return fmt.Errorf("openai: chat stream: %w", err)
				}
				for _, call := range done {
					if err := out(agent.Delta{ToolCall: call}); err != nil {
						return err
					}
				}
			}
			text := d.Content
			if text == "" {
				text = d.Refusal
			}
			if text != "" {
				if err := out(agent.Delta{Text: text}); err != nil {
					return err
				}
			}
		}
	}
	if !finished {
		// io.EOF without a finish reason: the connection ended early.
		if err := ctx.Err(); err != nil {
			return openaiapi.Failure(ctx, "chat stream", hold, err)
		}
		return fmt.Errorf("openai: chat stream: %w", io.ErrUnexpectedEOF)
	}
	rest, err := calls.flush()
	if err != nil {
		return fmt.Errorf("openai: chat stream: %w", err)
	}
	for _, call := range rest {
		if err := out(agent.Delta{ToolCall: call}); err != nil {
			return err
		}
	}
	return nil
}

// chatRequest translates req into a streamed chat completion request.
func chatRequest(opts Options, req agent.Request) (oai.ChatCompletionRequest, error) {
	msgs := make([]oai.ChatCompletionMessage, 0, len(req.Messages))
	for i, m := range req.Messages {
		switch m.Role {
		case agent.RoleSystem, agent.RoleUser, agent.RoleAssistant, agent.RoleTool:
		default:
			return oai.ChatCompletionRequest{}, fmt.Errorf("openai: message %d: unknown role %q", i, m.Role)
		}
		if m.Role == agent.RoleAssistant && m.Content == "" && len(m.ToolCalls) == 0 {
			continue // a turn the caller interrupted before hearing anything
		}
		om := oai.ChatCompletionMessage{Role: string(m.Role), Content: m.Content, ToolCallID: m.ToolCallID}
		for _, tc := range m.ToolCalls {
			args := string(bytes.TrimSpace(tc.Arguments))
			if args == "" {
				args = "{}"
			}
			om.ToolCalls = append(om.ToolCalls, oai.ToolCall{
				ID:       tc.ID,
				Type:     oai.ToolTypeFunction,
				Function: oai.FunctionCall{Name: tc.Name, Arguments: args},
			})
		}
		msgs = append(msgs, om)
	}
	var tools []oai.Tool
	for _, t := range req.Tools {
		params := json.RawMessage(bytes.TrimSpace(t.Parameters))
		if len(params) == 0 {
			params = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		if !json.Valid(params) {
			return oai.ChatCompletionRequest{}, fmt.Errorf("openai: tool %q: parameters are not valid JSON", t.Name)
		}
		tools = append(tools, oai.Tool{
			Type:     oai.ToolTypeFunction,
			Function: &oai.FunctionDefinition{Name: t.Name, Description: t.Description, Parameters: params},
		})
	}
	return oai.ChatCompletionRequest{
		Model:       opts.Model,
		Messages:    msgs,
		Tools:       tools,
		Temperature: opts.Temperature,
		Stream:      true,
	}, nil
}

// toolCalls accumulates the fragments of streamed tool calls by index.
type toolCalls struct {
	pending map[int]*partialCall
	emitted map[int]bool
	last    int // the highest index seen
	seen    bool
}

type partialCall struct {
	index int
	id    string
	name  string
	args  strings.Builder
}

// add takes one fragment and returns the calls it completed: those of
// lower indexes, once a higher index starts.
func (tc *toolCalls) add(frag oai.ToolCall) ([]*agent.ToolCall, error) {
	if tc.pending == nil {
		tc.pending, tc.emitted = map[int]*partialCall{}, map[int]bool{}
	}
	idx := tc.last
	switch {
	case frag.Index != nil:
		idx = *frag.Index
	case !tc.seen:
		idx = 0
	case frag.ID != "" && tc.pending[tc.last] != nil && tc.pending[tc.last].id != "" && frag.ID != tc.pending[tc.last].id:
		idx = tc.last + 1 // a server that numbers nothing: a new ID is a new call
	}
	if tc.emitted[idx] {
		return nil, fmt.Errorf("tool call %d continued after the next one began", idx)
	}
	var done []*agent.ToolCall
	if !tc.seen || idx > tc.last {
		var err error
		if done, err = tc.complete(func(i int) bool { return i < idx }); err != nil {
			return nil, err
		}
		tc.last, tc.seen = idx, true
	}
	p := tc.pending[idx]
	if p == nil {
		p = &partialCall{index: idx}
		tc.pending[idx] = p
	}
	if frag.ID != "" {
		p.id = frag.ID
	}
	p.name += frag.Function.Name
	p.args.WriteString(frag.Function.Arguments)
	return done, nil
}

// flush returns every call not yet returned.
func (tc *toolCalls) flush() ([]*agent.ToolCall, error) {
	return tc.complete(func(int) bool { return true })
}

func (tc *toolCalls) complete(which func(int) bool) ([]*agent.ToolCall, error) {
	var idxs []int
	for i := range tc.pending {
		if which(i) {
			idxs = append(idxs, i)
		}
	}
	sort.Ints(idxs)
	var done []*agent.ToolCall
	for _, i := range idxs {
		p := tc.pending[i]
		delete(tc.pending, i)
		tc.emitted[i] = true
		call, err := p.call()
		if err != nil {
			return nil, err
		}
		done = append(done, call)
	}
	return done, nil
}

func (p *partialCall) call() (*agent.ToolCall, error) {
	if p.name == "" {
		return nil, fmt.Errorf("tool call %d has no name", p.index)
	}
	args := bytes.TrimSpace([]byte(p.args.String()))
	if len(args) == 0 {
		args = []byte("{}")
	}
	if !json.Valid(args) || args[0] != '{' {
		return nil, fmt.Errorf("tool call %d (%s): arguments %.80q are not a JSON object", p.index, p.name, args)
	}
	id := p.id
	if id == "" {
		id = fmt.Sprintf("call_%d", p.index)
	}
	return &agent.ToolCall{ID: id, Name: p.name, Arguments: json.RawMessage(args)}, nil
}

// Warm opens a connection to the server ahead of the call (the composition
// root calls it from the voice webhook) and checks the key, by listing the
// models. The first request of the call then skips the handshakes.
func (c *Chat) Warm(ctx context.Context) error {
	return openaiapi.Warm(ctx, c.client, c.opts.Budget)
}
