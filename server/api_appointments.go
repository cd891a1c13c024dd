package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
)

// defaultWindow is the span of GET /v1/availability without "to".
const defaultWindow = 7 * 24 * time.Hour

// parseTime reads an API time in one of three forms: RFC 3339
// ("2026-03-09T10:00:00-04:00"), a wall-clock time in the business's
// zone ("2026-03-09T10:00"), or a date ("2026-03-09": the start of that
// day in the business's zone, or with endOfDay the start of the next, so
// that to=2026-03-31 includes the 31st).
func parseTime(field, v string, loc *time.Location, endOfDay bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	if d, err := time.Parse(time.DateOnly, v); err == nil {
		if endOfDay {
			d = d.AddDate(0, 0, 1)
		}
		return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc), nil
	}
	return time.Time{}, invalidField(field, "want RFC 3339 (2026-03-09T10:00:00-04:00), a time in the business's zone %s (2026-03-09T10:00) or a date (2026-03-09); got %q", loc, v)
}

// serviceView is a service as the API shows it.
type serviceView struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	DurationMinutes int    `json:"duration_minutes"`
	BufferMinutes   int    `json:"buffer_minutes"`
	Price           int64  `json:"price"` // minor units (cents)
	Currency        string `json:"currency,omitempty"`
}

func serviceViewOf(s scheduling.Service) serviceView {
	return serviceView{ID: s.ID, Name: s.Name, DurationMinutes: int(s.Duration / time.Minute),
		BufferMinutes: int(s.Buffer / time.Minute), Price: s.Price, Currency: s.Currency}
}

// findService finds a service by ID or by name, ignoring case.
func findService(cal *scheduling.Calendar, field, v string) (scheduling.Service, error) {
	if v == "" {
		return scheduling.Service{}, invalidField(field, "required: one of %s", serviceIDs(cal))
	}
	if svc, ok := cal.Service(v); ok {
		return svc, nil
	}
	if svc, ok := cal.Service(serviceID(v)); ok {
		return svc, nil
	}
	return scheduling.Service{}, invalidField(field, "no service %q; this business has %s", v, serviceIDs(cal))
}

func serviceIDs(cal *scheduling.Calendar) string {
	if len(cal.Services) == 0 {
		return "no services"
	}
	ids := make([]string, len(cal.Services))
	for i, s := range cal.Services {
		ids[i] = s.ID
	}
	return strings.Join(ids, ", ")
}

type availabilityView struct {
	Service  serviceView `json:"service"`
	TimeZone string      `json:"time_zone"`
	From     string      `json:"from"`
	To       string      `json:"to"`
	Slots    []slotJSON  `json:"slots"`
}

// window reads ?from= and ?to= in the business's zone; missing bounds
// take the defaults given (zero: open).
func window(q url.Values, loc *time.Location, defFrom, defTo time.Time) (from, to time.Time, err error) {
	from, to = defFrom, defTo
	if v := q.Get("from"); v != "" {
		if from, err = parseTime("from", v, loc, false); err != nil {
			return
		}
		if q.Get("to") == "" && !defTo.IsZero() {
			to = from.Add(defaultWindow)
		}
	}
	if v := q.Get("to"); v != "" {
		if to, err = parseTime("to", v, loc, true); err != nil {
			return
		}
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		err = &httpError{status: http.StatusBadRequest, code: "invalid_range",
			msg:    fmt.Sprintf("impossible time range: to (%s) is not after from (%s)", to.In(loc).Format(time.RFC3339), from.In(loc).Format(time.RFC3339)),
			fields: []fieldProblem{{Path: "to", Message: "must be after from"}}}
	}
	return
}

