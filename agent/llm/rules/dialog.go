package rules

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/agent/tools"
	"github.com/frontdesk/frontdesk/configs"
)

// onUser answers one caller utterance. Expectation handlers read the
// answer to the question asked; anything they do not understand goes to
// onFree, which recognises requests and questions in any state.
func (c *convo) onUser(st *state, u *utterance, t *turn) {
	if st.expect == expDone {
		return // transferred or hung up: nothing more to say
	}
	if st.expect == expTool {
		st.expect = expOpen // a tool result went missing; carry on
	}
	if u.empty() {
		c.miss(st, t, "Sorry, I didn't catch that.")
		return
	}
	if !u.isKey && u.isBye() {
		c.goodbye(st, t)
		return
	}
	if c.abandon(st, u, t) {
		st.misses = 0
		return
	}
	handled := false
	switch st.expect {
	case expOpen, expAnything:
		handled = c.onOpen(st, u, t)
	case expService:
		handled = c.onService(st, u, t)
	case expDay:
		handled = c.onDay(st, u, t)
	case expSlot:
		handled = c.onSlot(st, u, t)
	case expName:
		handled = c.onName(st, u, t)
	case expPhone:
		handled = c.onPhone(st, u, t)
	case expConfirm:
		handled = c.onConfirm(st, u, t)
	case expChange:
		handled = c.onChange(st, u, t)
	case expPickAppt:
		handled = c.onPickAppt(st, u, t)
	case expConfirmCancel:
		handled = c.onConfirmCancel(st, u, t)
	case expMessage:
		handled = c.onMessage(st, u, t)
	case expHelpChoice:
		handled = c.onHelpChoice(st, u, t)
	case expOfferMessage:
		handled = c.onOfferMessage(st, u, t)
	case expOfferTransfer:
		handled = c.onOfferTransfer(st, u, t)
	}
	if handled {
		st.misses = 0
		return
	}
	c.onFree(st, u, t)
}

// abandon ends a booking or a move in progress when the caller calls it
// off ("never mind", "cancel"): the closed questions' grammars let those
// through, and nothing is booked or moved.
func (c *convo) abandon(st *state, u *utterance, t *turn) bool {
	if st.task != taskBook && st.task != taskReschedule || !u.abandons() {
		return false
	}
	switch st.expect {
	case expService, expDay, expSlot, expName, expPhone, expConfirm, expChange:
	default:
		return false
	}
	c.abandonTask(st, t)
	return true
}

func (c *convo) abandonTask(st *state, t *turn) {
	if st.task == taskReschedule {
		t.say("Okay, I'll leave your appointment as it is.")
	} else {
		t.say("Okay, I won't book anything.")
	}
	st.resetTask()
	st.expect = expAnything
	c.ask(st, t)
}

// onFree recognises a request or a question whatever was asked.
func (c *convo) onFree(st *state, u *utterance, t *turn) {
	if u.isKey {
		c.miss(st, t, "Sorry, I didn't get that.")
		return
	}
	svcs := c.services.match(u)
	if len(svcs) == 0 && st.mentioned >= 0 && u.hasAny("that", "it", "one", "this", "those") {
		svcs = []int{st.mentioned} // "can I book that?" after asking about whitening
	}
	if len(svcs) == 1 {
		st.mentioned = svcs[0]
	}
	w := parseWhen(u.words, c.today, false)
	switch {
	case u.asksClock():
		st.misses = 0
		lt := c.now.In(c.loc)
		t.sayf(func() string { return "It's " + tools.SpokenTime(lt) + " here, on " + tools.SpokenDay(lt) + "." })
		c.resume(st, t)
		return
	case u.wantsHuman():
		st.misses = 0
		c.startTransfer(st, t)
		return
	case u.wantsMessage():
		st.misses = 0
		c.startMessage(st, t)
		return
	case u.wantsReschedule():
		st.misses = 0
		c.startFind(st, t, taskReschedule)
		return
	case u.wantsCancel():
		st.misses = 0
		c.startFind(st, t, taskCancel)
		return
	case !u.asksPrice() && (u.wantsBooking() || len(svcs) > 0 && (w.hasDay || w.hasTime || u.wantsSomething()) ||
		w.hasDay && w.hasTime && st.task == taskNone) && !(u.asksHours() && !u.wantsBooking()):
		st.misses = 0
		c.startBooking(st, svcs, w, t)
		return
	case u.asksHours() || c.namesClosure(u):
		st.misses = 0
		c.answerHours(u, w, t)
		c.resume(st, t)
		return
	}
	if m := c.faq.Best(u.raw); m.FAQ >= 0 && m.Score >= c.faq.Threshold() {
		st.misses = 0
		for _, s := range sentences(m.Answer) {
			t.say(s)
		}
		c.resume(st, t)
		return
	}
	if c.capture(st, u, t) {
		return
	}
	switch {
	case st.task != taskNone || (st.expect != expOpen && st.expect != expAnything):
		if u.isQuestion() {
			t.say("I'm not sure about that.")
			c.ask(st, t)
			return
		}
		c.miss(st, t, "Sorry, I didn't get that.")
	case u.isQuestion() || u.content() >= 2:
		st.misses = 0
		c.notSure(st, t)
	default:
		c.miss(st, t, "Sorry, I didn't catch that.")
	}
}

// capture takes a name introduced as such ("my name is …") or a full
// phone number said while the engine was asking something else in a task
// that needs them, thanks the caller and asks its question again.
func (c *convo) capture(st *state, u *utterance, t *turn) bool {
	if st.task == taskNone || u.isKey {
		return false
	}
	got := false
	if st.task != taskCancel && u.hasAny("my name is", "the name is", "my names", "this is") {
		if name, ok := nameOf(u); ok {
			st.name, got = name, true
		}
	}
	if p, _, ok := phoneOf(u, c.region); ok {
		st.phone, got = p, true
	}
	if !got {
		return false
	}
	st.misses = 0
	t.say("Thanks, I've noted that.")
	if st.expect == expName && st.name != "" || st.expect == expPhone && st.phone != "" {
		c.advance(st, t)
		return true
	}
	c.ask(st, t)
	return true
}

// miss counts an utterance not understood and asks again; the third miss
// in a row offers a person or a message instead of looping.
func (c *convo) miss(st *state, t *turn, sorry string) {
	st.misses++
	if st.misses >= 3 {
		st.misses = 0
		t.say("I'm sorry, I'm having trouble understanding.")
		c.offerHelp(st, t)
		return
	}
	t.say(sorry)
	c.ask(st, t)
}

