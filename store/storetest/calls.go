package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
)

func (e *env) call(t *testing.T, biz string, c store.Call) store.Call {
	t.Helper()
	got, err := e.s.Calls().Create(e.ctx, biz, c)
	if err != nil {
		t.Fatalf("Create call %+v: %v", c, err)
	}
	return got
}

func sameCall(t *testing.T, what string, got, want store.Call) {
	t.Helper()
	g, w := got, want
	for _, p := range []*store.Call{&g, &w} { // compare times with Equal
		for _, tm := range []*time.Time{&p.StartedAt, &p.EndedAt, &p.RecordingExpires, &p.TranscriptExpires,
			&p.RecordingStoppedAt, &p.CreatedAt, &p.UpdatedAt} {
			if !tm.IsZero() {
				*tm = tm.UTC()
			}
		}
	}
	if g != w {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func testCallCRUD(t *testing.T, e *env) {
	calls := e.s.Calls()
	in := store.Call{ID: "call_0001", Transport: store.TransportTwilio, CarrierSID: "CA123", From: phoneAnn, To: "+12125550100",
		StartedAt: start.Add(-time.Minute)}
	c := e.call(t, bizA, in)
	want := in
	want.BusinessID, want.CreatedAt, want.UpdatedAt = bizA, start, start
	sameCall(t, "Create", c, want)
	got, err := calls.Get(e.ctx, bizA, "call_0001")
	if err != nil {
		t.Fatal(err)
	}
	sameCall(t, "Get", got, want)

	got, err = calls.Lookup(e.ctx, "call_0001")
	if err != nil {
		t.Fatal(err)
	}
	sameCall(t, "Lookup", got, want)
	_, err = calls.Lookup(e.ctx, "call_0002")
	wantErr(t, "Lookup missing", err, scheduling.ErrNotFound)
	_, err = calls.Lookup(e.ctx, "../x")
	wantErr(t, "Lookup malformed", err, scheduling.ErrNotFound)

	_, err = calls.Create(e.ctx, bizA, in)
	wantErr(t, "Create with an existing ID", err, scheduling.ErrDuplicate)
	_, err = calls.Create(e.ctx, bizB, in)
	wantErr(t, "Create with another business's call ID", err, scheduling.ErrDuplicate)

	gen := e.call(t, bizA, store.Call{Transport: store.TransportWebRTC})
	if !store.ValidCallID(gen.ID) || !gen.StartedAt.Equal(start) {
		t.Errorf("Create without ID or start: %+v", gen)
	}

	for name, bad := range map[string]store.Call{
		"traversal ID":   {ID: "../etc", Transport: store.TransportTwilio},
		"NUL in ID":      {ID: "a\x00b", Transport: store.TransportTwilio},
		"long ID":        {ID: string(make([]byte, 65)), Transport: store.TransportTwilio},
		"no transport":   {ID: "c1"},
		"bad outcome":    {ID: "c2", Transport: store.TransportTwilio, Outcome: "great"},
		"national from":  {ID: "c3", Transport: store.TransportTwilio, From: "(202) 555-0100"},
		"ends too early": {ID: "c4", Transport: store.TransportTwilio, StartedAt: start, EndedAt: start.Add(-time.Second)},
		"bad lead ID":    {ID: "c5", Transport: store.TransportTwilio, LeadID: "a b"},
	} {
		_, err := calls.Create(e.ctx, bizA, bad)
		wantErr(t, "Create with "+name, err, scheduling.ErrInvalid)
	}

	e.clk.Advance(time.Minute)
	exp := start.Add(180 * 24 * time.Hour)
	upd, err := calls.Update(e.ctx, bizA, c.ID, func(c *store.Call) error {
		c.Outcome, c.EndedAt, c.RecordingID, c.RecordingExpires, c.Disclosed = store.OutcomeCompleted, start.Add(time.Minute), c.ID, exp, true
		c.LeadID, c.RecordingStoppedAt = "lead_1", start.Add(30*time.Second)
		c.ID, c.BusinessID, c.StartedAt = "changed", bizB, start // cannot change
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	want.Outcome, want.EndedAt, want.RecordingID, want.RecordingExpires, want.Disclosed = store.OutcomeCompleted, start.Add(time.Minute), c.ID, exp, true
	want.LeadID, want.RecordingStoppedAt, want.UpdatedAt = "lead_1", start.Add(30*time.Second), start.Add(time.Minute)
	sameCall(t, "Update", upd, want)
	got, _ = calls.Get(e.ctx, bizA, c.ID)
	sameCall(t, "Get after Update", got, want)

	boom := errors.New("boom")
	_, err = calls.Update(e.ctx, bizA, c.ID, func(c *store.Call) error { c.Outcome = store.OutcomeError; return boom })
	if err != boom {
		t.Errorf("Update whose change fails: error = %v, want the change's error itself", err)
	}
	_, err = calls.Update(e.ctx, bizA, c.ID, func(c *store.Call) error { c.Outcome = "great"; return nil })
	wantErr(t, "Update to a bad outcome", err, scheduling.ErrInvalid)
	got, _ = calls.Get(e.ctx, bizA, c.ID)
	sameCall(t, "Get after failed Updates", got, want)

	_, err = calls.Update(e.ctx, bizA, "nope", func(*store.Call) error { return nil })
	wantErr(t, "Update missing", err, scheduling.ErrNotFound)
	if err := calls.Delete(e.ctx, bizA, c.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err = calls.Get(e.ctx, bizA, c.ID)
	wantErr(t, "Get deleted", err, scheduling.ErrNotFound)
	wantErr(t, "Delete twice", calls.Delete(e.ctx, bizA, c.ID), scheduling.ErrNotFound)
	_, err = calls.Lookup(e.ctx, c.ID)
	wantErr(t, "Lookup deleted", err, scheduling.ErrNotFound)
	if _, err := calls.Create(e.ctx, bizB, in); err != nil {
		t.Errorf("Create with the ID of a deleted call: %v", err)
	}
	if got, err := calls.Lookup(e.ctx, c.ID); err != nil || got.BusinessID != bizB {
		t.Errorf("Lookup of the new call = %+v, %v", got, err)
	}
	_, err = calls.Get(e.ctx, bizA, "../../etc/passwd")
	wantErr(t, "Get with a traversal ID", err, scheduling.ErrNotFound)
}

func testCallTenancy(t *testing.T, e *env) {
	calls := e.s.Calls()
	c := e.call(t, bizA, store.Call{ID: "call_a", Transport: store.TransportTwilio, From: phoneAnn})
	_, err := calls.Get(e.ctx, bizB, c.ID)
	wantErr(t, "B gets A's call", err, scheduling.ErrNotFound)
	_, err = calls.Update(e.ctx, bizB, c.ID, func(c *store.Call) error { c.Outcome = store.OutcomeError; return nil })
	wantErr(t, "B updates A's call", err, scheduling.ErrNotFound)
	wantErr(t, "B deletes A's call", calls.Delete(e.ctx, bizB, c.ID), scheduling.ErrNotFound)
	items, _, err := calls.List(e.ctx, bizB, store.CallFilter{}, store.Page{})
	if err != nil || len(items) != 0 {
		t.Errorf("B lists %d calls (%v), want none", len(items), err)
	}
	if got, _ := calls.Get(e.ctx, bizA, c.ID); got.Outcome != "" {
		t.Errorf("A's call changed by B: %+v", got)
	}
}

func testCallList(t *testing.T, e *env) {
	calls := e.s.Calls()
	var all []store.Call
	for i := range 23 {
		c := store.Call{ID: fmt.Sprintf("call_%02d", i), Transport: store.TransportTwilio,
			StartedAt: start.Add(time.Duration(i/2) * time.Hour), // pairs share a start time
			From:      []string{phoneAnn, phoneBob, ""}[i%3],
			Outcome:   []store.Outcome{store.OutcomeCompleted, store.OutcomeCut}[i%2]}
		if i%5 == 0 {
			c.LeadID = "lead_x"
		}
		all = append(all, e.call(t, bizA, c))
	}
	e.call(t, bizB, store.Call{ID: "call_b", Transport: store.TransportTwilio, From: phoneAnn})
	newestFirst := slices.Clone(all)
	slices.SortFunc(newestFirst, func(a, b store.Call) int {
		if c := b.StartedAt.Compare(a.StartedAt); c != 0 {
			return c
		}
		return cmpStr(b.ID, a.ID)
	})
	ids := func(cs []store.Call) []string {
		out := []string{}
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    store.CallFilter
	}{
		{"all", store.CallFilter{}},
		{"range", store.CallFilter{From: start.Add(2 * time.Hour), To: start.Add(7 * time.Hour)}},
		{"from only", store.CallFilter{From: start.Add(9 * time.Hour)}},
		{"to only", store.CallFilter{To: start.Add(3*time.Hour + time.Nanosecond)}},
		{"number", store.CallFilter{Number: phoneAnn}},
		{"outcome", store.CallFilter{Outcome: store.OutcomeCut}},
		{"lead", store.CallFilter{LeadID: "lead_x"}},
		{"number and range", store.CallFilter{Number: phoneBob, From: start.Add(time.Hour), To: start.Add(10 * time.Hour)}},
		{"nothing", store.CallFilter{Number: "+12025550199"}},
	} {
		var want []store.Call
		for _, c := range newestFirst {
			if store.MatchCall(c, tc.f) {
				want = append(want, c)
			}
		}
		for _, limit := range []int{0, 1, 3} {
			var got []store.Call
			p := store.Page{Limit: limit}
			for range 50 {
				items, next, err := calls.List(e.ctx, bizA, tc.f, p)
				if err != nil {
					t.Fatalf("%s: List: %v", tc.name, err)
				}
				got = append(got, items...)
				if next == "" {
					break
				}
				p.Cursor = next
			}
			if !slices.Equal(ids(got), ids(want)) {
				t.Errorf("%s by %d:\n got %v\nwant %v", tc.name, limit, ids(got), ids(want))
			}
		}
	}
	_, _, err := calls.List(e.ctx, bizA, store.CallFilter{From: start, To: start}, store.Page{})
	wantErr(t, "empty range", err, scheduling.ErrInvalid)
	_, _, err = calls.List(e.ctx, bizA, store.CallFilter{Outcome: "great"}, store.Page{})
	wantErr(t, "bad outcome", err, scheduling.ErrInvalid)
	_, _, err = calls.List(e.ctx, bizA, store.CallFilter{}, store.Page{Cursor: "garbage"})
	wantErr(t, "bad cursor", err, scheduling.ErrInvalid)
	_, _, err = calls.List(e.ctx, bizA, store.CallFilter{}, store.Page{Cursor: store.EncodeCursor("lead", "x")})
	wantErr(t, "another listing's cursor", err, scheduling.ErrInvalid)
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func testHolds(t *testing.T, e *env) {
	hs := e.s.Holds()
	h, created, err := hs.Place(e.ctx, store.Hold{BusinessID: bizA, Scope: store.HoldCall, Target: "call_1", Reason: "lawsuit", By: "key1"})
	if err != nil || !created || !h.At.Equal(start) || h.Reason != "lawsuit" {
		t.Fatalf("Place = %+v, %v, %v", h, created, err)
	}
	e.clk.Advance(time.Minute)
	again, created, err := hs.Place(e.ctx, store.Hold{BusinessID: bizA, Scope: store.HoldCall, Target: "call_1", Reason: "other", By: "key2"})
	if err != nil || created || again.Reason != "lawsuit" || again.By != "key1" || !again.At.Equal(start) {
		t.Errorf("Place again = %+v, %v, %v; want the first hold kept", again, created, err)
	}
	if _, _, err := hs.Place(e.ctx, store.Hold{BusinessID: bizA, Scope: store.HoldLead, Target: "lead_1", By: "key1"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := hs.Place(e.ctx, store.Hold{BusinessID: bizB, Scope: store.HoldBusiness, By: "key9"}); err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]store.Hold{
		"bad scope":            {BusinessID: bizA, Scope: "planet", Target: "x", By: "k"},
		"business with target": {BusinessID: bizA, Scope: store.HoldBusiness, Target: "x", By: "k"},
		"call without target":  {BusinessID: bizA, Scope: store.HoldCall, By: "k"},
		"bad business":         {BusinessID: "a b", Scope: store.HoldBusiness, By: "k"},
	} {
		_, _, err := hs.Place(e.ctx, bad)
		wantErr(t, "Place with "+name, err, scheduling.ErrInvalid)
	}
	listA, err := hs.List(e.ctx, bizA)
	if err != nil || len(listA) != 2 || listA[0].Scope != store.HoldCall || listA[1].Scope != store.HoldLead {
		t.Errorf("List(A) = %+v, %v", listA, err)
	}
	for _, tc := range []struct {
		biz, call, lead string
		want            bool
	}{
		{bizA, "call_1", "", true},
		{bizA, "call_2", "", false},
		{bizA, "call_2", "lead_1", true},
		{bizA, "call_2", "lead_2", false},
		{bizB, "anything", "", true}, // a business hold covers all
		{"third", "call_1", "lead_1", false},
	} {
		_, held, err := store.HeldBy(e.ctx, hs, tc.biz, tc.call, tc.lead)
		if err != nil || held != tc.want {
			t.Errorf("HeldBy(%s, %s, %s) = %v, %v; want %v", tc.biz, tc.call, tc.lead, held, err, tc.want)
		}
	}
	_, err = hs.Release(e.ctx, bizB, store.HoldCall, "call_1")
	wantErr(t, "B releases A's hold", err, scheduling.ErrNotFound)
	rel, err := hs.Release(e.ctx, bizA, store.HoldCall, "call_1")
	if err != nil || rel.Reason != "lawsuit" {
		t.Fatalf("Release = %+v, %v", rel, err)
	}
	_, err = hs.Release(e.ctx, bizA, store.HoldCall, "call_1")
	wantErr(t, "Release twice", err, scheduling.ErrNotFound)
	if _, held, _ := store.HeldBy(e.ctx, hs, bizA, "call_1", ""); held {
		t.Error("call still held after Release")
	}
}

func testAudit(t *testing.T, e *env) {
	a := e.s.Audit()
	var want []store.AuditRecord
	for i := range 12 {
		r, err := a.Append(e.ctx, store.AuditRecord{BusinessID: bizA, Actor: "key1", Action: store.AuditDelete,
			Target: fmt.Sprintf("call:c%d", i), Reason: "asked"})
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		if r.ID == "" || !r.At.Equal(e.clk.Now()) {
			t.Fatalf("Append = %+v", r)
		}
		want = append([]store.AuditRecord{r}, want...) // newest first
		if i%4 == 0 {
			e.clk.Advance(time.Second)
		}
	}
	at := start.Add(-time.Hour)
	if r, err := a.Append(e.ctx, store.AuditRecord{BusinessID: bizB, At: at, Actor: store.ActorSystem, Action: store.AuditExpire, Target: "recording:x"}); err != nil || !r.At.Equal(at) {
		t.Fatalf("Append with a time = %+v, %v", r, err)
	}
	for _, bad := range []store.AuditRecord{
		{BusinessID: bizA, Actor: "k", Action: "shred"},
		{BusinessID: bizA, Action: store.AuditErase},
		{BusinessID: "", Actor: "k", Action: store.AuditErase},
	} {
		_, err := a.Append(e.ctx, bad)
		wantErr(t, fmt.Sprintf("Append(%+v)", bad), err, scheduling.ErrInvalid)
	}
	var got []store.AuditRecord
	p := store.Page{Limit: 5}
	for range 10 {
		items, next, err := a.List(e.ctx, bizA, p)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, items...)
		if next == "" {
			break
		}
		p.Cursor = next
	}
	if len(got) != len(want) {
		t.Fatalf("List by 5: %d records, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].ID != want[i].ID || got[i].Target != want[i].Target || got[i].Actor != "key1" || got[i].Action != store.AuditDelete ||
			got[i].Reason != "asked" || got[i].BusinessID != bizA || !got[i].At.Equal(want[i].At) {
			t.Errorf("record %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	listB, _, err := a.List(e.ctx, bizB, store.Page{})
	if err != nil || len(listB) != 1 || listB[0].Action != store.AuditExpire {
		t.Errorf("List(B) = %+v, %v", listB, err)
	}
	_, _, err = a.List(e.ctx, bizA, store.Page{Cursor: "garbage"})
	wantErr(t, "bad cursor", err, scheduling.ErrInvalid)
}

func testTimers(t *testing.T, e *env) {
	ts := e.s.Timers()
	tm := func(biz string, kind store.TimerKind, call string, due time.Time) store.Timer {
		return store.NewTimer(biz, kind, call, due)
	}
	r1 := tm(bizA, store.TimerRecording, "c1", start.Add(3*time.Hour+time.Nanosecond))
	t1 := tm(bizA, store.TimerTranscript, "c1", start.Add(time.Hour))
	r2 := tm(bizA, store.TimerRecording, "c2", start.Add(time.Hour)) // same due as t1: ordered by ID
	b1 := tm(bizB, store.TimerRecording, "c9", start.Add(2*time.Hour))
	for _, x := range []store.Timer{r1, t1, r2, b1} {
		if err := ts.Schedule(e.ctx, x); err != nil {
			t.Fatalf("Schedule(%s): %v", x.ID, err)
		}
	}
	idsOf := func(xs []store.Timer) []string {
		out := []string{}
		for _, x := range xs {
			out = append(out, x.ID)
		}
		return out
	}
	due := func(now time.Time, limit int, want ...store.Timer) {
		t.Helper()
		got, err := ts.Due(e.ctx, now, limit)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(idsOf(got), idsOf(want)) {
			t.Errorf("Due(%v, %d) = %v, want %v", now.Sub(start), limit, idsOf(got), idsOf(want))
		}
		for i := range got {
			if !got[i].Due.Equal(want[i].Due) || got[i].BusinessID != want[i].BusinessID || got[i].Kind != want[i].Kind || got[i].Target != want[i].Target {
				t.Errorf("Due: got %+v, want %+v", got[i], want[i])
			}
		}
	}
	first, second := r2, t1
	if t1.ID < r2.ID {
		first, second = t1, r2
	}
	due(start, 10)
	due(start.Add(time.Hour), 10, first, second)
	due(start.Add(3*time.Hour), 10, first, second, b1)
	due(start.Add(3*time.Hour+time.Millisecond), 10, first, second, b1, r1)
	due(store.MaxTime, 2, first, second)
	got, err := ts.Get(e.ctx, r1.ID)
	if err != nil || !got.Due.Equal(r1.Due) {
		t.Errorf("Get = %+v, %v", got, err)
	}

	if err := ts.Reschedule(e.ctx, r1.ID, start.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	r1.Due = start.Add(time.Minute)
	due(start.Add(time.Minute), 10, r1)
	r1.Due = start.Add(10 * time.Hour)
	if err := ts.Schedule(e.ctx, r1); err != nil { // replaces
		t.Fatal(err)
	}
	due(start.Add(time.Hour), 10, first, second)
	wantErr(t, "Reschedule missing", ts.Reschedule(e.ctx, "recording:acme:nope", start), scheduling.ErrNotFound)

	var listed []store.Timer
	p := store.Page{Limit: 2}
	for range 5 {
		items, next, err := ts.List(e.ctx, bizA, p)
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, items...)
		if next == "" {
			break
		}
		p.Cursor = next
	}
	wantIDs := []string{r1.ID, t1.ID, r2.ID}
	slices.Sort(wantIDs)
	if !slices.Equal(idsOf(listed), wantIDs) {
		t.Errorf("List(A) = %v, want %v", idsOf(listed), wantIDs)
	}

	if err := ts.Cancel(e.ctx, t1.ID); err != nil {
		t.Fatal(err)
	}
	if err := ts.Cancel(e.ctx, t1.ID); err != nil {
		t.Errorf("Cancel twice: %v", err)
	}
	_, err = ts.Get(e.ctx, t1.ID)
	wantErr(t, "Get cancelled", err, scheduling.ErrNotFound)
	due(start.Add(time.Hour), 10, r2)
	if items, _, _ := ts.List(e.ctx, bizA, store.Page{}); len(items) != 2 {
		t.Errorf("List after Cancel: %v", idsOf(items))
	}

	for name, bad := range map[string]store.Timer{
		"bad kind":     {ID: "x:acme:c1", BusinessID: bizA, Kind: "x", Target: "c1", Due: start},
		"wrong ID":     {ID: "other", BusinessID: bizA, Kind: store.TimerRecording, Target: "c1", Due: start},
		"no due":       tm(bizA, store.TimerRecording, "c1", time.Time{}),
		"bad target":   tm(bizA, store.TimerRecording, "../x", start),
		"bad business": tm("a b", store.TimerRecording, "c1", start),
	} {
		wantErr(t, "Schedule with "+name, ts.Schedule(e.ctx, bad), scheduling.ErrInvalid)
	}
	far := tm(bizB, store.TimerTranscript, "c9", store.MaxTime)
	if err := ts.Schedule(e.ctx, far); err != nil {
		t.Fatalf("Schedule at MaxTime: %v", err)
	}
	if got, err := ts.Due(e.ctx, store.MaxTime, 10); err != nil || len(got) != 4 {
		t.Errorf("Due(MaxTime) = %v, %v; want all 4", idsOf(got), err)
	}
}

func testAppointmentDelete(t *testing.T, e *env) {
	r := req("cut", at(2, 10, 0), "Ann")
	r.IdempotencyKey = "k1"
	a := e.book(t, bizA, r)
	wantErr(t, "B deletes A's appointment", e.s.Appointments().Delete(e.ctx, bizB, a.ID), scheduling.ErrNotFound)
	if err := e.s.Appointments().Delete(e.ctx, bizA, a.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err := e.s.Appointments().Get(e.ctx, bizA, a.ID)
	wantErr(t, "Get deleted", err, scheduling.ErrNotFound)
	wantErr(t, "Delete twice", e.s.Appointments().Delete(e.ctx, bizA, a.ID), scheduling.ErrNotFound)
	// The time is free and the idempotency key forgotten: the same request books anew.
	b := e.book(t, bizA, r)
	if b.ID == a.ID {
		t.Error("the idempotency key of a deleted appointment replayed it")
	}
	items, _, err := e.s.Appointments().List(e.ctx, bizA, store.AppointmentFilter{}, store.Page{})
	if err != nil || len(items) != 1 || items[0].ID != b.ID {
		t.Errorf("List after Delete = %v, %v", items, err)
	}
}
