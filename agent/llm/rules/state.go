package rules

import (
	"time"

	"github.com/frontdesk/frontdesk/agent/tools"
	"github.com/frontdesk/frontdesk/configs"
)

// expect is what the engine asked last, i.e. how it reads the next
// utterance.
type expect uint8

const (
	expOpen          expect = iota // nothing asked: "how can I help?"
	expAnything                    // "is there anything else?"
	expService                     // which service
	expDay                         // which day (and maybe time)
	expSlot                        // one of the offered times
	expName                        // the caller's name
	expPhone                       // the caller's phone number
	expConfirm                     // read-back of a booking or a move: yes/no
	expChange                      // what to change in the read-back
	expPickAppt                    // which of several found appointments
	expConfirmCancel               // cancel this appointment? yes/no
	expMessage                     // the message to pass on
	expHelpChoice                  // a message or a transfer?
	expOfferMessage                // take a message? yes/no
	expOfferTransfer               // transfer instead? yes/no
	expTool                        // waiting for a tool result
	expDone                        // the call is ending or transferred
)

// task is what the caller is doing.
type task uint8

const (
	taskNone task = iota
	taskBook
	taskReschedule
	taskCancel
	taskMessage
)

// state is everything the engine knows about a conversation, rebuilt by
// replay on each call.
type state struct {
	expect expect
	task   task
	misses int // consecutive utterances not understood

	mentioned int // the service last named, for "can I book that?"; -1 none

	// booking request
	svc        int   // index in Business.Services; -1 unknown
	svcChoices []int // services to choose from when the caller was ambiguous
	hasDay     bool
	day        configs.Date
	flexible   bool // search the following days too
	tod        int  // exact time asked for, minutes after midnight; -1 none
	hasWin     bool
	lo, hi     int         // window of starts asked for
	hasSlot    bool        // a free slot is chosen
	slot       time.Time   // its start
	offers     []time.Time // times offered, in order
	reschedule string      // ID of the appointment being moved
	moveFrom   time.Time   // its current start

	// the caller
	name, phone string
	leadSaved   string // name|phone last sent to update_lead

	// appointments found by phone
	appts    []tools.Appointment
	apptIdx  int // -1 none
	message  string
	lastTool string // tool awaited, for reading its result
}

func newState() *state {
	return &state{svc: -1, tod: -1, apptIdx: -1, mentioned: -1}
}

// clearRequest forgets the day, time and chosen slot of a booking.
func (s *state) clearWhen() {
	s.hasDay, s.flexible, s.tod, s.hasWin, s.hasSlot, s.offers = false, false, -1, false, false, nil
}

// resetTask ends the current task but remembers who the caller is.
func (s *state) resetTask() {
	s.task = taskNone
	s.svc, s.svcChoices = -1, nil
	s.clearWhen()
	s.reschedule, s.moveFrom = "", time.Time{}
	s.appts, s.apptIdx, s.message = nil, -1, ""
}
