package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
)

// BenchmarkBook measures booking throughput on one business from parallel
// goroutines (b.RunParallel): every booking takes its own minute of a
// calendar open around the clock, starting an hour from the real time now,
// so each one runs the full check-and-insert path and succeeds. The store
// must use the real clock. It reports bookings/s.
func BenchmarkBook(b *testing.B, a store.Appointments) {
	base := time.Now().Truncate(time.Minute).Add(time.Hour).UTC()
	var h scheduling.Hours
	for d := range h {
		h[d] = []scheduling.TimeRange{{Start: 0, End: 1440}}
	}
	cal := &scheduling.Calendar{Location: time.UTC, Hours: h,
		Services: []scheduling.Service{{ID: "s", Duration: time.Minute}}}
	var n atomic.Int64
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			r := scheduling.Appointment{Service: scheduling.Service{ID: "s"}, Start: base.Add(time.Duration(i) * time.Minute), CustomerName: fmt.Sprint("c", i)}
			if _, err := a.Book(ctx, "bench", cal, r); err != nil {
				b.Errorf("Book %d: %v", i, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "bookings/s")
}
