package server

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
)

// leadView is a lead as the API shows it.
type leadView struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	Phone          string    `json:"phone"`
	Email          string    `json:"email"`
	Company        string    `json:"company"`
	Notes          string    `json:"notes"`
	Source         string    `json:"source"`
	Status         string    `json:"status"`
	Score          int       `json:"score"`
	CallIDs        []string  `json:"call_ids"`
	AppointmentIDs []string  `json:"appointment_ids"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

func leadViewOf(l scheduling.Lead) leadView {
	v := leadView{ID: l.ID, Name: l.Name, Phone: l.Phone, Email: l.Email, Company: l.Company, Notes: l.Notes,
		Source: string(l.Source), Status: string(l.Status), Score: l.Score,
		CallIDs: l.CallIDs, AppointmentIDs: l.AppointmentIDs, CreatedAt: l.CreatedAt.UTC(), UpdatedAt: l.UpdatedAt.UTC()}
	if v.CallIDs == nil {
		v.CallIDs = []string{}
	}
	if v.AppointmentIDs == nil {
		v.AppointmentIDs = []string{}
	}
	return v
}

// leadRequest is the body of POST and PATCH: absent fields are nil.
type leadRequest struct {
	Name    *string `json:"name"`
	Phone   *string `json:"phone"`
	Email   *string `json:"email"`
	Company *string `json:"company"`
	Notes   *string `json:"notes"`
	Source  *string `json:"source"`
	Status  *string `json:"status"`
	Score   *int    `json:"score"`
}

// apply copies the fields present in q onto l, checking each so that the
// client learns which field is wrong. Phones are normalised to E.164,
// national numbers read in region.
func (q leadRequest) apply(l scheduling.Lead, region string) (scheduling.Lead, error) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = strings.TrimSpace(*src)
		}
	}
	set(&l.Name, q.Name)
	set(&l.Email, q.Email)
	set(&l.Company, q.Company)
	set(&l.Notes, q.Notes)
	if q.Phone != nil {
		l.Phone = ""
		if p := strings.TrimSpace(*q.Phone); p != "" {
			e164, err := scheduling.NormalizePhone(p, region)
			if err != nil {
				return l, invalidField("phone", "%s", phoneHint(region))
			}
			l.Phone = e164
		}
	}
	if q.Source != nil {
		l.Source = scheduling.LeadSource(*q.Source)
		if !l.Source.Valid() {
			return l, invalidField("source", "want call, webrtc or api, got %q", *q.Source)
		}
	}
	if q.Status != nil {
		l.Status = scheduling.LeadStatus(*q.Status)
		if !l.Status.Valid() {
			return l, invalidField("status", "want new, qualified, booked or lost, got %q", *q.Status)
		}
	}
	if q.Score != nil {
		if *q.Score < 0 || *q.Score > 100 {
			return l, invalidField("score", "want 0 to 100, got %d", *q.Score)
		}
		l.Score = *q.Score
	}
	if l.Email != "" {
		if _, err := (scheduling.Lead{Email: l.Email, Source: scheduling.SourceAPI, Status: scheduling.LeadNew}).Normalize(""); err != nil {
			return l, invalidField("email", "not a plain email address like ana@example.com")
		}
	}
	return l, nil
}

// apiUpsertLead creates a lead, or, when a lead of the business has the
// same phone number, merges into it: 201 when created, 200 when merged.
func (s *Server) apiUpsertLead(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req leadRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	l, err := req.apply(scheduling.Lead{}, c.biz.region)
	if err != nil {
		return err
	}
	if l.Name == "" && l.Phone == "" && l.Email == "" {
		return &httpError{status: http.StatusBadRequest, code: "invalid", msg: "a lead needs a name, a phone number or an email",
			fields: []fieldProblem{{Path: "name", Message: "required unless phone or email is given"}}}
	}
	ctx, cancel := detach(r.Context())
	defer cancel()
	l, created, err := s.api.store.Leads().Upsert(ctx, c.biz.biz.ID, l)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/v1/leads/"+l.ID)
	}
	writeJSON(w, status, leadViewOf(l))
	return nil
}

func (s *Server) apiGetLead(w http.ResponseWriter, r *http.Request, c *caller) error {
	l, err := s.api.store.Leads().Get(r.Context(), c.biz.biz.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, leadViewOf(l))
	return nil
}

// apiUpdateLead changes the fields present in the body.
func (s *Server) apiUpdateLead(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req leadRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	ctx, cancel := detach(r.Context())
	defer cancel()
	l, err := s.api.store.Leads().Get(ctx, c.biz.biz.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if l, err = req.apply(l, c.biz.region); err != nil {
		return err
	}
	l, err = s.api.store.Leads().Update(ctx, c.biz.biz.ID, l)
	if errors.Is(err, scheduling.ErrDuplicate) {
		return &httpError{status: http.StatusConflict, code: "duplicate", cause: err,
			msg:    "another lead of this business has this phone number; update that lead instead",
			fields: []fieldProblem{{Path: "phone", Message: "belongs to another lead"}}}
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, leadViewOf(l))
	return nil
}

func (s *Server) apiDeleteLead(w http.ResponseWriter, r *http.Request, c *caller) error {
	// A legal hold on the lead (or the business) blocks its deletion.
	if h, held, err := store.HeldBy(r.Context(), s.api.store.Holds(), c.biz.biz.ID, "", r.PathValue("id")); err != nil {
		return err
	} else if held {
		return holdError("the lead", h)
	}
	if err := s.api.store.Leads().Delete(r.Context(), c.biz.biz.ID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// leadFilter reads ?q= and ?status=.
func leadFilter(r *http.Request) (store.LeadFilter, error) {
	q := r.URL.Query()
	f := store.LeadFilter{Query: q.Get("q"), Status: scheduling.LeadStatus(q.Get("status"))}
	if f.Status != "" && !f.Status.Valid() {
		return f, invalidField("status", "want new, qualified, booked or lost, got %q", f.Status)
	}
	if len(f.Query) > 200 {
		return f, invalidField("q", "at most 200 bytes")
	}
	return f, nil
}

// apiListLeads lists leads, newest first; ?q= matches part of the name,
// phone or email, ?status= one status.
func (s *Server) apiListLeads(w http.ResponseWriter, r *http.Request, c *caller) error {
	f, err := leadFilter(r)
	if err != nil {
		return err
	}
	p, err := page(r.URL.Query())
	if err != nil {
		return err
	}
	items, next, err := s.api.store.Leads().List(r.Context(), c.biz.biz.ID, f, p)
	if err != nil {
		return err
	}
	out := list[leadView]{Items: make([]leadView, len(items)), NextCursor: next}
	for i, l := range items {
		out.Items[i] = leadViewOf(l)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// csvHeader is the first row of GET /v1/leads.csv.
var csvHeader = []string{"id", "name", "phone", "email", "company", "notes", "source", "status", "score",
	"call_ids", "appointment_ids", "created_at", "updated_at"}

// apiLeadsCSV exports every lead matching ?q= and ?status= as CSV
// (RFC 4180), streamed page by page.
func (s *Server) apiLeadsCSV(w http.ResponseWriter, r *http.Request, c *caller) error {
	f, err := leadFilter(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	p := store.Page{Limit: store.MaxLimit}
	items, next, err := s.api.store.Leads().List(ctx, c.biz.biz.ID, f, p)
	if err != nil {
		return err // nothing written yet: the error envelope still applies
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="leads-%s.csv"`, c.biz.biz.ID))
	cw := csv.NewWriter(w)
	_ = cw.Write(csvHeader)
	for {
		for _, l := range items {
			_ = cw.Write([]string{l.ID, cell(l.Name), l.Phone, cell(l.Email), cell(l.Company), cell(l.Notes),
				string(l.Source), string(l.Status), strconv.Itoa(l.Score),
				strings.Join(l.CallIDs, " "), strings.Join(l.AppointmentIDs, " "),
				l.CreatedAt.UTC().Format(time.RFC3339), l.UpdatedAt.UTC().Format(time.RFC3339)})
		}
		if next == "" {
			break
		}
		p.Cursor = next
		if items, next, err = s.api.store.Leads().List(ctx, c.biz.biz.ID, f, p); err != nil {
			// The status is sent; all we can do is stop and log.
			s.log.Error("leads CSV export cut short", "business", c.biz.biz.ID, "err", err)
			break
		}
	}
	cw.Flush()
	return nil
}

