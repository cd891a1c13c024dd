package server

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/media/twilio"
	"github.com/frontdesk/frontdesk/store"
)

// voiceCall posts Twilio's signed incoming-call webhook for a call to
// number and returns the TwiML.
func (e *apiEnv) voiceCall(to string) string {
	e.t.Helper()
	form := url.Values{"CallSid": {"CA0123"}, "From": {"+15555550123"}, "To": {to}}
	params := map[string]string{}
	for k, v := range form {
		params[k] = v[0]
	}
	req, _ := http.NewRequest("POST", e.url+"/twilio/voice", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twilio.Sign("testtoken0123456789", "http://127.0.0.1:1/twilio/voice", params))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		e.t.Fatalf("voice webhook: %d %s", res.StatusCode, b)
	}
	return string(b)
}

func TestBusinessFromConfig(t *testing.T) {
	e := newAPI(t, "sqlite")
	var v businessView
	e.must(200, "GET", "/v1/business", e.key("clinic", store.RoleReadonly), nil).json(t, &v)
	if v.ID != "clinic" || v.Source != "config" || v.Version != 0 || v.Business.Greeting != "Hello from the clinic." {
		t.Fatalf("GET /v1/business = %+v", v)
	}
	if v.Business.Hours["monday"][0] != "08:00-20:00" || v.Business.Services[0].Duration != "60m" {
		t.Errorf("hours/services not in the file's shape: %+v", v.Business)
	}
	for k, src := range v.Sources {
		if src != "config" {
			t.Errorf("sources[%s] = %q, want config", k, src)
		}
	}
	// The salon's key sees the salon only.
	e.must(200, "GET", "/v1/business", e.key("salon", store.RoleReadonly), nil).json(t, &v)
	if v.ID != "salon" || v.Business.Currency != "GBP" {
		t.Errorf("salon key sees %+v", v)
	}
}

func TestBusinessPatchOverridesConfig(t *testing.T) {
	e := newAPI(t, "sqlite")
	owner := e.key("clinic", store.RoleOwner)
	var v businessView
	e.must(200, "PATCH", "/v1/business", owner, `{"greeting":"Welcome!","hours":{"sunday":null,"monday":["09:00-12:00","13:00-17:00"]}}`).json(t, &v)
	if v.Business.Greeting != "Welcome!" || v.Sources["greeting"] != "api" || v.Sources["hours"] != "api" || v.Sources["name"] != "config" {
		t.Fatalf("after PATCH: greeting %q, sources %v", v.Business.Greeting, v.Sources)
	}
	h := v.Business.Hours
	if len(h["monday"]) != 2 || h["tuesday"][0] != "08:00-20:00" || h["sunday"] != nil {
		t.Errorf("merge patch of hours: %v", h)
	}
	if v.Version != 1 {
		t.Errorf("version = %d, want 1", v.Version)
	}
	// The agent sees the same effective business.
	if b, ok := e.srv.businessByNumber(t.Context(), clinicNumber); !ok || b.Greeting != "Welcome!" {
		t.Errorf("businessByNumber after PATCH: %+v", b)
	}
	// Invalid: every problem with its path; nothing is written.
	r := e.must(400, "PATCH", "/v1/business", owner, `{"hours":{"monday":["09:00-12:00","11:00-13:00"]},"services":[{"name":"X","duration":"90s"}],"colour":"red"}`)
	var ae apiError
	r.json(t, &ae)
	paths := map[string]bool{}
	for _, f := range ae.Error.Fields {
		paths[f.Path] = true
	}
	for _, want := range []string{"colour", "hours.monday[1]", "services[0].duration"} {
		if !paths[want] {
			t.Errorf("fields lack %q: %+v", want, ae.Error.Fields)
		}
	}
	if ae.Error.Code != "invalid" || !strings.Contains(ae.Error.Message, "problems") {
		t.Errorf("error = %+v", ae.Error)
	}
	e.must(200, "GET", "/v1/business", owner, nil).json(t, &v)
	if v.Version != 1 || len(v.Business.Hours["monday"]) != 2 {
		t.Errorf("a rejected PATCH changed the business: %+v", v)
	}
	// null gives a key back to the file.
	e.must(200, "PATCH", "/v1/business", owner, `{"greeting":null}`).json(t, &v)
	if v.Business.Greeting != "Hello from the clinic." || v.Sources["greeting"] != "config" {
		t.Errorf("greeting after null = %q from %s", v.Business.Greeting, v.Sources["greeting"])
	}
	// If-Match guards against lost updates.
	r = e.must(412, "PATCH", "/v1/business", owner, `{"greeting":"x"}`, "If-Match", `"1"`)
	if r.errorCode() != "version_mismatch" {
		t.Errorf("stale If-Match: %s", r)
	}
	e.must(200, "PATCH", "/v1/business", owner, `{"greeting":"x"}`, "If-Match", `"2"`)
	// The ID is the credential's.
	r = e.must(400, "PUT", "/v1/business", owner, `{"id":"salon","name":"Mine now"}`)
	if !strings.Contains(r.String(), "cannot change") {
		t.Errorf("PUT with another id: %s", r)
	}
	// A supervisor may not change settings.
	e.must(403, "PATCH", "/v1/business", e.key("clinic", store.RoleSupervisor), `{"greeting":"x"}`)
}

