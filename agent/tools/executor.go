package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/frontdesk/frontdesk/agent"
	"github.com/frontdesk/frontdesk/configs"
	"github.com/frontdesk/frontdesk/scheduling"
)

// Options configure an Executor. The zero value is usable.
type Options struct {
	// Now is the clock: "today", "open now" and "in the past" are judged
	// against it. Default time.Now.
	Now func() time.Time
	// Region is the ISO 3166 region of phone numbers said without a
	// country code. Default: the region of the business's first number,
	// else "US".
	Region string
	// Source is recorded on leads created by update_lead. Default
	// scheduling.SourceCall.
	Source scheduling.LeadSource
	// FAQThreshold is the lowest search_faq score that counts as an
	// answer. Default DefaultFAQThreshold.
	FAQThreshold float64
}

// ActionKind is what the session must do after a tool call.
type ActionKind string

// Actions.
const (
	ActionNone     ActionKind = ""
	ActionTransfer ActionKind = "transfer" // transfer the call to Action.Number
	ActionEndCall  ActionKind = "end_call" // hang up once the reply has been spoken
)

// Action asks the session to act on the call. The session acts after it
// has played the text of the same reply (the goodbye, "transferring you
// now"), so nothing the engine said is cut off.
type Action struct {
	Kind   ActionKind
	Number string // E.164 transfer target
	Reason string
}

// Result is the outcome of one tool call.
type Result struct {
	// Content is the JSON object to send back as the tool message.
	Content string
	// Action is non-zero when transfer_call or end_call succeeded.
	Action Action
	// Err is the failure behind an error Content, for logs and metrics;
	// nil when the tool succeeded. It may hold details Content leaves out.
	Err error
}

// Executor runs tool calls for one business. It is safe for concurrent
// use when its Backend is: it holds no mutable state.
type Executor struct {
	biz     *configs.Business
	backend Backend // nil: booking tools answer CodeUnavailable
	faq     *FAQIndex
	now     func() time.Time
	region  string
	source  scheduling.LeadSource
}

// NewExecutor returns an Executor for biz. backend may be nil, for a
// deployment that only answers questions: the booking tools and
// update_lead then report CodeUnavailable.
func NewExecutor(biz *configs.Business, backend Backend, opts Options) (*Executor, error) {
	if biz == nil {
		return nil, errors.New("tools: new executor: no business")
	}
	e := &Executor{
		biz: biz, backend: backend, now: opts.Now, region: opts.Region, source: opts.Source,
		faq: NewFAQIndex(biz.FAQs, opts.FAQThreshold),
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.region == "" {
		e.region = RegionOf(biz)
	}
	if e.source == "" {
		e.source = scheduling.SourceCall
	}
	if !e.source.Valid() {
		return nil, fmt.Errorf("tools: new executor: lead source %q: %w", e.source, scheduling.ErrInvalid)
	}
	return e, nil
}

// RegionOf returns the phone region of the business's first number, or
// "US" when it has none: callers give national numbers of the country
// they call.
func RegionOf(biz *configs.Business) string {
	if len(biz.Numbers) > 0 {
		if n, err := phonenumbers.Parse(biz.Numbers[0], "ZZ"); err == nil {
			if r := phonenumbers.GetRegionCodeForNumber(n); r != "" && r != "ZZ" {
				return r
			}
		}
	}
	return "US"
}

// FAQ returns the executor's FAQ index.
func (e *Executor) FAQ() *FAQIndex { return e.faq }

// toolError is a failure reported to the engine as an ErrorResult.
type toolError struct {
	res   ErrorResult
	cause error
}

func (t *toolError) Error() string {
	if t.cause != nil {
		return t.res.Code + ": " + t.res.Error + ": " + t.cause.Error()
	}
	return t.res.Code + ": " + t.res.Error
}

func (t *toolError) Unwrap() error { return t.cause }

func fail(code, msg string, cause error) *toolError {
	return &toolError{res: ErrorResult{Error: msg, Code: code}, cause: cause}
}

// Execute runs call and returns the tool message content. It never
// panics; every failure, including unknown tools and malformed arguments,
// becomes an ErrorResult in Content with the cause in Err.
func (e *Executor) Execute(ctx context.Context, call agent.ToolCall) Result {
	out, action, err := e.run(ctx, call)
	if err != nil {
		var te *toolError
		if !errors.As(err, &te) {
			te = fail(CodeInternal, "the tool failed", err)
		}
		b, _ := json.Marshal(te.res)
		return Result{Content: string(b), Err: fmt.Errorf("tools: %s: %w", call.Name, err)}
	}
	b, err := json.Marshal(out)
	if err != nil { // our result types always marshal; keep the promise anyway
		return Result{Content: `{"error":"the tool failed","code":"internal"}`, Err: fmt.Errorf("tools: %s: encode result: %w", call.Name, err)}
	}
	return Result{Content: string(b), Action: action}
}

func decode(call agent.ToolCall, v any) error {
	raw := strings.TrimSpace(string(call.Arguments))
	if raw == "" || raw == "null" {
		raw = "{}"
	}
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		return fail(CodeInvalid, "the arguments are not a valid JSON object for "+call.Name, err)
	}
	return nil
}

