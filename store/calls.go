package store

import (
	"context"
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/scheduling"
)

// Calls keeps one record per call: who called, how it ended, and which
// recording and transcript it left until when.
type Calls interface {
	// Create stores c as a call of businessID. A call keeps the ID it was
	// given (the call's own ID, which also names its files; it must be a
	// ValidCallID), or gets a new one when c.ID is empty; StartedAt
	// defaults to the store's clock. An ID that exists, in any business,
	// is ErrDuplicate.
	Create(ctx context.Context, businessID string, c Call) (Call, error)
	Get(ctx context.Context, businessID, id string) (Call, error)
	// Lookup finds a call by ID across businesses. It is for start-up
	// recovery, where a file names only its call; requests use Get.
	Lookup(ctx context.Context, id string) (Call, error)
	// Update applies change to the stored call and saves the result
	// atomically; change may run more than once when another writer got
	// there first, so it must only modify its argument. ID, BusinessID,
	// StartedAt and CreatedAt cannot change. An error from change is
	// returned as it is and nothing is written.
	Update(ctx context.Context, businessID, id string, change func(*Call) error) (Call, error)
	// List returns calls matching f, newest first (by StartedAt, then ID),
	// and the cursor of the next page ("" after the last page).
	List(ctx context.Context, businessID string, f CallFilter, p Page) ([]Call, string, error)
	// Delete removes the call's record (not its files).
	Delete(ctx context.Context, businessID, id string) error
}

// Transport is how a call reached us.
type Transport string

// Transports.
const (
	TransportTwilio Transport = "twilio"
	TransportWebRTC Transport = "webrtc"
)

// Outcome is how a call ended; "" while it is live.
type Outcome string

// Outcomes.
const (
	OutcomeCompleted   Outcome = "completed"   // the caller or the agent hung up
	OutcomeCut         Outcome = "cut"         // shutdown or a network failure ended it
	OutcomeError       Outcome = "error"       // the call failed
	OutcomeInterrupted Outcome = "interrupted" // the node died; found at start-up
)

// Valid reports whether o is one of the outcomes above or "".
func (o Outcome) Valid() bool {
	switch o {
	case "", OutcomeCompleted, OutcomeCut, OutcomeError, OutcomeInterrupted:
		return true
	}
	return false
}

// Call is the record of one call. Times are the store's; zero means
// "not yet" or "never". It is a plain value, safe to share read-only.
type Call struct {
	ID         string
	BusinessID string
	Transport  Transport
	CarrierSID string // the carrier's ID of the call (Twilio CallSid), if any
	From, To   string // E.164, or empty (browser softphone, anonymous caller)
	LeadID     string // the lead the call was with, once known
	StartedAt  time.Time
	EndedAt    time.Time
	Outcome    Outcome

	// RecordingID and TranscriptID name the call's files (the call ID
	// today); empty when there is none: the plan keeps none, the caller
	// opted out before anything was recorded, or it was deleted.
	RecordingID  string
	TranscriptID string
	// RecordingExpires and TranscriptExpires are when the files are due
	// for deletion under the business's plan; zero when not kept.
	RecordingExpires  time.Time
	TranscriptExpires time.Time
	// Disclosed records that the caller was told the call is recorded.
	Disclosed bool
	// RecordingStoppedAt is when the recording stopped because the caller
	// opted out; zero if it never did.
	RecordingStoppedAt time.Time

	CreatedAt time.Time
	UpdatedAt time.Time
}

// CallFilter selects calls. Zero fields match everything.
type CallFilter struct {
	From, To time.Time // StartedAt in [From, To)
	Number   string    // the caller's number (Call.From), exactly
	Outcome  Outcome
	LeadID   string
}

// MaxCallIDLen bounds a call ID; it names files too (see recording.ValidID).
const MaxCallIDLen = 64