// apiAvailability lists the free slots of a service.
func (s *Server) apiAvailability(w http.ResponseWriter, r *http.Request, c *caller) error {
	q := r.URL.Query()
	cal := c.biz.cal
	svc, err := findService(cal, "service", q.Get("service"))
	if err != nil {
		return err
	}
	now := s.now()
	from, to, err := window(q, cal.Location, now, now.Add(defaultWindow))
	if err != nil {
		return err
	}
	if to.Sub(from) > scheduling.MaxWindow {
		return &httpError{status: http.StatusBadRequest, code: "invalid_range",
			msg: fmt.Sprintf("the window from %s to %s is longer than %d days; ask for less",
				from.In(cal.Location).Format(time.RFC3339), to.In(cal.Location).Format(time.RFC3339), scheduling.MaxWindow/(24*time.Hour)),
			fields: []fieldProblem{{Path: "to", Message: "too far after from"}}}
	}
	existing, err := store.Booked(r.Context(), s.api.store.Appointments(), c.biz.biz.ID, from, to)
	if err != nil {
		return err
	}
	slots, err := scheduling.Availability(cal, svc, from, to, existing, now)
	if err != nil {
		return err
	}
	for i := range slots {
		slots[i].Start, slots[i].End = slots[i].Start.In(cal.Location), slots[i].End.In(cal.Location)
	}
	writeJSON(w, http.StatusOK, availabilityView{
		Service: serviceViewOf(svc), TimeZone: cal.Location.String(),
		From: from.In(cal.Location).Format(time.RFC3339), To: to.In(cal.Location).Format(time.RFC3339),
		Slots: slotsJSON(slots),
	})
	return nil
}

// appointmentView is an appointment as the API shows it; times are in the
// business's zone.
type appointmentView struct {
	ID           string      `json:"id"`
	Status       string      `json:"status"`
	Service      serviceView `json:"service"`
	Start        string      `json:"start"`
	End          string      `json:"end"`
	CustomerName string      `json:"customer_name"`
	Phone        string      `json:"phone,omitempty"`
	LeadID       string      `json:"lead_id,omitempty"`
	SMS          *smsView    `json:"sms,omitempty"`
	CreatedAt    time.Time   `json:"created_at"`
	UpdatedAt    time.Time   `json:"updated_at"`
}

type smsView struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

func appointmentViewOf(a scheduling.Appointment, loc *time.Location) appointmentView {
	v := appointmentView{ID: a.ID, Status: string(a.Status), Service: serviceViewOf(a.Service),
		Start: a.Start.In(loc).Format(time.RFC3339), End: a.End.In(loc).Format(time.RFC3339),
		CustomerName: a.CustomerName, Phone: a.Phone, LeadID: a.LeadID,
		CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC()}
	if a.SMSStatus != scheduling.SMSNone {
		v.SMS = &smsView{Status: string(a.SMSStatus), Error: a.SMSError}
	}
	return v
}

type bookRequest struct {
	Service      string `json:"service"`
	Start        string `json:"start"`
	CustomerName string `json:"customer_name"`
	Phone        string `json:"phone"`
	LeadID       string `json:"lead_id"`
}

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 200