func (e *Executor) run(ctx context.Context, call agent.ToolCall) (any, Action, error) {
	var none Action
	switch call.Name {
	case GetHours:
		var a GetHoursArgs
		if err := decode(call, &a); err != nil {
			return nil, none, err
		}
		var date *configs.Date
		if a.Date != "" {
			d, err := parseDate(a.Date)
			if err != nil {
				return nil, none, err
			}
			date = &d
		}
		return Hours(e.biz, e.now(), date), none, nil
	case SearchFAQ:
		var a SearchFAQArgs
		if err := decode(call, &a); err != nil {
			return nil, none, err
		}
		if strings.TrimSpace(a.Question) == "" {
			return nil, none, fail(CodeInvalid, "question is empty", nil)
		}
		return e.faq.Search(a.Question), none, nil
	case CheckAvailability:
		var a CheckAvailabilityArgs
		if err := decode(call, &a); err != nil {
			return nil, none, err
		}
		r, err := e.availability(ctx, a)
		return r, none, err
	case BookAppointment:
		var a BookAppointmentArgs
		if err := decode(call, &a); err != nil {
			return nil, none, err
		}
		r, err := e.book(ctx, a)
		return r, none, err
	case FindAppointments:
		var a FindAppointmentsArgs
		if err := decode(call, &a); err != nil {
			return nil, none, err
		}
		r, err := e.find(ctx, a)
		return r, none, err
	case CancelAppointment:
		var a CancelAppointmentArgs
		if err := decode(call, &a); err != nil {
			return nil, none, err
		}
		r, err := e.cancel(ctx, a)
		return r, none, err
	case UpdateLead:
		var a UpdateLeadArgs
		if err := decode(call, &a); err != nil {
			return nil, none, err
		}
		r, err := e.lead(ctx, a)
		return r, none, err
	case TransferCall:
		var a TransferCallArgs
		if err := decode(call, &a); err != nil {
			return nil, none, err
		}
		if e.biz.TransferNumber == "" {
			return nil, none, fail(CodeUnavailable, "calls cannot be transferred at this business; offer to take a message instead", nil)
		}
		return ActionResult{Status: "transferring"}, Action{Kind: ActionTransfer, Number: e.biz.TransferNumber, Reason: a.Reason}, nil
	case EndCall:
		var a EndCallArgs
		if err := decode(call, &a); err != nil {
			return nil, none, err
		}
		return ActionResult{Status: "ending"}, Action{Kind: ActionEndCall, Reason: a.Reason}, nil
	}
	return nil, none, fail(CodeInvalid, fmt.Sprintf("unknown tool %q", call.Name), nil)
}

