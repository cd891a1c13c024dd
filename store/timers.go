package store

import (
	"context"
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/scheduling"
)

// Timers keeps retention timers: when each file of a call is due for
// deletion. Package retention fires them. Timer IDs are global (see
// TimerID), not per business: only the retention scheduler uses them.
type Timers interface {
	// Schedule stores t, replacing a timer with the same ID.
	Schedule(ctx context.Context, t Timer) error
	// Get returns timer id; ErrNotFound if it is gone (fired or
	// cancelled).
	Get(ctx context.Context, id string) (Timer, error)
	// Cancel removes timer id. A missing timer is not an error.
	Cancel(ctx context.Context, id string) error
	// Reschedule moves timer id to due; ErrNotFound if it is gone.
	Reschedule(ctx context.Context, id string, due time.Time) error
	// Due returns up to limit timers due at or before now, earliest
	// first (by Due, then ID). Due(ctx, MaxTime, 1) is the next timer.
	Due(ctx context.Context, now time.Time, limit int) ([]Timer, error)
	// List returns the business's timers ordered by ID, and the cursor of
	// the next page.
	List(ctx context.Context, businessID string, p Page) ([]Timer, string, error)
}

// TimerKind is what a timer deletes.
type TimerKind string

// Kinds of timers.
const (
	TimerRecording  TimerKind = "recording"
	TimerTranscript TimerKind = "transcript"
)

// Timer is one retention timer. It is a plain value.
type Timer struct {
	ID         string // TimerID(BusinessID, Kind, Target)
	BusinessID string
	Kind       TimerKind
	Target     string // the call ID
	Due        time.Time
}

// MaxTime is later than any timer: Due(ctx, MaxTime, n) lists the next n.
var MaxTime = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// TimerID returns the ID of the timer of kind for call target of
// businessID. ':' appears in none of the parts, so IDs never collide.
func TimerID(businessID string, kind TimerKind, target string) string {
	return string(kind) + ":" + businessID + ":" + target
}

// NewTimer returns the timer of kind for call callID, due at due.
func NewTimer(businessID string, kind TimerKind, callID string, due time.Time) Timer {
	return Timer{ID: TimerID(businessID, kind, callID), BusinessID: businessID, Kind: kind, Target: callID, Due: due}
}

// CheckTimer validates a timer before it is written.
func CheckTimer(t Timer) error {
	if err := CheckBusinessID(t.BusinessID); err != nil {
		return err
	}
	switch {
	case t.Kind != TimerRecording && t.Kind != TimerTranscript:
		return fmt.Errorf("%w: timer: kind %q is not recording or transcript", scheduling.ErrInvalid, t.Kind)
	case !ValidCallID(t.Target):
		return fmt.Errorf("%w: timer: target %q is not a call ID", scheduling.ErrInvalid, t.Target)
	case t.ID != TimerID(t.BusinessID, t.Kind, t.Target):
		return fmt.Errorf("%w: timer: ID %q is not TimerID of its business, kind and target", scheduling.ErrInvalid, t.ID)
	case t.Due.IsZero() || t.Due.After(MaxTime):
		return fmt.Errorf("%w: timer: due time out of range", scheduling.ErrInvalid)
	}
	return nil
}

// CheckTimerID rejects IDs no timer can have, before they reach a
// backend.
func CheckTimerID(id string) error {
	if id == "" || len(id) > 300 {
		return fmt.Errorf("%w: timer ID must be 1-300 bytes", scheduling.ErrInvalid)
	}
	return nil
}
