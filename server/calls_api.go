package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/recording"
	"github.com/frontdesk/frontdesk/recording/crypt"
	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/transcript"
)

// callRoutes lists the /v1 routes of calls, recordings, transcripts, legal
// holds, erasure, export and the audit log, for routeTable. Reading calls
// and their files takes a readonly key; whatever deletes, holds, exports
// everything about a person or reads the audit log takes the owner's.
func callRoutes() []apiRoute {
	ro, own := store.RoleReadonly, store.RoleOwner
	return []apiRoute{
		{"GET", "/v1/calls", accessBusiness, ro, (*Server).apiListCalls},
		{"GET", "/v1/calls/{id}", accessBusiness, ro, (*Server).apiGetCall},
		{"DELETE", "/v1/calls/{id}", accessBusiness, own, (*Server).apiDeleteCall},
		{"GET", "/v1/calls/{id}/recording", accessBusiness, ro, (*Server).apiCallRecording},
		{"GET", "/v1/calls/{id}/transcript", accessBusiness, ro, (*Server).apiCallTranscript},
		{"POST", "/v1/calls/{id}/hold", accessBusiness, own, (*Server).apiHoldCall},
		{"DELETE", "/v1/calls/{id}/hold", accessBusiness, own, (*Server).apiReleaseCall},
		{"POST", "/v1/leads/{id}/hold", accessBusiness, own, (*Server).apiHoldLead},
		{"DELETE", "/v1/leads/{id}/hold", accessBusiness, own, (*Server).apiReleaseLead},
		{"POST", "/v1/business/hold", accessBusiness, own, (*Server).apiHoldBusiness},
		{"DELETE", "/v1/business/hold", accessBusiness, own, (*Server).apiReleaseBusiness},
		{"GET", "/v1/holds", accessBusiness, ro, (*Server).apiListHolds},
		{"POST", "/v1/erasure", accessBusiness, own, (*Server).apiErasure},
		{"GET", "/v1/export", accessBusiness, own, (*Server).apiExport},
		{"GET", "/v1/audit", accessBusiness, own, (*Server).apiAudit},
	}
}

// callView is a call as the API shows it. Times are UTC, RFC 3339.
type callView struct {
	ID                  string     `json:"id"`
	Transport           string     `json:"transport"`
	CarrierSID          string     `json:"carrier_sid,omitempty"`
	From                string     `json:"from"`
	To                  string     `json:"to"`
	LeadID              string     `json:"lead_id,omitempty"`
	StartedAt           time.Time  `json:"started_at"`
	EndedAt             *time.Time `json:"ended_at"`
	Outcome             string     `json:"outcome"` // "" while live
	Disclosed           bool       `json:"disclosed"`
	Recording           *fileView  `json:"recording"`  // null: none (not recorded, opted out at once, deleted or expired)
	Transcript          *fileView  `json:"transcript"` // null: none
	RecordingStoppedAt  *time.Time `json:"recording_stopped_at"`
	RecordingExpiresAt  *time.Time `json:"recording_expires_at"`
	TranscriptExpiresAt *time.Time `json:"transcript_expires_at"`
	Hold                *holdView  `json:"hold"` // the hold that blocks deleting the call, if any
}

