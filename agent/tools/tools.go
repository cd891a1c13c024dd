package tools

import (
	"encoding/json"

	"github.com/frontdesk/frontdesk/agent"
)

// Tool names. They are part of the wire contract with the cloud LLM (they
// appear in its prompts and transcripts), so they never change.
const (
	GetHours          = "get_hours"
	SearchFAQ         = "search_faq"
	CheckAvailability = "check_availability"
	BookAppointment   = "book_appointment"
	FindAppointments  = "find_appointments"
	CancelAppointment = "cancel_appointment"
	UpdateLead        = "update_lead"
	TransferCall      = "transfer_call"
	EndCall           = "end_call"
)

// Times in arguments and results: instants are RFC 3339 with the business's
// UTC offset ("2026-03-10T10:30:00-04:00"); an instant without an offset
// ("2026-03-10T10:30") is read on the business's wall clock. Dates are
// "YYYY-MM-DD" and times of day "HH:MM", both in the business's time zone.

// GetHoursArgs are the arguments of get_hours.
type GetHoursArgs struct {
	Date string `json:"date,omitempty"` // optional YYYY-MM-DD to ask about one day
}

// SearchFAQArgs are the arguments of search_faq.
type SearchFAQArgs struct {
	Question string `json:"question"`
}

// CheckAvailabilityArgs are the arguments of check_availability.
type CheckAvailabilityArgs struct {
	Service string `json:"service"`          // a configured service name
	Date    string `json:"date,omitempty"`   // YYYY-MM-DD; default today
	Days    int    `json:"days,omitempty"`   // days searched from Date, 1 (default) to 14
	After   string `json:"after,omitempty"`  // HH:MM: slots starting at or after
	Before  string `json:"before,omitempty"` // HH:MM: slots starting before
	Limit   int    `json:"limit,omitempty"`  // at most this many slots, default 12, at most 100
}

// BookAppointmentArgs are the arguments of book_appointment.
type BookAppointmentArgs struct {
	Service string `json:"service"` // a configured service name
	Start   string `json:"start"`   // RFC 3339 in the business's time zone
	Name    string `json:"name"`
	Phone   string `json:"phone"` // E.164, or national digits of the business's country
	// RescheduleID moves that appointment (found with find_appointments
	// under Phone) to Start instead of booking a new one.
	RescheduleID string `json:"reschedule_id,omitempty"`
}

// FindAppointmentsArgs are the arguments of find_appointments.
type FindAppointmentsArgs struct {
	Phone string `json:"phone"`
}

// CancelAppointmentArgs are the arguments of cancel_appointment. The
// appointment must be one find_appointments returned for Phone, so that a
// caller can only cancel appointments booked under the number they give.
type CancelAppointmentArgs struct {
	Phone         string `json:"phone"`
	AppointmentID string `json:"appointment_id"`
}

// UpdateLeadArgs are the arguments of update_lead: what the caller told us
// about themselves. Leads are deduplicated by phone number.
type UpdateLeadArgs struct {
	Name          string `json:"name,omitempty"`
	Phone         string `json:"phone,omitempty"`
	Email         string `json:"email,omitempty"`
	Notes         string `json:"notes,omitempty"`          // interest, or a message to pass on
	AppointmentID string `json:"appointment_id,omitempty"` // links a booking to the lead
}

// TransferCallArgs are the arguments of transfer_call.
type TransferCallArgs struct {
	Reason string `json:"reason,omitempty"`
}

// EndCallArgs are the arguments of end_call.
type EndCallArgs struct {
	Reason string `json:"reason,omitempty"`
}

// Slot is a free or booked time in a result.
type Slot struct {
	Start  string `json:"start"`  // RFC 3339 with the business's offset
	End    string `json:"end"`    // RFC 3339 with the business's offset
	Spoken string `json:"spoken"` // e.g. "Tuesday, March 10 at 10:30 AM"
}

// DayHours are the opening hours of one day in a result.
type DayHours struct {
	Day     string   `json:"day"`               // "Monday", or "YYYY-MM-DD" for a dated day
	Ranges  []string `json:"ranges"`            // "HH:MM-HH:MM", empty when closed
	Closure string   `json:"closure,omitempty"` // reason of a closure covering the day
	Closed  bool     `json:"closed"`
}

