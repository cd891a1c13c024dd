package server

import (
	"context"
	"fmt"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
)

// BenchmarkAvailabilityMonth asks the HTTP API for a month of free slots
// of a busy calendar: open 08:00-20:00 every day, a 30 minute checkup
// booked at the top of every hour (360 appointments), candidates every
// 15 minutes; what is left is one slot an hour, at half past.
func BenchmarkAvailabilityMonth(b *testing.B) {
	e := newAPI(b, "sqlite")
	ctx := context.Background()
	entry, err := e.srv.api.reg.get(ctx, "clinic")
	if err != nil {
		b.Fatal(err)
	}
	ny := entry.cal.Location
	first := day(ny, 1, 0, 0)
	for d := range 30 {
		for h := 8; h < 20; h++ {
			start := day(ny, 1+d, h, 0)
			if _, err := e.st.Appointments().Book(ctx, "clinic", entry.cal, scheduling.Appointment{
				Service: scheduling.Service{ID: "checkup"}, Start: start, CustomerName: "busy",
			}); err != nil {
				b.Fatal(err)
			}
		}
	}
	key := e.key("clinic", store.RoleReadonly)
	path := "/v1/availability?" + url.Values{"service": {"checkup"}, "from": {first.Format(time.DateOnly)},
		"to": {first.AddDate(0, 0, 29).Format(time.DateOnly)}}.Encode()
	var av availabilityView
	e.must(200, "GET", path, key, nil).json(b, &av)
	if len(av.Slots) != 30*12 {
		b.Fatalf("%d free slots in the month, want %d", len(av.Slots), 30*12)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if r := e.do("GET", path, key, nil); r.status != 200 {
			b.Fatal(r)
		}
	}
}

// BenchmarkBookHTTP measures booking throughput through the HTTP API on
// each backend, from parallel clients; every booking takes its own
// minute and succeeds.
func BenchmarkBookHTTP(b *testing.B) {
	yaml := `
server: {public_url: "http://127.0.0.1:1", operator_key: "` + testOperatorKey + `"}
twilio: {auth_token: testtoken0123456789}
businesses:
  - id: bench
    name: Bench
    time_zone: UTC
    plan: starter
    hours: {monday: ["00:00-24:00"], tuesday: ["00:00-24:00"], wednesday: ["00:00-24:00"], thursday: ["00:00-24:00"], friday: ["00:00-24:00"], saturday: ["00:00-24:00"], sunday: ["00:00-24:00"]}
    services: [{name: Quick, duration: 1m}]
`
	for _, backend := range []string{"sqlite", "redis"} {
		b.Run(backend, func(b *testing.B) {
			e := newAPIWith(b, backend, yaml)
			key := e.key("bench", store.RoleSupervisor)
			base := time.Now().UTC().Truncate(time.Minute).Add(time.Hour)
			var n atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					r := e.do("POST", "/v1/appointments", key, map[string]string{
						"service": "quick", "start": base.Add(time.Duration(i) * time.Minute).Format(time.RFC3339), "customer_name": fmt.Sprint("c", i),
					})
					if r.status != 201 {
						b.Errorf("booking %d: %s", i, r)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "bookings/s")
		})
	}
}
