package tools

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/agent"
	"github.com/frontdesk/frontdesk/scheduling"
)

// now is Tuesday, March 10, 2026, 9:00 in New York (EDT).
var now = ny(2026, 3, 10, 9, 0)

func TestDefinitions(t *testing.T) {
	defs := Definitions()
	seen := map[string]bool{}
	f := newFixture(t, "bright-smile", now)
	for _, d := range defs {
		if seen[d.Name] {
			t.Errorf("tool %q defined twice", d.Name)
		}
		seen[d.Name] = true
		if d.Description == "" {
			t.Errorf("%s has no description", d.Name)
		}
		var schema struct {
			Type       string                     `json:"type"`
			Properties map[string]json.RawMessage `json:"properties"`
			Required   []string                   `json:"required"`
		}
		if err := json.Unmarshal(d.Parameters, &schema); err != nil || schema.Type != "object" {
			t.Errorf("%s: schema is not a JSON object schema: %v", d.Name, err)
		}
		for _, r := range schema.Required {
			if _, ok := schema.Properties[r]; !ok {
				t.Errorf("%s: required %q is not a property", d.Name, r)
			}
		}
		// Every defined tool is executable: none is "unknown".
		var er ErrorResult
		f.run(d.Name, "{}", &er)
		if strings.Contains(er.Error, "unknown tool") {
			t.Errorf("%s is defined but not executed", d.Name)
		}
	}
	if len(defs) != 9 {
		t.Errorf("%d tools, want 9", len(defs))
	}
}

func TestBadCalls(t *testing.T) {
	f := newFixture(t, "bright-smile", now)
	f.mustFail("no_such_tool", "{}", CodeInvalid)
	f.mustFail(SearchFAQ, "[1,2]", CodeInvalid)
	f.mustFail(SearchFAQ, `{"question": 5}`, CodeInvalid)
	f.mustFail(SearchFAQ, `{"question": "  "}`, CodeInvalid)
	f.mustFail(GetHours, `{"date": "March 3rd"}`, CodeInvalid)
	f.mustFail(CheckAvailability, `{"service": "Massage"}`, CodeInvalid)
	f.mustFail(CheckAvailability, `{"service": "Cleaning", "days": 30}`, CodeInvalid)
	f.mustFail(CheckAvailability, `{"service": "Cleaning", "after": "14:00", "before": "10:00"}`, CodeInvalid)
	f.mustFail(CheckAvailability, `{"service": "Cleaning", "after": "2pm"}`, CodeInvalid)
	f.mustFail(BookAppointment, `{"service": "Cleaning", "start": "tomorrow", "name": "A", "phone": "2125550123"}`, CodeInvalid)
	f.mustFail(BookAppointment, `{"service": "Cleaning", "start": "2026-03-11T10:00:00-04:00", "name": "", "phone": "2125550123"}`, CodeInvalid)
	f.mustFail(BookAppointment, `{"service": "Cleaning", "start": "2026-03-11T10:00:00-04:00", "name": "A", "phone": "12345"}`, CodeInvalid)
	f.mustFail(UpdateLead, `{}`, CodeInvalid)
	f.mustFail(UpdateLead, `{"name": "A", "email": "not an email"}`, CodeInvalid)
	// A nil Arguments is an empty object.
	res := f.exec.Execute(context.Background(), agent.ToolCall{Name: EndCall})
	if res.Err != nil || res.Action.Kind != ActionEndCall {
		t.Errorf("end_call with nil arguments = %+v", res)
	}
}

func TestGetHoursAndFAQ(t *testing.T) {
	f := newFixture(t, "bright-smile", now)
	var h HoursResult
	f.run(GetHours, GetHoursArgs{Date: "2026-12-25"}, &h)
	if !h.OpenNow || h.Now != "2026-03-10T09:00:00-04:00" || h.Date == nil || h.Date.Closure != "Christmas" || !strings.Contains(h.Summary, "8 AM to noon") {
		t.Errorf("get_hours = %+v", h)
	}
	var faq FAQResult
	f.run(SearchFAQ, SearchFAQArgs{Question: "is there parking"}, &faq)
	if !faq.Found || !strings.Contains(faq.Answer, "parking garage") {
		t.Errorf("search_faq parking = %+v", faq)
	}
	var none FAQResult
	f.run(SearchFAQ, SearchFAQArgs{Question: "do you sell pizza"}, &none)
	if none.Found || none.Answer != "" {
		t.Errorf("search_faq pizza = %+v", none)
	}
}

