package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/frontdesk/frontdesk/agent/tools"
	"github.com/frontdesk/frontdesk/internal/leaktest"
	"github.com/frontdesk/frontdesk/scheduling"
)

// TestPhoneBookingSMS: an appointment the agent books or moves on the
// phone gets the SMS confirmation an API booking gets, sent in the
// background: the booking returns while Twilio has not answered, and a
// Twilio failure is stored and counted while the booking stands.
func TestPhoneBookingSMS(t *testing.T) {
	leaktest.Check(t)
	tw := &fakeTwilio{}
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release // Twilio is slow until the test says otherwise
		tw.ServeHTTP(w, r)
	}))
	defer ts.Close()
	yaml := strings.Replace(testConfig("Hi."), "twilio:\n  auth_token: testtoken0123456789",
		"twilio:\n  account_sid: "+testAccountSID+"\n  auth_token: "+testAuthToken+"\n  sms_from: \""+testSMSFrom+"\"", 1)
	e := newAPIWith(t, "sqlite", yaml, WithTwilioAPI(ts.URL, time.Millisecond))
	s := e.srv
	biz, ok := s.businessByID(context.Background(), "clinic")
	if !ok {
		t.Fatal("no business clinic")
	}
	be, err := s.agent.backends.get(s, biz)
	if err != nil {
		t.Fatal(err)
	}
	ny := newYork(t)
	ctx := context.Background()
	book := func(req tools.BookRequest) scheduling.Appointment {
		t.Helper()
		type result struct {
			a   scheduling.Appointment
			err error
		}
		done := make(chan result, 1)
		go func() {
			a, err := be.Book(ctx, req)
			done <- result{a, err}
		}()
		select {
		case r := <-done:
			if r.err != nil {
				t.Fatalf("book %+v: %v", req, r.err)
			}
			return r.a
		case <-time.After(5 * time.Second):
			close(release)
			t.Fatal("the phone booking waited for Twilio")
			return scheduling.Appointment{}
		}
	}
	ok1 := book(tools.BookRequest{Service: "Checkup", Start: day(ny, 2, 9, 0), Name: "Ana", Phone: "+12125550101"})
	bad := book(tools.BookRequest{Service: "Checkup", Start: day(ny, 2, 10, 0), Name: "Bo", Phone: "+12125550104"})
	moved := book(tools.BookRequest{Reschedule: ok1.ID, Start: day(ny, 2, 11, 0)})
	close(release)
	s.agent.background.Wait()

	apps := s.api.store.Appointments()
	got, err := apps.Get(ctx, "clinic", ok1.ID)
	if err != nil || got.SMSStatus != scheduling.SMSSent || !got.Start.Equal(moved.Start) {
		t.Errorf("booked then moved: %+v, %v; want sms sent, start %v", got, err, moved.Start)
	}
	got, err = apps.Get(ctx, "clinic", bad.ID)
	if err != nil || got.SMSStatus != scheduling.SMSFailed || !strings.Contains(got.SMSError, "20503") || got.Status != scheduling.StatusBooked {
		t.Errorf("booking with a failing SMS: %+v, %v; want booked, sms failed with Twilio's 20503", got, err)
	}
	tw.mu.Lock()
	var bodies []string
	for _, m := range tw.got {
		if m["To"] == "+12125550101" {
			bodies = append(bodies, m["Body"])
		}
	}
	errs := tw.errs
	tw.mu.Unlock()
	if len(errs) > 0 {
		t.Errorf("fake Twilio saw bad requests: %v", errs)
	}
	if len(bodies) != 2 || !strings.Contains(bodies[0]+bodies[1], "your Checkup is booked for") || !strings.Contains(bodies[0]+bodies[1], "your Checkup has moved to") && !strings.Contains(bodies[0]+bodies[1], "your Checkup has moved for") {
		t.Errorf("messages to the caller %q, want a booking and a move confirmation", bodies)
	}
	if n := tw.count("+12125550104"); n != smsAttempts {
		t.Errorf("%d attempts for the failing number, want %d", n, smsAttempts)
	}
	if sent, failed := counterValue(s.metrics.sms.WithLabelValues("call", "sent")), counterValue(s.metrics.sms.WithLabelValues("call", "failed")); sent != 2 || failed != 1 {
		t.Errorf("sms counters from calls: sent %v, failed %v; want 2 and 1", sent, failed)
	}
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}