// HoursResult is the result of get_hours.
type HoursResult struct {
	Business string     `json:"business"`
	TimeZone string     `json:"time_zone"`
	Now      string     `json:"now"` // RFC 3339, business time zone
	OpenNow  bool       `json:"open_now"`
	Summary  string     `json:"summary"` // the weekly hours as a sentence
	Week     []DayHours `json:"week"`    // Sunday first
	Date     *DayHours  `json:"date,omitempty"`
	NextOpen string     `json:"next_open,omitempty"` // RFC 3339, when closed now
}

// FAQResult is the result of search_faq. Found is false when no answer
// scored at least the threshold; Answer is then empty.
type FAQResult struct {
	Found    bool    `json:"found"`
	Answer   string  `json:"answer,omitempty"`
	Question string  `json:"question,omitempty"` // the configured phrasing that matched best
	Score    float64 `json:"score"`
}

// AvailabilityResult is the result of check_availability. When no slot is
// free in the window asked for, Next lists the first free slots after it
// (up to 14 days later) and Closed gives the reason when the day asked for
// is closed.
type AvailabilityResult struct {
	Service string `json:"service"`
	Date    string `json:"date"`
	Slots   []Slot `json:"slots"`
	Next    []Slot `json:"next,omitempty"`
	Closed  string `json:"closed,omitempty"`
}

// Appointment is an appointment in a result.
type Appointment struct {
	ID      string `json:"id"`
	Service string `json:"service"`
	Slot
	Name  string `json:"name"`
	Phone string `json:"phone"`
}

// BookResult is the result of book_appointment.
type BookResult struct {
	Appointment Appointment `json:"appointment"`
	Rescheduled bool        `json:"rescheduled,omitempty"`
}

// FindResult is the result of find_appointments: the caller's upcoming
// booked appointments, earliest first.
type FindResult struct {
	Appointments []Appointment `json:"appointments"`
}

// CancelResult is the result of cancel_appointment.
type CancelResult struct {
	Cancelled Appointment `json:"cancelled"`
}

// LeadResult is the result of update_lead.
type LeadResult struct {
	LeadID string `json:"lead_id"`
	Name   string `json:"name,omitempty"`
	Phone  string `json:"phone,omitempty"`
	Status string `json:"status"`
}

// ActionResult is the result of transfer_call and end_call.
type ActionResult struct {
	Status string `json:"status"` // "transferring" or "ending"
}

// Error codes of ErrorResult.
const (
	CodeInvalid      = "invalid"       // bad arguments
	CodeOutsideHours = "outside_hours" // the time is not in opening hours
	CodeConflict     = "conflict"      // the slot is taken; Next has free ones
	CodeNotFound     = "not_found"     // no such appointment for that phone
	CodeUnavailable  = "unavailable"   // the tool cannot run here (no backend, no transfer number)
	CodeInternal     = "internal"      // the backend failed
)

// ErrorResult is the content of a failed tool call. Error is safe to read
// back to the caller in substance; it never holds a backend's internals.
type ErrorResult struct {
	Error string `json:"error"`
	Code  string `json:"code"`
	Next  []Slot `json:"next,omitempty"` // with CodeConflict
}

// Definitions returns the tool set for agent.Request.Tools. Each call
// returns new slices; the schemas are shared read-only bytes.
func Definitions() []agent.Tool {
	return []agent.Tool{
		{Name: GetHours, Parameters: json.RawMessage(getHoursSchema), Description: "Get the business's opening hours in its time zone: the weekly hours, whether it is open right now, the current local time, and optionally the hours of one date (closures such as holidays included)."},
		{Name: SearchFAQ, Parameters: json.RawMessage(searchFAQSchema), Description: "Look up the business's answer to a caller's question (prices, location, insurance, policies…). Returns found=false when no configured answer matches well enough: then do not guess; offer to take a message or transfer the call."},
		{Name: CheckAvailability, Parameters: json.RawMessage(checkAvailabilitySchema), Description: "List free appointment slots of a service on a date (optionally between two times of day). When none are free it returns the next free slots after. Offer the caller two or three of them."},
		{Name: BookAppointment, Parameters: json.RawMessage(bookAppointmentSchema), Description: "Book a service at a free slot for the caller, after reading the details back and hearing the caller confirm. With reschedule_id, moves that existing appointment instead. If the slot was just taken the error lists the next free slots."},
		{Name: FindAppointments, Parameters: json.RawMessage(findAppointmentsSchema), Description: "Find the caller's upcoming appointments by the phone number they were booked under, before cancelling or rescheduling one."},
		{Name: CancelAppointment, Parameters: json.RawMessage(cancelAppointmentSchema), Description: "Cancel one appointment that find_appointments returned for this phone number, after the caller confirmed which one."},
		{Name: UpdateLead, Parameters: json.RawMessage(updateLeadSchema), Description: "Save what the caller told you about themselves (name, phone, email) and their interest or a message for the staff. Call it when you learn new details and to take a message."},
		{Name: TransferCall, Parameters: json.RawMessage(transferCallSchema), Description: "Transfer the call to a person at the business. Say that you are transferring first."},
		{Name: EndCall, Parameters: json.RawMessage(endCallSchema), Description: "Hang up after saying goodbye, when the caller is done."},
	}
}