// fileView points at a file of a call.
type fileView struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// holdView is a legal hold.
type holdView struct {
	Scope  string    `json:"scope"`
	Target string    `json:"target,omitempty"`
	Reason string    `json:"reason"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

func holdViewOf(h store.Hold) *holdView {
	return &holdView{Scope: string(h.Scope), Target: h.Target, Reason: h.Reason, By: h.By, At: h.At.UTC()}
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// callViewOf shows c; holds are the business's.
func callViewOf(c store.Call, holds []store.Hold) callView {
	v := callView{ID: c.ID, Transport: string(c.Transport), CarrierSID: c.CarrierSID, From: c.From, To: c.To, LeadID: c.LeadID,
		StartedAt: c.StartedAt.UTC(), EndedAt: timePtr(c.EndedAt), Outcome: string(c.Outcome), Disclosed: c.Disclosed,
		RecordingStoppedAt: timePtr(c.RecordingStoppedAt), RecordingExpiresAt: timePtr(c.RecordingExpires),
		TranscriptExpiresAt: timePtr(c.TranscriptExpires)}
	if c.RecordingID != "" {
		v.Recording = &fileView{URL: "/v1/calls/" + c.ID + "/recording", ExpiresAt: c.RecordingExpires.UTC()}
	}
	if c.TranscriptID != "" {
		v.Transcript = &fileView{URL: "/v1/calls/" + c.ID + "/transcript", ExpiresAt: c.TranscriptExpires.UTC()}
	}
	for _, h := range holds {
		if h.Covers(c.ID, c.LeadID) {
			v.Hold = holdViewOf(h)
			break
		}
	}
	return v
}

// callID reads and checks the {id} of a path before it goes anywhere
// near the file system.
func callID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if err := recording.ValidID(id); err != nil {
		return "", invalidField("id", "a call ID is 1-%d letters, digits, '_' or '-'", recording.MaxIDLen)
	}
	return id, nil
}

// getCall returns the caller's call {id}: another business's call is not
// found, exactly as a missing one.
func (s *Server) getCall(r *http.Request, c *caller) (store.Call, error) {
	id, err := callID(r)
	if err != nil {
		return store.Call{}, err
	}
	return s.api.store.Calls().Get(r.Context(), c.biz.biz.ID, id)
}

// callFilter reads ?from=, ?to= (RFC 3339, a local time or a date in the
// business's zone), ?number=, ?outcome= and ?lead_id=.
func callFilter(r *http.Request, c *caller) (store.CallFilter, error) {
	q := r.URL.Query()
	var f store.CallFilter
	var err error
	loc := c.biz.cal.Location
	if v := q.Get("from"); v != "" {
		if f.From, err = parseTime("from", v, loc, false); err != nil {
			return f, err
		}
	}
	if v := q.Get("to"); v != "" {
		if f.To, err = parseTime("to", v, loc, true); err != nil {
			return f, err
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, invalidField("to", "must be after from")
	}
	if v := q.Get("number"); v != "" {
		if f.Number, err = scheduling.NormalizePhone(v, c.biz.region); err != nil {
			return f, invalidField("number", "%s", phoneHint(c.biz.region))
		}
	}
	f.Outcome = store.Outcome(q.Get("outcome"))
	if !f.Outcome.Valid() {
		return f, invalidField("outcome", "want completed, cut, error or interrupted, got %q", f.Outcome)
	}
	if v := q.Get("lead_id"); v != "" {
		if !store.ValidID(v) {
			return f, invalidField("lead_id", "not a lead ID")
		}
		f.LeadID = v
	}
	return f, nil
}

// apiListCalls lists calls, newest first.
func (s *Server) apiListCalls(w http.ResponseWriter, r *http.Request, c *caller) error {
	f, err := callFilter(r, c)
	if err != nil {
		return err
	}
	p, err := page(r.URL.Query())
	if err != nil {
		return err
	}
	items, next, err := s.api.store.Calls().List(r.Context(), c.biz.biz.ID, f, p)
	if err != nil {
		return err
	}
	holds, err := s.api.store.Holds().List(r.Context(), c.biz.biz.ID)
	if err != nil {
		return err
	}
	out := list[callView]{Items: make([]callView, len(items)), NextCursor: next}
	for i, call := range items {
		out.Items[i] = callViewOf(call, holds)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) apiGetCall(w http.ResponseWriter, r *http.Request, c *caller) error {
	call, err := s.getCall(r, c)
	if err != nil {
		return err
	}
	holds, err := s.api.store.Holds().List(r.Context(), c.biz.biz.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, callViewOf(call, holds))
	return nil
}

// openFile opens a call's file with open; a file that is being deleted
// as it is opened (its record no longer names it: it is shredded right
// after) is not found rather than malformed.
func (s *Server) openFile(r *http.Request, call store.Call, what string, open func() error, named func(store.Call) bool) error {
	err := open()
	if errors.Is(err, crypt.ErrFormat) || errors.Is(err, crypt.ErrAuth) {
		if now, gerr := s.api.store.Calls().Get(r.Context(), call.BusinessID, call.ID); gerr != nil || !named(now) {
			err = fmt.Errorf("%w (deleted while opened)", fs.ErrNotExist)
		}
	}
	return fileError(what, err)
}

// fileError maps the errors of opening a call's file.
func fileError(what string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return errorf(http.StatusNotFound, "not_found", "this call has no "+what+" (deleted or expired)", err)
	case errors.Is(err, crypt.ErrTruncated):
		return errorf(http.StatusConflict, "in_progress", "the "+what+" is still being written; try again when the call has ended", err)
	case errors.Is(err, crypt.ErrUnknownKey):
		return errorf(http.StatusServiceUnavailable, "key_unavailable", "the key that encrypts this "+what+" is not configured on this server", err)
	}
	return err
}

// apiCallRecording serves the decrypted stereo WAV (caller left, agent
// right). HTTP Range works, so a browser's <audio> can seek; a range out
// of bounds is 416.
func (s *Server) apiCallRecording(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.setupCallData(); err != nil {
		return err
	}
	call, err := s.getCall(r, c)
	if err != nil {
		return err
	}
	if call.RecordingID == "" {
		return errorf(http.StatusNotFound, "not_found", "this call has no recording (not recorded, opted out, deleted or expired)", nil)
	}
	st := s.cdState()
	var p *recording.Playback
	if err := s.openFile(r, call, "recording", func() (err error) {
		p, err = recording.Open(st.recDir, call.RecordingID, st.keyring)
		return err
	}, func(c store.Call) bool { return c.RecordingID != "" }); err != nil {
		return err
	}
	defer p.Close()
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s.wav"`, call.ID))
	http.ServeContent(w, r, call.ID+".wav", call.EndedAt, p.NewReader())
	return nil
}

