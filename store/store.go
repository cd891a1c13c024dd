// Package store declares how Frontdesk keeps its business data —
// appointments, leads, businesses created through the API, API keys and
// leases; call records, legal holds, the audit log and retention timers —
// as small interfaces, plus the helpers every backend shares.
//
// Backends: store/sqlite (embedded, one node) and store/redis (shared by
// several nodes). store/storetest is the conformance suite both run.
//
// Tenancy is part of the API: every method on business data takes the
// business ID, and a record of another business is reported as
// scheduling.ErrNotFound, exactly as if it did not exist. Errors match the
// sentinels of package scheduling with errors.Is (ErrInvalid, ErrNotFound,
// ErrDuplicate, ErrConflict). Record types (BusinessRecord, APIKey, Page,
// filters) are plain values, safe to share read-only.
package store

import (
	"context"
	"io"
	"time"

	"github.com/frontdesk/frontdesk/scheduling"
)

// Store is a backend. Implementations are safe for concurrent use, also
// from several processes sharing the same database.
type Store interface {
	Appointments() Appointments
	Leads() Leads
	Businesses() Businesses
	APIKeys() APIKeys
	Leases() Leases
	Calls() Calls
	Holds() Holds
	Audit() Audit
	Timers() Timers
	io.Closer
}

// Appointments keeps bookings. No two booked appointments of a business
// overlap, counting each one's buffer: Book and Reschedule check and write
// in one atomic step, across processes too.
type Appointments interface {
	// Book validates req against cal (see Calendar.PrepareBooking: the
	// service is req.Service.ID, the start must be in opening hours and not
	// in the past) and stores it with a new ID. If a booked appointment
	// overlaps [Start, End+Buffer) it fails with a *scheduling.ConflictError
	// listing free slots after req.Start. With a non-empty IdempotencyKey a
	// repeated Book returns the original appointment (even if it was since
	// cancelled or moved) and nil; the same key with a different service,
	// start, name, phone or lead is scheduling.ErrDuplicate.
	Book(ctx context.Context, businessID string, cal *scheduling.Calendar, req scheduling.Appointment) (scheduling.Appointment, error)
	Get(ctx context.Context, businessID, id string) (scheduling.Appointment, error)
	// List returns appointments ordered by (Start, ID) and the cursor of
	// the next page ("" after the last page).
	List(ctx context.Context, businessID string, f AppointmentFilter, p Page) ([]scheduling.Appointment, string, error)
	// Reschedule moves a booked appointment to start, under the same rules
	// as Book (the appointment does not conflict with itself). Moving a
	// cancelled appointment is scheduling.ErrInvalid.
	Reschedule(ctx context.Context, businessID string, cal *scheduling.Calendar, id string, start time.Time) (scheduling.Appointment, error)
	// Cancel frees the appointment's time. Cancelling twice is not an error.
	Cancel(ctx context.Context, businessID, id string) (scheduling.Appointment, error)
	// SetSMS records the outcome of the SMS confirmation.
	SetSMS(ctx context.Context, businessID, id string, status scheduling.SMSStatus, errMsg string) (scheduling.Appointment, error)
	// Delete removes the appointment for good (an erasure request), freeing
	// its time if it was booked. Its idempotency key is forgotten too.
	Delete(ctx context.Context, businessID, id string) error
}

// AppointmentFilter selects appointments by start time and status.
type AppointmentFilter struct {
	From, To time.Time                    // Start in [From, To); a zero bound is open
	Status   scheduling.AppointmentStatus // "" for all
}

// Leads keeps leads, deduplicated by phone number within a business.
type Leads interface {
	// Upsert normalizes l (see Lead.Normalize with no default region: the
	// phone must already be E.164) and, when a lead of the business has the
	// same phone, merges l into it (see Lead.Merge); otherwise it creates a
	// lead with a new ID. created reports which happened. A lead without a
	// phone is always created.
	Upsert(ctx context.Context, businessID string, l scheduling.Lead) (lead scheduling.Lead, created bool, err error)
	Get(ctx context.Context, businessID, id string) (scheduling.Lead, error)
	// Update replaces the editable fields of lead l.ID (name, phone, email,
	// company, notes, score, and source and status unless empty); IDs of
	// calls and appointments and CreatedAt are kept. A phone that belongs to
	// another lead is scheduling.ErrDuplicate.
	Update(ctx context.Context, businessID string, l scheduling.Lead) (scheduling.Lead, error)
	Delete(ctx context.Context, businessID, id string) error
	// List returns leads matching f, newest first, and the cursor of the
	// next page ("" after the last page).
	List(ctx context.Context, businessID string, f LeadFilter, p Page) ([]scheduling.Lead, string, error)
	// LinkCall records that callID was a call with the lead (once).
	LinkCall(ctx context.Context, businessID, id, callID string) (scheduling.Lead, error)
	// LinkAppointment records an appointment of the lead (once); a new or
	// qualified lead becomes booked.
	LinkAppointment(ctx context.Context, businessID, id, appointmentID string) (scheduling.Lead, error)
}

// LeadFilter selects leads. Query matches a substring of the name, phone or
// email, ignoring ASCII case; Status "" matches all.
type LeadFilter struct {
	Query  string
	Status scheduling.LeadStatus
}

// Businesses keeps businesses created at run time through the API, as
// opaque JSON documents with an optimistic-concurrency version. The ID is
// the business ID (the record's own tenancy key).
type Businesses interface {
	// Create stores rec with Version 1; an existing ID is ErrDuplicate.
	Create(ctx context.Context, rec BusinessRecord) (BusinessRecord, error)
	Get(ctx context.Context, businessID string) (BusinessRecord, error)
	// Update replaces Data when rec.Version is the stored version and
	// returns the record with Version+1; otherwise ErrConflict.
	Update(ctx context.Context, rec BusinessRecord) (BusinessRecord, error)
	// Delete removes the business if version is its stored version (0
	// deletes any version); otherwise ErrConflict.
	Delete(ctx context.Context, businessID string, version int64) error
	// List returns records ordered by ID and the next page's cursor.
	List(ctx context.Context, p Page) ([]BusinessRecord, string, error)
}

// BusinessRecord is a business created through the API.
type BusinessRecord struct {
	ID        string
	Version   int64
	Data      []byte // a JSON document owned by the API layer
	CreatedAt time.Time
	UpdatedAt time.Time
}

// APIKeys keeps API keys by their public ID; only a SHA-256 hash of the
// secret is stored (see NewAPIKey).
type APIKeys interface {
	// Create stores k (from NewAPIKey) with CreatedAt set; a reused ID is
	// ErrDuplicate.
	Create(ctx context.Context, k APIKey) (APIKey, error)
	// Lookup finds a key by ID across businesses: the key tells which
	// business the caller is. Check it with APIKey.Verify.
	Lookup(ctx context.Context, id string) (APIKey, error)
	// List returns the business's keys ordered by ID.
	List(ctx context.Context, businessID string, p Page) ([]APIKey, string, error)
	// Revoke marks the key revoked (once; revoking again keeps the first
	// time).
	Revoke(ctx context.Context, businessID, id string) (APIKey, error)
}

// Leases are named, expiring locks, so that a job (a retention timer) runs
// on one node at a time. Expiry follows the store's clock.
type Leases interface {
	// Acquire takes the lease name for holder for ttl, or renews it when
	// holder already has it. It reports false when another holder's lease
	// has not expired.
	Acquire(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// Release gives the lease up if holder has it.
	Release(ctx context.Context, name, holder string) error
}