// apiBook books an appointment. With an Idempotency-Key header a repeated
// request returns the first one's appointment instead of booking again.
func (s *Server) apiBook(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req bookRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	e := c.biz
	cal := e.cal
	svc, err := findService(cal, "service", req.Service)
	if err != nil {
		return err
	}
	if req.Start == "" {
		return invalidField("start", "required, e.g. 2026-03-09T10:00 in %s or RFC 3339", cal.Location)
	}
	start, err := parseTime("start", req.Start, cal.Location, false)
	if err != nil {
		return err
	}
	name := strings.TrimSpace(req.CustomerName)
	if name == "" {
		return invalidField("customer_name", "required")
	}
	phone := ""
	if strings.TrimSpace(req.Phone) != "" {
		if phone, err = scheduling.NormalizePhone(req.Phone, e.region); err != nil {
			return invalidField("phone", "%s", phoneHint(e.region))
		}
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > maxIdempotencyKey {
		return invalidField("Idempotency-Key", "at most %d bytes", maxIdempotencyKey)
	}
	ctx, cancel := detach(r.Context())
	defer cancel()
	if req.LeadID != "" {
		if _, err := s.api.store.Leads().Get(ctx, e.biz.ID, req.LeadID); errors.Is(err, scheduling.ErrNotFound) {
			return invalidField("lead_id", "no lead %q in this business", req.LeadID)
		} else if err != nil {
			return err
		}
	}
	began := time.Now().Truncate(time.Millisecond)
	a, err := s.api.store.Appointments().Book(ctx, e.biz.ID, cal, scheduling.Appointment{
		Service: scheduling.Service{ID: svc.ID}, Start: start, CustomerName: name, Phone: phone,
		LeadID: req.LeadID, IdempotencyKey: key,
	})
	if err != nil {
		return err
	}
	if key != "" && a.CreatedAt.Before(began) {
		w.Header().Set("Idempotent-Replayed", "true")
	} else {
		if a.LeadID != "" {
			if _, err := s.api.store.Leads().LinkAppointment(ctx, e.biz.ID, a.LeadID, a.ID); err != nil {
				s.log.Warn("link appointment to lead", "business", e.biz.ID, "appointment", a.ID, "err", err)
			}
		}
		a = s.confirm(ctx, e, a, false)
	}
	w.Header().Set("Location", "/v1/appointments/"+a.ID)
	writeJSON(w, http.StatusCreated, appointmentViewOf(a, cal.Location))
	return nil
}

// phoneHint explains a phone number that does not parse. The number
// itself is not repeated: it is personal data and goes to logs.
func phoneHint(region string) string {
	if region == "" {
		return "not a valid phone number; write it with + and the country code, like +12125550123"
	}
	return fmt.Sprintf("not a valid phone number; write it with + and the country code (like +12125550123) or as a national number of %s", region)
}

func (s *Server) apiGetAppointment(w http.ResponseWriter, r *http.Request, c *caller) error {
	a, err := s.api.store.Appointments().Get(r.Context(), c.biz.biz.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, appointmentViewOf(a, c.biz.cal.Location))
	return nil
}

// apiListAppointments lists appointments by start time, ?from= and ?to=
// (both optional), ?status=booked|cancelled, with cursor pagination.
func (s *Server) apiListAppointments(w http.ResponseWriter, r *http.Request, c *caller) error {
	q := r.URL.Query()
	loc := c.biz.cal.Location
	from, to, err := window(q, loc, time.Time{}, time.Time{})
	if err != nil {
		return err
	}
	f := store.AppointmentFilter{From: from, To: to, Status: scheduling.AppointmentStatus(q.Get("status"))}
	if f.Status != "" && f.Status != scheduling.StatusBooked && f.Status != scheduling.StatusCancelled {
		return invalidField("status", "want booked or cancelled, got %q", f.Status)
	}
	p, err := page(q)
	if err != nil {
		return err
	}
	items, next, err := s.api.store.Appointments().List(r.Context(), c.biz.biz.ID, f, p)
	if err != nil {
		return err
	}
	out := list[appointmentView]{Items: make([]appointmentView, len(items)), NextCursor: next}
	for i, a := range items {
		out.Items[i] = appointmentViewOf(a, loc)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type rescheduleRequest struct {
	Start string `json:"start"`
}

// apiReschedule moves an appointment (PATCH with {"start"} or POST
// .../reschedule).
func (s *Server) apiReschedule(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req rescheduleRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	cal := c.biz.cal
	if req.Start == "" {
		return invalidField("start", "required: the new start, e.g. 2026-03-09T10:00 in %s or RFC 3339", cal.Location)
	}
	start, err := parseTime("start", req.Start, cal.Location, false)
	if err != nil {
		return err
	}
	ctx, cancel := detach(r.Context())
	defer cancel()
	a, err := s.api.store.Appointments().Reschedule(ctx, c.biz.biz.ID, cal, r.PathValue("id"), start)
	if err != nil {
		return err
	}
	a = s.confirm(ctx, c.biz, a, true)
	writeJSON(w, http.StatusOK, appointmentViewOf(a, cal.Location))
	return nil
}

// apiCancel cancels an appointment (DELETE or POST .../cancel); the
// appointment stays listed, cancelled.
func (s *Server) apiCancel(w http.ResponseWriter, r *http.Request, c *caller) error {
	a, err := s.api.store.Appointments().Cancel(r.Context(), c.biz.biz.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, appointmentViewOf(a, c.biz.cal.Location))
	return nil
}
