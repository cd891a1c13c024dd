package tools

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/scheduling"
)

// TestMemoryNoDoubleBooking races callers for overlapping slots: exactly
// one booking of each overlapping group may win.
func TestMemoryNoDoubleBooking(t *testing.T) {
	biz := exampleBusiness(t, "bright-smile")
	mem, err := NewMemory(biz, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	starts := []time.Time{ny(2026, 3, 11, 10, 0), ny(2026, 3, 11, 10, 15), ny(2026, 3, 11, 10, 30), ny(2026, 3, 11, 10, 45), ny(2026, 3, 11, 11, 0)}
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, conflicts := 0, 0
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := mem.Book(ctx, BookRequest{Service: "Cleaning", Start: starts[i%len(starts)], Name: fmt.Sprint("C", i), Phone: "+12125550123"})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, scheduling.ErrConflict):
				conflicts++
			default:
				t.Errorf("book: %v", err)
			}
		}()
	}
	wg.Wait()
	booked := mem.Booked()
	for i, a := range booked {
		for _, b := range booked[i+1:] {
			if a.Overlaps(b) {
				t.Errorf("double booking: %v and %v", a.Start, b.Start)
			}
		}
	}
	// Any two starts from 10:00 to 11:00 overlap: a cleaning blocks 60
	// minutes plus a 10-minute buffer.
	if won != 1 || conflicts != 19 || len(booked) != 1 {
		t.Errorf("won %d, conflicts %d, booked %d; want 1, 19, 1", won, conflicts, len(booked))
	}
}

func TestMemoryRules(t *testing.T) {
	biz := exampleBusiness(t, "bright-smile")
	mem, err := NewMemory(biz, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := mem.Book(ctx, BookRequest{Service: "Filling", Start: ny(2026, 3, 12, 13, 0), Name: "Ann", Phone: "+12125550123"})
	if err != nil {
		t.Fatal(err)
	}
	// Touching the buffer's end does not overlap.
	if _, err := mem.Book(ctx, BookRequest{Service: "Filling", Start: ny(2026, 3, 12, 14, 10), Name: "Bo", Phone: "+12125550124"}); err != nil {
		t.Errorf("booking right after the buffer: %v", err)
	}
	var ce *scheduling.ConflictError
	if _, err := mem.Book(ctx, BookRequest{Service: "Filling", Start: ny(2026, 3, 12, 14, 0), Name: "Cy", Phone: "+12125550125"}); !errors.As(err, &ce) || len(ce.Next) == 0 {
		t.Errorf("booking inside the buffer: %v", err)
	}
	if _, err := mem.Book(ctx, BookRequest{Service: "Massage", Start: ny(2026, 3, 12, 9, 0), Name: "Cy"}); !errors.Is(err, scheduling.ErrInvalid) {
		t.Errorf("unknown service: %v", err)
	}
	if _, err := mem.Book(ctx, BookRequest{Service: "Filling", Start: ny(2026, 3, 12, 9, 0), Name: "Cy", Reschedule: "nope"}); !errors.Is(err, scheduling.ErrNotFound) {
		t.Errorf("reschedule unknown: %v", err)
	}
	if _, err := mem.Cancel(ctx, "nope"); !errors.Is(err, scheduling.ErrNotFound) {
		t.Errorf("cancel unknown: %v", err)
	}
	slots, err := mem.Availability(ctx, "filling", ny(2026, 3, 12, 12, 0), ny(2026, 3, 12, 17, 0))
	if err != nil || len(slots) == 0 || !slots[0].Start.Equal(ny(2026, 3, 12, 15, 30)) {
		// 13:00-14:10 and 14:10-15:20 are taken; starts step by 15
		// minutes from 13:00, so 15:30 is the first free one.
		t.Errorf("availability after bookings = %v, %v", slots, err)
	}
	if _, err := mem.Cancel(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if len(mem.All()) != 2 || len(mem.Booked()) != 1 {
		t.Errorf("all %d, booked %d", len(mem.All()), len(mem.Booked()))
	}
	if _, err := mem.UpsertLead(ctx, scheduling.Lead{Phone: "2125550123"}); !errors.Is(err, scheduling.ErrInvalid) {
		t.Errorf("lead with a national number: %v", err)
	}
}
