package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
)

const (
	phoneAnn = "+12025550100"
	phoneBob = "+12025550101"
)

func (e *env) upsert(t *testing.T, biz string, l scheduling.Lead) (scheduling.Lead, bool) {
	t.Helper()
	got, created, err := e.s.Leads().Upsert(e.ctx, biz, l)
	if err != nil {
		t.Fatalf("Upsert(%s, %+v): %v", biz, l, err)
	}
	return got, created
}

func sameLead(t *testing.T, what string, got, want scheduling.Lead) {
	t.Helper()
	if got.ID != want.ID || got.BusinessID != want.BusinessID || got.Name != want.Name || got.Phone != want.Phone ||
		got.Email != want.Email || got.Company != want.Company || got.Notes != want.Notes || got.Source != want.Source ||
		got.Status != want.Status || got.Score != want.Score || !slices.Equal(got.CallIDs, want.CallIDs) ||
		!slices.Equal(got.AppointmentIDs, want.AppointmentIDs) || !got.CreatedAt.Equal(want.CreatedAt) ||
		!got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func testLeadUpsert(t *testing.T, e *env) {
	first, created := e.upsert(t, bizA, scheduling.Lead{Name: "Ann", Phone: phoneAnn, Source: scheduling.SourceCall, CallIDs: []string{"CA1"}})
	if !created || first.ID == "" || first.Status != scheduling.LeadNew || first.BusinessID != bizA || !first.CreatedAt.Equal(start) {
		t.Fatalf("first upsert = %+v, created=%v", first, created)
	}
	e.clk.Advance(time.Hour)
	second, created := e.upsert(t, bizA, scheduling.Lead{Phone: phoneAnn, Email: "ann@example.com", Source: scheduling.SourceCall,
		Notes: "wants Saturday", CallIDs: []string{"CA2"}})
	if created || second.ID != first.ID {
		t.Fatalf("second call from the same number created a lead (%s vs %s, created=%v)", second.ID, first.ID, created)
	}
	want := first
	want.Email, want.Notes, want.CallIDs, want.UpdatedAt = "ann@example.com", "wants Saturday", []string{"CA1", "CA2"}, start.Add(time.Hour)
	sameLead(t, "merged lead", second, want)
	got, err := e.s.Leads().Get(e.ctx, bizA, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameLead(t, "Get after merge", got, want)

	if other, created := e.upsert(t, bizB, scheduling.Lead{Name: "Ann", Phone: phoneAnn}); !created || other.ID == first.ID {
		t.Errorf("another business's lead with the same phone: created=%v id=%s", created, other.ID)
	}
	_, _, err = e.s.Leads().Upsert(e.ctx, bizA, scheduling.Lead{Name: "Ann", Phone: "(202) 555-0100"})
	wantErr(t, "national number", err, scheduling.ErrInvalid)
	_, _, err = e.s.Leads().Upsert(e.ctx, bizA, scheduling.Lead{})
	wantErr(t, "empty lead", err, scheduling.ErrInvalid)
	// Without a phone there is nothing to deduplicate by.
	a, c1 := e.upsert(t, bizA, scheduling.Lead{Name: "Walk-in", Source: scheduling.SourceWebRTC})
	b, c2 := e.upsert(t, bizA, scheduling.Lead{Name: "Walk-in", Source: scheduling.SourceWebRTC})
	if !c1 || !c2 || a.ID == b.ID {
		t.Errorf("phoneless leads: created %v %v, ids %s %s; want two leads", c1, c2, a.ID, b.ID)
	}
}

func testLeadCRUD(t *testing.T, e *env) {
	ann, _ := e.upsert(t, bizA, scheduling.Lead{Name: "Ann", Phone: phoneAnn})
	bob, _ := e.upsert(t, bizA, scheduling.Lead{Name: "Bob", Phone: phoneBob, CallIDs: []string{"CA9"}, Source: scheduling.SourceCall})
	e.clk.Advance(time.Minute)

	upd := bob
	upd.Name, upd.Company, upd.Status, upd.Score = "Bob Stone", "Stone & Co", scheduling.LeadQualified, 70
	upd.CallIDs = nil // Update keeps links whatever the request says
	upd.Source = ""   // and an empty source keeps the stored one
	got, err := e.s.Leads().Update(e.ctx, bizA, upd)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	want := bob
	want.Name, want.Company, want.Status, want.Score, want.UpdatedAt = "Bob Stone", "Stone & Co", scheduling.LeadQualified, 70, start.Add(time.Minute)
	sameLead(t, "Update", got, want)
	if g, _ := e.s.Leads().Get(e.ctx, bizA, bob.ID); g.Name != "Bob Stone" {
		t.Errorf("Get after Update: name %q", g.Name)
	}

	upd.Phone = phoneAnn
	_, err = e.s.Leads().Update(e.ctx, bizA, upd)
	wantErr(t, "Update to another lead's phone", err, scheduling.ErrDuplicate)
	upd.Phone, upd.Email = phoneBob, "nope"
	_, err = e.s.Leads().Update(e.ctx, bizA, upd)
	wantErr(t, "Update with a bad email", err, scheduling.ErrInvalid)
	_, err = e.s.Leads().Update(e.ctx, bizA, scheduling.Lead{ID: "lead_missing", Name: "x"})
	wantErr(t, "Update missing", err, scheduling.ErrNotFound)

	// A lead can change its number, and then its old number is free.
	moved := ann
	moved.Phone = "+12025550199"
	if _, err := e.s.Leads().Update(e.ctx, bizA, moved); err != nil {
		t.Fatalf("Update phone: %v", err)
	}
	if l, created := e.upsert(t, bizA, scheduling.Lead{Name: "New Ann", Phone: phoneAnn}); !created || l.ID == ann.ID {
		t.Errorf("old number after a phone change: created=%v", created)
	}
	if l, created := e.upsert(t, bizA, scheduling.Lead{Phone: "+12025550199", Notes: "x"}); created || l.ID != ann.ID {
		t.Errorf("new number after a phone change: created=%v id=%s, want %s", created, l.ID, ann.ID)
	}

	if err := e.s.Leads().Delete(e.ctx, bizA, bob.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err = e.s.Leads().Get(e.ctx, bizA, bob.ID)
	wantErr(t, "Get deleted", err, scheduling.ErrNotFound)
	wantErr(t, "Delete again", e.s.Leads().Delete(e.ctx, bizA, bob.ID), scheduling.ErrNotFound)
	if l, created := e.upsert(t, bizA, scheduling.Lead{Name: "Bob again", Phone: phoneBob}); !created || l.ID == bob.ID {
		t.Errorf("deleted lead's number: created=%v id=%s", created, l.ID)
	}
}

func testLeadLinks(t *testing.T, e *env) {
	l, _ := e.upsert(t, bizA, scheduling.Lead{Name: "Ann", Phone: phoneAnn, Status: scheduling.LeadQualified})
	for range 2 {
		got, err := e.s.Leads().LinkCall(e.ctx, bizA, l.ID, "CA1")
		if err != nil || !slices.Equal(got.CallIDs, []string{"CA1"}) {
			t.Fatalf("LinkCall = %v, %v; want [CA1] once", got.CallIDs, err)
		}
	}
	got, err := e.s.Leads().LinkAppointment(e.ctx, bizA, l.ID, "apt_1")
	if err != nil || !slices.Equal(got.AppointmentIDs, []string{"apt_1"}) || got.Status != scheduling.LeadBooked {
		t.Fatalf("LinkAppointment = %+v, %v", got, err)
	}
	stored, _ := e.s.Leads().Get(e.ctx, bizA, l.ID)
	sameLead(t, "Get after links", stored, got)
	_, err = e.s.Leads().LinkCall(e.ctx, bizA, "lead_missing", "CA2")
	wantErr(t, "link to missing lead", err, scheduling.ErrNotFound)
	_, err = e.s.Leads().LinkCall(e.ctx, bizA, l.ID, "")
	wantErr(t, "link empty call ID", err, scheduling.ErrInvalid)
}

func testLeadTenancy(t *testing.T, e *env) {
	l, _ := e.upsert(t, bizA, scheduling.Lead{Name: "Ann", Phone: phoneAnn})
	leads := e.s.Leads()
	_, err := leads.Get(e.ctx, bizB, l.ID)
	wantErr(t, "B gets A's lead", err, scheduling.ErrNotFound)
	upd := l
	upd.Name = "Mallory"
	_, err = leads.Update(e.ctx, bizB, upd)
	wantErr(t, "B updates A's lead", err, scheduling.ErrNotFound)
	wantErr(t, "B deletes A's lead", leads.Delete(e.ctx, bizB, l.ID), scheduling.ErrNotFound)
	_, err = leads.LinkCall(e.ctx, bizB, l.ID, "CA1")
	wantErr(t, "B links to A's lead", err, scheduling.ErrNotFound)
	_, err = leads.LinkAppointment(e.ctx, bizB, l.ID, "apt_1")
	wantErr(t, "B links an appointment to A's lead", err, scheduling.ErrNotFound)
	list, _, err := leads.List(e.ctx, bizB, store.LeadFilter{}, store.Page{})
	if err != nil || len(list) != 0 {
		t.Errorf("B lists %d leads (%v), want none", len(list), err)
	}
	got, err := leads.Get(e.ctx, bizA, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameLead(t, "A's lead after B's attempts", got, l)
}

func testLeadSearch(t *testing.T, e *env) {
	people := []scheduling.Lead{
		{Name: "Ann Lee", Phone: "+12025550100", Email: "ann@example.com"},
		{Name: "Bob Stone", Phone: "+12025550101", Email: "bob@stone.example.org", Status: scheduling.LeadQualified},
		{Name: "Annette King", Phone: "+442079460018", Email: "ak@example.com", Status: scheduling.LeadLost},
		{Name: "Carl 100%", Email: "carl_x@example.net"},
	}
	var created []scheduling.Lead
	for i := range 19 {
		people = append(people, scheduling.Lead{Name: fmt.Sprintf("Filler %02d", i), Phone: fmt.Sprintf("+1303555%04d", 1000+i)})
	}
	for _, p := range people {
		l, _ := e.upsert(t, bizA, p)
		created = append(created, l)
		e.clk.Advance(time.Second)
	}
	names := func(ls []scheduling.Lead) []string {
		var s []string
		for _, l := range ls {
			s = append(s, l.Name)
		}
		slices.Sort(s)
		return s
	}
	for _, tc := range []struct {
		f    store.LeadFilter
		want []string
	}{
		{store.LeadFilter{Query: "ANN"}, []string{"Ann Lee", "Annette King"}},
		{store.LeadFilter{Query: "5550101"}, []string{"Bob Stone"}},
		{store.LeadFilter{Query: "+44"}, []string{"Annette King"}},
		{store.LeadFilter{Query: "stone.example"}, []string{"Bob Stone"}},
		{store.LeadFilter{Query: "100%"}, []string{"Carl 100%"}},
		{store.LeadFilter{Query: "l_x"}, []string{"Carl 100%"}}, // "_" is literal, not a wildcard
		{store.LeadFilter{Query: "0%"}, []string{"Carl 100%"}},
		{store.LeadFilter{Query: "ann", Status: scheduling.LeadLost}, []string{"Annette King"}},
		{store.LeadFilter{Status: scheduling.LeadQualified}, []string{"Bob Stone"}},
		{store.LeadFilter{Query: "nobody"}, nil},
	} {
		got, next, err := e.s.Leads().List(e.ctx, bizA, tc.f, store.Page{})
		if err != nil || next != "" || !slices.Equal(names(got), tc.want) {
			t.Errorf("List(%+v) = %v, next %q, %v; want %v", tc.f, names(got), next, err, tc.want)
		}
	}
	// Paging with a filter that matches most of the leads, small pages.
	for _, tc := range []struct {
		f     store.LeadFilter
		limit int
	}{{store.LeadFilter{}, 4}, {store.LeadFilter{}, 1}, {store.LeadFilter{Query: "filler"}, 5}, {store.LeadFilter{Status: scheduling.LeadNew}, 7}} {
		var want []string
		for i := len(created) - 1; i >= 0; i-- { // newest first
			if store.MatchLead(created[i], tc.f) {
				want = append(want, created[i].ID)
			}
		}
		var got []string
		p := store.Page{Limit: tc.limit}
		for pages := 0; pages < 100; pages++ {
			items, next, err := e.s.Leads().List(e.ctx, bizA, tc.f, p)
			if err != nil {
				t.Fatalf("List %+v page %d: %v", tc.f, pages, err)
			}
			if len(items) > tc.limit {
				t.Fatalf("page of %d, limit %d", len(items), tc.limit)
			}
			for _, l := range items {
				got = append(got, l.ID)
			}
			if next == "" {
				break
			}
			p.Cursor = next
		}
		if !slices.Equal(got, want) {
			t.Errorf("paging %+v by %d: got %d leads %v\nwant %d %v (each once, newest first)", tc.f, tc.limit, len(got), got, len(want), want)
		}
	}
	_, _, err := e.s.Leads().List(e.ctx, bizA, store.LeadFilter{Status: "hot"}, store.Page{})
	wantErr(t, "bad status filter", err, scheduling.ErrInvalid)
	_, _, err = e.s.Leads().List(e.ctx, bizA, store.LeadFilter{}, store.Page{Cursor: "%%%"})
	wantErr(t, "bad cursor", err, scheduling.ErrInvalid)
}

func testLeadConcurrentUpsert(t *testing.T, e *env) {
	const n = 20
	var wg sync.WaitGroup
	ready := make(chan struct{})
	ids := make([]string, n)
	created := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			<-ready
			l, c, err := e.s.Leads().Upsert(e.ctx, bizA, scheduling.Lead{Phone: phoneAnn, Source: scheduling.SourceCall, CallIDs: []string{fmt.Sprintf("CA%02d", i)}})
			ids[i], created[i], errs[i] = l.ID, c, err
		})
	}
	close(ready)
	wg.Wait()
	creations := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("upsert %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Errorf("upsert %d got lead %s, upsert 0 got %s", i, ids[i], ids[0])
		}
		if created[i] {
			creations++
		}
	}
	if creations != 1 {
		t.Errorf("%d upserts reported creating the lead, want 1", creations)
	}
	l, err := e.s.Leads().Get(e.ctx, bizA, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(l.CallIDs) != n {
		t.Errorf("lead links %d calls, want all %d (no lost update): %v", len(l.CallIDs), n, l.CallIDs)
	}
}