const (
	getHoursSchema = `{"type":"object","properties":{` +
		`"date":{"type":"string","description":"A date to ask about, YYYY-MM-DD in the business's time zone. Omit for the weekly hours and today.","pattern":"^\\d{4}-\\d{2}-\\d{2}$"}` +
		`},"additionalProperties":false}`
	searchFAQSchema = `{"type":"object","properties":{` +
		`"question":{"type":"string","description":"The caller's question in their words."}` +
		`},"required":["question"],"additionalProperties":false}`
	checkAvailabilitySchema = `{"type":"object","properties":{` +
		`"service":{"type":"string","description":"The service name exactly as the business lists it."},` +
		`"date":{"type":"string","description":"First day to search, YYYY-MM-DD in the business's time zone. Default today.","pattern":"^\\d{4}-\\d{2}-\\d{2}$"},` +
		`"days":{"type":"integer","minimum":1,"maximum":14,"description":"Number of days to search from date. Default 1."},` +
		`"after":{"type":"string","description":"Only slots starting at or after this time of day, HH:MM.","pattern":"^\\d{2}:\\d{2}$"},` +
		`"before":{"type":"string","description":"Only slots starting before this time of day, HH:MM.","pattern":"^\\d{2}:\\d{2}$"},` +
		`"limit":{"type":"integer","minimum":1,"maximum":100,"description":"Maximum number of slots returned. Default 12."}` +
		`},"required":["service"],"additionalProperties":false}`
	bookAppointmentSchema = `{"type":"object","properties":{` +
		`"service":{"type":"string","description":"The service name exactly as the business lists it."},` +
		`"start":{"type":"string","description":"Start of a free slot, RFC 3339 with the business's UTC offset, as check_availability returned it."},` +
		`"name":{"type":"string","description":"The caller's name."},` +
		`"phone":{"type":"string","description":"The caller's phone number, E.164 or national digits."},` +
		`"reschedule_id":{"type":"string","description":"ID of an existing appointment (from find_appointments) to move to start instead of booking a new one."}` +
		`},"required":["service","start","name","phone"],"additionalProperties":false}`
	findAppointmentsSchema = `{"type":"object","properties":{` +
		`"phone":{"type":"string","description":"The phone number the appointments were booked under."}` +
		`},"required":["phone"],"additionalProperties":false}`
	cancelAppointmentSchema = `{"type":"object","properties":{` +
		`"phone":{"type":"string","description":"The phone number the appointment was booked under."},` +
		`"appointment_id":{"type":"string","description":"The appointment's ID from find_appointments."}` +
		`},"required":["phone","appointment_id"],"additionalProperties":false}`
	updateLeadSchema = `{"type":"object","properties":{` +
		`"name":{"type":"string"},` +
		`"phone":{"type":"string","description":"E.164 or national digits."},` +
		`"email":{"type":"string"},` +
		`"notes":{"type":"string","description":"What the caller is interested in, or the message they want passed on."},` +
		`"appointment_id":{"type":"string","description":"An appointment just booked for this caller."}` +
		`},"additionalProperties":false}`
	transferCallSchema = `{"type":"object","properties":{` +
		`"reason":{"type":"string","description":"Why the caller wants a person, for the staff."}` +
		`},"additionalProperties":false}`
	endCallSchema = `{"type":"object","properties":{` +
		`"reason":{"type":"string"}` +
		`},"additionalProperties":false}`
)