// resume continues after an answer: the question of the task in progress
// again, or "anything else?".
func (c *convo) resume(st *state, t *turn) {
	if st.task == taskNone || st.expect == expOpen || st.expect == expAnything ||
		st.expect == expHelpChoice || st.expect == expOfferMessage {
		st.expect = expAnything
	}
	c.ask(st, t)
}

// ask asks the question of the current expectation.
func (c *convo) ask(st *state, t *turn) {
	switch st.expect {
	case expOpen:
		t.say("How can I help you?")
	case expAnything:
		t.say("Is there anything else I can help you with?")
	case expService:
		if len(st.svcChoices) > 1 {
			t.sayf(func() string {
				names := make([]string, len(st.svcChoices))
				for i, s := range st.svcChoices {
					names[i] = spokenService(c.biz.Services[s].Name, true)
				}
				return "Would that be " + tools.JoinOr(names) + "?"
			})
			return
		}
		t.sayf(func() string {
			return "Which service would you like to book? We offer " + tools.JoinAnd(c.serviceNames()) + "."
		})
	case expDay:
		if st.task == taskReschedule {
			t.say("What day and time would you like instead?")
		} else if st.tod >= 0 || st.hasWin {
			t.say("What day would you like to come in?")
		} else {
			t.say("What day would you like to come in? You can also say first available.")
		}
	case expSlot:
		t.sayf(func() string { return "Which time would you like: " + c.offerList(st) + "?" })
	case expName:
		t.say("Can I have your name, please?")
	case expPhone:
		if st.task == taskCancel || st.task == taskReschedule {
			t.say("What's the phone number the appointment is under?")
		} else {
			t.say("What's the best phone number to reach you?")
		}
	case expConfirm:
		t.sayf(func() string { return c.readBack(st) })
	case expChange:
		t.say("What would you like to change: the service, the day and time, your name, or your phone number?")
	case expPickAppt:
		t.sayf(func() string {
			items := make([]string, len(st.appts))
			for i, a := range st.appts {
				items[i] = spokenService(a.Service, true) + " on " + a.Spoken
			}
			verb := "cancel"
			if st.task == taskReschedule {
				verb = "move"
			}
			return "I found " + tools.JoinAnd(items) + ". Which one would you like to " + verb + "?"
		})
	case expConfirmCancel:
		t.say("Would you like me to cancel it?")
	case expMessage:
		t.say("What message would you like to leave?")
	case expHelpChoice:
		t.say("Would you like to leave a message, or should I transfer you?")
	case expOfferMessage:
		t.say("Would you like to leave a message?")
	case expOfferTransfer:
		t.say("Would you like me to transfer you instead?")
	}
}

// offerList says the offered times: the times alone when they are all on
// the day the caller asked for, else each day once, before its first time
// ("tomorrow at 3:15 PM, Thursday, March 12 at 8 AM or 9 AM").
func (c *convo) offerList(st *state) string {
	items := make([]string, len(st.offers))
	var prev configs.Date
	for i, o := range st.offers {
		lt := o.In(c.loc)
		d := configs.DateOf(lt)
		switch {
		case st.hasDay && !st.flexible && d == st.day || i > 0 && d == prev:
			items[i] = tools.SpokenTime(lt)
		default:
			items[i] = c.spokenRelDay(d) + " at " + tools.SpokenTime(lt)
		}
		prev = d
	}
	return tools.JoinOr(items)
}

func (c *convo) readBack(st *state) string {
	svc := c.biz.Services[st.svc].Name
	if st.task == taskReschedule {
		return "So I'll move your " + spokenService(svc, false) + " from " + c.spokenSlot(st.moveFrom) +
			" to " + c.spokenSlot(st.slot) + ". Shall I go ahead?"
	}
	return "Let me read that back: " + spokenService(svc, true) + " on " + c.spokenSlot(st.slot) + ", for " +
		st.name + ", phone number " + spokenPhone(st.phone) + ". Is that correct?"
}

// ---- open questions ----

func (c *convo) onOpen(st *state, u *utterance, t *turn) bool {
	if u.isKey {
		return false
	}
	yn, content := u.yesNo(), u.content()
	if st.expect == expAnything && (u.isDone() || yn < 0 && content <= 1 || u.isThanks() && content == 0) {
		c.goodbye(st, t)
		return true
	}
	switch {
	case u.isThanks() && content == 0:
		t.say("You're welcome!")
		st.expect = expAnything
		c.ask(st, t)
		return true
	case yn > 0 && content == 0:
		t.say("Sure, what can I help you with?")
		st.expect = expOpen
		return true
	case u.isGreeting():
		t.say("Hi! How can I help you today?")
		st.expect = expOpen
		return true
	}
	return false
}

func (c *convo) goodbye(st *state, t *turn) {
	t.sayf(func() string { return "Thank you for calling " + c.biz.Name + ". Goodbye!" })
	if c.can.has(tools.EndCall) {
		t.call(tools.EndCall, tools.EndCallArgs{Reason: "caller said goodbye"})
	}
	st.expect = expDone
}

// ---- transfer and messages ----

func (c *convo) canTransfer() bool {
	return c.biz.TransferNumber != "" && c.can.has(tools.TransferCall)
}

func (c *convo) startTransfer(st *state, t *turn) {
	switch {
	case !c.canTransfer():
		if !c.can.has(tools.UpdateLead) {
			t.say("I'm sorry, I can't transfer calls or take messages on this line.")
			st.expect = expAnything
			c.ask(st, t)
			return
		}
		t.say("I'm not able to transfer calls, but I can take a message and have someone call you back.")
		st.expect = expOfferMessage
		c.ask(st, t)
	case c.biz.OpenAt(c.now):
		c.transfer(st, t)
	default:
		t.sayf(func() string { return "We're closed right now" + c.reopening() + "." })
		t.say("I can take a message and have someone call you back, or I can try to transfer you. Which would you prefer?")
		st.expect = expHelpChoice
	}
}

func (c *convo) transfer(st *state, t *turn) {
	t.say("Sure, I'll transfer you now.")
	t.call(tools.TransferCall, tools.TransferCallArgs{Reason: "caller asked for a person"})
	st.expect = expTool
}

// reopening says when the business opens next: ", and we open again
// tomorrow at 8 AM", or "" when it never does.
func (c *convo) reopening() string {
	next, ok := tools.NextOpen(c.biz, c.now)
	if !ok {
		return ""
	}
	lt := next.In(c.loc)
	return ", and we open again " + c.spokenRelDayOn(configs.DateOf(lt)) + " at " + tools.SpokenTime(lt)
}

// spokenRelDayOn is spokenRelDay with "on" before a weekday.
func (c *convo) spokenRelDayOn(d configs.Date) string {
	s := c.spokenRelDay(d)
	if s == "today" || s == "tomorrow" {
		return s
	}
	return "on " + s
}

