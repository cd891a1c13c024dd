package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/internal/leaktest"
	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
)

func TestAppointmentsLifecycle(t *testing.T) {
	e := newAPI(t, "sqlite")
	ny := newYork(t)
	sup := e.key("clinic", store.RoleSupervisor)
	start := day(ny, 3, 10, 0)

	var av availabilityView
	q := url.Values{"service": {"Cleaning"}, "from": {start.Format(time.DateOnly)}, "to": {start.Format(time.DateOnly)}}
	e.must(200, "GET", "/v1/availability?"+q.Encode(), sup, nil).json(t, &av)
	// 08:00-20:00 with a 60 minute service every 15 minutes: 08:00 to 19:00.
	if len(av.Slots) != 45 || av.Slots[0].Start != day(ny, 3, 8, 0).Format(time.RFC3339) || av.TimeZone != "America/New_York" {
		t.Fatalf("availability: %d slots, first %+v, zone %s", len(av.Slots), av.Slots[0], av.TimeZone)
	}

	// Book with a local time and a national phone number.
	var a appointmentView
	r := e.must(201, "POST", "/v1/appointments", sup, map[string]string{
		"service": "cleaning", "start": start.Format("2006-01-02T15:04"), "customer_name": "Ana Lima", "phone": "(212) 555-0199",
	}, "Idempotency-Key", "k1")
	r.json(t, &a)
	if a.Start != start.Format(time.RFC3339) || a.Phone != "+12125550199" || a.Status != "booked" || a.Service.ID != "cleaning" || a.Service.BufferMinutes != 10 {
		t.Fatalf("booked %+v", a)
	}
	if r.header.Get("Location") != "/v1/appointments/"+a.ID {
		t.Errorf("Location = %q", r.header.Get("Location"))
	}
	// The same key replays the same appointment; with another request it is refused.
	var again appointmentView
	r = e.must(201, "POST", "/v1/appointments", sup, map[string]string{
		"service": "cleaning", "start": start.Format("2006-01-02T15:04"), "customer_name": "Ana Lima", "phone": "(212) 555-0199",
	}, "Idempotency-Key", "k1")
	r.json(t, &again)
	if again.ID != a.ID || r.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay gave %s (replayed %q), want %s", again.ID, r.header.Get("Idempotent-Replayed"), a.ID)
	}
	if r := e.must(409, "POST", "/v1/appointments", sup, map[string]string{
		"service": "cleaning", "start": start.Add(time.Hour).Format(time.RFC3339), "customer_name": "Ana Lima",
	}, "Idempotency-Key", "k1"); r.errorCode() != "duplicate" {
		t.Errorf("reused key: %s", r)
	}

	// The slot is gone from availability, buffer included (10:00-11:10).
	e.must(200, "GET", "/v1/availability?"+q.Encode(), sup, nil).json(t, &av)
	for _, sl := range av.Slots {
		s, _ := time.Parse(time.RFC3339, sl.Start)
		if s.Before(start.Add(70*time.Minute)) && s.Add(time.Hour).After(start) {
			t.Errorf("slot %s overlaps the booking", sl.Start)
		}
	}

	// Taken: 409 with the next free slots.
	r = e.must(409, "POST", "/v1/appointments", sup, map[string]string{
		"service": "checkup", "start": start.Add(30 * time.Minute).Format(time.RFC3339), "customer_name": "Bo",
	})
	var ae apiError
	r.json(t, &ae)
	if ae.Error.Code != "slot_taken" || len(ae.Error.Next) == 0 || ae.Error.Next[0].Start != start.Add(75*time.Minute).Format(time.RFC3339) {
		t.Errorf("conflict: %s", r)
	}

	// Two more, then list by range with a cursor.
	for i, h := range []int{13, 15} {
		e.must(201, "POST", "/v1/appointments", sup, map[string]string{
			"service": "checkup", "start": day(ny, 3, h, 0).Format(time.RFC3339), "customer_name": fmt.Sprint("C", i),
		})
	}
	var ids []string
	cursor := ""
	for page := 0; page < 5; page++ {
		var l list[appointmentView]
		e.must(200, "GET", "/v1/appointments?limit=2&from="+start.Format(time.DateOnly)+"&to="+start.Format(time.DateOnly)+"&cursor="+cursor, sup, nil).json(t, &l)
		for _, it := range l.Items {
			ids = append(ids, it.ID)
		}
		if cursor = l.NextCursor; cursor == "" {
			break
		}
	}
	if len(ids) != 3 || ids[0] != a.ID {
		t.Fatalf("listed %v", ids)
	}

	// Reschedule (PATCH and POST), cancel (DELETE and POST).
	moved := day(ny, 4, 9, 0)
	e.must(200, "PATCH", "/v1/appointments/"+a.ID, sup, map[string]string{"start": moved.Format(time.RFC3339)}).json(t, &a)
	if a.Start != moved.Format(time.RFC3339) {
		t.Errorf("rescheduled to %s, want %s", a.Start, moved.Format(time.RFC3339))
	}
	e.must(200, "POST", "/v1/appointments/"+a.ID+"/reschedule", sup, map[string]string{"start": moved.Add(time.Hour).Format("2006-01-02T15:04")}).json(t, &a)
	if a.Start != moved.Add(time.Hour).Format(time.RFC3339) {
		t.Errorf("rescheduled to %s", a.Start)
	}
	e.must(200, "DELETE", "/v1/appointments/"+a.ID, sup, nil).json(t, &a)
	if a.Status != "cancelled" {
		t.Errorf("status after DELETE = %s", a.Status)
	}
	e.must(200, "POST", "/v1/appointments/"+ids[1]+"/cancel", sup, nil)
	var l list[appointmentView]
	e.must(200, "GET", "/v1/appointments?status=booked", sup, nil).json(t, &l)
	if len(l.Items) != 1 || l.Items[0].ID != ids[2] {
		t.Errorf("booked after cancels: %+v", l.Items)
	}
	// Moving a cancelled appointment is refused.
	e.must(400, "PATCH", "/v1/appointments/"+a.ID, sup, map[string]string{"start": moved.Format(time.RFC3339)})
	// Readonly keys read but do not write.
	ro := e.key("clinic", store.RoleReadonly)
	e.must(200, "GET", "/v1/appointments/"+a.ID, ro, nil)
	e.must(403, "DELETE", "/v1/appointments/"+ids[2], ro, nil)
}

