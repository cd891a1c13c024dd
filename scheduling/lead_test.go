package scheduling

import (
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
)

func TestLeadNormalize(t *testing.T) {
	l, err := Lead{Name: " Ann ", Phone: "(202) 555-0100", Email: "ann@example.com"}.Normalize("US")
	if err != nil {
		t.Fatal(err)
	}
	if l.Name != "Ann" || l.Phone != "+12025550100" || l.Source != SourceAPI || l.Status != LeadNew {
		t.Errorf("normalized = %+v", l)
	}
	for _, tc := range []struct {
		name string
		l    Lead
	}{
		{"empty", Lead{}},
		{"bad email", Lead{Name: "x", Email: "not an email"}},
		{"email with display name", Lead{Name: "x", Email: "Ann <ann@example.com>"}},
		{"bad phone", Lead{Phone: "+1 555"}},
		{"bad source", Lead{Name: "x", Source: "fax"}},
		{"bad status", Lead{Name: "x", Status: "hot"}},
		{"score too high", Lead{Name: "x", Score: 101}},
		{"invalid UTF-8", Lead{Name: "\xff"}},
	} {
		if _, err := tc.l.Normalize("US"); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error = %v, want ErrInvalid", tc.name, err)
		}
	}
}

func TestLeadMerge(t *testing.T) {
	old := Lead{ID: "l1", Name: "Ann", Phone: "+12025550100", Notes: "wants a cut", Source: SourceCall,
		Status: LeadBooked, Score: 40, CallIDs: []string{"c1"}, AppointmentIDs: []string{"a1"}}
	got := old.Merge(Lead{Name: "Ann Lee", Email: "ann@example.com", Notes: "asked about colour", Source: SourceAPI,
		Status: LeadNew, CallIDs: []string{"c1", "c2"}})
	if got.ID != "l1" || got.Name != "Ann Lee" || got.Email != "ann@example.com" || got.Source != SourceCall {
		t.Errorf("merged identity = %+v", got)
	}
	if got.Status != LeadBooked {
		t.Errorf("status = %q: a repeat call must not demote a booked lead", got.Status)
	}
	if got.Score != 40 {
		t.Errorf("score = %d, want 40 kept", got.Score)
	}
	if got.Notes != "wants a cut\nasked about colour" {
		t.Errorf("notes = %q", got.Notes)
	}
	if !slices.Equal(got.CallIDs, []string{"c1", "c2"}) || !slices.Equal(got.AppointmentIDs, []string{"a1"}) {
		t.Errorf("links = %v %v", got.CallIDs, got.AppointmentIDs)
	}
	if !slices.Equal(old.CallIDs, []string{"c1"}) {
		t.Errorf("Merge modified its receiver: %v", old.CallIDs)
	}
	if again := got.Merge(Lead{Notes: "asked about colour"}); again.Notes != got.Notes {
		t.Errorf("repeated note appended twice: %q", again.Notes)
	}
	if lost := got.Merge(Lead{Status: LeadLost}); lost.Status != LeadLost {
		t.Errorf("explicit status = %q, want lost", lost.Status)
	}
	if b := (Lead{Status: LeadQualified}).WithAppointment("a9"); b.Status != LeadBooked || b.AppointmentIDs[0] != "a9" {
		t.Errorf("WithAppointment = %+v", b)
	}
}

func TestLogValueRedacts(t *testing.T) {
	var sb strings.Builder
	log := slog.New(slog.NewTextHandler(&sb, nil))
	log.Info("x", "lead", Lead{ID: "l1", Name: "Ann Lee", Phone: "+12025550100"},
		"appt", Appointment{ID: "a1", CustomerName: "Ann Lee", Phone: "+12025550100"})
	out := sb.String()
	if strings.Contains(out, "Ann") || strings.Contains(out, "2025550100") {
		t.Errorf("log leaks personal data: %s", out)
	}
	if !strings.Contains(out, "l1") || !strings.Contains(out, "a1") {
		t.Errorf("log lacks IDs: %s", out)
	}
}
