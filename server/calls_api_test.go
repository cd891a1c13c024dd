package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/media"
	"github.com/frontdesk/frontdesk/recording"
	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/transcript"
)

// serveCallRoutes points e at a server that has the call routes even if
// routeTable does not list them yet: they are registered in front of the
// server's own handler, exactly as apiRoutes registers routes.
func serveCallRoutes(t testing.TB, e *apiEnv) {
	mux := http.NewServeMux()
	for _, rt := range callRoutes() {
		h := rt.h
		mux.Handle(rt.method+" "+rt.pattern, e.srv.handle(e.srv.authenticate(rt, func(w http.ResponseWriter, r *http.Request, c *caller) error {
			return h(e.srv, w, r, c)
		})))
	}
	mux.Handle("/", e.srv.Handler())
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	e.url = hs.URL
}

// routeAccessSeed is for TestRouteAccess once routeTable lists
// callRoutes: it stores a finished call of the clinic (a record only: no
// files, so it needs no data directory) and returns the IDs the call
// routes' {id} paths take, to merge into its ids.
func routeAccessSeed(t testing.TB, e *apiEnv) map[string]string {
	t.Helper()
	now := time.Now()
	c, err := e.st.Calls().Create(context.Background(), "clinic", store.Call{ID: "call_access", Transport: store.TransportTwilio,
		From: "+12125550123", StartedAt: now.Add(-time.Minute), EndedAt: now, Outcome: store.OutcomeCompleted})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"calls": c.ID}
}

// callsValidBody is validBody for the call routes.
func callsValidBody(rt apiRoute) any {
	switch rt.pattern {
	case "/v1/calls/{id}/hold", "/v1/leads/{id}/hold", "/v1/business/hold":
		return map[string]string{"reason": "route access test"}
	case "/v1/erasure":
		return map[string]string{"phone": "+12125550123"}
	}
	return nil
}

// TestCallRoutesAccess is TestRouteAccess's walk over the call routes
// alone (until routeTable lists them): no key, a wrong key, the operator
// key and too weak a role are refused; another business gets 404.
func TestCallRoutesAccess(t *testing.T) {
	e, _ := newCallsAPI(t, "sqlite", "{recordings: 1h, transcripts: 1h}", "{recordings: 1h, transcripts: 1h}")
	ids := routeAccessSeed(t, e)
	var l leadView
	e.must(201, "POST", "/v1/leads", e.key("clinic", store.RoleSupervisor), map[string]string{"name": "Ana", "phone": "+12125550123"}).json(t, &l)
	ids["leads"] = l.ID
	salon := e.key("salon", store.RoleOwner)
	for _, rt := range callRoutes() {
		name, path := rt.method+" "+rt.pattern, rt.pattern
		for coll, id := range ids {
			path = strings.Replace(path, "/"+coll+"/{id}", "/"+coll+"/"+id, 1)
		}
		body := callsValidBody(rt)
		for _, bad := range []string{"", "fdk_nope_" + strings.Repeat("x", 43), "hunter2"} {
			if r := e.do(rt.method, path, bad, body); r.status != 401 {
				t.Errorf("%s with key %q: %s, want 401", name, bad, r)
			}
		}
		if r := e.do(rt.method, path, testOperatorKey, body); r.status != 403 {
			t.Errorf("%s with the operator key: %s, want 403", name, r)
		}
		for _, role := range []store.Role{store.RoleReadonly, store.RoleSupervisor} {
			r := e.do(rt.method, path, e.key("clinic", role), body)
			if roleRank(role) < roleRank(rt.role) && r.status != 403 {
				t.Errorf("%s with a %s key: %s, want 403", name, role, r)
			}
			if roleRank(role) >= roleRank(rt.role) && (r.status == 401 || r.status == 403) {
				t.Errorf("%s with a %s key: %s, want it allowed", name, role, r)
			}
		}
		if strings.Contains(rt.pattern, "{id}") && rt.method != "DELETE" {
			if r := e.do(rt.method, path, salon, body); r.status != 404 {
				t.Errorf("%s of the clinic with the salon's key: %s, want 404", name, r)
			}
		}
	}
}

