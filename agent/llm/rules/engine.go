package rules

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/agent"
	"github.com/frontdesk/frontdesk/agent/tools"
	"github.com/frontdesk/frontdesk/configs"
)

var _ agent.LLM = (*Engine)(nil)

// Options configure an Engine. The zero value is usable.
type Options struct {
	// Now is the clock for "today", "tomorrow" and "are you open now".
	// Default time.Now. Tests pin it; it is read once per Complete.
	Now func() time.Time
	// Region is the ISO 3166 region of phone numbers said without a
	// country code. Default: the region of the business's first number,
	// else "US" (tools.RegionOf).
	Region string
	// FAQThreshold is the lowest retrieval score answered from the FAQs;
	// below it the engine says it is not sure. Default
	// tools.DefaultFAQThreshold.
	FAQThreshold float64
	// MaxOffers is how many free times are offered at once. Default 3.
	MaxOffers int
}

// Engine is the embedded receptionist of one business. It keeps no
// per-conversation state (see the package doc), is immutable after New and
// is safe for concurrent use.
type Engine struct {
	biz       *configs.Business
	loc       *time.Location
	now       func() time.Time
	region    string
	faq       *tools.FAQIndex
	services  *serviceMatcher
	maxOffers int
}

// New returns the receptionist of biz, which must be a validated business
// (from configs.Load or Parse).
func New(biz *configs.Business, opts Options) (*Engine, error) {
	if biz == nil {
		return nil, errors.New("rules: new engine: no business")
	}
	if biz.Name == "" {
		return nil, errors.New("rules: new engine: business has no name")
	}
	e := &Engine{
		biz:       biz,
		loc:       biz.Location(),
		now:       opts.Now,
		region:    opts.Region,
		faq:       tools.NewFAQIndex(biz.FAQs, opts.FAQThreshold),
		services:  newServiceMatcher(biz.Services),
		maxOffers: opts.MaxOffers,
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.region == "" {
		e.region = tools.RegionOf(biz)
	}
	if e.maxOffers <= 0 {
		e.maxOffers = 3
	}
	return e, nil
}

// Complete implements agent.LLM: it replays req.Messages and streams the
// reply to the last user message or tool result — one Delta per sentence,
// then at most one tool call. A conversation whose last message is the
// assistant's, or that has no user message yet, gets an empty reply (the
// session greets). An empty reply after a tool result means the engine
// waits for the caller.
//
// Tools the request does not offer are not called: with req.Tools empty
// every tool of package tools is assumed offered.
func (e *Engine) Complete(ctx context.Context, req agent.Request, out func(agent.Delta) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	_, t := e.replay(req.Messages, offered(req.Tools))
	if t == nil {
		return nil
	}
	for i, s := range t.text {
		if i < len(t.text)-1 {
			s += " "
		}
		if err := out(agent.Delta{Text: s}); err != nil {
			return err
		}
	}
	for i := range t.calls {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := out(agent.Delta{ToolCall: &t.calls[i]}); err != nil {
			return err
		}
	}
	return nil
}

// HintFor returns what the recogniser should expect from the caller's
// next utterance after messages (which end with the engine's last reply):
// HintYesNo after a read-back or another yes/no question, HintDigits when
// a phone number was asked for, HintTime when a day or time was asked for
// or times were offered, HintFree otherwise. The session calls it before
// each Recognizer.Begin; it costs one replay, like Complete.
func (e *Engine) HintFor(messages []agent.Message) agent.Hint {
	st, _ := e.replay(messages, allTools)
	switch st.expect {
	case expConfirm, expConfirmCancel, expOfferMessage, expOfferTransfer:
		return agent.HintYesNo
	case expPhone:
		return agent.HintDigits
	case expDay, expSlot:
		return agent.HintTime
	}
	return agent.HintFree
}

// toolSet is the set of tools a request offers, one bit per tool.
type toolSet uint16

var toolBits = map[string]toolSet{
	tools.GetHours: 1 << 0, tools.SearchFAQ: 1 << 1, tools.CheckAvailability: 1 << 2, tools.BookAppointment: 1 << 3,
	tools.FindAppointments: 1 << 4, tools.CancelAppointment: 1 << 5, tools.UpdateLead: 1 << 6,
	tools.TransferCall: 1 << 7, tools.EndCall: 1 << 8,
}

const allTools toolSet = 1<<9 - 1

func offered(ts []agent.Tool) toolSet {
	if len(ts) == 0 {
		return allTools
	}
	var s toolSet
	for _, t := range ts {
		s |= toolBits[t.Name]
	}
	return s
}

func (s toolSet) has(name string) bool { return s&toolBits[name] != 0 }

// turn collects the reply to one event. Replayed past events run quiet:
// their state changes count, their words are not built.
type turn struct {
	quiet bool
	id    string // tool call ID prefix, unique in the conversation
	text  []string
	calls []agent.ToolCall
}

func (t *turn) say(s string) {
	if !t.quiet {
		t.text = append(t.text, s)
	}
}

// sayf builds the sentence only when it will be spoken.
func (t *turn) sayf(f func() string) {
	if !t.quiet {
		t.text = append(t.text, f())
	}
}

func (t *turn) call(name string, args any) {
	if t.quiet {
		return
	}
	b, err := json.Marshal(args)
	if err != nil { // argument structs always marshal
		b = []byte("{}")
	}
	t.calls = append(t.calls, agent.ToolCall{ID: t.id + strconv.Itoa(len(t.calls)), Name: name, Arguments: b})
}

// replay runs the conversation through the state machine. It returns the
// final state and the reply to the last event (nil when the last message
// is not an event to answer).
func (e *Engine) replay(msgs []agent.Message, can toolSet) (*state, *turn) {
	c := &convo{Engine: e, can: can, now: e.now()}
	c.today = configs.DateOf(c.now.In(e.loc))
	st := newState()
	last := -1
	for i, m := range msgs {
		if m.Role == agent.RoleUser || m.Role == agent.RoleTool {
			last = i
		}
	}
	var names []idName // tool call ID → tool name, from assistant messages
	var t *turn
	for i, m := range msgs {
		switch m.Role {
		case agent.RoleAssistant:
			for _, tc := range m.ToolCalls {
				names = append(names, idName{tc.ID, tc.Name})
			}
		case agent.RoleUser:
			t = &turn{quiet: i != last, id: "rules_" + strconv.Itoa(i) + "_"}
			c.onUser(st, parseUtterance(m.Content), t)
		case agent.RoleTool:
			name := ""
			for j := len(names) - 1; j >= 0; j-- {
				if names[j].id == m.ToolCallID {
					name = names[j].name
					break
				}
			}
			t = &turn{quiet: i != last, id: "rules_" + strconv.Itoa(i) + "_"}
			c.onTool(st, name, m.Content, t)
		}
	}
	if last < 0 || last != len(msgs)-1 {
		return st, nil
	}
	return st, t
}

type idName struct{ id, name string }

// convo is the per-Complete context of the rules: the engine, the tools
// offered and the clock reading. It lives for one replay.
type convo struct {
	*Engine
	can   toolSet
	now   time.Time
	today configs.Date
}

// Spoken helpers in the business's time zone.

func (c *convo) spokenSlot(t time.Time) string { return tools.SpokenSlot(t, c.loc) }

// spokenRelDay says a date relative to today: "today", "tomorrow", or
// "Tuesday, March 10".
func (c *convo) spokenRelDay(d configs.Date) string {
	switch d {
	case c.today:
		return "today"
	case tools.AddDays(c.today, 1):
		return "tomorrow"
	}
	return tools.SpokenDate(d)
}

// spokenOffer says a slot start for an offer: the time alone when it is
// on day, else "Wednesday, March 11 at 9 AM".
func (c *convo) spokenOffer(t time.Time, day configs.Date, hasDay bool) string {
	lt := t.In(c.loc)
	if hasDay && configs.DateOf(lt) == day {
		return tools.SpokenTime(lt)
	}
	return c.spokenRelDay(configs.DateOf(lt)) + " at " + tools.SpokenTime(lt)
}

func (c *convo) serviceNames() []string {
	out := make([]string, len(c.biz.Services))
	for i, s := range c.biz.Services {
		out[i] = spokenService(s.Name, false)
	}
	return out
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