// apiCallTranscript serves the transcript as ?format=json (default), txt
// or vtt.
func (s *Server) apiCallTranscript(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.setupCallData(); err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	var write func(*transcript.Transcript, http.ResponseWriter) error
	var ctype string
	switch format {
	case "", "json":
		format, ctype = "json", "application/json"
		write = func(t *transcript.Transcript, w http.ResponseWriter) error { return t.WriteJSON(w) }
	case "txt":
		ctype = "text/plain; charset=utf-8"
		write = func(t *transcript.Transcript, w http.ResponseWriter) error { return t.WriteText(w) }
	case "vtt":
		ctype = "text/vtt; charset=utf-8"
		write = func(t *transcript.Transcript, w http.ResponseWriter) error { return t.WriteVTT(w) }
	default:
		return invalidField("format", "want json, txt or vtt, got %q", format)
	}
	call, err := s.getCall(r, c)
	if err != nil {
		return err
	}
	if call.TranscriptID == "" {
		return errorf(http.StatusNotFound, "not_found", "this call has no transcript (not kept by the plan, deleted or expired)", nil)
	}
	st := s.cdState()
	var t *transcript.Transcript
	if err := s.openFile(r, call, "transcript", func() (err error) {
		t, err = transcript.Open(st.trDir, call.TranscriptID, st.keyring)
		return err
	}, func(c store.Call) bool { return c.TranscriptID != "" }); err != nil {
		return err
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s.%s"`, call.ID, format))
	_ = write(t, w) // the client went away: nothing to tell it
	return nil
}

// isLive reports whether call id is in progress on this node.
func (s *Server) isLive(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.live[id]
	return ok
}

// holdError is the 409 of a deletion that a legal hold blocks.
func holdError(what string, h store.Hold) error {
	he := errorf(http.StatusConflict, "held", fmt.Sprintf("%s is under legal hold (%s hold placed %s); release the hold first",
		what, h.Scope, h.At.UTC().Format(time.RFC3339)), nil).(*httpError)
	he.extra = map[string]any{"hold": holdViewOf(h)}
	return he
}

// eraseCall deletes a call's files, timers and record. The caller has
// checked holds and that the call is not live.
func (s *Server) eraseCall(ctx context.Context, call store.Call) (recordings, transcripts int, err error) {
	st := s.cdState()
	if call.RecordingID != "" {
		if err := st.files.DeleteRecording(ctx, call.BusinessID, call.ID); err != nil {
			return 0, 0, err
		}
		recordings++
	}
	if call.TranscriptID != "" {
		if err := st.files.DeleteTranscript(ctx, call.BusinessID, call.ID); err != nil {
			return recordings, 0, err
		}
		transcripts++
	}
	for _, k := range []store.TimerKind{store.TimerRecording, store.TimerTranscript} {
		if err := st.sched.Cancel(ctx, store.TimerID(call.BusinessID, k, call.ID)); err != nil {
			return recordings, transcripts, err
		}
	}
	if err := s.api.store.Calls().Delete(ctx, call.BusinessID, call.ID); err != nil && !errors.Is(err, scheduling.ErrNotFound) {
		return recordings, transcripts, err
	}
	return recordings, transcripts, nil
}

// reason reads an optional ?reason= (DELETE has no body).
func reasonParam(r *http.Request) (string, error) {
	v := strings.TrimSpace(r.URL.Query().Get("reason"))
	if len(v) > 1000 {
		return "", invalidField("reason", "at most 1000 bytes")
	}
	return v, nil
}

// audit appends a record of what the caller did.
func (s *Server) audit(ctx context.Context, c *caller, action store.AuditAction, target, reason string) error {
	_, err := s.api.store.Audit().Append(ctx, store.AuditRecord{BusinessID: c.biz.biz.ID, Actor: c.key.ID, Action: action,
		Target: target, Reason: reason})
	return err
}

// apiDeleteCall deletes a call: recording, transcript, timers and record,
// unless a legal hold covers it or it is in progress. ?reason= goes to
// the audit log.
func (s *Server) apiDeleteCall(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.setupCallData(); err != nil {
		return err
	}
	reason, err := reasonParam(r)
	if err != nil {
		return err
	}
	call, err := s.getCall(r, c)
	if err != nil {
		return err
	}
	if s.isLive(call.ID) || call.Outcome == "" && call.EndedAt.IsZero() && s.liveElsewhere(call) {
		return errorf(http.StatusConflict, "in_progress", "the call is in progress; delete it after it ends", nil)
	}
	if h, held, err := store.HeldBy(r.Context(), s.api.store.Holds(), c.biz.biz.ID, call.ID, call.LeadID); err != nil {
		return err
	} else if held {
		return holdError("the call", h)
	}
	ctx, cancel := detach(r.Context())
	defer cancel()
	if _, _, err := s.eraseCall(ctx, call); err != nil {
		return err
	}
	if err := s.audit(ctx, c, store.AuditDelete, "call:"+call.ID, reason); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// liveElsewhere reports whether a call without an outcome may be live on
// another node: its recording or transcript is still locked by a writer.
func (s *Server) liveElsewhere(call store.Call) bool {
	st := s.cdState()
	if call.RecordingID != "" {
		p, err := recording.Open(st.recDir, call.RecordingID, st.keyring)
		if err == nil {
			p.Close()
			return false
		}
		return errors.Is(err, crypt.ErrTruncated)
	}
	if call.TranscriptID != "" {
		_, err := transcript.Open(st.trDir, call.TranscriptID, st.keyring)
		return errors.Is(err, crypt.ErrTruncated)
	}
	return false
}

// holdRequest is the body of POST …/hold.
type holdRequest struct {
	Reason string `json:"reason"`
}

// placeHold places a hold of scope on target for the caller's business.
func (s *Server) placeHold(w http.ResponseWriter, r *http.Request, c *caller, scope store.HoldScope, target string) error {
	var req holdRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
	}
	req.Reason = strings.TrimSpace(req.Reason)
	if req.Reason == "" || len(req.Reason) > 1000 {
		return invalidField("reason", "required: why the data must be kept (at most 1000 bytes); it goes to the audit log")
	}
	ctx, cancel := detach(r.Context())
	defer cancel()
	h, created, err := s.api.store.Holds().Place(ctx, store.Hold{BusinessID: c.biz.biz.ID, Scope: scope, Target: target,
		Reason: req.Reason, By: c.key.ID})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		if err := s.audit(ctx, c, store.AuditHold, holdTarget(scope, target), req.Reason); err != nil {
			return err
		}
	}
	writeJSON(w, status, holdViewOf(h))
	return nil
}

