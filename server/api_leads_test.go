package server

import (
	"encoding/csv"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/store"
)

func TestLeads(t *testing.T) {
	e := newAPI(t, "sqlite")
	sup := e.key("clinic", store.RoleSupervisor)

	var l, again leadView
	r := e.must(201, "POST", "/v1/leads", sup, map[string]any{"name": "Ana Lima", "phone": "+1 212-555-0123", "email": "ana@example.com", "score": 40})
	r.json(t, &l)
	if l.Phone != "+12125550123" || l.Source != "api" || l.Status != "new" || r.header.Get("Location") != "/v1/leads/"+l.ID {
		t.Fatalf("created %+v", l)
	}
	// Same number in the national format of the business's country:
	// the same lead, updated, 200.
	e.must(200, "POST", "/v1/leads", sup, map[string]any{"phone": "(212) 555-0123", "company": "Lima & Co", "status": "qualified"}).json(t, &again)
	if again.ID != l.ID || again.Company != "Lima & Co" || again.Name != "Ana Lima" || again.Status != "qualified" {
		t.Errorf("upsert by phone: %+v", again)
	}
	// The salon (London) reads national numbers as British.
	var uk leadView
	e.must(201, "POST", "/v1/leads", e.key("salon", store.RoleSupervisor), map[string]any{"name": "Tom", "phone": "020 7946 0123"}).json(t, &uk)
	if uk.Phone != "+442079460123" {
		t.Errorf("salon lead phone = %s", uk.Phone)
	}
	e.must(201, "POST", "/v1/leads", sup, map[string]any{"name": "=HYPERLINK(\"http://evil\")", "email": "bo@example.com", "status": "lost"})
	e.must(201, "POST", "/v1/leads", sup, map[string]any{"name": "Cy", "notes": "called twice,\nasked about \"whitening\""})

	// Search and filter.
	var lst list[leadView]
	e.must(200, "GET", "/v1/leads?q=LIMA", sup, nil).json(t, &lst)
	if len(lst.Items) != 1 || lst.Items[0].ID != l.ID {
		t.Errorf("q=LIMA: %+v", lst.Items)
	}
	lst = list[leadView]{}
	e.must(200, "GET", "/v1/leads?status=lost", sup, nil).json(t, &lst)
	if len(lst.Items) != 1 || lst.Items[0].Email != "bo@example.com" {
		t.Errorf("status=lost: %+v", lst.Items)
	}
	lst = list[leadView]{}
	e.must(200, "GET", "/v1/leads?limit=2", sup, nil).json(t, &lst)
	if len(lst.Items) != 2 || lst.NextCursor == "" {
		t.Errorf("limit=2: %+v", lst)
	}

	// PATCH changes only what it names.
	e.must(200, "PATCH", "/v1/leads/"+l.ID, sup, map[string]any{"score": 90, "notes": "wants whitening"}).json(t, &l)
	if l.Score != 90 || l.Notes != "wants whitening" || l.Company != "Lima & Co" {
		t.Errorf("after PATCH %+v", l)
	}

	// A booking linked to the lead shows up in its export.
	var a appointmentView
	e.must(201, "POST", "/v1/appointments", sup, map[string]string{
		"service": "Checkup", "start": day(newYork(t), 2, 14, 0).Format(time.RFC3339), "customer_name": "Ana Lima", "lead_id": l.ID,
	}).json(t, &a)
	var ex leadExport
	e.must(200, "GET", "/v1/leads/"+l.ID+"/export", e.key("clinic", store.RoleReadonly), nil).json(t, &ex)
	if ex.Lead.ID != l.ID || len(ex.Appointments) != 1 || ex.Appointments[0].ID != a.ID || ex.Lead.Status != "booked" || ex.CallIDs == nil {
		t.Errorf("export %+v", ex)
	}

	// CSV: a header, one row per lead, quoting, and formulas defused.
	r = e.must(200, "GET", "/v1/leads.csv", sup, nil)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("Content-Type %q", ct)
	}
	rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v\n%s", err, r.body)
	}
	if len(rows) != 4 || strings.Join(rows[0], ",") != strings.Join(csvHeader, ",") {
		t.Fatalf("CSV rows: %q", rows)
	}
	found := map[string]bool{}
	for _, row := range rows[1:] {
		found[row[1]] = true
		if row[0] == l.ID && (row[2] != "+12125550123" || row[10] != a.ID) {
			t.Errorf("Ana's row: %q", row)
		}
	}
	if !found[`'=HYPERLINK("http://evil")`] || !found["Cy"] {
		t.Errorf("names in CSV: %v", found)
	}
	rows2, _ := csv.NewReader(strings.NewReader(string(e.must(200, "GET", "/v1/leads.csv?"+url.Values{"status": {"lost"}}.Encode(), sup, nil).body))).ReadAll()
	if len(rows2) != 2 {
		t.Errorf("filtered CSV: %q", rows2)
	}

	// Another lead may not take Ana's number.
	var cy leadView
	e.must(200, "GET", "/v1/leads?q=Cy", sup, nil).json(t, &lst)
	cy = lst.Items[0]
	if r := e.must(409, "PATCH", "/v1/leads/"+cy.ID, sup, map[string]any{"phone": "+12125550123"}); !strings.Contains(r.String(), `"path":"phone"`) {
		t.Errorf("phone taken: %s", r)
	}
	e.must(204, "DELETE", "/v1/leads/"+l.ID, sup, nil)
	e.must(404, "GET", "/v1/leads/"+l.ID, sup, nil)
}
