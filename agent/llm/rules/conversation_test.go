package rules

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/agent/tools"
)

// step is one caller turn and what the reply must hold.
type step struct {
	before func(t *testing.T, mem *tools.Memory) // runs before the caller speaks
	say    string
	want   []string // substrings of the reply
	not    []string // substrings the reply must not hold
	tools  []string // tool calls of the turn in order; nil: not checked
}

type conversation struct {
	name  string
	biz   string // default bright-smile
	now   time.Time
	seed  func(t *testing.T, mem *tools.Memory)
	steps []step
	check func(t *testing.T, c *call)
}

// tue9 is Tuesday, March 10, 2026, 9:00 in New York: open.
var tue9 = ny(2026, 3, 10, 9, 0)

func none() []string { return []string{} }

func book(t *testing.T, mem *tools.Memory, svc string, start time.Time, name, phone string) {
	t.Helper()
	if _, err := mem.Book(context.Background(), tools.BookRequest{Service: svc, Start: start, Name: name, Phone: phone}); err != nil {
		t.Fatalf("seed booking: %v", err)
	}
}

func runConversation(t *testing.T, tc conversation) *call {
	t.Helper()
	id := tc.biz
	if id == "" {
		id = "bright-smile"
	}
	biz := exampleBusiness(t, id)
	now := tc.now
	if now.IsZero() {
		now = tue9
	}
	mem, err := tools.NewMemory(biz, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	if tc.seed != nil {
		tc.seed(t, mem)
	}
	c := newCall(t, biz, now, mem)
	for i, s := range tc.steps {
		if s.before != nil {
			s.before(t, c.mem)
		}
		before := len(c.calls)
		reply := c.say(s.say)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Errorf("turn %d %q: "+format+"\ntranscript:\n%s", append([]any{i, s.say}, append(args, c.transcript())...)...)
		}
		for _, w := range s.want {
			if !strings.Contains(reply, w) {
				fail("reply %q lacks %q", reply, w)
			}
		}
		for _, w := range s.not {
			if strings.Contains(reply, w) {
				fail("reply %q holds %q", reply, w)
			}
		}
		if s.tools != nil {
			var got []string
			for _, tc := range c.calls[before:] {
				got = append(got, tc.Name)
			}
			if !slices.Equal(got, s.tools) {
				fail("tools %q, want %q", got, s.tools)
			}
		}
		if t.Failed() {
			return c
		}
	}
	if tc.check != nil {
		tc.check(t, c)
	}
	return c
}

