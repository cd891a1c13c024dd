package scheduling

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"
)

// AppointmentStatus is the life-cycle state of an appointment.
type AppointmentStatus string

// Appointment statuses. Only booked appointments occupy time.
const (
	StatusBooked    AppointmentStatus = "booked"
	StatusCancelled AppointmentStatus = "cancelled"
)

// SMSStatus tracks the SMS confirmation of an appointment.
type SMSStatus string

// SMS confirmation statuses; the zero value means no SMS was attempted.
const (
	SMSNone    SMSStatus = ""
	SMSPending SMSStatus = "pending"
	SMSSent    SMSStatus = "sent"
	SMSFailed  SMSStatus = "failed"
)

// Valid reports whether s is one of the SMS statuses above.
func (s SMSStatus) Valid() bool {
	return s == SMSNone || s == SMSPending || s == SMSSent || s == SMSFailed
}

// Limits on free-text fields, so that one request cannot store megabytes.
const (
	maxNameLen  = 200
	maxKeyLen   = 200
	maxNotesLen = 10000
)

// Appointment is one booking. Start and End are instants (stores return
// them in UTC; convert with the calendar's Location to show them); End is
// Start plus Service.Duration and the buffer follows End.
type Appointment struct {
	ID         string
	BusinessID string
	// Service is a snapshot taken at booking time, so that later changes to
	// the business's services do not move existing appointments.
	Service        Service
	Start, End     time.Time
	CustomerName   string
	Phone          string // E.164, or empty when unknown
	LeadID         string // optional
	Status         AppointmentStatus
	IdempotencyKey string // optional; a repeated Book with it returns this appointment
	SMSStatus      SMSStatus
	SMSError       string // why the last SMS failed
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// BlockEnd is the end of the time the appointment occupies: End plus the
// service's buffer.
func (a Appointment) BlockEnd() time.Time { return a.End.Add(a.Service.Buffer) }

// Overlaps reports whether the blocks [Start, BlockEnd) of a and b
// intersect. Touching blocks do not overlap.
func (a Appointment) Overlaps(b Appointment) bool {
	return a.Start.Before(b.BlockEnd()) && b.Start.Before(a.BlockEnd())
}

// LogValue keeps the customer's name and phone number out of logs.
func (a Appointment) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", a.ID),
		slog.String("business_id", a.BusinessID),
		slog.String("service", a.Service.ID),
		slog.Time("start", a.Start),
		slog.String("status", string(a.Status)),
		slog.String("phone", RedactPhone(a.Phone)),
	)
}

// PrepareBooking validates a booking request for businessID at time now and
// returns the appointment to store, without an ID: the service is looked up
// by req.Service.ID (its duration and buffer come from the calendar, not the
// request), Start is truncated to the second and converted to UTC, End is
// computed, Status is booked, SMS status is cleared and the timestamps are
// now. It does not check other appointments; stores do that atomically.
func (c *Calendar) PrepareBooking(businessID string, req Appointment, now time.Time) (Appointment, error) {
	if err := c.Validate(); err != nil {
		return Appointment{}, err
	}
	svc, ok := c.Service(req.Service.ID)
	if !ok {
		return Appointment{}, fmt.Errorf("%w: unknown service %q", ErrInvalid, req.Service.ID)
	}
	a := Appointment{
		BusinessID:     businessID,
		Service:        svc,
		Start:          req.Start.Truncate(time.Second).UTC(),
		CustomerName:   strings.TrimSpace(req.CustomerName),
		LeadID:         strings.TrimSpace(req.LeadID),
		Status:         StatusBooked,
		IdempotencyKey: req.IdempotencyKey,
		CreatedAt:      now,
		UpdatedAt:      now,
	}
	a.End = a.Start.Add(svc.Duration)
	if req.Start.IsZero() {
		return Appointment{}, fmt.Errorf("%w: appointment has no start time", ErrInvalidRange)
	}
	if err := checkText("customer name", a.CustomerName, maxNameLen, true); err != nil {
		return Appointment{}, err
	}
	if err := checkText("idempotency key", a.IdempotencyKey, maxKeyLen, false); err != nil {
		return Appointment{}, err
	}
	if err := checkText("lead ID", a.LeadID, maxKeyLen, false); err != nil {
		return Appointment{}, err
	}
	if req.Phone != "" {
		p, err := NormalizePhone(req.Phone, "")
		if err != nil {
			return Appointment{}, err
		}
		a.Phone = p
	}
	if err := c.CheckSlot(svc, a.Start, now); err != nil {
		return Appointment{}, err
	}
	return a, nil
}

// PrepareReschedule validates moving a to start at time now and returns the
// moved appointment. It keeps a's service snapshot; a must be booked.
func (c *Calendar) PrepareReschedule(a Appointment, start, now time.Time) (Appointment, error) {
	if a.Status != StatusBooked {
		return Appointment{}, fmt.Errorf("%w: appointment %s is %s, not booked", ErrInvalid, a.ID, a.Status)
	}
	if start.IsZero() {
		return Appointment{}, fmt.Errorf("%w: appointment has no start time", ErrInvalidRange)
	}
	start = start.Truncate(time.Second).UTC()
	if err := c.CheckSlot(a.Service, start, now); err != nil {
		return Appointment{}, err
	}
	a.Start, a.End, a.UpdatedAt = start, start.Add(a.Service.Duration), now
	return a, nil
}

// SameRequest reports whether a repeated booking request req (as returned by
// PrepareBooking) asks for the same thing as the stored appointment a, so
// that an idempotency key replays a and is not silently reused for another
// booking.
func (a Appointment) SameRequest(req Appointment) bool {
	return a.Service.ID == req.Service.ID && a.Start.Equal(req.Start) &&
		a.CustomerName == req.CustomerName && a.Phone == req.Phone && a.LeadID == req.LeadID
}

func checkText(what, s string, max int, required bool) error {
	switch {
	case required && s == "":
		return fmt.Errorf("%w: %s is required", ErrInvalid, what)
	case len(s) > max:
		return fmt.Errorf("%w: %s is longer than %d bytes", ErrInvalid, what, max)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalid, what)
	}
	return nil
}
