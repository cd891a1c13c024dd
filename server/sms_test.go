package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/internal/leaktest"
	"github.com/frontdesk/frontdesk/store"
)

const (
	testAccountSID = "AC0123456789abcdef0123456789abcdef"
	testAuthToken  = "testtoken0123456789"
	testSMSFrom    = "+12125550111"
)

// fakeTwilio answers like Twilio's Messages API
// (POST /2010-04-01/Accounts/{AccountSid}/Messages.json). What it does
// depends on the recipient: +12125550102 is refused (400, error 21211),
// +12125550103 fails once (500) then succeeds, +12125550104 always fails
// (503); any other number succeeds (201).
type fakeTwilio struct {
	mu   sync.Mutex
	got  []map[string]string // form of each request, in order
	errs []string
}

func (f *fakeTwilio) count(to string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, m := range f.got {
		if m["To"] == to {
			n++
		}
	}
	return n
}

func (f *fakeTwilio) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fail := func(format string, args ...any) {
		f.errs = append(f.errs, fmt.Sprintf(format, args...))
		w.WriteHeader(http.StatusBadRequest)
	}
	if r.Method != "POST" || r.URL.Path != "/2010-04-01/Accounts/"+testAccountSID+"/Messages.json" {
		fail("unexpected %s %s", r.Method, r.URL.Path)
		return
	}
	if u, p, ok := r.BasicAuth(); !ok || u != testAccountSID || p != testAuthToken {
		fail("bad credentials %q %q", u, p)
		return
	}
	if err := r.ParseForm(); err != nil {
		fail("form: %v", err)
		return
	}
	m := map[string]string{}
	for k := range r.PostForm {
		m[k] = r.PostForm.Get(k)
	}
	f.got = append(f.got, m)
	to := m["To"]
	n := 0
	for _, g := range f.got {
		if g["To"] == to {
			n++
		}
	}
	w.Header().Set("Content-Type", "application/json")
	twErr := func(status, code int, msg string) {
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"code": code, "message": msg, "more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code), "status": status,
		})
	}
	switch {
	case to == "+12125550102":
		twErr(400, 21211, "The 'To' number "+to+" is not a valid phone number.")
	case to == "+12125550103" && n == 1:
		twErr(500, 20500, "Internal Server Error")
	case to == "+12125550104":
		twErr(503, 20503, "Service Unavailable")
	default:
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"sid": fmt.Sprintf("SM%032x", len(f.got)), "account_sid": testAccountSID, "to": to, "from": m["From"],
			"body": m["Body"], "status": "queued", "num_segments": "1", "direction": "outbound-api",
			"api_version": "2010-04-01", "date_created": time.Now().UTC().Format(time.RFC1123Z),
			"uri": "/2010-04-01/Accounts/" + testAccountSID + "/Messages/SM0.json",
		})
	}
}

func TestSMSConfirmations(t *testing.T) {
	leaktest.Check(t)
	tw := &fakeTwilio{}
	ts := httptest.NewServer(tw)
	defer ts.Close()
	yaml := strings.Replace(testConfig("Hi."), "twilio:\n  auth_token: testtoken0123456789",
		"twilio:\n  account_sid: "+testAccountSID+"\n  auth_token: "+testAuthToken+"\n  sms_from: \""+testSMSFrom+"\"", 1)
	e := newAPIWith(t, "sqlite", yaml, WithTwilioAPI(ts.URL, time.Millisecond))
	sup := e.key("clinic", store.RoleSupervisor)
	ny := newYork(t)

	tests := []struct {
		phone    string
		status   string
		errHas   string
		attempts int
	}{
		{"+12125550101", "sent", "", 1},
		{"+12125550102", "failed", "twilio error 21211 (HTTP 400): The 'To' number +12125550102 is not a valid phone number.", 1},
		{"+12125550103", "sent", "", 2},
		{"+12125550104", "failed", "twilio error 20503 (HTTP 503)", smsAttempts},
	}
	for i, tt := range tests {
		start := day(ny, 2, 9+i, 0)
		var a appointmentView
		// The booking stands whatever happens to the SMS.
		e.must(201, "POST", "/v1/appointments", sup, map[string]string{
			"service": "Checkup", "start": start.Format(time.RFC3339), "customer_name": "Ana", "phone": tt.phone,
		}).json(t, &a)
		if a.SMS == nil || a.SMS.Status != tt.status || !strings.Contains(a.SMS.Error, tt.errHas) {
			t.Errorf("%s: sms %+v, want %s with %q", tt.phone, a.SMS, tt.status, tt.errHas)
		}
		if n := tw.count(tt.phone); n != tt.attempts {
			t.Errorf("%s: %d requests to Twilio, want %d", tt.phone, n, tt.attempts)
		}
		// The outcome is stored on the appointment.
		var got appointmentView
		e.must(200, "GET", "/v1/appointments/"+a.ID, sup, nil).json(t, &got)
		if got.SMS == nil || got.SMS.Status != tt.status || got.Status != "booked" {
			t.Errorf("%s: stored %+v", tt.phone, got)
		}
	}
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if len(tw.errs) > 0 {
		t.Errorf("fake Twilio saw bad requests: %v", tw.errs)
	}
	first := tw.got[0]
	if first["From"] != testSMSFrom || !strings.HasPrefix(first["Body"], "Bright Smile Dental: your Checkup is booked for ") ||
		!strings.Contains(first["Body"], "at 9:00 AM E") || !strings.Contains(first["Body"], "call "+clinicNumber) {
		t.Errorf("message %+v", first)
	}
}

// TestNoSMSWithoutConfig: without Twilio credentials nothing is sent and
// the appointment carries no SMS status.
func TestNoSMSWithoutConfig(t *testing.T) {
	e := newAPI(t, "sqlite")
	var a appointmentView
	e.must(201, "POST", "/v1/appointments", e.key("clinic", store.RoleSupervisor), map[string]string{
		"service": "Checkup", "start": day(newYork(t), 2, 9, 0).Format(time.RFC3339), "customer_name": "Ana", "phone": "+12125550101",
	}).json(t, &a)
	if a.SMS != nil {
		t.Errorf("sms %+v without Twilio configured", a.SMS)
	}
}
