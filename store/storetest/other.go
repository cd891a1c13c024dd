package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
)

func testBusinesses(t *testing.T, e *env) {
	bs := e.s.Businesses()
	rec, err := bs.Create(e.ctx, store.BusinessRecord{ID: "acme", Data: []byte(`{"name":"Acme"}`)})
	if err != nil || rec.Version != 1 || !rec.CreatedAt.Equal(start) {
		t.Fatalf("Create = %+v, %v", rec, err)
	}
	_, err = bs.Create(e.ctx, store.BusinessRecord{ID: "acme", Data: []byte(`{}`)})
	wantErr(t, "Create twice", err, scheduling.ErrDuplicate)
	_, err = bs.Create(e.ctx, store.BusinessRecord{ID: "bad", Data: []byte(`{"name":`)})
	wantErr(t, "Create with broken JSON", err, scheduling.ErrInvalid)
	_, err = bs.Create(e.ctx, store.BusinessRecord{ID: "a b", Data: []byte(`{}`)})
	wantErr(t, "Create with a bad ID", err, scheduling.ErrInvalid)

	e.clk.Advance(time.Minute)
	rec.Data = []byte(`{"name":"Acme Hair"}`)
	v2, err := bs.Update(e.ctx, rec)
	if err != nil || v2.Version != 2 || string(v2.Data) != `{"name":"Acme Hair"}` || !v2.UpdatedAt.Equal(start.Add(time.Minute)) || !v2.CreatedAt.Equal(start) {
		t.Fatalf("Update = %+v, %v", v2, err)
	}
	_, err = bs.Update(e.ctx, rec) // still version 1
	wantErr(t, "stale Update", err, scheduling.ErrConflict)
	got, err := bs.Get(e.ctx, "acme")
	if err != nil || got.Version != 2 || string(got.Data) != `{"name":"Acme Hair"}` {
		t.Errorf("Get = %+v, %v", got, err)
	}
	_, err = bs.Update(e.ctx, store.BusinessRecord{ID: "nope", Version: 1, Data: []byte(`{}`)})
	wantErr(t, "Update missing", err, scheduling.ErrNotFound)

	wantErr(t, "stale Delete", bs.Delete(e.ctx, "acme", 1), scheduling.ErrConflict)
	if err := bs.Delete(e.ctx, "acme", 2); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err = bs.Get(e.ctx, "acme")
	wantErr(t, "Get deleted", err, scheduling.ErrNotFound)
	wantErr(t, "Delete missing", bs.Delete(e.ctx, "acme", 0), scheduling.ErrNotFound)

	var want []string
	for i := range 7 {
		id := fmt.Sprintf("biz-%02d", i)
		want = append(want, id)
		if _, err := bs.Create(e.ctx, store.BusinessRecord{ID: id, Data: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	p := store.Page{Limit: 3}
	for range 10 {
		items, next, err := bs.List(e.ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range items {
			ids = append(ids, r.ID)
		}
		if next == "" {
			break
		}
		p.Cursor = next
	}
	if !slices.Equal(ids, want) {
		t.Errorf("List by 3 = %v, want %v", ids, want)
	}
}

func testAPIKeys(t *testing.T, e *env) {
	keys := e.s.APIKeys()
	secret, k, err := store.NewAPIKey(bizA, store.RoleOwner, "ci")
	if err != nil {
		t.Fatal(err)
	}
	created, err := keys.Create(e.ctx, k)
	if err != nil || !created.CreatedAt.Equal(start) || created.Revoked() {
		t.Fatalf("Create = %+v, %v", created, err)
	}
	_, err = keys.Create(e.ctx, k)
	wantErr(t, "Create twice", err, scheduling.ErrDuplicate)
	bad := k
	bad.ID, bad.Role = "other", "admin"
	_, err = keys.Create(e.ctx, bad)
	wantErr(t, "Create with a bad role", err, scheduling.ErrInvalid)

	id, err := store.APIKeyID(secret)
	if err != nil || id != k.ID {
		t.Fatalf("APIKeyID = %q, %v; want %q", id, err, k.ID)
	}
	got, err := keys.Lookup(e.ctx, id)
	if err != nil || got.BusinessID != bizA || got.Role != store.RoleOwner || got.Name != "ci" {
		t.Fatalf("Lookup = %+v, %v", got, err)
	}
	if !got.Verify(secret) || got.Verify(secret+"x") || got.Verify("") {
		t.Error("Verify accepts the wrong secret or rejects the right one")
	}
	_, err = keys.Lookup(e.ctx, "0000000000000000")
	wantErr(t, "Lookup unknown", err, scheduling.ErrNotFound)

	_, k2, _ := store.NewAPIKey(bizB, store.RoleReadonly, "")
	if _, err := keys.Create(e.ctx, k2); err != nil {
		t.Fatal(err)
	}
	listA, _, err := keys.List(e.ctx, bizA, store.Page{})
	if err != nil || len(listA) != 1 || listA[0].ID != k.ID {
		t.Errorf("List(A) = %v, %v; want only A's key", listA, err)
	}

	_, err = keys.Revoke(e.ctx, bizB, k.ID)
	wantErr(t, "B revokes A's key", err, scheduling.ErrNotFound)
	e.clk.Advance(time.Minute)
	r, err := keys.Revoke(e.ctx, bizA, k.ID)
	if err != nil || !r.RevokedAt.Equal(start.Add(time.Minute)) {
		t.Fatalf("Revoke = %+v, %v", r, err)
	}
	e.clk.Advance(time.Minute)
	if r2, err := keys.Revoke(e.ctx, bizA, k.ID); err != nil || !r2.RevokedAt.Equal(r.RevokedAt) {
		t.Errorf("second Revoke = %v, %v; want the first time kept", r2.RevokedAt, err)
	}
	got, _ = keys.Lookup(e.ctx, id)
	if got.Verify(secret) {
		t.Error("a revoked key still verifies")
	}
}

func testLeases(t *testing.T, e *env) {
	l := e.s.Leases()
	acquire := func(holder string, want bool) {
		t.Helper()
		got, err := l.Acquire(e.ctx, "retention", holder, time.Minute)
		if err != nil || got != want {
			t.Fatalf("Acquire(%s) = %v, %v; want %v", holder, got, err, want)
		}
	}
	acquire("node-1", true)
	acquire("node-2", false)
	e.clk.Advance(30 * time.Second)
	acquire("node-1", true) // renews until +90s
	e.clk.Advance(50 * time.Second)
	acquire("node-2", false)
	e.clk.Advance(11 * time.Second)
	acquire("node-2", true) // node-1's lease ran out
	acquire("node-1", false)
	if err := l.Release(e.ctx, "retention", "node-1"); err != nil {
		t.Fatal(err)
	}
	acquire("node-1", false) // releasing someone else's lease does nothing
	if err := l.Release(e.ctx, "retention", "node-2"); err != nil {
		t.Fatal(err)
	}
	acquire("node-1", true)
	if ok, err := l.Acquire(e.ctx, "other-job", "node-2", time.Minute); err != nil || !ok {
		t.Errorf("an unrelated lease: %v, %v", ok, err)
	}
	_, err := l.Acquire(e.ctx, "retention", "node-1", 0)
	wantErr(t, "zero TTL", err, scheduling.ErrInvalid)
	_, err = l.Acquire(e.ctx, "", "node-1", time.Minute)
	wantErr(t, "no name", err, scheduling.ErrInvalid)
}