// callJSON is callView as a client reads it.
type callJSON struct {
	ID         string     `json:"id"`
	From       string     `json:"from"`
	LeadID     string     `json:"lead_id"`
	Outcome    string     `json:"outcome"`
	Disclosed  bool       `json:"disclosed"`
	StartedAt  time.Time  `json:"started_at"`
	EndedAt    *time.Time `json:"ended_at"`
	Recording  *fileView  `json:"recording"`
	Transcript *fileView  `json:"transcript"`
	Hold       *holdView  `json:"hold"`
}

func callIDs(items []callJSON) []string {
	out := []string{}
	for _, c := range items {
		out = append(out, c.ID)
	}
	return out
}

func TestCallsAPI(t *testing.T) {
	for _, backend := range []string{"sqlite", "redis"} {
		t.Run(backend, func(t *testing.T) { testCallsAPI(t, backend) })
	}
}

func testCallsAPI(t *testing.T, backend string) {
	e, _ := newCallsAPI(t, backend, "{recordings: 1h, transcripts: 2h}", "{recordings: 1h, transcripts: 2h}")
	ro, salon := e.key("clinic", store.RoleReadonly), e.key("salon", store.RoleOwner)
	for i, from := range []string{"+12125550123", "+12125550124", "+12125550123"} {
		fakeCall(t, e.srv, "clinic", fmt.Sprintf("call_%d", i), from)
		time.Sleep(2 * time.Millisecond) // distinct start times
	}
	fakeCall(t, e.srv, "salon", "call_salon", "+12125550123")
	if _, err := e.st.Calls().Update(context.Background(), "clinic", "call_1", func(c *store.Call) error { c.Outcome = store.OutcomeCut; return nil }); err != nil {
		t.Fatal(err)
	}

	var l list[callJSON]
	e.must(200, "GET", "/v1/calls", ro, nil).json(t, &l)
	if got := strings.Join(callIDs(l.Items), ","); got != "call_2,call_1,call_0" {
		t.Errorf("GET /v1/calls = %s, want newest first", got)
	}
	c0 := l.Items[2]
	if c0.Recording == nil || c0.Recording.URL != "/v1/calls/call_0/recording" || c0.Transcript == nil || !c0.Disclosed ||
		c0.Outcome != "completed" || c0.EndedAt == nil || c0.Hold != nil ||
		!c0.Recording.ExpiresAt.Equal(c0.StartedAt.Add(time.Hour)) || !c0.Transcript.ExpiresAt.Equal(c0.StartedAt.Add(2*time.Hour)) {
		t.Errorf("call view: %+v", c0)
	}
	for query, want := range map[string]string{
		"?number=%28212%29%20555-0123": "call_2,call_0", // a national number, read in the business's region
		"?number=%2B12125550124":       "call_1",
		"?outcome=cut":                 "call_1",
		"?from=" + c0.StartedAt.Add(time.Millisecond).Format(time.RFC3339Nano): "call_2,call_1",
		"?to=" + c0.StartedAt.Add(time.Millisecond).Format(time.RFC3339Nano):   "call_0",
		"?from=2000-01-01&to=2000-01-02":                                       "",
		"?lead_id=lead_nobody":                                                 "",
	} {
		var got list[callJSON]
		e.must(200, "GET", "/v1/calls"+query, ro, nil).json(t, &got)
		if s := strings.Join(callIDs(got.Items), ","); s != want {
			t.Errorf("GET /v1/calls%s = %s, want %s", query, s, want)
		}
	}
	var p1, p2 list[callJSON]
	e.must(200, "GET", "/v1/calls?limit=2", ro, nil).json(t, &p1)
	e.must(200, "GET", "/v1/calls?limit=2&cursor="+p1.NextCursor, ro, nil).json(t, &p2)
	if len(p1.Items) != 2 || p1.NextCursor == "" || len(p2.Items) != 1 || p2.Items[0].ID != "call_0" || p2.NextCursor != "" {
		t.Errorf("pages: %v %q / %v %q", callIDs(p1.Items), p1.NextCursor, callIDs(p2.Items), p2.NextCursor)
	}
	for _, q := range []string{"?number=hello", "?outcome=great", "?from=yesterday", "?from=2026-02-02&to=2026-02-01", "?limit=0", "?cursor=zz", "?lead_id=a%20b"} {
		if r := e.do("GET", "/v1/calls"+q, ro, nil); r.status != 400 {
			t.Errorf("GET /v1/calls%s: %s, want 400", q, r)
		}
	}

	// Tenancy: the salon sees only its own call.
	var sl list[callJSON]
	e.must(200, "GET", "/v1/calls", salon, nil).json(t, &sl)
	if got := strings.Join(callIDs(sl.Items), ","); got != "call_salon" {
		t.Errorf("the salon lists %s", got)
	}
	for _, p := range []string{"/v1/calls/call_0", "/v1/calls/call_0/recording", "/v1/calls/call_0/transcript"} {
		if r := e.do("GET", p, salon, nil); r.status != 404 {
			t.Errorf("GET %s with the salon's key: %s, want 404", p, r)
		}
	}
	var one callJSON
	e.must(200, "GET", "/v1/calls/call_1", ro, nil).json(t, &one)
	if one.ID != "call_1" || one.Outcome != "cut" || one.From != "+12125550124" {
		t.Errorf("GET /v1/calls/call_1 = %+v", one)
	}

	// Transcript exports.
	for format, want := range map[string][]string{
		"":     {"application/json", `"text": "I'd like a cleaning."`},
		"json": {"application/json", `"disclosure_given": true`},
		"txt":  {"text/plain; charset=utf-8", "Caller: I'd like a cleaning."},
		"vtt":  {"text/vtt; charset=utf-8", "WEBVTT", "<v Agent>Hello, how can I help?</v>"},
	} {
		r := e.must(200, "GET", "/v1/calls/call_0/transcript?format="+format, ro, nil)
		if ct := r.header.Get("Content-Type"); ct != want[0] {
			t.Errorf("format %q: Content-Type %q, want %q", format, ct, want[0])
		}
		for _, s := range want[1:] {
			if !strings.Contains(string(r.body), s) {
				t.Errorf("format %q: no %q in\n%s", format, s, r.body)
			}
		}
	}
	if r := e.do("GET", "/v1/calls/call_0/transcript?format=xml", ro, nil); r.status != 400 {
		t.Errorf("format=xml: %s, want 400", r)
	}
}

