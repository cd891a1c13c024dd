package sqlite_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/store/sqlite"
	"github.com/frontdesk/frontdesk/store/storetest"
)

func open(t testing.TB, dir string, now func() time.Time) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), dir, sqlite.Options{Now: now})
	if err != nil {
		t.Fatalf("open SQLite store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t testing.TB, now func() time.Time) store.Store {
		return open(t, t.TempDir(), now)
	})
}

// TestTwoHandlesOneFile books through two Store values on the same file,
// as two processes would: the file lock, not the in-process writer queue,
// must keep them from double booking.
func TestTwoHandlesOneFile(t *testing.T) {
	dir := t.TempDir()
	clk := storetest.NewClock(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	a, b := open(t, dir, clk.Now), open(t, dir, clk.Now)
	var h scheduling.Hours
	for d := range h {
		h[d] = []scheduling.TimeRange{{Start: 0, End: 1440}}
	}
	cal := &scheduling.Calendar{Location: time.UTC, Hours: h, Services: []scheduling.Service{{ID: "s", Duration: time.Hour}}}
	ctx := context.Background()
	const n = 20
	errs := make(chan error, 2*n)
	ready := make(chan struct{})
	for i := range 2 * n {
		s := a
		if i%2 == 1 {
			s = b
		}
		go func() {
			<-ready
			_, err := s.Appointments().Book(ctx, "biz", cal, scheduling.Appointment{
				Service: scheduling.Service{ID: "s"}, Start: time.Date(2026, 6, 2, 10, 0, 0, 0, time.UTC), CustomerName: "x"})
			errs <- err
		}()
	}
	close(ready)
	ok := 0
	for range 2 * n {
		err := <-errs
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, scheduling.ErrConflict):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d bookings of one slot through two handles succeeded, want 1", ok)
	}
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Businesses().Create(ctx, store.BusinessRecord{ID: "acme", Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	s2 := open(t, dir, nil)
	if _, err := s2.Businesses().Get(ctx, "acme"); err != nil {
		t.Fatalf("after reopen: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := sqlite.Open(context.Background(), "", sqlite.Options{}); err == nil {
		t.Error("Open(\"\") succeeded")
	}
	if _, err := sqlite.Open(context.Background(), t.TempDir()+"/what?", sqlite.Options{}); err == nil {
		t.Error("Open with '?' in the path succeeded")
	}
}

func BenchmarkBook(b *testing.B) {
	storetest.BenchmarkBook(b, open(b, b.TempDir(), nil).Appointments())
}