// nextTransition returns the first daylight-saving change in loc after
// t, and whether clocks go forward.
func nextTransition(t *testing.T, loc *time.Location, after time.Time) (time.Time, bool) {
	_, end := after.In(loc).ZoneBounds()
	if end.IsZero() {
		t.Fatalf("%s has no transition after %v", loc, after)
	}
	_, before := end.Add(-time.Second).In(loc).Zone()
	_, afterOff := end.In(loc).Zone()
	return end, afterOff > before
}

// TestAvailabilityAcrossDST asks the API for slots on the next two
// daylight-saving changes in New York: every slot lasts exactly the
// service's duration, none starts in the skipped hour, and offsets are
// right on both sides.
func TestAvailabilityAcrossDST(t *testing.T) {
	yaml := `
server: {public_url: "http://127.0.0.1:1", operator_key: "` + testOperatorKey + `"}
twilio: {auth_token: testtoken0123456789}
businesses:
  - id: night
    name: Night Clinic
    time_zone: America/New_York
    plan: starter
    hours: {sunday: ["00:00-04:00"]}
    services: [{name: Visit, duration: 60m}]
`
	e := newAPIWith(t, "sqlite", yaml)
	ny := newYork(t)
	key := e.key("night", store.RoleSupervisor)
	at := time.Now()
	for range 2 {
		tr, forward := nextTransition(t, ny, at)
		at = tr.Add(time.Hour)
		date := tr.In(ny).Format(time.DateOnly)
		var av availabilityView
		e.must(200, "GET", "/v1/availability?service=visit&from="+date+"&to="+date, key, nil).json(t, &av)
		// Open 00:00-04:00 wall time: 3 hours of real time on the
		// spring-forward day, 5 on the fall-back day; 60 minute slots
		// every 15 minutes.
		want := 9
		if !forward {
			want = 17
		}
		if len(av.Slots) != want {
			t.Errorf("%s (forward %v): %d slots, want %d: %v", date, forward, len(av.Slots), want, av.Slots)
		}
		seen := map[time.Time]bool{}
		for _, sl := range av.Slots {
			s, err1 := time.Parse(time.RFC3339, sl.Start)
			en, err2 := time.Parse(time.RFC3339, sl.End)
			if err1 != nil || err2 != nil || en.Sub(s) != time.Hour || seen[s.UTC()] {
				t.Errorf("slot %+v: not one distinct hour", sl)
			}
			seen[s.UTC()] = true
			// The offset printed is the zone's at that instant.
			if _, off := s.Zone(); off != func() int { _, o := s.In(ny).Zone(); return o }() {
				t.Errorf("slot %s has the wrong offset", sl.Start)
			}
			if forward && s.In(ny).Hour() == 2 {
				t.Errorf("slot %s starts in the skipped hour", sl.Start)
			}
		}
		// Book across the change: 01:30 local, one hour of real time.
		start := time.Date(tr.In(ny).Year(), tr.In(ny).Month(), tr.In(ny).Day(), 1, 30, 0, 0, ny)
		var a appointmentView
		e.must(201, "POST", "/v1/appointments", key, map[string]string{"service": "Visit", "start": start.Format(time.RFC3339), "customer_name": "DST"}).json(t, &a)
		s, _ := time.Parse(time.RFC3339, a.Start)
		en, _ := time.Parse(time.RFC3339, a.End)
		if en.Sub(s) != time.Hour {
			t.Errorf("appointment %s-%s is not an hour long", a.Start, a.End)
		}
	}
}