// notSure is the answer to a question the FAQs do not cover.
func (c *convo) notSure(st *state, t *turn) {
	switch {
	case c.canTransfer() && c.can.has(tools.UpdateLead):
		t.say("I'm not sure about that; can I take a message or transfer you?")
		st.expect = expHelpChoice
	case c.can.has(tools.UpdateLead):
		t.say("I'm not sure about that; can I take a message?")
		st.expect = expOfferMessage
	default:
		t.say("I'm not sure about that.")
		st.expect = expAnything
		c.ask(st, t)
	}
}

// offerHelp offers a person or a message after something went wrong.
func (c *convo) offerHelp(st *state, t *turn) {
	st.resetTask()
	switch {
	case c.canTransfer() && c.can.has(tools.UpdateLead):
		t.say("I can take a message, or transfer you to someone. Which would you prefer?")
		st.expect = expHelpChoice
	case c.can.has(tools.UpdateLead):
		st.expect = expOfferMessage
		t.say("I can take a message and have someone call you back.")
		c.ask(st, t)
	case c.canTransfer():
		c.transfer(st, t)
	default:
		st.expect = expAnything
		c.ask(st, t)
	}
}

func (c *convo) onHelpChoice(st *state, u *utterance, t *turn) bool {
	if u.isKey {
		return false
	}
	msg := u.hasAny("message", "voicemail", "leave", "take", "call me back", "call back", "callback", "note")
	tr := u.hasAny("transfer", "person", "someone", "somebody", "connect", "speak", "talk", "human", "try", "put me through")
	yn := u.yesNo()
	switch {
	case msg && !tr:
		c.startMessage(st, t)
	case tr && !msg:
		if c.canTransfer() {
			c.transfer(st, t)
		} else {
			c.startTransfer(st, t)
		}
	case yn < 0 && !msg && !tr:
		t.say("Okay.")
		st.resetTask()
		st.expect = expAnything
		c.ask(st, t)
	case yn > 0 || msg && tr:
		t.say("Sorry, just to be sure:")
		c.ask(st, t)
	default:
		return false
	}
	return true
}

func (c *convo) onOfferMessage(st *state, u *utterance, t *turn) bool {
	switch yn := u.yesNo(); {
	case yn > 0 || !u.isKey && u.hasAny("message", "leave", "take"):
		c.startMessage(st, t)
	case yn < 0:
		t.say("Okay.")
		st.resetTask()
		st.expect = expAnything
		c.ask(st, t)
	default:
		if !u.isKey && u.isQuestion() {
			return false
		}
		t.say("Sorry, would you like to leave a message? Please say yes or no.")
	}
	return true
}

func (c *convo) onOfferTransfer(st *state, u *utterance, t *turn) bool {
	switch u.yesNo() {
	case 1:
		c.transfer(st, t)
	case -1:
		t.say("Okay.")
		st.expect = expAnything
		c.ask(st, t)
	default:
		return false
	}
	return true
}

func (c *convo) startMessage(st *state, t *turn) {
	if !c.can.has(tools.UpdateLead) {
		t.say("I'm sorry, I can't take messages on this line.")
		st.resetTask()
		st.expect = expAnything
		c.ask(st, t)
		return
	}
	st.resetTask()
	st.task = taskMessage
	t.say("Sure.")
	c.advance(st, t)
}

func (c *convo) onMessage(st *state, u *utterance, t *turn) bool {
	if u.isKey || u.content() < 2 {
		return false
	}
	st.message = u.raw
	c.advance(st, t)
	return true
}

// ---- progress of a task ----

// advance asks for what the task still needs or calls the tool that
// completes it.
func (c *convo) advance(st *state, t *turn) {
	switch st.task {
	case taskBook:
		c.advanceBooking(st, t)
	case taskReschedule:
		if st.reschedule == "" {
			c.advanceFind(st, t)
		} else {
			c.advanceBooking(st, t)
		}
	case taskCancel:
		c.advanceFind(st, t)
	case taskMessage:
		switch {
		case st.message == "":
			st.expect = expMessage
		case st.name == "":
			st.expect = expName
		case st.phone == "":
			st.expect = expPhone
		default:
			t.call(tools.UpdateLead, tools.UpdateLeadArgs{Name: st.name, Phone: st.phone, Notes: "Message: " + st.message})
			st.leadSaved = st.name + "|" + st.phone
			st.expect = expTool
			return
		}
		c.ask(st, t)
	default:
		st.expect = expAnything
		c.ask(st, t)
	}
}

func (c *convo) canBook() bool {
	return c.can.has(tools.CheckAvailability) && c.can.has(tools.BookAppointment) && len(c.biz.Services) > 0
}

func (c *convo) cannotBook(st *state, t *turn) {
	t.say("I'm sorry, I can't make bookings on this line.")
	c.offerHelp(st, t)
}

func (c *convo) startBooking(st *state, svcs []int, w when, t *turn) {
	if !c.canBook() {
		c.cannotBook(st, t)
		return
	}
	if st.task != taskBook && st.task != taskReschedule {
		st.resetTask()
		st.task = taskBook
		t.say("Sure.")
	}
	if len(svcs) == 1 && st.task == taskBook {
		st.svc, st.svcChoices = svcs[0], nil
	} else if len(svcs) > 1 && st.svc < 0 {
		st.svcChoices = svcs
	}
	c.applyWhen(st, w)
	c.advance(st, t)
}

func (c *convo) applyWhen(st *state, w when) bool {
	changed := false
	if w.hasDay && (!st.hasDay || w.day != st.day || w.flexible != st.flexible) {
		st.hasDay, st.day, st.flexible = true, w.day, w.flexible
		changed = true
	}
	if w.hasTime && (st.tod != w.tod || st.hasWin) {
		st.tod, st.hasWin = w.tod, false
		changed = true
	} else if !w.hasTime && w.hasWin && (!st.hasWin || st.lo != w.lo || st.hi != w.hi || st.tod >= 0) {
		st.hasWin, st.lo, st.hi, st.tod = true, w.lo, w.hi, -1
		changed = true
	}
	if changed {
		st.hasSlot, st.offers = false, nil
	}
	return changed
}

func (c *convo) advanceBooking(st *state, t *turn) {
	if !c.canBook() {
		c.cannotBook(st, t)
		return
	}
	switch {
	case st.svc < 0:
		st.expect = expService
	case !st.hasSlot && !st.hasDay:
		st.expect = expDay
	case !st.hasSlot:
		c.checkAvailability(st, t)
		return
	case st.name == "":
		st.expect = expName
	case st.phone == "":
		st.expect = expPhone
	default:
		if st.task == taskBook {
			c.saveLead(st, t, "Interested in "+spokenService(c.biz.Services[st.svc].Name, true))
		}
		st.expect = expConfirm
	}
	c.ask(st, t)
}

