package server

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/agent/tools"
	"github.com/frontdesk/frontdesk/configs"
	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/store/sqlite"
)

// TestStoreBackend books through the agent's backend into a real SQLite
// store: the booking shows in availability and in the store, the caller
// becomes a linked lead, and a second booking of the slot is a conflict
// with next free slots.
func TestStoreBackend(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	cfg, err := configs.Load(filepath.Join(filepath.Dir(file), "..", "configs", "example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	biz, _ := cfg.Business("bright-smile")
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ny := biz.Location()
	now := time.Date(2026, 11, 22, 19, 0, 0, 0, ny) // Sunday evening
	be, err := newStoreBackend(st, biz, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	var _ tools.Backend = be
	svc := biz.Services[0].Name
	monday8 := time.Date(2026, 11, 23, 8, 0, 0, 0, ny)
	slots, err := be.Availability(ctx, svc, monday8, monday8.Add(4*time.Hour))
	if err != nil || len(slots) == 0 || !slots[0].Start.Equal(monday8) {
		t.Fatalf("availability %v, %v: want Monday 8:00 free", slots, err)
	}
	a, err := be.Book(ctx, tools.BookRequest{Service: svc, Start: monday8, Name: "Sarah Johnson", Phone: "+12125550123"})
	if err != nil {
		t.Fatalf("book: %v", err)
	}
	if got, err := st.Appointments().Get(ctx, biz.ID, a.ID); err != nil || got.Phone != "+12125550123" {
		t.Errorf("stored appointment %+v, %v", got, err)
	}
	slots, _ = be.Availability(ctx, svc, monday8, monday8.Add(4*time.Hour))
	if len(slots) > 0 && slots[0].Start.Equal(monday8) {
		t.Errorf("Monday 8:00 still offered after booking")
	}
	_, err = be.Book(ctx, tools.BookRequest{Service: svc, Start: monday8, Name: "Other", Phone: "+12125550124"})
	var ce *scheduling.ConflictError
	if !errors.As(err, &ce) || len(ce.Next) == 0 {
		t.Errorf("second booking of the slot: %v, want a conflict with next slots", err)
	}
	mine, err := be.Appointments(ctx, "+12125550123")
	if err != nil || len(mine) != 1 || mine[0].ID != a.ID {
		t.Errorf("appointments of the caller: %v, %v", mine, err)
	}
	leads, _, err := st.Leads().List(ctx, biz.ID, store.LeadFilter{}, store.Page{})
	if err != nil || len(leads) != 1 || len(leads[0].AppointmentIDs) != 1 || leads[0].Status != scheduling.LeadBooked {
		t.Errorf("leads %+v, %v: want one booked lead linked to the appointment", leads, err)
	}
	if _, err := be.Cancel(ctx, a.ID); err != nil {
		t.Errorf("cancel: %v", err)
	}
	if mine, _ := be.Appointments(ctx, "+12125550123"); len(mine) != 0 {
		t.Errorf("cancelled appointment still listed: %v", mine)
	}
}
