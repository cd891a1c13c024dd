package store

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/frontdesk/frontdesk/scheduling"
)

// Page limits.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Page asks for one page of a listing.
type Page struct {
	Cursor string // "" for the first page, else the cursor a List returned
	Limit  int    // 0 means DefaultLimit; at most MaxLimit
}

// Size returns the page size, or ErrInvalid for a limit out of range.
func (p Page) Size() (int, error) {
	switch {
	case p.Limit == 0:
		return DefaultLimit, nil
	case p.Limit < 0 || p.Limit > MaxLimit:
		return 0, fmt.Errorf("%w: page limit %d is not in 1..%d", scheduling.ErrInvalid, p.Limit, MaxLimit)
	}
	return p.Limit, nil
}

// EncodeCursor packs a listing kind and the sort key of the last item
// returned into an opaque cursor. Backends share the format so that a cursor
// stays valid whichever backend serves the next page.
func EncodeCursor(kind string, key ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + "\x00" + strings.Join(key, "\x00")))
}

// DecodeCursor unpacks a cursor of the given kind with n key parts. A
// cursor that is malformed or belongs to another listing is ErrInvalid.
func DecodeCursor(c, kind string, n int) ([]string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	parts := strings.Split(string(raw), "\x00")
	if err != nil || len(parts) != n+1 || parts[0] != kind {
		return nil, fmt.Errorf("%w: malformed page cursor", scheduling.ErrInvalid)
	}
	return parts[1:], nil
}