// TestRecordingRange: the decrypted WAV is served with HTTP Range, so a
// browser can seek; out-of-bounds ranges are 416.
func TestRecordingRange(t *testing.T) {
	e, _ := newCallsAPI(t, "sqlite", "{recordings: 1h, transcripts: 1h}", "{recordings: 1h, transcripts: 1h}")
	ro := e.key("clinic", store.RoleReadonly)
	fakeCall(t, e.srv, "clinic", "call_r", "+12125550123")
	full := e.must(200, "GET", "/v1/calls/call_r/recording", ro, nil)
	if full.header.Get("Content-Type") != "audio/wav" || full.header.Get("Accept-Ranges") != "bytes" || len(full.body) != 44+16000*4 {
		t.Fatalf("recording: %s, %d bytes, headers %v", full.header.Get("Content-Type"), len(full.body), full.header)
	}
	a, err := media.ReadWAV(bytes.NewReader(full.body))
	if err != nil || a.Channels != 2 || a.Frames() != 16000 {
		t.Fatalf("served WAV: %+v, %v", a, err)
	}
	size := len(full.body)
	for _, tc := range []struct {
		rng        string
		from, to   int // the bytes expected, [from, to)
		wantStatus int
	}{
		{"bytes=0-43", 0, 44, 206},
		{"bytes=1000-1999", 1000, 2000, 206},
		{"bytes=60000-", 60000, size, 206},
		{"bytes=-100", size - 100, size, 206},
		{fmt.Sprintf("bytes=%d-%d", size-10, size+500), size - 10, size, 206}, // the end is clamped
		{fmt.Sprintf("bytes=%d-", size), 0, 0, 416},
		{fmt.Sprintf("bytes=%d-%d", size+10, size+20), 0, 0, 416},
		{"bytes=5-2", 0, 0, 416}, // unsatisfiable as written
	} {
		r := e.do("GET", "/v1/calls/call_r/recording", ro, nil, "Range", tc.rng)
		if r.status != tc.wantStatus {
			t.Errorf("Range %s: %d, want %d", tc.rng, r.status, tc.wantStatus)
			continue
		}
		if tc.wantStatus == 416 {
			if cr := r.header.Get("Content-Range"); tc.rng != "bytes=5-2" && cr != fmt.Sprintf("bytes */%d", size) {
				t.Errorf("Range %s: Content-Range %q", tc.rng, cr)
			}
			continue
		}
		if !bytes.Equal(r.body, full.body[tc.from:tc.to]) {
			t.Errorf("Range %s: %d bytes that differ from the file's [%d, %d)", tc.rng, len(r.body), tc.from, tc.to)
		}
	}
}