// saveLead sends what the caller told us about themselves, once per new
// name and phone pair.
func (c *convo) saveLead(st *state, t *turn, notes string) {
	key := st.name + "|" + st.phone
	if !c.can.has(tools.UpdateLead) || st.phone == "" || st.leadSaved == key {
		return
	}
	st.leadSaved = key
	t.call(tools.UpdateLead, tools.UpdateLeadArgs{Name: st.name, Phone: st.phone, Notes: notes})
}

func hhmm(m int) string {
	return configs.TimeOfDay(m).String()
}

// checkAvailability asks for the free slots around what the caller asked:
// three hours either side of an exact time, the window of a part of the
// day, the whole day, or a week when the caller is flexible.
func (c *convo) checkAvailability(st *state, t *turn) {
	args := tools.CheckAvailabilityArgs{Service: c.biz.Services[st.svc].Name, Date: st.day.String(), Limit: 48}
	switch {
	case st.tod >= 0:
		if lo := st.tod - 180; lo > 0 {
			args.After = hhmm(lo)
		}
		if hi := st.tod + 180; hi < 24*60 {
			args.Before = hhmm(hi)
		}
	case st.hasWin:
		if st.lo > 0 {
			args.After = hhmm(st.lo)
		}
		if st.hi < 24*60 {
			args.Before = hhmm(st.hi)
		}
	}
	if st.flexible {
		args.Days = 7
	}
	t.call(tools.CheckAvailability, args)
	st.expect, st.lastTool = expTool, tools.CheckAvailability
}

func (c *convo) choose(st *state, s time.Time) {
	lt := s.In(c.loc)
	st.hasSlot, st.slot, st.offers = true, s, nil
	st.hasDay, st.day, st.flexible = true, configs.DateOf(lt), false
	st.tod, st.hasWin = lt.Hour()*60+lt.Minute(), false
}

func (c *convo) onService(st *state, u *utterance, t *turn) bool {
	if u.isKey {
		if n := optionIndex(u, len(st.svcChoices)); n >= 0 {
			st.svc, st.svcChoices = st.svcChoices[n], nil
			c.advance(st, t)
			return true
		}
		return false
	}
	cands := c.services.match(u)
	if len(st.svcChoices) > 1 {
		if i := optionIndex(u, len(st.svcChoices)); i >= 0 && len(cands) == 0 {
			cands = []int{st.svcChoices[i]}
		} else if len(cands) > 1 {
			var in []int
			for _, s := range cands {
				if slices.Contains(st.svcChoices, s) {
					in = append(in, s)
				}
			}
			if len(in) > 0 {
				cands = in
			}
		}
	}
	switch len(cands) {
	case 0:
		return false
	case 1:
		st.svc, st.svcChoices = cands[0], nil
		c.applyWhen(st, parseWhen(u.words, c.today, false))
		c.advance(st, t)
	default:
		st.svcChoices = cands
		c.ask(st, t)
	}
	return true
}

func (c *convo) onDay(st *state, u *utterance, t *turn) bool {
	if u.isKey || u.asksHours() {
		return false // "are you open saturday" is a question, not the answer
	}
	if cands := c.services.match(u); len(cands) == 1 && st.task == taskBook {
		st.svc = cands[0]
	}
	w := parseWhen(u.words, c.today, true)
	yn := 0
	if !w.hasDay && !w.hasTime && !w.hasWin && u.content() == 0 {
		yn = u.yesNo() // a bare yes or no: the time grammar lets them through
	}
	switch {
	case w.hasDay:
		c.applyWhen(st, w)
		c.advance(st, t)
	case w.hasTime || w.hasWin:
		c.applyWhen(st, w)
		t.say("And which day?")
	case yn > 0:
		t.say("Sure.")
		c.ask(st, t)
	case yn < 0:
		// "What day would you like?" "No.": the caller does not want one.
		c.abandonTask(st, t)
	default:
		return false
	}
	return true
}

// optionIndex reads "the first one", "the second", "the last one", "number
// two" as an index below n, or -1.
func optionIndex(u *utterance, n int) int {
	if u.isKey {
		k := u.keyDigits()
		if len(k) == 1 && k[0] >= '1' && int(k[0]-'1') < n {
			return int(k[0] - '1')
		}
		return -1
	}
	for i, w := range u.words {
		idx := -1
		switch w {
		case "first", "earliest", "earlier":
			idx = 0
		case "second":
			idx = 1
		case "third":
			idx = 2
		case "last", "latest", "later":
			idx = n - 1
		case "number", "option":
			if i+1 < len(u.words) {
				if v, _, ok := number(u.words, i+1); ok {
					idx = v - 1
				}
			}
		}
		if idx >= 0 && idx < n {
			return idx
		}
	}
	return -1
}

// sameClock reports whether instant lt shows the time tod; without a
// known am/pm, 10 matches 10 AM and 10 PM.
func sameClock(lt time.Time, tod int, meridKnown bool) bool {
	m := lt.Hour()*60 + lt.Minute()
	if meridKnown {
		return m == tod
	}
	return m%(12*60) == tod%(12*60)
}

func (c *convo) onSlot(st *state, u *utterance, t *turn) bool {
	if i := optionIndex(u, len(st.offers)); i >= 0 && (u.isKey || !u.hasWord(monthOrDay)) {
		c.choose(st, st.offers[i])
		c.advance(st, t)
		return true
	}
	if u.isKey || u.asksHours() {
		return false
	}
	w := parseWhen(u.words, c.today, true)
	if w.hasDay || w.hasTime {
		var cands []time.Time
		for _, o := range st.offers {
			lt := o.In(c.loc)
			if (!w.hasDay || configs.DateOf(lt) == w.day) && (!w.hasTime || sameClock(lt, w.tod, w.meridKn)) {
				cands = append(cands, o)
			}
		}
		switch {
		case len(cands) == 1:
			c.choose(st, cands[0])
			c.advance(st, t)
			return true
		case len(cands) > 1 && w.hasTime:
			st.offers = cands
			t.say("Sorry, which one?")
			c.ask(st, t)
			return true
		}
		// Something else than what was offered: look it up.
		if !w.hasTime && w.hasDay {
			st.tod = -1
		}
		c.applyWhen(st, w)
		st.hasSlot = false
		c.advance(st, t)
		return true
	}
	yn := u.yesNo()
	switch {
	case yn > 0 && len(st.offers) == 1:
		c.choose(st, st.offers[0])
		c.advance(st, t)
	case yn > 0 && u.content() == 0:
		c.ask(st, t)
	case w.hasWin:
		c.applyWhen(st, w)
		c.advance(st, t)
	case yn < 0 || u.hasAny("none", "neither", "something else", "another", "different", "other", "doesnt work", "cant"):
		t.say("No problem.")
		st.clearWhen()
		st.expect = expDay
		t.say("What day and time would work better for you?")
	default:
		return false
	}
	return true
}