// ValidCallID reports whether id can be a call's ID: 1 to 64 bytes of
// [A-Za-z0-9_-], the rule for file names of package recording (which the
// store does not import).
func ValidCallID(id string) bool {
	if len(id) == 0 || len(id) > MaxCallIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// CheckCall validates a call before it is written.
func CheckCall(c Call) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: call %s: %s", scheduling.ErrInvalid, c.ID, fmt.Sprintf(format, args...))
	}
	switch {
	case !ValidCallID(c.ID):
		return bad("ID must be 1-%d letters, digits, '_' or '-'", MaxCallIDLen)
	case c.Transport != TransportTwilio && c.Transport != TransportWebRTC:
		return bad("transport %q is not twilio or webrtc", c.Transport)
	case !c.Outcome.Valid():
		return bad("outcome %q is not completed, cut, error or interrupted", c.Outcome)
	case len(c.CarrierSID) > 128:
		return bad("carrier SID is longer than 128 bytes")
	case c.StartedAt.Year() < 1970 || c.StartedAt.Year() > 2261:
		return bad("start time out of range")
	case !c.EndedAt.IsZero() && c.EndedAt.Before(c.StartedAt):
		return bad("ends before it starts")
	case c.RecordingID != "" && !ValidCallID(c.RecordingID), c.TranscriptID != "" && !ValidCallID(c.TranscriptID):
		return bad("file IDs must be 1-%d letters, digits, '_' or '-'", MaxCallIDLen)
	case c.LeadID != "" && !ValidID(c.LeadID):
		return bad("lead ID %q is malformed", c.LeadID)
	}
	for _, n := range []string{c.From, c.To} {
		if n == "" {
			continue
		}
		if e, err := scheduling.NormalizePhone(n, ""); err != nil || e != n {
			return bad("number %q is not E.164", scheduling.RedactPhone(n))
		}
	}
	return nil
}

// CheckCallFilter validates a filter.
func CheckCallFilter(f CallFilter) error {
	switch {
	case !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To):
		return fmt.Errorf("%w: call filter: from must be before to", scheduling.ErrInvalid)
	case !f.Outcome.Valid():
		return fmt.Errorf("%w: call filter: outcome %q is not completed, cut, error or interrupted", scheduling.ErrInvalid, f.Outcome)
	case len(f.Number) > 32 || len(f.LeadID) > 128:
		return fmt.Errorf("%w: call filter: number or lead ID too long", scheduling.ErrInvalid)
	}
	return nil
}

// MatchCall reports whether c passes f.
func MatchCall(c Call, f CallFilter) bool {
	return (f.From.IsZero() || !c.StartedAt.Before(f.From)) &&
		(f.To.IsZero() || c.StartedAt.Before(f.To)) &&
		(f.Number == "" || c.From == f.Number) &&
		(f.Outcome == "" || c.Outcome == f.Outcome) &&
		(f.LeadID == "" || c.LeadID == f.LeadID)
}

// PrepareCall fills the defaults of a new call (ID, StartedAt, CreatedAt,
// UpdatedAt) at now, and checks it.
func PrepareCall(businessID string, c Call, now time.Time) (Call, error) {
	if err := CheckBusinessID(businessID); err != nil {
		return Call{}, err
	}
	c.BusinessID = businessID
	if c.ID == "" {
		c.ID = NewID("call", now)
	}
	if c.StartedAt.IsZero() {
		c.StartedAt = now
	}
	c.CreatedAt, c.UpdatedAt = now, now
	return c, CheckCall(c)
}

// ApplyCallChange runs change on a copy of cur and restores the fields
// that cannot change; it checks the result and stamps UpdatedAt.
func ApplyCallChange(cur Call, change func(*Call) error, now time.Time) (Call, error) {
	next := cur
	if err := change(&next); err != nil {
		return Call{}, err
	}
	next.ID, next.BusinessID, next.StartedAt, next.CreatedAt = cur.ID, cur.BusinessID, cur.StartedAt, cur.CreatedAt
	next.UpdatedAt = now
	return next, CheckCall(next)
}