// TestIDsNeverTouchFiles: malformed and traversing IDs are refused before
// they reach the file system, and nothing outside the data directory is
// touched.
func TestIDsNeverTouchFiles(t *testing.T) {
	e, dir := newCallsAPI(t, "sqlite", "{recordings: 1h, transcripts: 1h}", "{recordings: 1h, transcripts: 1h}")
	own := e.key("clinic", store.RoleOwner)
	canary := filepath.Join(filepath.Dir(dir), "canary.wav.enc")
	if err := os.WriteFile(canary, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"..%2F..%2Fcanary", "%2E%2E", "..%5Ccanary", "a%00b", "call%2Fx", strings.Repeat("a", 65), "%252e%252e", "a.b", "..%2f"} {
		for _, method := range []string{"GET", "DELETE"} {
			for _, suffix := range []string{"", "/recording", "/transcript"} {
				if method == "DELETE" && suffix != "" {
					continue
				}
				r := e.do(method, "/v1/calls/"+id+suffix, own, nil)
				if r.status != 400 && r.status != 404 {
					t.Errorf("%s /v1/calls/%s%s: %s, want 400 or 404", method, id, suffix, r)
				}
			}
		}
		if r := e.do("POST", "/v1/calls/"+id+"/hold", own, map[string]string{"reason": "x"}); r.status != 400 && r.status != 404 {
			t.Errorf("POST hold on %s: %s", id, r)
		}
	}
	if b, err := os.ReadFile(canary); err != nil || string(b) != "keep me" {
		t.Errorf("the file outside the data directory changed: %q, %v", b, err)
	}
	if r := e.do("GET", "/v1/calls/..%2F..%2Fcanary/recording", own, nil); r.errorCode() != "invalid" {
		t.Errorf("a traversal ID: %s, want a 400 invalid that says what an ID is", r)
	}
}

