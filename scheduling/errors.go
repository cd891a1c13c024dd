package scheduling

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Wrapped errors name the operation and the offending value;
// match them with errors.Is.
var (
	// ErrInvalid reports input that can never succeed as given (HTTP 400).
	// ErrInvalidRange and ErrOutsideHours also match it.
	ErrInvalid = errors.New("invalid input")
	// ErrInvalidRange reports an impossible time range: end before start,
	// a window too long, a start in the past.
	ErrInvalidRange error = &refinedError{msg: "invalid time range", parent: ErrInvalid}
	// ErrOutsideHours reports an appointment that does not fit in one opening
	// range of the business (or falls on a closure).
	ErrOutsideHours error = &refinedError{msg: "outside business hours", parent: ErrInvalid}
	// ErrNotFound reports a record that does not exist for this business.
	// Records of another business are reported the same way.
	ErrNotFound = errors.New("not found")
	// ErrDuplicate reports a record that already exists (same ID, same phone
	// number, an idempotency key reused for a different request).
	ErrDuplicate = errors.New("duplicate")
	// ErrConflict reports a state conflict: the slot is taken (then the error
	// is a *ConflictError) or a version check failed.
	ErrConflict = errors.New("conflict")
)

// refinedError is a sentinel that also matches a broader sentinel, so that
// the API layer can map every ErrInvalid to 400 while tests and the dialogue
// engine can still tell an out-of-hours request from a bad phone number.
type refinedError struct {
	msg    string
	parent error
}

func (e *refinedError) Error() string { return e.msg }
func (e *refinedError) Unwrap() error { return e.parent }

// ConflictError reports that a requested slot overlaps a booked appointment
// (including that appointment's buffer). It matches ErrConflict.
type ConflictError struct {
	// Next lists free slots of the same service at or after the requested
	// start, earliest first; it may be empty when none were found nearby.
	// It is advisory: another booking may take them first.
	Next []Slot
}

func (e *ConflictError) Error() string {
	if len(e.Next) == 0 {
		return "slot taken; no free slot nearby"
	}
	return fmt.Sprintf("slot taken; next free slot starts %s", e.Next[0].Start.Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrConflict) true for a *ConflictError.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }
