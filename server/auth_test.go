package server

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/store"
)

// TestRouteAccess walks the route table and fails when a /v1 route is
// reachable without a key, with a wrong or revoked key, with the wrong
// kind of key, with too weak a role, or across tenants.
func TestRouteAccess(t *testing.T) {
	e := newAPI(t, "sqlite")
	ny := newYork(t)
	clinicSup := e.key("clinic", store.RoleSupervisor)
	// Records of the clinic that the salon's keys must not reach.
	var a appointmentView
	e.must(201, "POST", "/v1/appointments", clinicSup, map[string]string{
		"service": "Cleaning", "start": day(ny, 2, 9, 0).Format(time.RFC3339), "customer_name": "Ana", "phone": "+12125550123",
	}).json(t, &a)
	var l leadView
	e.must(201, "POST", "/v1/leads", clinicSup, map[string]string{"name": "Ana", "phone": "+12125550123"}).json(t, &l)
	var k keyView
	e.must(201, "POST", "/v1/keys", e.key("clinic", store.RoleOwner), map[string]string{"role": "readonly"}).json(t, &k)
	ids := map[string]string{"appointments": a.ID, "leads": l.ID, "keys": k.ID, "businesses": "clinic"}
	for coll, id := range routeAccessSeed(t, e) {
		if _, ok := ids[coll]; !ok {
			ids[coll] = id
		}
	}

	// A revoked key of the salon.
	var revoked keyView
	salonOwner := e.key("salon", store.RoleOwner)
	e.must(201, "POST", "/v1/keys", salonOwner, map[string]string{"role": "owner"}).json(t, &revoked)
	e.must(200, "DELETE", "/v1/keys/"+revoked.ID, salonOwner, nil)

	public := map[string]bool{"GET /v1/openapi.yaml": true, "GET /v1/calendar.ics": true}
	for _, rt := range routeTable() {
		name := rt.method + " " + rt.pattern
		path := rt.pattern
		for coll, id := range ids {
			path = strings.Replace(path, "/"+coll+"/{id}", "/"+coll+"/"+id, 1)
		}
		if strings.Contains(path, "{") {
			t.Fatalf("%s: test has no ID for %s", name, path)
		}
		// Writes send a body that would succeed, so that only the
		// credential can stop them.
		var body any
		switch rt.method {
		case "POST", "PUT", "PATCH":
			body = validBody(rt, day(ny, 6, 9, 0))
		}
		switch rt.access {
		case accessPublic:
			if !public[name] {
				t.Errorf("%s is public but not on the list of public routes", name)
			}
			continue
		case accessFeed:
			if !public[name] {
				t.Errorf("%s takes a token but is not on the list of public routes", name)
			}
			for _, tok := range []string{"", "clinic.wrong", "clinic", "salon.x"} {
				if r := e.do(rt.method, path+"?token="+tok, "", nil); r.status != http.StatusUnauthorized {
					t.Errorf("%s with token %q: %s, want 401", name, tok, r)
				}
			}
			continue
		}
		for _, bad := range []struct{ what, key string }{
			{"no key", ""},
			{"a wrong key", "fdk_nope_" + strings.Repeat("x", 43)},
			{"garbage", "hunter2"},
			{"a revoked key", revoked.Key},
			{"a near miss of the operator key", testOperatorKey + "x"},
		} {
			if r := e.do(rt.method, path, bad.key, body); r.status != http.StatusUnauthorized || r.errorCode() != "unauthorized" {
				t.Errorf("%s with %s: %s, want 401", name, bad.what, r)
			}
		}
		switch rt.access {
		case accessOperator:
			for _, role := range []store.Role{store.RoleOwner, store.RoleReadonly} {
				if r := e.do(rt.method, path, e.key("clinic", role), body); r.status != http.StatusForbidden {
					t.Errorf("%s with a business %s key: %s, want 403", name, role, r)
				}
			}
		case accessBusiness:
			if r := e.do(rt.method, path, testOperatorKey, body); r.status != http.StatusForbidden {
				t.Errorf("%s with the operator key: %s, want 403", name, r)
			}
			for _, role := range []store.Role{store.RoleReadonly, store.RoleSupervisor, store.RoleOwner} {
				r := e.do(rt.method, path, e.key("clinic", role), body)
				if roleRank(role) < roleRank(rt.role) {
					if r.status != http.StatusForbidden {
						t.Errorf("%s with a %s key: %s, want 403", name, role, r)
					}
				} else if r.status == http.StatusUnauthorized || r.status == http.StatusForbidden {
					t.Errorf("%s with a %s key: %s, want it allowed", name, role, r)
				}
			}
			// Across tenants: the salon's owner cannot reach the clinic's
			// records: they do not exist for it.
			if strings.Contains(rt.pattern, "{id}") {
				if r := e.do(rt.method, path, salonOwner, body); r.status != http.StatusNotFound {
					t.Errorf("%s of the clinic with the salon's key: %s, want 404", name, r)
				}
			}
		default:
			t.Errorf("%s: unknown access %v", name, rt.access)
		}
	}
	// Lists never show another tenant's records.
	for _, p := range []string{"/v1/appointments", "/v1/leads", "/v1/keys"} {
		r := e.must(200, "GET", p, salonOwner, nil)
		for _, id := range ids {
			if strings.Contains(string(r.body), id) && id != "clinic" {
				t.Errorf("GET %s with the salon's key shows the clinic's %s", p, id)
			}
		}
	}
	if r := e.must(200, "GET", "/v1/leads.csv", salonOwner, nil); strings.Contains(string(r.body), l.ID) {
		t.Errorf("the salon's CSV holds the clinic's lead")
	}
	// The business comes from the key, never from the request.
	var v businessView
	e.must(200, "GET", "/v1/business?business=clinic", salonOwner, nil, "X-Business", "clinic").json(t, &v)
	if v.ID != "salon" {
		t.Errorf("the salon's key asking for the clinic got %s", v.ID)
	}
}

// validBody returns a request body that the route would accept.
func validBody(rt apiRoute, start time.Time) any {
	switch rt.pattern {
	case "/v1/businesses":
		return map[string]any{"id": "walk-" + strings.ToLower(rt.method), "name": "Walk", "time_zone": "UTC", "plan": "starter"}
	case "/v1/businesses/{id}/keys", "/v1/keys":
		return map[string]string{"role": "readonly"}
	case "/v1/business":
		return map[string]string{"greeting": "Hi."}
	case "/v1/appointments":
		return map[string]string{"service": "Checkup", "start": start.Format(time.RFC3339), "customer_name": "Walk"}
	case "/v1/appointments/{id}", "/v1/appointments/{id}/reschedule":
		return map[string]string{"start": start.Add(2 * time.Hour).Format(time.RFC3339)}
	case "/v1/leads", "/v1/leads/{id}":
		return map[string]string{"notes": "walked"}
	}
	return callsValidBody(rt)
}

func TestUnknownAPIPaths(t *testing.T) {
	e := newAPI(t, "sqlite")
	if r := e.must(404, "GET", "/v1/nope", "", nil); r.errorCode() != "not_found" {
		t.Errorf("unknown path: %s", r)
	}
	r := e.must(405, "PUT", "/v1/leads", "", nil)
	if r.errorCode() != "method_not_allowed" || r.header.Get("Allow") != "GET, POST" {
		t.Errorf("wrong method: %s, Allow %q", r, r.header.Get("Allow"))
	}
}