func TestCheckAvailability(t *testing.T) {
	f := newFixture(t, "bright-smile", now)
	var a AvailabilityResult
	f.run(CheckAvailability, CheckAvailabilityArgs{Service: "cleaning", Date: "2026-03-11", After: "13:00", Limit: 3}, &a)
	want := []string{"2026-03-11T13:00:00-04:00", "2026-03-11T13:15:00-04:00", "2026-03-11T13:30:00-04:00"}
	if a.Service != "Cleaning" || len(a.Slots) != 3 || len(a.Next) != 0 {
		t.Fatalf("availability = %+v", a)
	}
	for i, s := range a.Slots {
		if s.Start != want[i] {
			t.Errorf("slot %d starts %s, want %s", i, s.Start, want[i])
		}
	}
	if a.Slots[0].Spoken != "Wednesday, March 11 at 1 PM" || a.Slots[0].End != "2026-03-11T14:00:00-04:00" {
		t.Errorf("slot 0 = %+v", a.Slots[0])
	}
	// Today defaults to the clock's day and never offers the past.
	f.run(CheckAvailability, CheckAvailabilityArgs{Service: "Filling"}, &a)
	if a.Date != "2026-03-10" || len(a.Slots) == 0 || a.Slots[0].Start != "2026-03-10T09:00:00-04:00" {
		t.Errorf("today = %+v", a)
	}
	// Sunday is closed: the reason and the next free slots, an hour apart.
	f.run(CheckAvailability, CheckAvailabilityArgs{Service: "Cleaning", Date: "2026-03-15"}, &a)
	if len(a.Slots) != 0 || a.Closed != "closed on Sundays" || len(a.Next) != 3 ||
		a.Next[0].Start != "2026-03-16T08:00:00-04:00" || a.Next[1].Start != "2026-03-16T09:00:00-04:00" {
		t.Errorf("Sunday = %+v", a)
	}
	// A closure names its reason.
	f.run(CheckAvailability, CheckAvailabilityArgs{Service: "Cleaning", Date: "2026-12-24"}, &a)
	if a.Closed != "Christmas" || len(a.Next) == 0 || a.Next[0].Start != "2026-12-28T08:00:00-05:00" {
		t.Errorf("Christmas Eve = %+v", a)
	}
	// Several days.
	f.run(CheckAvailability, CheckAvailabilityArgs{Service: "New patient visit", Date: "2026-03-13", Days: 2, After: "10:00", Before: "11:00", Limit: 20}, &a)
	days := map[string]int{}
	for _, s := range a.Slots {
		days[s.Start[:10]]++
	}
	// The 90-minute visit must end by noon on Friday and by 1 PM on Saturday.
	if days["2026-03-13"] != 3 || days["2026-03-14"] != 4 {
		t.Errorf("two days of 10:00-11:00 starts = %v", days)
	}
}