// TestDeleteAndHold: a held call cannot be deleted; released, it can;
// each step is in the audit log with who did it.
func TestDeleteAndHold(t *testing.T) {
	e, dir := newCallsAPI(t, "sqlite", "{recordings: 1h, transcripts: 1h}", "{recordings: 1h, transcripts: 1h}")
	own, ro := e.key("clinic", store.RoleOwner), e.key("clinic", store.RoleReadonly)
	fakeCall(t, e.srv, "clinic", "call_d", "+12125550123")
	if r := e.do("POST", "/v1/calls/call_d/hold", own, map[string]string{}); r.status != 400 {
		t.Errorf("hold without a reason: %s, want 400", r)
	}
	if r := e.do("POST", "/v1/calls/call_d/hold", ro, map[string]string{"reason": "x"}); r.status != 403 {
		t.Errorf("hold with a readonly key: %s, want 403", r)
	}
	e.must(201, "POST", "/v1/calls/call_d/hold", own, map[string]string{"reason": "subpoena 42"})
	e.must(200, "POST", "/v1/calls/call_d/hold", own, map[string]string{"reason": "again"})
	var c callJSON
	e.must(200, "GET", "/v1/calls/call_d", ro, nil).json(t, &c)
	if c.Hold == nil || c.Hold.Reason != "subpoena 42" || c.Hold.Scope != "call" {
		t.Errorf("held call shows hold %+v", c.Hold)
	}
	if r := e.do("DELETE", "/v1/calls/call_d", own, nil); r.status != 409 || r.errorCode() != "held" {
		t.Errorf("DELETE of a held call: %s, want 409 held", r)
	}
	if r := e.do("DELETE", "/v1/calls/call_d", ro, nil); r.status != 403 {
		t.Errorf("DELETE with a readonly key: %s, want 403", r)
	}
	e.must(200, "DELETE", "/v1/calls/call_d/hold", own, nil)
	if r := e.do("DELETE", "/v1/calls/call_d/hold", own, nil); r.status != 404 {
		t.Errorf("releasing twice: %s, want 404", r)
	}
	// A hold on the whole business blocks too.
	e.must(201, "POST", "/v1/business/hold", own, map[string]string{"reason": "audit"})
	var hl list[holdView]
	e.must(200, "GET", "/v1/holds", ro, nil).json(t, &hl)
	if len(hl.Items) != 1 || hl.Items[0].Scope != "business" {
		t.Errorf("holds: %+v", hl.Items)
	}
	if r := e.do("DELETE", "/v1/calls/call_d", own, nil); r.status != 409 {
		t.Errorf("DELETE under a business hold: %s, want 409", r)
	}
	e.must(200, "DELETE", "/v1/business/hold", own, nil)

	e.must(204, "DELETE", "/v1/calls/call_d?reason=asked+by+caller", own, nil)
	for _, p := range []string{"/v1/calls/call_d", "/v1/calls/call_d/recording", "/v1/calls/call_d/transcript"} {
		if r := e.do("GET", p, ro, nil); r.status != 404 {
			t.Errorf("GET %s after DELETE: %s", p, r)
		}
	}
	for _, f := range []string{filepath.Join(dir, "recordings", "call_d"+recording.Ext), filepath.Join(dir, "transcripts", "call_d"+transcript.Ext)} {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still on disk: %v", f, err)
		}
	}
	if _, err := e.st.Timers().Get(context.Background(), store.TimerID("clinic", store.TimerRecording, "call_d")); err == nil {
		t.Error("the deleted call's timer is left")
	}
	if r := e.do("DELETE", "/v1/calls/call_d", own, nil); r.status != 404 {
		t.Errorf("DELETE twice: %s", r)
	}
	var audit list[auditView]
	e.must(200, "GET", "/v1/audit", own, nil).json(t, &audit)
	var got []string
	for _, a := range audit.Items {
		got = append(got, a.Action+" "+a.Target+" "+a.Reason)
		if !strings.HasPrefix(a.Actor, "fdk_") && a.Actor == "" {
			t.Errorf("audit record without actor: %+v", a)
		}
	}
	want := []string{"delete call:call_d asked by caller", "release business ", "hold business audit", "release call:call_d ", "hold call:call_d subpoena 42"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("audit log:\n got %q\nwant %q", got, want)
	}
	if r := e.do("GET", "/v1/audit", ro, nil); r.status != 403 {
		t.Errorf("audit with a readonly key: %s, want 403", r)
	}
}

// TestErasureAndExport: everything about a number goes (calls with their
// files, appointments, the lead), nothing of other numbers or businesses;
// a hold blocks it all; unknown numbers are a clear 404.
func TestErasureAndExport(t *testing.T) {
	for _, backend := range []string{"sqlite", "redis"} {
		t.Run(backend, func(t *testing.T) { testErasureAndExport(t, backend) })
	}
}

