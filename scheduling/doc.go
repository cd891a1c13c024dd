// Package scheduling is Frontdesk's booking domain: a business's weekly
// hours, closures and services, free-slot computation in the business's time
// zone, appointments that never overlap, and leads deduplicated by their
// E.164 phone number.
//
// It does no I/O. Package store persists appointments and leads and makes
// booking atomic; the rules it enforces (what a valid booking is, how two
// appointments overlap, how two leads merge) live here so that every backend
// applies the same ones.
//
// Errors are matched with errors.Is: ErrInvalid (and its refinements
// ErrInvalidRange and ErrOutsideHours) for bad input, ErrNotFound,
// ErrDuplicate and ErrConflict. A slot that is taken yields a *ConflictError
// whose Next field lists free slots after it.
//
// All types here are plain values and all functions are pure (time comes
// in as an argument): values are safe to share between goroutines as long
// as none of them mutates one.
package scheduling