// releaseHold releases a hold and lets the timers it kept fire.
func (s *Server) releaseHold(w http.ResponseWriter, r *http.Request, c *caller, scope store.HoldScope, target string) error {
	if err := s.setupCallData(); err != nil {
		return err
	}
	reason, err := reasonParam(r)
	if err != nil {
		return err
	}
	ctx, cancel := detach(r.Context())
	defer cancel()
	h, err := s.api.store.Holds().Release(ctx, c.biz.biz.ID, scope, target)
	if errors.Is(err, scheduling.ErrNotFound) {
		return errorf(http.StatusNotFound, "not_found", "there is no "+string(scope)+" hold here", err)
	}
	if err != nil {
		return err
	}
	if err := s.audit(ctx, c, store.AuditRelease, holdTarget(scope, target), reason); err != nil {
		return err
	}
	if err := s.cdState().sched.Released(ctx, c.biz.biz.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, holdViewOf(h))
	return nil
}

func holdTarget(scope store.HoldScope, target string) string {
	if scope == store.HoldBusiness {
		return "business"
	}
	return string(scope) + ":" + target
}

func (s *Server) apiHoldCall(w http.ResponseWriter, r *http.Request, c *caller) error {
	call, err := s.getCall(r, c)
	if err != nil {
		return err
	}
	return s.placeHold(w, r, c, store.HoldCall, call.ID)
}