func testErasureAndExport(t *testing.T, backend string) {
	e, dir := newCallsAPI(t, backend, "{recordings: 1h, transcripts: 1h}", "{recordings: 1h, transcripts: 1h}")
	own, sup := e.key("clinic", store.RoleOwner), e.key("clinic", store.RoleSupervisor)
	const ann, bob = "+12125550123", "+12125550199"
	var lead leadView
	e.must(201, "POST", "/v1/leads", sup, map[string]string{"name": "Ann", "phone": ann}).json(t, &lead)
	var appt appointmentView
	e.must(201, "POST", "/v1/appointments", sup, map[string]string{
		"service": "Checkup", "start": day(newYork(t), 3, 10, 0).Format(time.RFC3339), "customer_name": "Ann", "phone": ann,
	}).json(t, &appt)
	fakeCall(t, e.srv, "clinic", "call_ann1", ann)
	fakeCall(t, e.srv, "clinic", "call_ann2", "")
	if _, err := e.st.Calls().Update(context.Background(), "clinic", "call_ann2", func(c *store.Call) error { c.LeadID = lead.ID; return nil }); err != nil {
		t.Fatal(err)
	}
	fakeCall(t, e.srv, "clinic", "call_bob", bob)
	fakeCall(t, e.srv, "salon", "call_salon_ann", ann)

	var ex struct {
		Phone string `json:"phone"`
		Leads []leadView
		Calls []struct {
			ID                string                 `json:"id"`
			TranscriptContent *transcript.Transcript `json:"transcript_content"`
			Recording         *fileView              `json:"recording"`
		}
		Appointments []appointmentView
	}
	e.must(200, "GET", "/v1/export?phone=(212)%20555-0123", own, nil).json(t, &ex)
	if ex.Phone != ann || len(ex.Leads) != 1 || len(ex.Calls) != 2 || len(ex.Appointments) != 1 || ex.Appointments[0].ID != appt.ID {
		t.Errorf("export: %+v", ex)
	}
	for _, c := range ex.Calls {
		if c.TranscriptContent == nil || len(c.TranscriptContent.Turns) != 2 || c.Recording == nil {
			t.Errorf("exported call %s: %+v", c.ID, c)
		}
	}
	for _, q := range []string{"", "?phone=nonsense", "?phone=" + ann + "&lead_id=" + lead.ID} {
		if r := e.do("GET", "/v1/export"+q, own, nil); r.status != 400 {
			t.Errorf("GET /v1/export%s: %s, want 400", q, r)
		}
	}
	if r := e.do("GET", "/v1/export?phone=%2B12125550100", own, nil); r.status != 404 {
		t.Errorf("export of an unknown number: %s, want 404", r)
	}

	// A hold on the lead blocks the erasure of everything.
	e.must(201, "POST", "/v1/leads/"+lead.ID+"/hold", own, map[string]string{"reason": "dispute"})
	if r := e.do("POST", "/v1/erasure", own, map[string]string{"phone": ann}); r.status != 409 || r.errorCode() != "held" {
		t.Fatalf("erasure under hold: %s, want 409", r)
	}
	e.must(200, "GET", "/v1/calls/call_ann1", own, nil)
	e.must(200, "DELETE", "/v1/leads/"+lead.ID+"/hold", own, nil)

	for _, bad := range []any{map[string]string{}, map[string]string{"phone": "hello"}, map[string]string{"phone": ann, "lead_id": lead.ID}, map[string]string{"lead_id": "a b"}, `{"phone": 5}`} {
		if r := e.do("POST", "/v1/erasure", own, bad); r.status != 400 {
			t.Errorf("erasure %v: %s, want 400", bad, r)
		}
	}
	if r := e.do("POST", "/v1/erasure", own, map[string]string{"phone": "+12125550100"}); r.status != 404 || !strings.Contains(r.String(), "nothing is stored") {
		t.Errorf("erasure of an unknown number: %s, want a clear 404", r)
	}
	if r := e.do("POST", "/v1/erasure", sup, map[string]string{"phone": ann}); r.status != 403 {
		t.Errorf("erasure with a supervisor key: %s, want 403", r)
	}

	var res erasureView
	e.must(200, "POST", "/v1/erasure", own, map[string]string{"phone": "(212) 555-0123", "reason": "GDPR request 7"}).json(t, &res)
	if res != (erasureView{Leads: 1, Calls: 2, Recordings: 2, Transcripts: 2, Appointments: 1}) {
		t.Errorf("erasure = %+v", res)
	}
	for _, p := range []string{"/v1/calls/call_ann1", "/v1/calls/call_ann2", "/v1/leads/" + lead.ID, "/v1/appointments/" + appt.ID} {
		if r := e.do("GET", p, own, nil); r.status != 404 {
			t.Errorf("GET %s after erasure: %s", p, r)
		}
	}
	for _, id := range []string{"call_ann1", "call_ann2"} {
		if _, err := os.Stat(filepath.Join(dir, "recordings", id+recording.Ext)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s's recording is on disk after erasure", id)
		}
	}
	e.must(200, "GET", "/v1/calls/call_bob", own, nil)
	e.must(200, "GET", "/v1/calls/call_salon_ann", e.key("salon", store.RoleOwner), nil)
	if _, err := os.Stat(filepath.Join(dir, "recordings", "call_salon_ann"+recording.Ext)); err != nil {
		t.Errorf("another business's recording of the same number: %v", err)
	}
	if r := e.do("POST", "/v1/erasure", own, map[string]string{"phone": ann}); r.status != 404 {
		t.Errorf("erasing again: %s, want 404", r)
	}

	// By lead: Bob's lead and call.
	var bobLead leadView
	e.must(201, "POST", "/v1/leads", sup, map[string]string{"name": "Bob", "phone": bob}).json(t, &bobLead)
	e.must(200, "POST", "/v1/erasure", own, map[string]string{"lead_id": bobLead.ID}).json(t, &res)
	if res.Leads != 1 || res.Calls != 1 {
		t.Errorf("erasure by lead = %+v", res)
	}

	var audit list[auditView]
	e.must(200, "GET", "/v1/audit", own, nil).json(t, &audit)
	raw, _ := json.Marshal(audit)
	if strings.Contains(string(raw), ann) || strings.Contains(string(raw), bob) {
		t.Errorf("the audit log holds an erased number: %s", raw)
	}
	var actions []string
	for _, a := range audit.Items {
		actions = append(actions, a.Action+" "+a.Target)
	}
	want := []string{"erase lead:" + bobLead.ID, "erase phone:+1********23", "release lead:" + lead.ID, "hold lead:" + lead.ID, "export phone:+1********23"}
	if strings.Join(actions, "|") != strings.Join(want, "|") {
		t.Errorf("audit:\n got %q\nwant %q", actions, want)
	}
	if !strings.Contains(audit.Items[1].Reason, "GDPR request 7") {
		t.Errorf("erasure reason: %q", audit.Items[1].Reason)
	}
}