// TestConcurrentBooking: 50 concurrent requests for one slot, on each
// backend: exactly one 201, every other a 409 with the next free slots,
// and one appointment in the store.
func TestConcurrentBooking(t *testing.T) {
	leaktest.Check(t)
	for _, backend := range []string{"sqlite", "redis"} {
		t.Run(backend, func(t *testing.T) {
			e := newAPI(t, backend)
			key := e.key("clinic", store.RoleSupervisor)
			start := day(newYork(t), 5, 11, 0)
			const n = 50
			var wg sync.WaitGroup
			results := make([]resp, n)
			ready := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-ready
					results[i] = e.do("POST", "/v1/appointments", key, map[string]string{
						"service": "Cleaning", "start": start.Format(time.RFC3339), "customer_name": fmt.Sprint("caller ", i),
					})
				}()
			}
			close(ready)
			wg.Wait()
			created, conflicts := 0, 0
			for _, r := range results {
				switch r.status {
				case http.StatusCreated:
					created++
				case http.StatusConflict:
					conflicts++
					var ae apiError
					r.json(t, &ae)
					if ae.Error.Code != "slot_taken" || len(ae.Error.Next) == 0 {
						t.Errorf("409 without next slots: %s", r)
					}
				default:
					t.Errorf("unexpected answer %s", r)
				}
			}
			if created != 1 || conflicts != n-1 {
				t.Fatalf("%d created, %d conflicts; want 1 and %d", created, conflicts, n-1)
			}
			booked, err := store.Booked(context.Background(), e.st.Appointments(), "clinic", start, start.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if len(booked) != 1 || !booked[0].Start.Equal(start) || booked[0].Status != scheduling.StatusBooked {
				t.Errorf("store holds %d appointments around the slot: %+v", len(booked), booked)
			}
		})
	}
}