// cell defuses text a spreadsheet would run as a formula (CSV injection):
// a leading =, +, -, @, tab or carriage return gets a ' in front.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// leadExport is a lead's complete data, for portability requests.
type leadExport struct {
	Lead         leadView          `json:"lead"`
	Appointments []appointmentView `json:"appointments"`
	CallIDs      []string          `json:"call_ids"`
	ExportedAt   time.Time         `json:"exported_at"`
}

// apiExportLead returns the lead with its appointments in full and the
// IDs of its calls.
func (s *Server) apiExportLead(w http.ResponseWriter, r *http.Request, c *caller) error {
	ctx := r.Context()
	id := c.biz.biz.ID
	l, err := s.api.store.Leads().Get(ctx, id, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := leadExport{Lead: leadViewOf(l), Appointments: []appointmentView{}, CallIDs: leadViewOf(l).CallIDs, ExportedAt: s.now().UTC()}
	for _, aid := range l.AppointmentIDs {
		a, err := s.api.store.Appointments().Get(ctx, id, aid)
		if errors.Is(err, scheduling.ErrNotFound) {
			continue // erased since
		}
		if err != nil {
			return err
		}
		out.Appointments = append(out.Appointments, appointmentViewOf(a, c.biz.cal.Location))
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="lead-%s.json"`, l.ID))
	writeJSON(w, http.StatusOK, out)
	return nil
}
