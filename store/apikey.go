package store

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/scheduling"
)

// Role is what an API key may do.
type Role string

// Roles, from most to least powerful.
const (
	RoleOwner      Role = "owner"      // everything, including keys and settings
	RoleSupervisor Role = "supervisor" // calls, live listening, leads, appointments
	RoleReadonly   Role = "readonly"   // read only
)

// Valid reports whether r is one of the roles above.
func (r Role) Valid() bool { return r == RoleOwner || r == RoleSupervisor || r == RoleReadonly }

// APIKey is a stored API key. The secret itself is never stored.
type APIKey struct {
	ID         string   // public part of the key, shown in listings
	BusinessID string   // the business the key acts for
	Hash       [32]byte // SHA-256 of the whole secret
	Role       Role
	Name       string // a label chosen by the owner
	CreatedAt  time.Time
	RevokedAt  time.Time // zero while the key is active
}

// Revoked reports whether the key has been revoked.
func (k APIKey) Revoked() bool { return !k.RevokedAt.IsZero() }

// Verify reports whether secret is this key and the key is active. The
// comparison takes the same time whatever the secret.
func (k APIKey) Verify(secret string) bool {
	h := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(h[:], k.Hash[:]) == 1 && !k.Revoked()
}

// LogValue leaves the hash out of logs.
func (k APIKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", k.ID), slog.String("business_id", k.BusinessID), slog.String("role", string(k.Role)))
}

// Validate checks k as it would be stored.
func (k APIKey) Validate() error {
	switch {
	case !ValidID(k.ID):
		return fmt.Errorf("%w: API key ID %q", scheduling.ErrInvalid, k.ID)
	case !k.Role.Valid():
		return fmt.Errorf("%w: API key role %q (want owner, supervisor or readonly)", scheduling.ErrInvalid, k.Role)
	case k.Hash == [32]byte{}:
		return fmt.Errorf("%w: API key has no hash", scheduling.ErrInvalid)
	case len(k.Name) > 200:
		return fmt.Errorf("%w: API key name is longer than 200 bytes", scheduling.ErrInvalid)
	}
	return CheckBusinessID(k.BusinessID)
}

const apiKeyPrefix = "fdk_"

// NewAPIKey makes a key for businessID: the secret to show the user once,
// "fdk_<id>_<43 random base64url characters>", and the record to store.
func NewAPIKey(businessID string, role Role, name string) (secret string, k APIKey, err error) {
	var b [8 + 32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", APIKey{}, fmt.Errorf("new API key: %w", err)
	}
	id := hex.EncodeToString(b[:8])
	secret = apiKeyPrefix + id + "_" + base64.RawURLEncoding.EncodeToString(b[8:])
	k = APIKey{ID: id, BusinessID: businessID, Hash: sha256.Sum256([]byte(secret)), Role: role, Name: name}
	if err := k.Validate(); err != nil {
		return "", APIKey{}, fmt.Errorf("new API key: %w", err)
	}
	return secret, k, nil
}

// APIKeyID extracts the key ID from a secret made by NewAPIKey, for Lookup.
func APIKeyID(secret string) (string, error) {
	rest, ok := strings.CutPrefix(secret, apiKeyPrefix)
	id, tail, ok2 := strings.Cut(rest, "_")
	if !ok || !ok2 || len(id) != 16 || tail == "" || !ValidID(id) {
		return "", fmt.Errorf("%w: malformed API key", scheduling.ErrInvalid)
	}
	return id, nil
}
