package store

import (
	"context"
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/scheduling"
)

// Audit is the append-only log of what was done to a business's data:
// deletions, erasures, holds, exports and expiries. It has no update or
// delete: records stay for as long as the store does.
type Audit interface {
	// Append stores r with a new ID; At defaults to the store's clock.
	Append(ctx context.Context, r AuditRecord) (AuditRecord, error)
	// List returns the business's records, newest first, and the cursor
	// of the next page ("" after the last page).
	List(ctx context.Context, businessID string, p Page) ([]AuditRecord, string, error)
}

// AuditAction is what was done.
type AuditAction string

// Audited actions.
const (
	AuditDelete  AuditAction = "delete"  // a call deleted on request
	AuditErase   AuditAction = "erase"   // everything about a number or lead erased on request
	AuditHold    AuditAction = "hold"    // a legal hold placed
	AuditRelease AuditAction = "release" // a legal hold released
	AuditExport  AuditAction = "export"  // data about a number exported
	AuditExpire  AuditAction = "expire"  // a file deleted by its retention timer
)

// ActorSystem is the actor of what Frontdesk did by itself.
const ActorSystem = "system"

// AuditRecord is one entry of the audit log. It is a plain value.
type AuditRecord struct {
	ID         string
	BusinessID string
	At         time.Time
	Actor      string // an API key ID, or ActorSystem
	Action     AuditAction
	Target     string // what it was done to: "call:<id>", "lead:<id>", "phone:+12*******00", "recording:<call id>"
	Reason     string
}

// CheckAudit validates a record before it is appended.
func CheckAudit(r AuditRecord) error {
	if err := CheckBusinessID(r.BusinessID); err != nil {
		return err
	}
	switch r.Action {
	case AuditDelete, AuditErase, AuditHold, AuditRelease, AuditExport, AuditExpire:
	default:
		return fmt.Errorf("%w: audit: action %q is unknown", scheduling.ErrInvalid, r.Action)
	}
	if r.Actor == "" || len(r.Actor) > 200 || len(r.Target) > 300 || len(r.Reason) > 1000 {
		return fmt.Errorf("%w: audit: needs an actor of 1-200 bytes, a target of at most 300 and a reason of at most 1000", scheduling.ErrInvalid)
	}
	return nil
}