func TestBookConflictCancel(t *testing.T) {
	f := newFixture(t, "bright-smile", now)
	var b BookResult
	f.run(BookAppointment, BookAppointmentArgs{Service: "Cleaning", Start: "2026-03-11T10:00:00-04:00", Name: "Ann Lee", Phone: "(212) 555-0123"}, &b)
	if b.Appointment.ID == "" || b.Appointment.Phone != "+12125550123" || b.Appointment.Spoken != "Wednesday, March 11 at 10 AM" {
		t.Fatalf("book = %+v", b)
	}
	// 10:45 overlaps 10:00-11:00 plus the 10-minute buffer; so does 10:30.
	for _, start := range []string{"2026-03-11T10:45:00-04:00", "2026-03-11T10:30"} {
		er := f.mustFail(BookAppointment, BookAppointmentArgs{Service: "Exam and X-rays", Start: start, Name: "Bo", Phone: "+12125550124"}, CodeConflict)
		if len(er.Next) == 0 || er.Next[0].Start != "2026-03-11T11:15:00-04:00" {
			t.Errorf("conflict at %s: next = %+v, want 11:15 first (after the buffer)", start, er.Next)
		}
	}
	// Outside hours and in the past.
	f.mustFail(BookAppointment, BookAppointmentArgs{Service: "Cleaning", Start: "2026-03-11T11:30:00-04:00", Name: "Bo", Phone: "+12125550124"}, CodeOutsideHours)
	f.mustFail(BookAppointment, BookAppointmentArgs{Service: "Cleaning", Start: "2026-03-09T10:00:00-04:00", Name: "Bo", Phone: "+12125550124"}, CodeInvalid)
	if n := len(f.mem.Booked()); n != 1 {
		t.Fatalf("%d appointments booked, want 1", n)
	}

	// Find and cancel only under the right phone number.
	var found FindResult
	f.run(FindAppointments, FindAppointmentsArgs{Phone: "212 555 0123"}, &found)
	if len(found.Appointments) != 1 || found.Appointments[0].ID != b.Appointment.ID {
		t.Fatalf("find = %+v", found)
	}
	f.run(FindAppointments, FindAppointmentsArgs{Phone: "+12125550199"}, &found)
	if len(found.Appointments) != 0 {
		t.Errorf("another number finds %+v", found)
	}
	f.mustFail(CancelAppointment, CancelAppointmentArgs{Phone: "+12125550199", AppointmentID: b.Appointment.ID}, CodeNotFound)
	f.mustFail(BookAppointment, BookAppointmentArgs{Service: "Cleaning", Start: "2026-03-12T10:00:00-04:00", Name: "X", Phone: "+12125550199", RescheduleID: b.Appointment.ID}, CodeNotFound)

	// Reschedule under the right number: 30 minutes later overlaps the
	// old time, which must not count against itself.
	var moved BookResult
	f.run(BookAppointment, BookAppointmentArgs{Service: "Cleaning", Start: "2026-03-11T10:30:00-04:00", Name: "Ann Lee", Phone: "+12125550123", RescheduleID: b.Appointment.ID}, &moved)
	if !moved.Rescheduled || moved.Appointment.ID != b.Appointment.ID || moved.Appointment.Start != "2026-03-11T10:30:00-04:00" {
		t.Fatalf("reschedule = %+v", moved)
	}
	var c CancelResult
	f.run(CancelAppointment, CancelAppointmentArgs{Phone: "+12125550123", AppointmentID: b.Appointment.ID}, &c)
	if c.Cancelled.ID != b.Appointment.ID || len(f.mem.Booked()) != 0 {
		t.Fatalf("cancel = %+v, booked %v", c, f.mem.Booked())
	}
	// The time is free again.
	f.run(BookAppointment, BookAppointmentArgs{Service: "Exam and X-rays", Start: "2026-03-11T10:45:00-04:00", Name: "Bo", Phone: "+12125550124"}, &b)
	if b.Appointment.ID == "" {
		t.Error("could not book a freed slot")
	}
}

func TestUpdateLead(t *testing.T) {
	f := newFixture(t, "bright-smile", now)
	var l1, l2 LeadResult
	f.run(UpdateLead, UpdateLeadArgs{Name: "Ann", Phone: "2125550123", Notes: "Interested in whitening"}, &l1)
	f.run(UpdateLead, UpdateLeadArgs{Name: "Ann Lee", Phone: "+1 212 555 0123", AppointmentID: "appt-9"}, &l2)
	if l1.LeadID == "" || l1.LeadID != l2.LeadID || l2.Name != "Ann Lee" || l2.Status != "booked" {
		t.Fatalf("leads = %+v, %+v; want one lead, renamed, booked", l1, l2)
	}
	leads := f.mem.Leads()
	if len(leads) != 1 || leads[0].Source != scheduling.SourceCall || leads[0].Notes != "Interested in whitening" || leads[0].AppointmentIDs[0] != "appt-9" {
		t.Errorf("stored leads = %+v", leads)
	}
}