func TestConversations(t *testing.T) {
	const (
		notSure = "I'm not sure about that; can I take a message or transfer you?"
		phone   = "+12125550123"
	)
	for _, tc := range []conversation{
		{name: "hours", steps: []step{
			{say: "hi what are your hours", tools: none(), want: []string{
				"Monday to Friday, 8 AM to noon and 1 PM to 5 PM", "Saturday, 9 AM to 1 PM", "closed on Sunday", "anything else"}},
			{say: "are you open right now", want: []string{"Yes, we're open right now, until noon."}},
			{say: "are you open on saturday", want: []string{"On Saturday, March 14, we're open 9 AM to 1 PM."}},
			{say: "what about sundays", want: nil},
			{say: "what time do you close today", want: []string{"Today, we're open 8 AM to noon and 1 PM to 5 PM."}},
			{say: "are you open on sunday", want: []string{"We're closed on Sundays."}},
			{say: "are you open on christmas eve", want: []string{"We're closed from Thursday, December 24 to Saturday, December 26 for Christmas."}},
			{say: "what about new years day", want: []string{"We're closed on Friday, January 1 for New Year's Day."}},
			{say: "are you open on december twenty fifth", want: []string{"We're closed on Friday, December 25 for Christmas."}},
		}},
		{name: "closed now", now: ny(2026, 3, 10, 12, 30), steps: []step{
			{say: "are you open", want: []string{"No, we're closed right now, and we open again today at 1 PM."}},
		}},
		{name: "closure today", now: ny(2026, 12, 24, 10, 0), steps: []step{
			{say: "are you guys open now", want: []string{"No, we're closed today for Christmas, and we open again on Monday, December 28 at 8 AM."}},
		}},
		{name: "faq paraphrases", steps: []step{
			{say: "do you guys take delta dental", tools: none(), want: []string{"We're in network with Delta Dental", "Is there anything else"}},
			{say: "is there somewhere to park", want: []string{"parking garage on 44th Street"}},
			{say: "how much for a cleaning", want: []string{"A cleaning is 120 dollars"}},
			{say: "uh my tooth really hurts", want: []string{"emergencies"}},
			{say: "do you see kids", want: []string{"we see children of all ages"}},
			{say: "what's your cancellation policy", want: []string{"24 hours' notice"}, tools: none()},
		}},
		{name: "off topic", steps: []step{
			{say: "can you tell me a joke", want: []string{notSure}, tools: none()},
			{say: "no thanks", want: []string{"Okay.", "anything else"}},
			{say: "do you sell pizza", want: []string{notSure}},
		}},
		{name: "full booking", steps: []step{
			{say: "hi i'd like to book a cleaning tomorrow at ten thirty", tools: []string{tools.CheckAvailability},
				want: []string{"tomorrow at 10:30 AM is available", "Can I have your name"}},
			{say: "my name is john smith", want: []string{"Thanks, John.", "phone number"}, tools: none()},
			{say: "two one two five five five oh one two three", tools: []string{tools.UpdateLead},
				want: []string{"a cleaning on Wednesday, March 11 at 10:30 AM, for John Smith, phone number 2 1 2, 5 5 5, 0 1 2 3. Is that correct?"}},
			{say: "yes", tools: []string{tools.BookAppointment, tools.UpdateLead},
				want: []string{"You're all set, John.", "Your cleaning is booked for Wednesday, March 11 at 10:30 AM.", "anything else"}},
			{say: "no that's all thank you", tools: []string{tools.EndCall}, want: []string{"Thank you for calling Bright Smile Dental. Goodbye!"}},
		}, check: func(t *testing.T, c *call) {
			booked := c.mem.Booked()
			if len(booked) != 1 {
				t.Fatalf("%d appointments, want 1", len(booked))
			}
			a := booked[0]
			if a.Service.Name != "Cleaning" || !a.Start.Equal(ny(2026, 3, 11, 10, 30)) || a.Phone != phone || a.CustomerName != "John Smith" {
				t.Errorf("appointment = %+v", a)
			}
			leads := c.mem.Leads()
			if len(leads) != 1 || leads[0].Status != "booked" || !slices.Contains(leads[0].AppointmentIDs, a.ID) {
				t.Errorf("leads = %+v", leads)
			}
			if len(c.actions) != 1 || c.actions[0].Kind != tools.ActionEndCall {
				t.Errorf("actions = %+v", c.actions)
			}
		}},
		// The time grammar lets yes, no and "cancel" through (HintTime is
		// what the recogniser used for these answers).
		{name: "yes and no when a day is asked", steps: []step{
			{say: "i want to book a cleaning", want: []string{"What day would you like"}, tools: none()},
			{say: "yes", want: []string{"Sure.", "What day would you like"}, tools: none()},
			{say: "no", want: []string{"Okay, I won't book anything.", "anything else"}, not: []string{"What day"}, tools: none()},
			{say: "what are your hours", want: []string{"Monday to Friday"}},
		}, check: func(t *testing.T, c *call) {
			if b := c.mem.Booked(); len(b) != 0 {
				t.Errorf("booked %+v after the caller said no", b)
			}
		}},
		{name: "cancel while times are offered", steps: []step{
			{say: "book a cleaning tomorrow morning", tools: []string{tools.CheckAvailability}, want: []string{"I have"}},
			{say: "cancel", want: []string{"Okay, I won't book anything.", "anything else"}, tools: none(),
				not: []string{"appointment under", "phone number"}},
		}},
		{name: "never mind at the read-back", steps: []step{
			{say: "book a cleaning tomorrow at ten thirty", want: []string{"available", "name"}},
			{say: "my name is john smith", want: []string{"phone number"}},
			{say: "two one two five five five oh one two three", want: []string{"Is that correct?"}},
			{say: "never mind", want: []string{"Okay, I won't book anything."}, tools: none()},
		}, check: func(t *testing.T, c *call) {
			if b := c.mem.Booked(); len(b) != 0 {
				t.Errorf("booked %+v after never mind", b)
			}
		}},
		{name: "no to the offered times, then a day", steps: []step{
			{say: "book a cleaning tomorrow morning", tools: []string{tools.CheckAvailability}, want: []string{"I have"}},
			{say: "no", want: []string{"What day and time would work better"}, tools: none()},
			{say: "friday at nine", tools: []string{tools.CheckAvailability}, want: []string{"Friday, March 13 at 9 AM is available"}},
		}},
		{name: "slot filling one question at a time", steps: []step{
			{say: "i want to make an appointment", want: []string{"Which service", "cleaning, exam and x-rays"}, tools: none()},
			{say: "a checkup", want: []string{"Would that be an exam and x-rays or a children's checkup?"}},
			{say: "the exam", want: []string{"What day"}},
			{say: "friday morning", tools: []string{tools.CheckAvailability}, want: []string{"On Friday, March 13 in the morning I have 8 AM, 9 AM or 10 AM."}},
			{say: "nine works", want: []string{"name"}},
			{say: "it's ana lópez", want: []string{"Thanks, Ana."}},
			{say: "DTMF: 2125550123#", want: []string{"an exam and x-rays on Friday, March 13 at 9 AM, for Ana López"}},
			{say: "DTMF: 1", tools: []string{tools.BookAppointment, tools.UpdateLead}, want: []string{"booked for Friday, March 13 at 9 AM"}},
		}, check: func(t *testing.T, c *call) {
			if b := c.mem.Booked(); len(b) != 1 || b[0].Service.Name != "Exam and X-rays" || !b[0].Start.Equal(ny(2026, 3, 13, 9, 0)) {
				t.Errorf("booked = %+v", b)
			}
		}},
		{name: "taken time offers the closest", seed: func(t *testing.T, mem *tools.Memory) {
			book(t, mem, "Cleaning", ny(2026, 3, 11, 10, 0), "Someone", "+12125550100")
		}, steps: []step{
			{say: "can i get a cleaning tomorrow at ten thirty", tools: []string{tools.CheckAvailability},
				want: []string{"Sorry, 10:30 AM tomorrow isn't available.", "The closest times I have are 8 AM, 8:45 AM or 1 PM."}},
			{say: "one o'clock", want: []string{"name"}},
			{say: "bob", want: []string{"phone"}},
			{say: "two one two five five five oh one two three", want: []string{"at 1 PM, for Bob"}},
			{say: "yes", want: []string{"booked for Wednesday, March 11 at 1 PM"}},
		}},
		{name: "conflict at booking time", steps: []step{
			{say: "book a filling tomorrow at 2 pm", want: []string{"2 PM is available"}},
			{say: "i'm carol", want: []string{"Thanks, Carol."}},
			{say: "two one two five five five oh one two three"},
			{say: "yes", tools: []string{tools.BookAppointment},
				before: func(t *testing.T, mem *tools.Memory) { // another caller is faster
					book(t, mem, "Exam and X-rays", ny(2026, 3, 11, 14, 0), "Other", "+12125550100")
				},
				want: []string{"Sorry, that time was just taken.", "I can offer tomorrow at 3 PM, 4 PM or Thursday, March 12 at 8 AM."}},
			{say: "the first one", want: []string{"a filling on Wednesday, March 11 at 3 PM, for Carol"}},
			{say: "yeah", want: []string{"booked for Wednesday, March 11 at 3 PM"}},
		}, check: func(t *testing.T, c *call) {
			var carol int
			for _, a := range c.mem.Booked() {
				if a.CustomerName == "Carol" {
					carol++
				}
			}
			if carol != 1 || len(c.mem.Booked()) != 2 {
				t.Errorf("booked = %+v", c.mem.Booked())
			}
		}},
		{name: "cancel", seed: func(t *testing.T, mem *tools.Memory) {
			book(t, mem, "Teeth whitening", ny(2026, 3, 12, 13, 0), "Dee", phone)
		}, steps: []step{
			{say: "hi i need to cancel my appointment", want: []string{"phone number the appointment is under"}, tools: none()},
			{say: "it's two one two five five five zero one two three", tools: []string{tools.FindAppointments},
				want: []string{"That's your teeth whitening on Thursday, March 12 at 1 PM.", "Would you like me to cancel it?"}},
			{say: "yes please", tools: []string{tools.CancelAppointment}, want: []string{"Done. Your teeth whitening on Thursday, March 12 at 1 PM is cancelled."}},
		}, check: func(t *testing.T, c *call) {
			if n := len(c.mem.Booked()); n != 0 {
				t.Errorf("%d appointments still booked", n)
			}
		}},
		{name: "cancel declined", seed: func(t *testing.T, mem *tools.Memory) {
			book(t, mem, "Cleaning", ny(2026, 3, 12, 13, 0), "Dee", phone)
			book(t, mem, "Filling", ny(2026, 3, 16, 9, 0), "Dee", phone)
		}, steps: []step{
			{say: "cancel my appointment", want: []string{"phone number"}},
			{say: "DTMF: 2125550123", want: []string{"I found a cleaning on Thursday, March 12 at 1 PM and a filling on Monday, March 16 at 9 AM. Which one would you like to cancel?"}},
			{say: "the filling", want: []string{"That's your filling on Monday, March 16 at 9 AM."}},
			{say: "no", tools: none(), want: []string{"Okay, I'll leave it as it is."}},
		}, check: func(t *testing.T, c *call) {
			if n := len(c.mem.Booked()); n != 2 {
				t.Errorf("%d appointments booked, want 2", n)
			}
		}},
		{name: "reschedule", seed: func(t *testing.T, mem *tools.Memory) {
			book(t, mem, "Cleaning", ny(2026, 3, 11, 10, 0), "Eve Adams", phone)
		}, steps: []step{
			{say: "can i reschedule my appointment", want: []string{"phone number"}},
			{say: "two one two five five five oh one two three", want: []string{"That's your cleaning on Wednesday, March 11 at 10 AM.", "What day and time would you like instead?"}},
			{say: "friday at two", want: []string{"2 PM is available", "So I'll move your cleaning from Wednesday, March 11 at 10 AM to Friday, March 13 at 2 PM. Shall I go ahead?"}},
			{say: "go ahead", tools: []string{tools.BookAppointment}, want: []string{"Done. Your cleaning is now on Friday, March 13 at 2 PM."}},
		}, check: func(t *testing.T, c *call) {
			b := c.mem.Booked()
			if len(b) != 1 || !b[0].Start.Equal(ny(2026, 3, 13, 14, 0)) || b[0].CustomerName != "Eve Adams" || len(c.mem.All()) != 1 {
				t.Errorf("after reschedule: %+v", c.mem.All())
			}
		}},
		{name: "read-back corrections", steps: []step{
			{say: "i'd like a cleaning on thursday at 9", want: []string{"9 AM is available"}},
			{say: "frank", want: []string{"phone"}},
			{say: "2125550123", want: []string{"Thursday, March 12 at 9 AM, for Frank"}},
			{say: "no", tools: none(), want: []string{"What would you like to change"}},
			{say: "the phone number", want: []string{"phone number"}},
			{say: "two one two five five five oh one four four", want: []string{"0 1 4 4. Is that correct?"}},
			{say: "no make it ten thirty", tools: []string{tools.CheckAvailability}, want: []string{"10:30 AM is available", "at 10:30 AM, for Frank"}},
			{say: "yes no", tools: none(), want: []string{"Please say yes or no."}},
			{say: "yes", tools: []string{tools.BookAppointment, tools.UpdateLead}},
		}, check: func(t *testing.T, c *call) {
			if b := c.mem.Booked(); len(b) != 1 || b[0].Phone != "+12125550144" || !b[0].Start.Equal(ny(2026, 3, 12, 10, 30)) {
				t.Errorf("booked = %+v", b)
			}
		}},
		{name: "goodbye", steps: []step{
			{say: "thank you bye", tools: []string{tools.EndCall}, want: []string{"Goodbye!"}},
		}, check: func(t *testing.T, c *call) {
			if len(c.actions) != 1 || c.actions[0].Kind != tools.ActionEndCall {
				t.Errorf("actions = %+v", c.actions)
			}
		}},
		{name: "transfer while open", steps: []step{
			{say: "can i speak to a real person", tools: []string{tools.TransferCall}, want: []string{"I'll transfer you now."}},
		}, check: func(t *testing.T, c *call) {
			if len(c.actions) != 1 || c.actions[0].Kind != tools.ActionTransfer || c.actions[0].Number != "+12125550199" {
				t.Errorf("actions = %+v", c.actions)
			}
		}},
		{name: "after hours transfer", now: ny(2026, 3, 10, 19, 30), steps: []step{
			{say: "i'd like to talk to someone at the front desk", tools: none(), want: []string{
				"We're closed right now, and we open again tomorrow at 8 AM.", "I can take a message and have someone call you back, or I can try to transfer you."}},
			{say: "transfer me please", tools: []string{tools.TransferCall}},
		}},
		{name: "after hours message", now: ny(2026, 3, 14, 15, 0), steps: []step{
			{say: "can i talk to someone", want: []string{"We're closed right now, and we open again on Monday, March 16 at 8 AM."}},
			{say: "i'll leave a message", want: []string{"What message would you like to leave?"}},
			{say: "please call me back about my bill from last week", want: []string{"name"}},
			{say: "this is grace hopper", want: []string{"phone"}},
			{say: "two one two five five five oh one two three", tools: []string{tools.UpdateLead},
				want: []string{"Thank you, Grace. I'll pass your message on, and someone will call you back when we're open."}},
		}, check: func(t *testing.T, c *call) {
			l := c.mem.Leads()
			if len(l) != 1 || l[0].Name != "Grace Hopper" || l[0].Phone != phone || !strings.Contains(l[0].Notes, "about my bill from last week") {
				t.Errorf("leads = %+v", l)
			}
		}},
		{name: "not sure then message", steps: []step{
			{say: "do you do root canals on dogs", want: []string{notSure}},
			{say: "yes take a message", want: []string{"What message"}},
		}},
		{name: "noisy recognition", steps: []step{
			{say: "uh yeah i wanna book a um cleaning for to morrow at ten thirty a m", want: []string{"tomorrow at 10:30 AM is available"}},
			{say: "um", want: []string{"Sorry, I didn't catch that.", "name"}},
			{say: "its uh john smith", want: []string{"Thanks, John."}},
			{say: "to one to five five five oh one to three", want: []string{"2 1 2, 5 5 5, 0 1 2 3"}},
			{say: "know", tools: none(), want: []string{"What would you like to change"}},
			{say: "nothing it's fine", want: []string{"Is that correct?"}},
			{say: "yeah yeah that's right", tools: []string{tools.BookAppointment, tools.UpdateLead}},
		}, check: func(t *testing.T, c *call) {
			if b := c.mem.Booked(); len(b) != 1 || !b[0].Start.Equal(ny(2026, 3, 11, 10, 30)) {
				t.Errorf("booked = %+v", b)
			}
		}},
		{name: "short phone is asked again", steps: []step{
			{say: "i need a filling", want: []string{"What day"}},
			{say: "first available", want: []string{"The earliest times I have are today at 9 AM, 10 AM or 11 AM."}},
			{say: "the second one", want: []string{"name"}},
			{say: "hal", want: []string{"phone"}},
			{say: "five five five one two", tools: none(), want: []string{"Sorry, I got 5 5 5 1 2, which isn't a full phone number."}},
			{say: "two one two five five five oh one two three", want: []string{"a filling on Tuesday, March 10 at 10 AM, for Hal"}},
		}},
		{name: "repeated misses offer help", steps: []step{
			{say: "book a cleaning", want: []string{"What day"}},
			{say: "blue", want: []string{"Sorry, I didn't get that.", "What day"}},
			{say: "purple", want: []string{"Sorry, I didn't get that."}},
			{say: "orange", want: []string{"I'm sorry, I'm having trouble understanding.", "I can take a message, or transfer you to someone."}},
		}},
		{name: "question in the middle of booking", steps: []step{
			{say: "book a cleaning", want: []string{"What day"}},
			{say: "wait is there parking", want: []string{"parking garage", "What day would you like to come in?"}},
			{say: "what are your hours on saturday", want: []string{"On Saturday, March 14, we're open 9 AM to 1 PM.", "What day"}},
			{say: "saturday then", tools: []string{tools.CheckAvailability}, want: []string{"On Saturday, March 14 I have 9 AM, 10 AM or 11 AM."}},
		}},
		{name: "that service, the clock", steps: []step{
			{say: "what time is it", want: []string{"It's 9 AM here, on Tuesday, March 10."}},
			{say: "how much is whitening", want: []string{"399 dollars"}},
			{say: "can i book that for next week", tools: []string{tools.CheckAvailability},
				want: []string{"The earliest times I have are Monday, March 16 at 8 AM, 9 AM or 10 AM."}},
			{say: "the earliest", want: []string{"name"}},
		}},
		{name: "closed day offers the next openings", steps: []step{
			{say: "can i book a cleaning on sunday", want: []string{"Sorry, we're closed on Sundays.", "The next openings are Monday, March 16 at 8 AM"}},
		}},
		{name: "salon without transfer", biz: "shear-elegance", now: time.Date(2026, 3, 31, 11, 0, 0, 0, mustLoad("Europe/London")), steps: []step{
			{say: "which tube station is closest", want: []string{"Tottenham Court Road"}},
			{say: "do you do nails", want: []string{"I'm not sure about that; can I take a message?"}},
			{say: "no", want: []string{"anything else"}},
			{say: "can i speak to someone", tools: none(), want: []string{"I'm not able to transfer calls, but I can take a message"}},
			{say: "no thanks", want: []string{"anything else"}},
			{say: "i'd like a colour on thursday evening", want: []string{"On Thursday, April 2 in the evening I have 5 PM, 5:30 PM or 6 PM."}},
			{say: "six", want: []string{"name"}},
			{say: "ian", want: []string{"phone"}},
			{say: "oh two oh seven nine four six oh oh one eight", want: []string{"a colour on Thursday, April 2 at 6 PM, for Ian, phone number 0 2 0, 7 9 4 6, 0 0 1 8"}},
			{say: "yes", want: []string{"booked for Thursday, April 2 at 6 PM"}},
		}, check: func(t *testing.T, c *call) {
			if b := c.mem.Booked(); len(b) != 1 || b[0].Phone != "+442079460018" || b[0].Start.UTC().Hour() != 17 {
				t.Errorf("booked = %+v", b)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { runConversation(t, tc) })
	}
}

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}