// Service returns the configured service that name designates: equal
// ignoring case, or with the same ServiceID ("exam and x rays").
func (e *Executor) Service(name string) (configs.Service, error) {
	id := ServiceID(name)
	for _, s := range e.biz.Services {
		if strings.EqualFold(s.Name, strings.TrimSpace(name)) || (id != "" && ServiceID(s.Name) == id) {
			return s, nil
		}
	}
	names := make([]string, len(e.biz.Services))
	for i, s := range e.biz.Services {
		names[i] = s.Name
	}
	if len(names) == 0 {
		return configs.Service{}, fail(CodeUnavailable, "this business has no bookable services", nil)
	}
	return configs.Service{}, fail(CodeInvalid, fmt.Sprintf("unknown service %q; the services are %s", name, JoinAnd(names)), nil)
}

func (e *Executor) needBackend() error {
	if e.backend == nil {
		return fail(CodeUnavailable, "booking is not available on this line; offer to take a message", nil)
	}
	return nil
}

func parseDate(s string) (configs.Date, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return configs.Date{}, fail(CodeInvalid, fmt.Sprintf("date %q is not YYYY-MM-DD", s), err)
	}
	return configs.DateOf(t), nil
}

func parseClock(s string, def configs.TimeOfDay) (configs.TimeOfDay, error) {
	if s == "" {
		return def, nil
	}
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, fail(CodeInvalid, fmt.Sprintf("time of day %q is not HH:MM", s), err)
	}
	return configs.TimeOfDay(t.Hour()*60 + t.Minute()), nil
}

// ParseStart reads an appointment start: RFC 3339, or a wall-clock
// "2006-01-02T15:04[:05]" in the business's time zone.
func ParseStart(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fail(CodeInvalid, fmt.Sprintf("start %q is not an RFC 3339 time", s), nil)
}

func (e *Executor) phone(raw string) (string, error) {
	p, err := scheduling.NormalizePhone(raw, e.region)
	if err != nil {
		return "", fail(CodeInvalid, "that is not a valid phone number", err)
	}
	return p, nil
}

func (e *Executor) slot(s scheduling.Slot) Slot {
	loc := e.biz.Location()
	return Slot{
		Start:  s.Start.In(loc).Format(time.RFC3339),
		End:    s.End.In(loc).Format(time.RFC3339),
		Spoken: SpokenSlot(s.Start, loc),
	}
}

func (e *Executor) appointment(a scheduling.Appointment) Appointment {
	return Appointment{
		ID: a.ID, Service: a.Service.Name, Name: a.CustomerName, Phone: a.Phone,
		Slot: e.slot(scheduling.Slot{Start: a.Start, End: a.End}),
	}
}

// backendError maps a Backend failure to what the engine may read.
func backendError(err error) error {
	var ce *scheduling.ConflictError
	switch {
	case errors.As(err, &ce):
		return err // converted by the caller, which knows the location
	case errors.Is(err, scheduling.ErrOutsideHours):
		return fail(CodeOutsideHours, "that time is outside opening hours", err)
	case errors.Is(err, scheduling.ErrInvalidRange):
		return fail(CodeInvalid, "that time is in the past or too far ahead", err)
	case errors.Is(err, scheduling.ErrInvalid):
		msg := err.Error()
		if _, rest, ok := strings.Cut(msg, scheduling.ErrInvalid.Error()+": "); ok {
			msg = rest
		}
		return fail(CodeInvalid, msg, err)
	case errors.Is(err, scheduling.ErrNotFound):
		return fail(CodeNotFound, "no such appointment", err)
	}
	return fail(CodeInternal, "the booking system is not responding", err)
}

// nextGap spaces the alternatives offered after a miss, so that three
// offers are not 10:00, 10:15 and 10:30.
const nextGap = time.Hour

