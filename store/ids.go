package store

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/frontdesk/frontdesk/scheduling"
)

// NewID returns a new record ID such as "apt_0198d1c3a2f1_5b0e9c7d1a2f3e4d":
// the prefix, the creation time in milliseconds (so IDs sort by creation)
// and 64 random bits. math/rand/v2's generator is seeded from the OS, which
// is enough for IDs that are not secrets.
func NewID(prefix string, now time.Time) string {
	return fmt.Sprintf("%s_%012x_%016x", prefix, now.UnixMilli()&(1<<48-1), rand.Uint64())
}

// ValidID reports whether id is usable as a key in every backend: 1 to 128
// characters from A–Z, a–z, 0–9, '.', '_', '-' and '+'.
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-' || c == '+') {
			return false
		}
	}
	return true
}

// CheckBusinessID returns ErrInvalid unless id is a ValidID.
func CheckBusinessID(id string) error {
	if !ValidID(id) {
		return fmt.Errorf("%w: business ID %q must be 1-128 letters, digits, '.', '_', '-' or '+'", scheduling.ErrInvalid, id)
	}
	return nil
}

// NotFound returns the error for a missing record of kind with id.
func NotFound(kind, id string) error {
	if len(id) > 128 {
		id = id[:128] + "…"
	}
	return fmt.Errorf("%w: %s %q", scheduling.ErrNotFound, kind, id)
}