var monthOrDay = func() map[string]struct{} {
	m := map[string]struct{}{"today": {}, "tomorrow": {}}
	for w := range months {
		m[w] = struct{}{}
	}
	for w := range weekdays {
		m[w] = struct{}{}
	}
	return m
}()

// namePrefixes introduce a name.
var namePrefixes = [][]string{
	{"my", "name", "is"}, {"my", "names"}, {"the", "name", "is"}, {"the", "names"}, {"name", "is"}, {"names"},
	{"this", "is"}, {"it", "is"}, {"its"}, {"i", "am"}, {"im"}, {"call", "me"}, {"you", "can", "call", "me"},
	{"first", "name", "is"}, {"sure", "its"},
}

// notNames are words that show an utterance is not (only) a name.
var notNames = set("yes", "no", "not", "book", "appointment", "cancel", "what", "why", "how", "when", "where", "hold",
	"wait", "sorry", "the", "a", "an", "to", "for", "need", "want", "have", "do", "can", "is", "are", "number", "phone",
	"dont", "know", "about", "please", "hello", "hi", "okay", "ok", "of", "in", "on", "at", "i", "you", "me", "we", "it")

// nameOf reads a name: the words after "my name is", "it's", "this is"…,
// up to four words, with no digits or words that are not names.
func nameOf(u *utterance) (string, bool) {
	if u.isKey {
		return "", false
	}
	ws := trimLeading(u.words)
	for _, p := range namePrefixes {
		if len(ws) >= len(p) && slices.Equal(ws[:len(p)], p) {
			ws = trimLeading(ws[len(p):])
			break
		}
	}
	for i, w := range ws {
		if w == "and" || w == "my" || w == "number" || w == "phone" {
			ws = ws[:i]
			break
		}
	}
	for len(ws) > 0 {
		last := ws[len(ws)-1]
		if last != "please" && last != "thanks" && last != "thank" && last != "you" {
			break
		}
		ws = ws[:len(ws)-1]
	}
	if len(ws) == 0 || len(ws) > 4 {
		return "", false
	}
	parts := make([]string, len(ws))
	for i, w := range ws {
		if _, bad := notNames[w]; bad || strings.ContainsAny(w, "0123456789") {
			return "", false
		}
		if _, ok := units[w]; ok {
			return "", false
		}
		parts[i] = capitalize(w)
	}
	return strings.Join(parts, " "), true
}

func trimLeading(ws []string) []string {
	for len(ws) > 0 {
		w := ws[0]
		_, f := fillers[w]
		if !f && w != "yes" && w != "yeah" && w != "sure" && w != "okay" && w != "ok" && w != "hi" && w != "hello" {
			break
		}
		ws = ws[1:]
	}
	return ws
}

func (c *convo) onName(st *state, u *utterance, t *turn) bool {
	if name, ok := nameOf(u); ok {
		st.name = name
		if p, _, ok := phoneOf(u, c.region); ok && st.phone == "" {
			st.phone = p
		}
		t.sayf(func() string { return "Thanks, " + firstName(name) + "." })
		c.advance(st, t)
		return true
	}
	if p, _, ok := phoneOf(u, c.region); ok {
		st.phone = p
		t.say("Thanks, I have your number.")
		c.ask(st, t)
		return true
	}
	return false
}

func (c *convo) onPhone(st *state, u *utterance, t *turn) bool {
	p, heard, ok := phoneOf(u, c.region)
	switch {
	case ok:
		st.phone = p
		c.advance(st, t)
	case len(strings.TrimPrefix(heard, "+")) >= 3:
		st.misses++
		t.sayf(func() string { return "Sorry, I got " + spokenDigits(heard) + ", which isn't a full phone number." })
		t.say("Could you say the whole number again, including the area code?")
	case !u.isKey && u.hasAny("this number", "same number", "calling from", "this one", "the one im calling"):
		t.say("Sorry, I can't see the number you're calling from.")
		t.say("Could you say it for me, digit by digit?")
	default:
		return false
	}
	return true
}

// applyChanges applies corrections said during a read-back ("no, make it
// eleven", "change it to Friday", "my name is …", a new number).
func (c *convo) applyChanges(st *state, u *utterance, timeContext bool) bool {
	if u.isKey {
		return false
	}
	if len(digitsOf(u.words)) >= 7 {
		if p, _, ok := phoneOf(u, c.region); ok && p != st.phone {
			st.phone = p
			return true
		}
		return false
	}
	changed := false
	if u.hasAny("my name is", "the name is", "name is", "my names", "its spelled") {
		if name, ok := nameOf(u); ok && name != st.name {
			st.name, changed = name, true
		}
	}
	if st.task == taskBook {
		if cands := c.services.match(u); len(cands) == 1 && cands[0] != st.svc {
			st.svc, st.hasSlot, changed = cands[0], false, true
		}
	}
	w := parseWhen(u.words, c.today, timeContext)
	if w.hasDay && !w.hasTime && !w.hasWin && st.hasSlot {
		w.hasTime, w.tod, w.meridKn = true, st.tod, true // keep the time, move the day
	}
	if c.applyWhen(st, w) {
		changed = true
	}
	return changed
}

func (c *convo) onConfirm(st *state, u *utterance, t *turn) bool {
	if c.applyChanges(st, u, true) {
		t.say("Okay.")
		c.advance(st, t)
		return true
	}
	switch u.yesNo() {
	case 1:
		args := tools.BookAppointmentArgs{
			Service: c.biz.Services[st.svc].Name, Start: st.slot.In(c.loc).Format(time.RFC3339),
			Name: st.name, Phone: st.phone, RescheduleID: st.reschedule,
		}
		t.call(tools.BookAppointment, args)
		st.expect, st.lastTool = expTool, tools.BookAppointment
		return true
	case -1:
		t.say("Sorry about that.")
		st.expect = expChange
		c.ask(st, t)
		return true
	}
	if !u.isKey && u.isQuestion() {
		return false
	}
	if st.task == taskReschedule {
		t.say("Sorry, should I move it? Please say yes or no.")
	} else {
		t.say("Sorry, should I book it? Please say yes or no.")
	}
	return true
}