// Spread returns up to n slots from slots (sorted by start), each starting
// at least gap after the one before.
func Spread(slots []scheduling.Slot, n int, gap time.Duration) []scheduling.Slot {
	var out []scheduling.Slot
	for _, s := range slots {
		if len(out) == n {
			break
		}
		if len(out) == 0 || !s.Start.Before(out[len(out)-1].Start.Add(gap)) {
			out = append(out, s)
		}
	}
	return out
}

func (e *Executor) next(ctx context.Context, service string, from time.Time) ([]Slot, error) {
	slots, err := e.backend.Availability(ctx, service, from, from.Add(14*24*time.Hour))
	if err != nil {
		return nil, backendError(err)
	}
	var out []Slot
	for _, s := range Spread(slots, 3, nextGap) {
		out = append(out, e.slot(s))
	}
	return out, nil
}

func (e *Executor) availability(ctx context.Context, a CheckAvailabilityArgs) (AvailabilityResult, error) {
	if err := e.needBackend(); err != nil {
		return AvailabilityResult{}, err
	}
	svc, err := e.Service(a.Service)
	if err != nil {
		return AvailabilityResult{}, err
	}
	loc := e.biz.Location()
	date := configs.DateOf(e.now().In(loc))
	if a.Date != "" {
		if date, err = parseDate(a.Date); err != nil {
			return AvailabilityResult{}, err
		}
	}
	days, limit := a.Days, a.Limit
	if days == 0 {
		days = 1
	}
	if limit == 0 {
		limit = 12
	}
	if days < 1 || days > 14 || limit < 1 || limit > 100 {
		return AvailabilityResult{}, fail(CodeInvalid, "days must be 1 to 14 and limit 1 to 100", nil)
	}
	after, err := parseClock(a.After, 0)
	if err != nil {
		return AvailabilityResult{}, err
	}
	before, err := parseClock(a.Before, 1440)
	if err != nil {
		return AvailabilityResult{}, err
	}
	if before <= after {
		return AvailabilityResult{}, fail(CodeInvalid, "before must be later than after", nil)
	}
	res := AvailabilityResult{Service: svc.Name, Date: date.String(), Slots: []Slot{}}
	var to time.Time
	for i := 0; i < days && len(res.Slots) < limit; i++ {
		d := AddDays(date, i)
		from := wall(d, after, loc)
		to = wall(d, before%1440, loc)
		if before == 1440 {
			to = wall(AddDays(d, 1), 0, loc)
		}
		slots, err := e.backend.Availability(ctx, svc.Name, from, to)
		if err != nil {
			return AvailabilityResult{}, backendError(err)
		}
		for _, s := range slots[:min(len(slots), limit-len(res.Slots))] {
			res.Slots = append(res.Slots, e.slot(s))
		}
	}
	if len(res.Slots) == 0 {
		if days == 1 {
			if dh := HoursOn(e.biz, date); dh.Closed {
				res.Closed = dh.Closure
				if res.Closed == "" {
					res.Closed = "closed on " + WeekdayOf(date).String() + "s"
				}
			}
		}
		if res.Next, err = e.next(ctx, svc.Name, to); err != nil {
			return AvailabilityResult{}, err
		}
	}
	return res, nil
}

