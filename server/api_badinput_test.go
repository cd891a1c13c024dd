package server

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/store"
)

// TestBadInput sends requests a person could get wrong and checks that
// each gets a 4xx whose message says what to fix, and that nothing was
// written.
func TestBadInput(t *testing.T) {
	for _, backend := range []string{"sqlite", "redis"} {
		t.Run(backend, func(t *testing.T) { testBadInput(t, backend) })
	}
}

func testBadInput(t *testing.T, backend string) {
	e := newAPI(t, backend)
	ny := newYork(t)
	sup := e.key("clinic", store.RoleSupervisor)
	owner := e.key("clinic", store.RoleOwner)
	ok := day(ny, 3, 10, 0).Format(time.RFC3339)
	closedSalon := day(time.UTC, 3, 10, 0)
	for closedSalon.Weekday() == time.Tuesday {
		closedSalon = closedSalon.AddDate(0, 0, 1)
	}
	tests := []struct {
		name, method, path, key string
		body                    any
		status                  int
		code                    string
		say                     []string // the message contains each
		field                   string   // a fields[] path, when one applies
	}{
		{"malformed JSON", "POST", "/v1/appointments", sup, `{"service": "Cleaning",`, 400, "invalid_json", []string{"malformed JSON", "ends in the middle"}, ""},
		{"malformed JSON with position", "POST", "/v1/leads", sup, "{\n  \"name\": 'Ana'\n}", 400, "invalid_json", []string{"line 2, column 11"}, ""},
		{"not an object", "POST", "/v1/leads", sup, `[1,2]`, 400, "invalid_json", []string{"want a JSON object"}, ""},
		{"empty body", "POST", "/v1/leads", sup, ` `, 400, "invalid_json", []string{"body is empty"}, ""},
		{"trailing data", "POST", "/v1/leads", sup, `{"name":"Ana"} {"name":"Bo"}`, 400, "invalid_json", []string{"after the JSON object"}, ""},
		{"unknown field", "POST", "/v1/appointments", sup, map[string]string{"service": "Cleaning", "start": ok, "customer_name": "A", "when": "now"}, 400, "unknown_field", []string{`unknown field "when"`}, "when"},
		{"wrong type", "POST", "/v1/leads", sup, `{"name":"Ana","score":"high"}`, 400, "invalid", []string{`field "score": want a number, got a JSON string`}, "score"},
		{"unknown service", "POST", "/v1/appointments", sup, map[string]string{"service": "Massage", "start": ok, "customer_name": "A"}, 400, "invalid", []string{`no service "Massage"`, "cleaning, checkup"}, "service"},
		{"bad start", "POST", "/v1/appointments", sup, map[string]string{"service": "Cleaning", "start": "tomorrow 10am", "customer_name": "A"}, 400, "invalid", []string{"want RFC 3339", "America/New_York"}, "start"},
		{"no name", "POST", "/v1/appointments", sup, map[string]string{"service": "Cleaning", "start": ok}, 400, "invalid", []string{"customer_name: required"}, "customer_name"},
		{"slot outside hours", "POST", "/v1/appointments", sup, map[string]string{"service": "Cleaning", "start": day(ny, 3, 19, 30).Format(time.RFC3339), "customer_name": "A"}, 400, "outside_hours", []string{"outside business hours", "19:30-20:30"}, ""},
		{"closed day", "POST", "/v1/appointments", e.key("salon", store.RoleSupervisor), map[string]string{"service": "Cut", "start": closedSalon.Format(time.RFC3339), "customer_name": "A"}, 400, "outside_hours", []string{"outside business hours"}, ""},
		{"in the past", "POST", "/v1/appointments", sup, map[string]string{"service": "Cleaning", "start": day(ny, -2, 10, 0).Format(time.RFC3339), "customer_name": "A"}, 400, "invalid_range", []string{"in the past"}, ""},
		{"invalid phone on booking", "POST", "/v1/appointments", sup, map[string]string{"service": "Cleaning", "start": ok, "customer_name": "A", "phone": "12"}, 400, "invalid", []string{"not a valid phone number", "+ and the country code"}, "phone"},
		{"invalid phone on lead", "POST", "/v1/leads", sup, map[string]string{"name": "A", "phone": "+1 555"}, 400, "invalid", []string{"phone: not a valid phone number"}, "phone"},
		{"invalid email", "POST", "/v1/leads", sup, map[string]string{"name": "A", "email": "ana at example"}, 400, "invalid", []string{"email"}, "email"},
		{"empty lead", "POST", "/v1/leads", sup, map[string]string{"notes": "hi"}, 400, "invalid", []string{"needs a name, a phone number or an email"}, "name"},
		{"bad lead status", "POST", "/v1/leads", sup, map[string]string{"name": "A", "status": "hot"}, 400, "invalid", []string{"want new, qualified, booked or lost"}, "status"},
		{"impossible range", "GET", "/v1/availability?" + url.Values{"service": {"Cleaning"}, "from": {day(ny, 5, 0, 0).Format(time.RFC3339)}, "to": {day(ny, 4, 0, 0).Format(time.RFC3339)}}.Encode(), sup, nil, 400, "invalid_range", []string{"impossible time range", "is not after from"}, "to"},
		{"window too long", "GET", "/v1/availability?service=Cleaning&from=2027-01-01&to=2027-12-31", sup, nil, 400, "invalid_range", []string{"longer than 93 days"}, "to"},
		{"list range backwards", "GET", "/v1/appointments?from=2027-02-01&to=2027-01-01", sup, nil, 400, "invalid_range", []string{"impossible time range"}, "to"},
		{"bad date", "GET", "/v1/availability?service=Cleaning&from=2027-02-30", sup, nil, 400, "invalid", []string{"want RFC 3339"}, "from"},
		{"bad limit", "GET", "/v1/leads?limit=100000", sup, nil, 400, "invalid", []string{"limit: want a whole number from 1 to 500"}, "limit"},
		{"bad cursor", "GET", "/v1/leads?cursor=zzz", sup, nil, 400, "invalid", []string{"cursor"}, ""},
		{"wrong content type", "POST", "/v1/leads", sup, nil, 415, "unsupported_media_type", []string{"application/json"}, ""},
		{"invalid business patch", "PATCH", "/v1/business", owner, `{"time_zone":"Mars/Base","services":[{"name":"Cleaning","duration":"1h"},{"name":"cleaning","duration":"30m"}]}`, 400, "invalid", []string{"2 problems"}, "time_zone"},
		{"business body not object", "PUT", "/v1/business", owner, `"hello"`, 400, "invalid_json", []string{"want a JSON object"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r resp
			if tt.name == "wrong content type" {
				r = e.doRaw(tt.method, tt.path, tt.key, "name=Ana", "text/plain")
			} else {
				r = e.do(tt.method, tt.path, tt.key, tt.body)
			}
			var ae apiError
			r.json(t, &ae)
			if r.status != tt.status || ae.Error.Code != tt.code {
				t.Fatalf("got %s, want %d %s", r, tt.status, tt.code)
			}
			for _, s := range tt.say {
				if !strings.Contains(ae.Error.Message, s) {
					t.Errorf("message %q lacks %q", ae.Error.Message, s)
				}
			}
			if tt.field != "" {
				found := false
				for _, f := range ae.Error.Fields {
					found = found || f.Path == tt.field
				}
				if !found {
					t.Errorf("fields %+v lack %q", ae.Error.Fields, tt.field)
				}
			}
		})
	}
	// Nothing was written.
	ctx := context.Background()
	for _, biz := range []string{"clinic", "salon"} {
		appts, _, err := e.st.Appointments().List(ctx, biz, store.AppointmentFilter{}, store.Page{})
		if err != nil || len(appts) != 0 {
			t.Errorf("%s: %d appointments in the store after bad requests (%v)", biz, len(appts), err)
		}
		leads, _, err := e.st.Leads().List(ctx, biz, store.LeadFilter{}, store.Page{})
		if err != nil || len(leads) != 0 {
			t.Errorf("%s: %d leads in the store after bad requests (%v)", biz, len(leads), err)
		}
	}
	recs, _, err := e.st.Businesses().List(ctx, store.Page{})
	if err != nil || len(recs) != 0 {
		t.Errorf("%d business records after bad requests (%v)", len(recs), err)
	}
}

// doRaw sends body with the given Content-Type.
func (e *apiEnv) doRaw(method, path, key, body, contentType string) resp {
	e.t.Helper()
	return e.do(method, path, key, body, "Content-Type", contentType)
}