func (c *convo) onChange(st *state, u *utterance, t *turn) bool {
	if c.applyChanges(st, u, true) {
		t.say("Okay.")
		c.advance(st, t)
		return true
	}
	if u.isKey {
		return false
	}
	switch {
	case u.hasAny("time", "day", "date", "when", "hour"):
		st.clearWhen()
		st.expect = expDay
		t.say("What day and time would you prefer?")
	case u.hasAny("service", "type", "kind", "appointment") && st.task == taskBook:
		st.svc, st.hasSlot = -1, false
		c.advance(st, t)
	case u.hasAny("name", "spelling", "spelled"):
		st.name = ""
		c.advance(st, t)
	case u.hasAny("phone", "number"):
		st.phone = ""
		c.advance(st, t)
	case u.hasAny("nothing", "never mind", "its fine", "its correct", "all good") || u.yesNo() > 0:
		st.expect = expConfirm
		c.ask(st, t)
	case u.hasAny("cancel", "forget it", "dont book", "stop"):
		t.say("Okay, I won't book anything.")
		st.resetTask()
		st.expect = expAnything
		c.ask(st, t)
	default:
		return false
	}
	return true
}

// ---- cancel and reschedule ----

func (c *convo) startFind(st *state, t *turn, k task) {
	need := c.can.has(tools.FindAppointments) && c.can.has(tools.CancelAppointment)
	if k == taskReschedule {
		need = c.can.has(tools.FindAppointments) && c.canBook()
	}
	if !need {
		t.say("I'm sorry, I can't change appointments on this line.")
		c.offerHelp(st, t)
		return
	}
	st.resetTask()
	st.task = k
	t.say("Sure, I can help with that.")
	c.advance(st, t)
}

func (c *convo) advanceFind(st *state, t *turn) {
	if st.phone == "" {
		st.expect = expPhone
		c.ask(st, t)
		return
	}
	t.call(tools.FindAppointments, tools.FindAppointmentsArgs{Phone: st.phone})
	st.expect, st.lastTool = expTool, tools.FindAppointments
}

func (c *convo) pickAppt(st *state, i int, t *turn) {
	st.apptIdx = i
	a := st.appts[i]
	if st.task == taskCancel {
		st.expect = expConfirmCancel
		t.sayf(func() string { return "That's your " + spokenService(a.Service, false) + " on " + a.Spoken + "." })
		c.ask(st, t)
		return
	}
	st.reschedule = a.ID
	st.moveFrom, _ = time.Parse(time.RFC3339, a.Start)
	st.svc = -1
	for i, s := range c.biz.Services {
		if strings.EqualFold(s.Name, a.Service) {
			st.svc = i
		}
	}
	if st.name == "" {
		st.name = a.Name
	}
	st.clearWhen()
	st.expect = expDay
	t.sayf(func() string { return "That's your " + spokenService(a.Service, false) + " on " + a.Spoken + "." })
	if st.svc < 0 { // the service is no longer offered
		t.say("That service can't be booked anymore, so I can't move it.")
		c.offerHelp(st, t)
		return
	}
	c.ask(st, t)
}

func (c *convo) onPickAppt(st *state, u *utterance, t *turn) bool {
	if i := optionIndex(u, len(st.appts)); i >= 0 {
		c.pickAppt(st, i, t)
		return true
	}
	if u.isKey {
		return false
	}
	svcs := c.services.match(u)
	w := parseWhen(u.words, c.today, true)
	if len(svcs) == 0 && !w.hasDay && !w.hasTime {
		return false
	}
	var cands []int
	for i, a := range st.appts {
		start, err := time.Parse(time.RFC3339, a.Start)
		if err != nil {
			continue
		}
		lt := start.In(c.loc)
		okSvc := len(svcs) == 0 || slices.ContainsFunc(svcs, func(s int) bool { return strings.EqualFold(c.biz.Services[s].Name, a.Service) })
		if okSvc && (!w.hasDay || configs.DateOf(lt) == w.day) && (!w.hasTime || sameClock(lt, w.tod, w.meridKn)) {
			cands = append(cands, i)
		}
	}
	if len(cands) == 1 {
		c.pickAppt(st, cands[0], t)
		return true
	}
	t.say("Sorry, which one?")
	c.ask(st, t)
	return true
}

func (c *convo) onConfirmCancel(st *state, u *utterance, t *turn) bool {
	switch u.yesNo() {
	case 1:
		t.call(tools.CancelAppointment, tools.CancelAppointmentArgs{Phone: st.phone, AppointmentID: st.appts[st.apptIdx].ID})
		st.expect, st.lastTool = expTool, tools.CancelAppointment
	case -1:
		t.say("Okay, I'll leave it as it is.")
		st.resetTask()
		st.expect = expAnything
		c.ask(st, t)
	default:
		if !u.isKey && u.isQuestion() {
			return false
		}
		t.say("Sorry, should I cancel it? Please say yes or no.")
	}
	return true
}

// ---- tool results ----

func (c *convo) onTool(st *state, name, content string, t *turn) {
	if st.expect == expDone {
		return
	}
	var fail tools.ErrorResult
	if strings.Contains(content, `"error"`) { // skip a second decode of every success
		_ = json.Unmarshal([]byte(content), &fail) // not an error object: fail stays empty
	}
	if st.lastTool == name {
		st.lastTool = ""
	}
	switch name {
	case tools.CheckAvailability:
		var res tools.AvailabilityResult
		if fail.Error == "" && json.Unmarshal([]byte(content), &res) == nil {
			c.onAvailability(st, res, t)
			return
		}
		t.say("Sorry, I couldn't check the schedule just now.")
		c.offerHelp(st, t)
	case tools.BookAppointment:
		var res tools.BookResult
		if fail.Error == "" && json.Unmarshal([]byte(content), &res) == nil {
			c.onBooked(st, res, t)
			return
		}
		c.onBookFailed(st, fail, t)
	case tools.FindAppointments:
		var res tools.FindResult
		if fail.Error == "" && json.Unmarshal([]byte(content), &res) == nil {
			c.onFound(st, res, t)
			return
		}
		if fail.Code == tools.CodeInvalid { // a misheard number
			st.phone = ""
			t.say("Sorry, that number doesn't look right.")
			st.expect = expPhone
			c.ask(st, t)
			return
		}
		t.say("Sorry, I couldn't look up your appointments just now.")
		c.offerHelp(st, t)
	case tools.CancelAppointment:
		var res tools.CancelResult
		if fail.Error == "" && json.Unmarshal([]byte(content), &res) == nil {
			t.sayf(func() string {
				return "Done. Your " + spokenService(res.Cancelled.Service, false) + " on " + res.Cancelled.Spoken + " is cancelled."
			})
			st.resetTask()
			st.expect = expAnything
			c.ask(st, t)
			return
		}
		t.say("Sorry, I couldn't cancel that appointment.")
		c.offerHelp(st, t)
	case tools.UpdateLead:
		if st.task != taskMessage || st.expect != expTool {
			return // a lead saved along the way: nothing to say
		}
		if fail.Error != "" {
			t.say("Sorry, I couldn't save your message.")
			st.resetTask()
			if c.canTransfer() {
				st.expect = expOfferTransfer
				c.ask(st, t)
				return
			}
			st.expect = expAnything
			c.ask(st, t)
			return
		}
		t.sayf(func() string {
			when := " soon"
			if !c.biz.OpenAt(c.now) {
				when = " when we're open"
			}
			return "Thank you, " + firstName(st.name) + ". I'll pass your message on, and someone will call you back" + when + "."
		})
		st.resetTask()
		st.expect = expAnything
		c.ask(st, t)
	case tools.TransferCall:
		if fail.Error != "" {
			t.say("Sorry, I can't transfer you right now.")
			if c.can.has(tools.UpdateLead) {
				st.resetTask()
				st.expect = expOfferMessage
				c.ask(st, t)
				return
			}
			st.expect = expAnything
			c.ask(st, t)
			return
		}
		st.expect = expDone
	case tools.EndCall:
		st.expect = expDone
	}
}