func (e *Executor) book(ctx context.Context, a BookAppointmentArgs) (BookResult, error) {
	if err := e.needBackend(); err != nil {
		return BookResult{}, err
	}
	svc, err := e.Service(a.Service)
	if err != nil {
		return BookResult{}, err
	}
	loc := e.biz.Location()
	start, err := ParseStart(a.Start, loc)
	if err != nil {
		return BookResult{}, err
	}
	name := strings.TrimSpace(a.Name)
	if name == "" {
		return BookResult{}, fail(CodeInvalid, "the caller's name is required", nil)
	}
	phone, err := e.phone(a.Phone)
	if err != nil {
		return BookResult{}, err
	}
	if a.RescheduleID != "" {
		if _, err := e.owned(ctx, phone, a.RescheduleID); err != nil {
			return BookResult{}, err
		}
	}
	appt, err := e.backend.Book(ctx, BookRequest{Service: svc.Name, Start: start, Name: name, Phone: phone, Reschedule: a.RescheduleID, Source: e.source})
	if err != nil {
		var ce *scheduling.ConflictError
		if errors.As(err, &ce) {
			// Ask for the free slots again rather than trusting how many
			// the backend put in ce.Next: three back-to-back slots make
			// poor alternatives.
			te := fail(CodeConflict, "that time was just taken", err)
			if next, nerr := e.next(ctx, svc.Name, start); nerr == nil && len(next) > 0 {
				te.res.Next = next
			} else {
				for _, s := range Spread(ce.Next, 3, nextGap) {
					te.res.Next = append(te.res.Next, e.slot(s))
				}
			}
			return BookResult{}, te
		}
		return BookResult{}, backendError(err)
	}
	return BookResult{Appointment: e.appointment(appt), Rescheduled: a.RescheduleID != ""}, nil
}

// owned returns the upcoming appointment id booked under phone.
func (e *Executor) owned(ctx context.Context, phone, id string) (scheduling.Appointment, error) {
	appts, err := e.backend.Appointments(ctx, phone)
	if err != nil {
		return scheduling.Appointment{}, backendError(err)
	}
	for _, a := range appts {
		if a.ID == id {
			return a, nil
		}
	}
	return scheduling.Appointment{}, fail(CodeNotFound, "no upcoming appointment with that ID under that phone number", nil)
}

func (e *Executor) find(ctx context.Context, a FindAppointmentsArgs) (FindResult, error) {
	if err := e.needBackend(); err != nil {
		return FindResult{}, err
	}
	phone, err := e.phone(a.Phone)
	if err != nil {
		return FindResult{}, err
	}
	appts, err := e.backend.Appointments(ctx, phone)
	if err != nil {
		return FindResult{}, backendError(err)
	}
	res := FindResult{Appointments: []Appointment{}}
	for _, ap := range appts {
		res.Appointments = append(res.Appointments, e.appointment(ap))
	}
	return res, nil
}

func (e *Executor) cancel(ctx context.Context, a CancelAppointmentArgs) (CancelResult, error) {
	if err := e.needBackend(); err != nil {
		return CancelResult{}, err
	}
	phone, err := e.phone(a.Phone)
	if err != nil {
		return CancelResult{}, err
	}
	if _, err := e.owned(ctx, phone, a.AppointmentID); err != nil {
		return CancelResult{}, err
	}
	appt, err := e.backend.Cancel(ctx, a.AppointmentID)
	if err != nil {
		return CancelResult{}, backendError(err)
	}
	return CancelResult{Cancelled: e.appointment(appt)}, nil
}

func (e *Executor) lead(ctx context.Context, a UpdateLeadArgs) (LeadResult, error) {
	if err := e.needBackend(); err != nil {
		return LeadResult{}, err
	}
	l := scheduling.Lead{
		Name: strings.TrimSpace(a.Name), Email: strings.TrimSpace(a.Email),
		Notes: strings.TrimSpace(a.Notes), Source: e.source,
	}
	if strings.TrimSpace(a.Phone) != "" {
		p, err := e.phone(a.Phone)
		if err != nil {
			return LeadResult{}, err
		}
		l.Phone = p
	}
	if l.Name == "" && l.Phone == "" && l.Email == "" {
		return LeadResult{}, fail(CodeInvalid, "a lead needs a name, a phone number or an email", nil)
	}
	if a.AppointmentID != "" {
		l.AppointmentIDs = []string{a.AppointmentID}
	}
	got, err := e.backend.UpsertLead(ctx, l)
	if err != nil {
		return LeadResult{}, backendError(err)
	}
	return LeadResult{LeadID: got.ID, Name: got.Name, Phone: got.Phone, Status: string(got.Status)}, nil
}