func (s *Server) apiReleaseCall(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := callID(r)
	if err != nil {
		return err
	}
	return s.releaseHold(w, r, c, store.HoldCall, id)
}

func (s *Server) apiHoldLead(w http.ResponseWriter, r *http.Request, c *caller) error {
	l, err := s.api.store.Leads().Get(r.Context(), c.biz.biz.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.placeHold(w, r, c, store.HoldLead, l.ID)
}

func (s *Server) apiReleaseLead(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("id")
	if !store.ValidID(id) {
		return invalidField("id", "not a lead ID")
	}
	return s.releaseHold(w, r, c, store.HoldLead, id)
}

func (s *Server) apiHoldBusiness(w http.ResponseWriter, r *http.Request, c *caller) error {
	return s.placeHold(w, r, c, store.HoldBusiness, "")
}

func (s *Server) apiReleaseBusiness(w http.ResponseWriter, r *http.Request, c *caller) error {
	return s.releaseHold(w, r, c, store.HoldBusiness, "")
}

func (s *Server) apiListHolds(w http.ResponseWriter, r *http.Request, c *caller) error {
	holds, err := s.api.store.Holds().List(r.Context(), c.biz.biz.ID)
	if err != nil {
		return err
	}
	out := list[holdView]{Items: make([]holdView, len(holds))}
	for i, h := range holds {
		out.Items[i] = *holdViewOf(h)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// subject is everything stored about one person: by phone number, by lead,
// or both.
type subject struct {
	phone        string
	leads        []scheduling.Lead
	calls        []store.Call
	appointments []scheduling.Appointment
}

func (sb *subject) empty() bool {
	return len(sb.leads) == 0 && len(sb.calls) == 0 && len(sb.appointments) == 0
}

// findSubject gathers what the business stores about phone (E.164) or
// lead leadID (one of them is set): the lead with that phone, the calls
// from it or with the lead, the appointments with that phone or lead.
func (s *Server) findSubject(ctx context.Context, bizID, phone, leadID string) (*subject, error) {
	sb := &subject{phone: phone}
	if leadID != "" {
		l, err := s.api.store.Leads().Get(ctx, bizID, leadID)
		if err != nil {
			return nil, err
		}
		sb.leads = append(sb.leads, l)
		if sb.phone == "" {
			sb.phone = l.Phone
		}
	} else {
		p := store.Page{Limit: store.MaxLimit}
		for {
			ls, next, err := s.api.store.Leads().List(ctx, bizID, store.LeadFilter{Query: phone}, p)
			if err != nil {
				return nil, err
			}
			for _, l := range ls {
				if l.Phone == phone {
					sb.leads = append(sb.leads, l)
				}
			}
			if next == "" {
				break
			}
			p.Cursor = next
		}
	}
	seen := map[string]bool{}
	addCalls := func(f store.CallFilter) error {
		p := store.Page{Limit: store.MaxLimit}
		for {
			cs, next, err := s.api.store.Calls().List(ctx, bizID, f, p)
			if err != nil {
				return err
			}
			for _, c := range cs {
				if !seen[c.ID] {
					seen[c.ID] = true
					sb.calls = append(sb.calls, c)
				}
			}
			if next == "" {
				return nil
			}
			p.Cursor = next
		}
	}
	if sb.phone != "" {
		if err := addCalls(store.CallFilter{Number: sb.phone}); err != nil {
			return nil, err
		}
	}
	leadIDs := map[string]bool{}
	for _, l := range sb.leads {
		leadIDs[l.ID] = true
		if err := addCalls(store.CallFilter{LeadID: l.ID}); err != nil {
			return nil, err
		}
		for _, id := range l.CallIDs {
			c, err := s.api.store.Calls().Get(ctx, bizID, id)
			if errors.Is(err, scheduling.ErrNotFound) || errors.Is(err, scheduling.ErrInvalid) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if !seen[c.ID] {
				seen[c.ID] = true
				sb.calls = append(sb.calls, c)
			}
		}
	}
	p := store.Page{Limit: store.MaxLimit}
	for {
		as, next, err := s.api.store.Appointments().List(ctx, bizID, store.AppointmentFilter{}, p)
		if err != nil {
			return nil, err
		}
		for _, a := range as {
			if (sb.phone != "" && a.Phone == sb.phone) || (a.LeadID != "" && leadIDs[a.LeadID]) {
				sb.appointments = append(sb.appointments, a)
			}
		}
		if next == "" {
			break
		}
		p.Cursor = next
	}
	return sb, nil
}

// subjectRequest names a person: by phone or by lead.
type subjectRequest struct {
	Phone  string `json:"phone"`
	LeadID string `json:"lead_id"`
	Reason string `json:"reason"`
}

// subjectOf checks a request naming a person and returns the E.164 phone
// (or "") and the lead ID (or "").
func subjectOf(c *caller, phone, leadID string) (string, string, error) {
	phone, leadID = strings.TrimSpace(phone), strings.TrimSpace(leadID)
	switch {
	case phone == "" && leadID == "":
		return "", "", invalidField("phone", "give a phone number or a lead_id")
	case phone != "" && leadID != "":
		return "", "", invalidField("lead_id", "give a phone number or a lead_id, not both")
	case leadID != "" && !store.ValidID(leadID):
		return "", "", invalidField("lead_id", "not a lead ID")
	}
	if phone != "" {
		e, err := scheduling.NormalizePhone(phone, c.biz.region)
		if err != nil {
			return "", "", invalidField("phone", "%s", phoneHint(c.biz.region))
		}
		phone = e
	}
	return phone, leadID, nil
}

// subjectTarget names a person in the audit log without their number.
func subjectTarget(phone, leadID string) string {
	if leadID != "" {
		return "lead:" + leadID
	}
	return "phone:" + scheduling.RedactPhone(phone)
}

// erasureView is what an erasure deleted.
type erasureView struct {
	Leads        int `json:"leads"`
	Calls        int `json:"calls"`
	Recordings   int `json:"recordings"`
	Transcripts  int `json:"transcripts"`
	Appointments int `json:"appointments"`
}

// apiErasure erases everything about a phone number or a lead: its calls
// (recordings, transcripts, records), appointments and lead. Nothing is
// erased when a legal hold covers any of it (409) or a call is in
// progress (409); a number nothing is stored about is 404.
func (s *Server) apiErasure(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.setupCallData(); err != nil {
		return err
	}
	var req subjectRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	phone, leadID, err := subjectOf(c, req.Phone, req.LeadID)
	if err != nil {
		return err
	}
	if len(req.Reason) > 1000 {
		return invalidField("reason", "at most 1000 bytes")
	}
	ctx, cancel := detach(r.Context())
	defer cancel()
	bizID := c.biz.biz.ID
	sb, err := s.findSubject(ctx, bizID, phone, leadID)
	if err != nil {
		return err
	}
	if sb.empty() {
		return errorf(http.StatusNotFound, "not_found", "nothing is stored about this "+map[bool]string{true: "lead", false: "number"}[leadID != ""], nil)
	}
	holds, err := s.api.store.Holds().List(ctx, bizID)
	if err != nil {
		return err
	}
	for _, h := range holds {
		for _, l := range sb.leads {
			if h.Covers("", l.ID) {
				return holdError("lead "+l.ID, h)
			}
		}
		for _, call := range sb.calls {
			if h.Covers(call.ID, call.LeadID) {
				return holdError("call "+call.ID, h)
			}
		}
		if h.Scope == store.HoldBusiness {
			return holdError("the business", h)
		}
	}
	for _, call := range sb.calls {
		if s.isLive(call.ID) || call.Outcome == "" && s.liveElsewhere(call) {
			return errorf(http.StatusConflict, "in_progress", "call "+call.ID+" with this person is in progress; erase after it ends", nil)
		}
	}
	var out erasureView
	for _, call := range sb.calls {
		nr, nt, err := s.eraseCall(ctx, call)
		out.Recordings, out.Transcripts = out.Recordings+nr, out.Transcripts+nt
		if err != nil {
			return err
		}
		out.Calls++
	}
	for _, a := range sb.appointments {
		if err := s.api.store.Appointments().Delete(ctx, bizID, a.ID); err != nil && !errors.Is(err, scheduling.ErrNotFound) {
			return err
		}
		out.Appointments++
	}
	for _, l := range sb.leads {
		if err := s.api.store.Leads().Delete(ctx, bizID, l.ID); err != nil && !errors.Is(err, scheduling.ErrNotFound) {
			return err
		}
		out.Leads++
	}
	reason := strings.TrimSpace(req.Reason)
	summary := fmt.Sprintf("%d calls (%d recordings, %d transcripts), %d appointments, %d leads", out.Calls, out.Recordings, out.Transcripts, out.Appointments, out.Leads)
	if reason != "" {
		summary = reason + "; " + summary
	}
	if err := s.audit(ctx, c, store.AuditErase, subjectTarget(phone, leadID), summary); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// exportView is everything stored about a person.
type exportView struct {
	Phone        string            `json:"phone,omitempty"`
	ExportedAt   time.Time         `json:"exported_at"`
	Leads        []leadView        `json:"leads"`
	Calls        []exportCall      `json:"calls"`
	Appointments []appointmentView `json:"appointments"`
}

// exportCall is a call with its transcript; recordings are linked (audio
// does not belong in JSON).
type exportCall struct {
	callView
	TranscriptContent *transcript.Transcript `json:"transcript_content,omitempty"`
}

// apiExport returns everything stored about ?phone= (or ?lead_id=) as one
// JSON document, and records the export in the audit log.
func (s *Server) apiExport(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.setupCallData(); err != nil {
		return err
	}
	q := r.URL.Query()
	phone, leadID, err := subjectOf(c, q.Get("phone"), q.Get("lead_id"))
	if err != nil {
		return err
	}
	ctx := r.Context()
	sb, err := s.findSubject(ctx, c.biz.biz.ID, phone, leadID)
	if err != nil {
		return err
	}
	if sb.empty() {
		return errorf(http.StatusNotFound, "not_found", "nothing is stored about this "+map[bool]string{true: "lead", false: "number"}[leadID != ""], nil)
	}
	holds, err := s.api.store.Holds().List(ctx, c.biz.biz.ID)
	if err != nil {
		return err
	}
	st := s.cdState()
	out := exportView{Phone: sb.phone, ExportedAt: s.now().UTC(), Leads: []leadView{}, Calls: []exportCall{}, Appointments: []appointmentView{}}
	for _, l := range sb.leads {
		out.Leads = append(out.Leads, leadViewOf(l))
	}
	for _, call := range sb.calls {
		ec := exportCall{callView: callViewOf(call, holds)}
		if call.TranscriptID != "" {
			t, err := transcript.Open(st.trDir, call.TranscriptID, st.keyring)
			switch {
			case err == nil:
				ec.TranscriptContent = t
			case errors.Is(err, fs.ErrNotExist), errors.Is(err, crypt.ErrTruncated):
				// expired meanwhile, or still being written
			default:
				return fileError("transcript", err)
			}
		}
		out.Calls = append(out.Calls, ec)
	}
	for _, a := range sb.appointments {
		out.Appointments = append(out.Appointments, appointmentViewOf(a, c.biz.cal.Location))
	}
	if err := s.audit(ctx, c, store.AuditExport, subjectTarget(phone, leadID), ""); err != nil {
		return err
	}
	w.Header().Set("Content-Disposition", `attachment; filename="export.json"`)
	w.Header().Set("Cache-Control", "private, no-store")
	writeJSON(w, http.StatusOK, out)
	return nil
}

// auditView is an audit record.
type auditView struct {
	ID     string    `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Reason string    `json:"reason"`
}

// apiAudit lists the audit log, newest first.
func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request, c *caller) error {
	p, err := page(r.URL.Query())
	if err != nil {
		return err
	}
	items, next, err := s.api.store.Audit().List(r.Context(), c.biz.biz.ID, p)
	if err != nil {
		return err
	}
	out := list[auditView]{Items: make([]auditView, len(items)), NextCursor: next}
	for i, a := range items {
		out.Items[i] = auditView{ID: a.ID, At: a.At.UTC(), Actor: a.Actor, Action: string(a.Action), Target: a.Target, Reason: a.Reason}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
