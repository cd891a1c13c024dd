package store

import (
	"context"
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/scheduling"
)

// Holds keeps legal holds. A hold on a call, on a lead (every call with
// the lead) or on a whole business blocks the deletion of what it covers,
// by retention timers and by deletion and erasure requests, until it is
// released.
type Holds interface {
	// Place puts h on hold (At defaults to the store's clock). Placing a
	// hold that exists already keeps the first one and returns it with
	// created false.
	Place(ctx context.Context, h Hold) (hold Hold, created bool, err error)
	// Release removes the hold on (scope, target); ErrNotFound if there is
	// none.
	Release(ctx context.Context, businessID string, scope HoldScope, target string) (Hold, error)
	// List returns every hold of the business, ordered by scope and target.
	// Businesses have few holds, so there is no paging.
	List(ctx context.Context, businessID string) ([]Hold, error)
}

// HoldScope is what a hold covers.
type HoldScope string

// Scopes of holds.
const (
	HoldBusiness HoldScope = "business" // everything of the business; Target is ""
	HoldLead     HoldScope = "lead"     // the lead and every call with it; Target is the lead ID
	HoldCall     HoldScope = "call"     // one call; Target is the call ID
)

// Hold is a legal hold. It is a plain value.
type Hold struct {
	BusinessID string
	Scope      HoldScope
	Target     string
	Reason     string // why, as the one who placed it said
	By         string // who placed it: an API key ID, or "system"
	At         time.Time
}

// CheckHold validates a hold before it is written.
func CheckHold(h Hold) error {
	bad := func(msg string) error { return fmt.Errorf("%w: hold: %s", scheduling.ErrInvalid, msg) }
	if err := CheckBusinessID(h.BusinessID); err != nil {
		return err
	}
	switch h.Scope {
	case HoldBusiness:
		if h.Target != "" {
			return bad("a business hold has no target")
		}
	case HoldLead, HoldCall:
		if !ValidID(h.Target) {
			return bad("the target must be a lead or call ID")
		}
	default:
		return bad(fmt.Sprintf("scope %q is not business, lead or call", h.Scope))
	}
	if len(h.Reason) > 1000 || len(h.By) > 200 {
		return bad("reason or actor too long")
	}
	return nil
}

// Covers reports whether h blocks deleting call callID, whose lead is
// leadID ("" for none).
func (h Hold) Covers(callID, leadID string) bool {
	switch h.Scope {
	case HoldBusiness:
		return true
	case HoldLead:
		return leadID != "" && h.Target == leadID
	case HoldCall:
		return callID != "" && h.Target == callID
	}
	return false
}

// HeldBy returns the first hold of businessID that covers call callID
// with lead leadID (either may be "").
func HeldBy(ctx context.Context, hs Holds, businessID, callID, leadID string) (Hold, bool, error) {
	all, err := hs.List(ctx, businessID)
	if err != nil {
		return Hold{}, false, err
	}
	for _, h := range all {
		if h.Covers(callID, leadID) {
			return h, true, nil
		}
	}
	return Hold{}, false, nil
}