func TestActions(t *testing.T) {
	f := newFixture(t, "bright-smile", now)
	res := f.run(TransferCall, TransferCallArgs{Reason: "billing"}, nil)
	if res.Err != nil || res.Action != (Action{Kind: ActionTransfer, Number: "+12125550199", Reason: "billing"}) || res.Content != `{"status":"transferring"}` {
		t.Errorf("transfer = %+v", res)
	}
	res = f.run(EndCall, EndCallArgs{}, nil)
	if res.Action.Kind != ActionEndCall {
		t.Errorf("end_call = %+v", res)
	}
	// The salon has no transfer number.
	salon := newFixture(t, "shear-elegance", now)
	salon.mustFail(TransferCall, "{}", CodeUnavailable)
	if res := salon.run(TransferCall, "{}", nil); res.Action.Kind != ActionNone {
		t.Errorf("failed transfer still asks for an action: %+v", res.Action)
	}
}

func TestNoBackend(t *testing.T) {
	biz := exampleBusiness(t, "bright-smile")
	exec, err := NewExecutor(biz, nil, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, biz: biz, exec: exec}
	for _, name := range []string{CheckAvailability, BookAppointment, FindAppointments, CancelAppointment, UpdateLead} {
		f.mustFail(name, "{}", CodeUnavailable)
	}
	var faq FAQResult
	f.run(SearchFAQ, SearchFAQArgs{Question: "where are you"}, &faq)
	if !faq.Found {
		t.Error("search_faq needs no backend")
	}
	if _, err := NewExecutor(nil, nil, Options{}); err == nil {
		t.Error("NewExecutor(nil) succeeded")
	}
	if _, err := NewExecutor(biz, nil, Options{Source: "fax"}); !errors.Is(err, scheduling.ErrInvalid) {
		t.Errorf("bad source: %v", err)
	}
}

func TestRegionAndSalonPhones(t *testing.T) {
	cfg := exampleConfig(t)
	salon, _ := cfg.Business("shear-elegance")
	if got := RegionOf(salon); got != "GB" {
		t.Errorf("RegionOf(salon) = %q", got)
	}
	// A London number said nationally books at the salon.
	f := newFixture(t, "shear-elegance", time.Date(2026, 3, 31, 9, 0, 0, 0, mustLoad("Europe/London")))
	var b BookResult
	f.run(BookAppointment, BookAppointmentArgs{Service: "colour", Start: "2026-03-31T14:00", Name: "Ed", Phone: "020 7946 0018"}, &b)
	if b.Appointment.Phone != "+442079460018" || b.Appointment.Start != "2026-03-31T14:00:00+01:00" || b.Appointment.Service != "Colour" {
		t.Errorf("salon booking = %+v", b)
	}
}

func TestServiceID(t *testing.T) {
	for in, want := range map[string]string{
		"Exam and X-rays": "exam-and-x-rays", "Children's checkup": "children-s-checkup", "  Cut and blow-dry ": "cut-and-blow-dry", "Colour": "colour",
	} {
		if got := ServiceID(in); got != want {
			t.Errorf("ServiceID(%q) = %q, want %q", in, got, want)
		}
	}
	cal, err := CalendarFor(exampleBusiness(t, "bright-smile"))
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := cal.Service("cleaning"); !ok || s.Duration != time.Hour || s.Buffer != 10*time.Minute || s.Currency != "USD" {
		t.Errorf("cleaning = %+v", s)
	}
	if len(cal.Closures) != 2 || cal.Closures[0].End.Day != 26 || cal.Closures[1].Start != cal.Closures[1].End {
		t.Errorf("closures = %+v", cal.Closures)
	}
}
