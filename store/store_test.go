package store

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/scheduling"
)

func TestCursorRoundTrip(t *testing.T) {
	c := EncodeCursor("apt", "1780000000000000000", "apt_x")
	got, err := DecodeCursor(c, "apt", 2)
	if err != nil || got[0] != "1780000000000000000" || got[1] != "apt_x" {
		t.Fatalf("DecodeCursor = %v, %v", got, err)
	}
	for _, tc := range []struct{ c, kind string }{
		{c, "lead"}, {"", "apt"}, {"***", "apt"}, {EncodeCursor("apt", "only-one"), "apt"},
	} {
		if _, err := DecodeCursor(tc.c, tc.kind, 2); !errors.Is(err, scheduling.ErrInvalid) {
			t.Errorf("DecodeCursor(%q, %s) error = %v, want ErrInvalid", tc.c, tc.kind, err)
		}
	}
}

func TestPageSize(t *testing.T) {
	for _, tc := range []struct{ limit, want int }{{0, DefaultLimit}, {1, 1}, {MaxLimit, MaxLimit}} {
		if got, err := (Page{Limit: tc.limit}).Size(); err != nil || got != tc.want {
			t.Errorf("Size(%d) = %d, %v; want %d", tc.limit, got, err, tc.want)
		}
	}
	for _, limit := range []int{-1, MaxLimit + 1} {
		if _, err := (Page{Limit: limit}).Size(); !errors.Is(err, scheduling.ErrInvalid) {
			t.Errorf("Size(%d) error = %v, want ErrInvalid", limit, err)
		}
	}
}

func TestNewIDSortsByTime(t *testing.T) {
	t0 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	a, b := NewID("lead", t0), NewID("lead", t0.Add(time.Millisecond))
	if !(a < b) || !strings.HasPrefix(a, "lead_") || !ValidID(a) {
		t.Errorf("NewID: %q then %q, want increasing valid IDs", a, b)
	}
	if NewID("x", t0) == NewID("x", t0) {
		t.Error("two IDs in the same millisecond are equal")
	}
	for _, id := range []string{"", "a b", "a/b", "{x}", "a:b", strings.Repeat("a", 129)} {
		if ValidID(id) {
			t.Errorf("ValidID(%q) = true", id)
		}
	}
}

func TestAPIKey(t *testing.T) {
	secret, k, err := NewAPIKey("acme", RoleSupervisor, "dashboard")
	if err != nil {
		t.Fatal(err)
	}
	id, err := APIKeyID(secret)
	if err != nil || id != k.ID {
		t.Fatalf("APIKeyID = %q, %v; want %q", id, err, k.ID)
	}
	if !k.Verify(secret) || k.Verify(secret[:len(secret)-1]) {
		t.Error("Verify is wrong")
	}
	if strings.Contains(string(k.Hash[:]), secret) {
		t.Error("hash contains the secret")
	}
	for _, bad := range []string{"", "fdk_", "fdk_abc_def", "xyz_0123456789abcdef_x", "fdk_0123456789abcdef_"} {
		if _, err := APIKeyID(bad); !errors.Is(err, scheduling.ErrInvalid) {
			t.Errorf("APIKeyID(%q) error = %v, want ErrInvalid", bad, err)
		}
	}
	if _, _, err := NewAPIKey("acme", "root", ""); !errors.Is(err, scheduling.ErrInvalid) {
		t.Errorf("NewAPIKey with role root: %v", err)
	}
	k.RevokedAt = time.Now()
	if k.Verify(secret) {
		t.Error("revoked key verifies")
	}
}

func TestMatchLead(t *testing.T) {
	l := scheduling.Lead{Name: "Ann LEE", Phone: "+12025550100", Email: "ann@example.com", Status: scheduling.LeadNew}
	for _, tc := range []struct {
		f    LeadFilter
		want bool
	}{
		{LeadFilter{}, true}, {LeadFilter{Query: "lee"}, true}, {LeadFilter{Query: "0100"}, true},
		{LeadFilter{Query: "EXAMPLE"}, true}, {LeadFilter{Query: "bob"}, false},
		{LeadFilter{Status: scheduling.LeadLost}, false}, {LeadFilter{Query: "ann", Status: scheduling.LeadNew}, true},
	} {
		if got := MatchLead(l, tc.f); got != tc.want {
			t.Errorf("MatchLead(%+v) = %v, want %v", tc.f, got, tc.want)
		}
	}
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add(EncodeCursor("apt", "1780000000000000000", "apt_x"), 2)
	f.Add(EncodeCursor("lead", "lead_1"), 1)
	f.Add("", 1)
	f.Add("AAAA", 0)
	f.Fuzz(func(t *testing.T, c string, n int) {
		n = n%4 + 1
		if n < 1 {
			n = -n + 1
		}
		key, err := DecodeCursor(c, "apt", n)
		if err != nil {
			if !errors.Is(err, scheduling.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if len(key) != n {
			t.Fatalf("got %d parts, want %d", len(key), n)
		}
	})
}