// firstName is what the receptionist calls the caller: the first word of
// their name, or "thanks" wording without one.
func firstName(name string) string {
	if f := strings.Fields(name); len(f) > 0 {
		return f[0]
	}
	return "and thank you"
}

func parseStarts(slots []tools.Slot) []time.Time {
	out := make([]time.Time, 0, len(slots))
	for _, s := range slots {
		if t, err := time.Parse(time.RFC3339, s.Start); err == nil {
			out = append(out, t)
		}
	}
	return out
}

// spread picks up to n starts, each at least gap after the one before.
func spread(starts []time.Time, n int, gap time.Duration) []time.Time {
	var out []time.Time
	for _, s := range starts {
		if len(out) == n {
			break
		}
		if len(out) == 0 || !s.Before(out[len(out)-1].Add(gap)) {
			out = append(out, s)
		}
	}
	return out
}

// nearest picks up to n starts closest to target, each at least gap from
// the others (so that the offers are real alternatives, not 8:15, 8:30
// and 8:45), in time order.
func nearest(starts []time.Time, target time.Time, n int, gap time.Duration) []time.Time {
	s := slices.Clone(starts)
	dist := func(x time.Time) time.Duration {
		d := x.Sub(target)
		if d < 0 {
			return -d
		}
		return d
	}
	slices.SortStableFunc(s, func(a, b time.Time) int { return int((dist(a) - dist(b)) / time.Second) })
	var out []time.Time
	for _, x := range s {
		if len(out) == n {
			break
		}
		if !slices.ContainsFunc(out, func(o time.Time) bool { return dist2(o, x) < gap }) {
			out = append(out, x)
		}
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

func dist2(a, b time.Time) time.Duration {
	if d := a.Sub(b); d >= 0 {
		return d
	}
	return b.Sub(a)
}

func (c *convo) partOfDay(st *state) string {
	if !st.hasWin {
		return ""
	}
	switch {
	case st.lo == 0 && st.hi == morningEnd:
		return " in the morning"
	case st.lo == morningEnd && st.hi == afternoonEnd:
		return " in the afternoon"
	case st.lo == afternoonEnd:
		return " in the evening"
	case st.hi == 24*60:
		return " after " + tools.SpokenTimeOfDay(configs.TimeOfDay(st.lo))
	case st.lo == 0:
		return " before " + tools.SpokenTimeOfDay(configs.TimeOfDay(st.hi))
	}
	return ""
}

func (c *convo) onAvailability(st *state, res tools.AvailabilityResult, t *turn) {
	if st.svc < 0 || !st.hasDay {
		return // a result we did not ask for
	}
	starts := parseStarts(res.Slots)
	if st.tod >= 0 && len(starts) > 0 {
		d := st.day
		target := time.Date(d.Year, d.Month, d.Day, st.tod/60, st.tod%60, 0, 0, c.loc)
		for _, s := range starts {
			if s.Equal(target) {
				c.choose(st, s)
				t.sayf(func() string {
					return "Good news, " + c.spokenRelDay(st.day) + " at " + tools.SpokenTime(target) + " is available."
				})
				c.advance(st, t)
				return
			}
		}
		st.offers = nearest(starts, target, c.maxOffers, 45*time.Minute)
		t.sayf(func() string {
			return "Sorry, " + tools.SpokenTime(target) + " " + c.spokenRelDay(st.day) + " isn't available."
		})
		t.sayf(func() string { return "The closest times I have are " + c.offerList(st) + ". Would one of those work?" })
		st.expect = expSlot
		return
	}
	if len(starts) > 0 {
		// Earliest first when the caller is flexible; otherwise spread the
		// offers over the span of free times, in whole half hours.
		gap := time.Hour
		if !st.flexible {
			gap = starts[len(starts)-1].Sub(starts[0]) / time.Duration(c.maxOffers)
			gap = min(max(gap.Truncate(30*time.Minute), 30*time.Minute), 2*time.Hour)
		}
		st.offers = spread(starts, c.maxOffers, gap)
		t.sayf(func() string {
			if st.flexible {
				return "The earliest times I have are " + c.offerList(st) + "."
			}
			return capitalize(c.spokenRelDayOn(st.day)) + c.partOfDay(st) + " I have " + c.offerList(st) + "."
		})
		t.say("Which would you like?")
		st.expect = expSlot
		return
	}
	switch {
	case res.Closed != "" && strings.HasPrefix(res.Closed, "closed on "):
		t.sayf(func() string { return "Sorry, we're " + res.Closed + "." })
	case res.Closed != "":
		t.sayf(func() string { return "Sorry, we're closed " + c.spokenRelDayOn(st.day) + " for " + res.Closed + "." })
	default:
		t.sayf(func() string {
			return "Sorry, I don't have any openings " + c.spokenRelDayOn(st.day) + c.partOfDay(st) + "."
		})
	}
	next := parseStarts(res.Next)
	if len(next) == 0 {
		t.say("I don't see any openings in the next two weeks.")
		c.offerHelp(st, t)
		return
	}
	st.offers = next[:min(len(next), c.maxOffers)]
	st.hasDay = false // offers span days: say each one's day
	t.sayf(func() string { return "The next openings are " + c.offerList(st) + ". Would one of those work?" })
	st.expect = expSlot
}

func (c *convo) onBooked(st *state, res tools.BookResult, t *turn) {
	a := res.Appointment
	if res.Rescheduled {
		t.sayf(func() string { return "Done. Your " + spokenService(a.Service, false) + " is now on " + a.Spoken + "." })
	} else {
		t.sayf(func() string { return "You're all set, " + firstName(a.Name) + "." })
		t.sayf(func() string { return "Your " + spokenService(a.Service, false) + " is booked for " + a.Spoken + "." })
		if c.can.has(tools.UpdateLead) {
			t.call(tools.UpdateLead, tools.UpdateLeadArgs{
				Name: st.name, Phone: st.phone, AppointmentID: a.ID,
				Notes: "Booked " + spokenService(a.Service, true) + " on " + a.Spoken,
			})
			st.leadSaved = st.name + "|" + st.phone
		}
	}
	st.resetTask()
	st.expect = expAnything
	c.ask(st, t)
}

func (c *convo) onBookFailed(st *state, fail tools.ErrorResult, t *turn) {
	st.hasSlot = false
	switch fail.Code {
	case tools.CodeConflict:
		next := parseStarts(fail.Next)
		t.say("Sorry, that time was just taken.")
		if len(next) == 0 {
			t.say("I don't see another opening soon.")
			c.offerHelp(st, t)
			return
		}
		st.offers = next[:min(len(next), c.maxOffers)]
		st.hasDay = false
		t.sayf(func() string { return "I can offer " + c.offerList(st) + ". Would one of those work?" })
		st.expect = expSlot
	case tools.CodeOutsideHours, tools.CodeInvalid:
		t.say("Sorry, I couldn't book that time.")
		st.clearWhen()
		st.expect = expDay
		t.say("What day and time would work for you?")
	case tools.CodeNotFound:
		t.say("Sorry, I couldn't find that appointment anymore.")
		c.offerHelp(st, t)
	default:
		t.say("Sorry, I couldn't complete the booking just now.")
		c.offerHelp(st, t)
	}
}

func (c *convo) onFound(st *state, res tools.FindResult, t *turn) {
	st.appts = res.Appointments
	switch len(st.appts) {
	case 0:
		phone := st.phone
		t.sayf(func() string { return "I couldn't find any upcoming appointments under " + spokenPhone(phone) + "." })
		st.resetTask()
		st.expect = expAnything
		c.ask(st, t)
	case 1:
		c.pickAppt(st, 0, t)
	default:
		st.expect = expPickAppt
		c.ask(st, t)
	}
}

// ---- hours ----

// closureNamed returns the next closure whose reason the caller named
// ("are you open on christmas").
func (c *convo) closureNamed(u *utterance) (configs.Closure, bool) {
	for _, cl := range c.biz.Closures {
		if cl.Reason == "" || cl.To.Compare(c.today) < 0 {
			continue
		}
		words := normalizeWords(tools.Words(cl.Reason))
		n := 0
		for _, w := range words {
			if _, stop := genericClosureWords[w]; stop {
				continue
			}
			if !u.has(w) {
				n = -1
				break
			}
			n++
		}
		if n > 0 {
			return cl, true
		}
	}
	return configs.Closure{}, false
}

func (c *convo) namesClosure(u *utterance) bool {
	_, ok := c.closureNamed(u)
	return ok
}

var genericClosureWords = set("day", "the", "of", "and", "holiday", "eve", "s", "closed", "for")

func (c *convo) spokenClosure(cl configs.Closure) string {
	span := "on " + tools.SpokenDate(cl.From)
	if cl.To != cl.From {
		span = "from " + tools.SpokenDate(cl.From) + " to " + tools.SpokenDate(cl.To)
	}
	if cl.Reason != "" {
		span += " for " + cl.Reason
	}
	return span
}

func (c *convo) answerHours(u *utterance, w when, t *turn) {
	if cl, ok := c.closureNamed(u); ok {
		t.sayf(func() string { return "We're closed " + c.spokenClosure(cl) + "." })
		return
	}
	now := u.asksOpenNow() || !u.hasAny("when", "what time", "hours", "what are", "close", "closes", "closing") &&
		u.hasAny("are you open", "you open", "is it open", "office open", "are you closed", "you guys open", "open today")
	closeQ := u.hasAny("close", "closes", "closing") && !u.asksOpenNow()
	switch {
	case w.hasDay && !(now && w.day == c.today && !u.hasAny("hours", "what time")):
		c.sayDayHours(w.day, t)
	case closeQ:
		c.sayDayHours(c.today, t)
	case now:
		if until, ok := tools.OpenUntil(c.biz, c.now); ok {
			t.sayf(func() string { return "Yes, we're open right now, until " + tools.SpokenTime(until.In(c.loc)) + "." })
			return
		}
		if cl, ok := tools.ClosureOn(c.biz, c.today); ok && cl.Reason != "" {
			t.sayf(func() string { return "No, we're closed today for " + cl.Reason + c.reopening() + "." })
			return
		}
		t.sayf(func() string { return "No, we're closed right now" + c.reopening() + "." })
	default:
		t.sayf(func() string { return "Our hours are " + tools.SpokenWeek(c.biz) })
		for _, cl := range c.biz.Closures {
			if cl.To.Compare(c.today) >= 0 && cl.From.Compare(tools.AddDays(c.today, 14)) <= 0 {
				t.sayf(func() string { return "Please note we're closed " + c.spokenClosure(cl) + "." })
			}
		}
	}
}

func (c *convo) sayDayHours(d configs.Date, t *turn) {
	if cl, ok := tools.ClosureOn(c.biz, d); ok {
		t.sayf(func() string {
			s := "We're closed " + c.spokenRelDayOn(d)
			if cl.Reason != "" {
				s += " for " + cl.Reason
			}
			return s + "."
		})
		return
	}
	rs := c.biz.Hours[tools.WeekdayOf(d)]
	if len(rs) == 0 {
		t.sayf(func() string { return "We're closed on " + tools.WeekdayOf(d).String() + "s." })
		if d == c.today {
			t.sayf(func() string { return "We open again" + strings.TrimPrefix(c.reopening(), ", and we open again") + "." })
		}
		return
	}
	t.sayf(func() string {
		return capitalize(c.spokenRelDayOn(d)) + ", we're open " + tools.SpokenRanges(rs) + "."
	})
}

// sentences splits text into sentences for streaming, at ". ", "? " and
// "! ".
func sentences(text string) []string {
	var out []string
	text = strings.Join(strings.Fields(text), " ")
	for text != "" {
		i := strings.IndexAny(text, ".?!")
		for i >= 0 && i+1 < len(text) && text[i+1] != ' ' {
			j := strings.IndexAny(text[i+1:], ".?!")
			if j < 0 {
				i = -1
				break
			}
			i += 1 + j
		}
		if i < 0 {
			out = append(out, text)
			break
		}
		out = append(out, text[:i+1])
		text = strings.TrimSpace(text[i+1:])
	}
	return out
}