// TestExpiryThroughAPI: with the retention scheduler running, an expired
// recording answers 404 and its bytes are gone; the transcript follows at
// its own time.
func TestExpiryThroughAPI(t *testing.T) {
	e, dir := newCallsAPI(t, "sqlite", "{recordings: 1s, transcripts: 2s}", "{recordings: 1s, transcripts: 2s}")
	ro, own := e.key("clinic", store.RoleReadonly), e.key("clinic", store.RoleOwner)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.runRetention(ctx) }()
	defer func() { cancel(); <-done }()
	c := fakeCall(t, e.srv, "clinic", "call_x", "+12125550123")
	e.must(200, "GET", "/v1/calls/call_x/recording", ro, nil)
	wait := func(path string, due time.Time) {
		t.Helper()
		for {
			r := e.do("GET", path, ro, nil)
			if r.status == 404 {
				if late := time.Since(due); late > time.Second {
					t.Errorf("%s gone %v after its expiry", path, late)
				}
				return
			}
			if r.status != 200 || time.Now().After(due.Add(5*time.Second)) {
				t.Fatalf("GET %s: %s, %v after its expiry", path, r, time.Since(due))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	wait("/v1/calls/call_x/recording", c.RecordingExpires)
	// The record stops naming the file first, then the file is shredded.
	for deadline := time.Now().Add(time.Second); ; time.Sleep(5 * time.Millisecond) {
		_, err := os.Stat(filepath.Join(dir, "recordings", "call_x"+recording.Ext))
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("recording bytes on disk a second after the API stopped serving them: %v", err)
		}
	}
	e.must(200, "GET", "/v1/calls/call_x/transcript", ro, nil)
	wait("/v1/calls/call_x/transcript", c.TranscriptExpires)
	var v callJSON
	e.must(200, "GET", "/v1/calls/call_x", ro, nil).json(t, &v)
	if v.Recording != nil || v.Transcript != nil {
		t.Errorf("expired call still links files: %+v", v)
	}
	var audit list[auditView]
	for deadline := time.Now().Add(time.Second); ; time.Sleep(10 * time.Millisecond) { // written right after the file goes
		e.must(200, "GET", "/v1/audit", own, nil).json(t, &audit)
		if len(audit.Items) == 2 || time.Now().After(deadline) {
			break
		}
	}
	if len(audit.Items) != 2 || audit.Items[0].Action != "expire" || audit.Items[0].Actor != "system" || audit.Items[0].Target != "transcript:call_x" {
		t.Errorf("audit after expiry: %+v", audit.Items)
	}
}

// TestReplanThroughServer: a business changing plan moves its expiries.
func TestReplanThroughServer(t *testing.T) {
	e, _ := newCallsAPI(t, "sqlite", "{recordings: 1h, transcripts: 2h}", "{recordings: 10h, transcripts: 20h}")
	c := fakeCall(t, e.srv, "clinic", "call_p", "+12125550123")
	b, _ := e.srv.api.reg.config().Business("clinic")
	moved := *b
	moved.Plan = "pro"
	if err := e.srv.replanRetention(context.Background(), &moved); err != nil {
		t.Fatal(err)
	}
	got, _ := e.st.Calls().Get(context.Background(), "clinic", "call_p")
	tm, _ := e.st.Timers().Get(context.Background(), store.TimerID("clinic", store.TimerTranscript, "call_p"))
	if !got.RecordingExpires.Equal(c.StartedAt.Add(10*time.Hour)) || !tm.Due.Equal(c.StartedAt.Add(20*time.Hour)) {
		t.Errorf("after the plan change: recording expires +%v, transcript timer +%v; want +10h, +20h",
			got.RecordingExpires.Sub(c.StartedAt), tm.Due.Sub(c.StartedAt))
	}
}

// TestHeldLeadIsNotDeleted: a legal hold on a lead blocks DELETE
// /v1/leads/{id} until it is released.
func TestHeldLeadIsNotDeleted(t *testing.T) {
	e, _ := newCallsAPI(t, "sqlite", "{recordings: 1h, transcripts: 1h}", "{recordings: 1h, transcripts: 1h}")
	own := e.key("clinic", store.RoleOwner)
	var l struct {
		ID string `json:"id"`
	}
	e.must(201, "POST", "/v1/leads", own, map[string]string{"name": "Ana", "phone": "+12125550123"}).json(t, &l)
	e.must(201, "POST", "/v1/leads/"+l.ID+"/hold", own, map[string]string{"reason": "litigation"})
	if r := e.do("DELETE", "/v1/leads/"+l.ID, own, nil); r.status != 409 || r.errorCode() != "held" {
		t.Errorf("DELETE of a held lead: %s, want 409 held", r)
	}
	e.must(200, "DELETE", "/v1/leads/"+l.ID+"/hold", own, nil)
	e.must(204, "DELETE", "/v1/leads/"+l.ID, own, nil)
}