func TestBusinessCreatedThroughAPI(t *testing.T) {
	e := newAPI(t, "sqlite")
	doc := `{"id":"bakery","name":"Corner Bakery","numbers":["+1 (212) 555-0142"],"time_zone":"America/Chicago","plan":"starter",
		"hours":{"monday":["07:00-15:00"]},"services":[{"name":"Cake tasting","duration":"30m","price":2500}]}`
	var v businessView
	e.must(201, "POST", "/v1/businesses", testOperatorKey, doc).json(t, &v)
	if v.Source != "api" || v.Business.Numbers[0] != "+12125550142" || v.Business.Greeting != "Thank you for calling Corner Bakery. How can I help you today?" {
		t.Fatalf("created %+v", v)
	}
	if v.Sources["name"] != "api" || v.Sources["greeting"] != "default" {
		t.Errorf("sources %v", v.Sources)
	}
	// The voice webhook finds it by number.
	if twiml := e.voiceCall("+12125550142"); streamParam(t, twiml, "business") != "bakery" {
		t.Errorf("voice webhook for the API business's number:\n%s", twiml)
	}
	// Its keys work; the business comes from the key.
	owner := e.key("bakery", store.RoleOwner)
	e.must(200, "GET", "/v1/business", owner, nil).json(t, &v)
	if v.ID != "bakery" {
		t.Errorf("bakery key sees %s", v.ID)
	}
	// PUT replaces the API part; keys left out take their defaults.
	e.must(200, "PUT", "/v1/business", owner, `{"name":"Corner Bakery & Cafe","time_zone":"America/Chicago","plan":"pro"}`).json(t, &v)
	if v.Business.Name != "Corner Bakery & Cafe" || len(v.Business.Numbers) != 0 || v.Sources["numbers"] != "default" {
		t.Errorf("after PUT %+v", v)
	}
	// Duplicates: a config ID, an existing ID, a number another business answers.
	for _, tc := range []struct {
		doc, code string
	}{
		{`{"id":"clinic","name":"X","time_zone":"UTC","plan":"pro"}`, "duplicate"},
		{`{"id":"bakery","name":"X","time_zone":"UTC","plan":"pro"}`, "duplicate"},
		{`{"id":"copycat","name":"X","time_zone":"UTC","plan":"pro","numbers":["` + clinicNumber + `"]}`, "number_taken"},
		{`{"id":"Bad ID","name":"X","time_zone":"UTC","plan":"pro"}`, "invalid"},
		{`{"id":"nozone","name":"X","plan":"gold"}`, "invalid"},
	} {
		if r := e.must(map[string]int{"duplicate": 409, "number_taken": 409, "invalid": 400}[tc.code], "POST", "/v1/businesses", testOperatorKey, tc.doc); r.errorCode() != tc.code {
			t.Errorf("POST %s: %s, want code %s", tc.doc, r, tc.code)
		}
	}
	// The operator lists both kinds, paginated.
	var l list[businessSummary]
	e.must(200, "GET", "/v1/businesses?limit=2", testOperatorKey, nil).json(t, &l)
	if len(l.Items) != 2 || l.NextCursor == "" || l.Items[0].ID != "bakery" || l.Items[1].ID != "clinic" {
		t.Fatalf("page 1: %+v", l)
	}
	cursor := l.NextCursor
	l = list[businessSummary]{}
	e.must(200, "GET", "/v1/businesses?limit=2&cursor="+cursor, testOperatorKey, nil).json(t, &l)
	if len(l.Items) != 1 || l.Items[0].ID != "salon" || l.NextCursor != "" {
		t.Errorf("page 2: %+v", l)
	}
	// Config businesses cannot be deleted through the API; API ones can,
	// and their keys stop working.
	if r := e.must(409, "DELETE", "/v1/businesses/clinic", testOperatorKey, nil); r.errorCode() != "read_only" {
		t.Errorf("DELETE config business: %s", r)
	}
	e.must(204, "DELETE", "/v1/businesses/bakery", testOperatorKey, nil)
	e.must(401, "GET", "/v1/business", owner, nil)
	e.must(404, "GET", "/v1/businesses/bakery", testOperatorKey, nil)
}

func TestKeys(t *testing.T) {
	e := newAPI(t, "sqlite")
	owner := e.key("clinic", store.RoleOwner)
	var k keyView
	e.must(201, "POST", "/v1/keys", owner, `{"role":"readonly","name":"dashboard"}`).json(t, &k)
	if k.Key == "" || k.BusinessID != "clinic" || k.Role != store.RoleReadonly {
		t.Fatalf("new key %+v", k)
	}
	e.must(200, "GET", "/v1/business", k.Key, nil)
	var l list[keyView]
	e.must(200, "GET", "/v1/keys", owner, nil).json(t, &l)
	if len(l.Items) != 2 {
		t.Fatalf("keys: %+v", l)
	}
	for _, it := range l.Items {
		if it.Key != "" {
			t.Errorf("listing shows a secret: %+v", it)
		}
	}
	e.must(200, "DELETE", "/v1/keys/"+k.ID, owner, nil)
	e.must(401, "GET", "/v1/business", k.Key, nil)
	// Another business's key ID is not found.
	e.must(404, "DELETE", "/v1/keys/"+k.ID, e.key("salon", store.RoleOwner), nil)
	if r := e.must(400, "POST", "/v1/keys", owner, `{"role":"admin"}`); !strings.Contains(r.String(), `"path":"role"`) {
		t.Errorf("bad role: %s", r)
	}
}

// streamParam is the value of the TwiML stream's <Parameter> called name.
// The TwiML is parsed, not matched as text: twilio-go writes attributes in
// map order.
func streamParam(t *testing.T, twiml, name string) string {
	t.Helper()
	var doc struct {
		Params []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"Connect>Stream>Parameter"`
	}
	if err := xml.Unmarshal([]byte(twiml), &doc); err != nil {
		t.Fatalf("TwiML: %v\n%s", err, twiml)
	}
	for _, p := range doc.Params {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}
