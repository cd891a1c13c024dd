package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
)

// caller is who made an API request, established by authenticate from the
// credential alone: the business is the key's, never the request's.
type caller struct {
	operator bool
	key      store.APIKey // a business key; zero for the operator
	biz      *bizEntry    // the key's business, effective now; nil for the operator
}

// roleRank orders roles from least to most powerful.
func roleRank(r store.Role) int {
	switch r {
	case store.RoleReadonly:
		return 1
	case store.RoleSupervisor:
		return 2
	case store.RoleOwner:
		return 3
	}
	return 0
}

// authenticate wraps a route's handler with its access rule. Failures are
// 401 (no or unknown credential), 403 (a valid credential of the wrong
// kind or too weak a role).
func (s *Server) authenticate(rt apiRoute, h apiHandler) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		switch rt.access {
		case accessPublic, accessFeed:
			// accessFeed handlers check their token themselves.
			return h(w, r, &caller{})
		}
		if err := s.needStore(); err != nil {
			return err
		}
		c, err := s.credential(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="frontdesk"`)
			return err
		}
		switch {
		case rt.access == accessOperator && !c.operator:
			return errorf(http.StatusForbidden, "forbidden", "this endpoint needs the operator key", nil)
		case rt.access == accessBusiness && c.operator:
			return errorf(http.StatusForbidden, "forbidden", "the operator key acts for no business; use one of the business's API keys", nil)
		case rt.access == accessBusiness && roleRank(c.key.Role) < roleRank(rt.role):
			return errorf(http.StatusForbidden, "forbidden",
				fmt.Sprintf("this endpoint needs a key with role %s or above; this key is %s", rt.role, c.key.Role), nil)
		}
		return h(w, r, c)
	}
}

// credential checks the Authorization header: the operator key, or an
// active business key whose business still exists.
func (s *Server) credential(r *http.Request) (*caller, error) {
	auth := r.Header.Get("Authorization")
	scheme, secret, ok := strings.Cut(auth, " ")
	if auth == "" {
		if c, ok, err := s.liveTokenCredential(r); ok { // browsers' WebSockets (live_auth.go)
			return c, err
		}
		return nil, errorf(http.StatusUnauthorized, "unauthorized", "missing API key: send Authorization: Bearer <key>", nil)
	}
	secret = strings.TrimSpace(secret)
	if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
		return nil, errorf(http.StatusUnauthorized, "unauthorized", "the Authorization header must be Bearer <key>", nil)
	}
	if op := s.api.reg.config().Server.OperatorKey; op != "" {
		a, b := sha256.Sum256([]byte(secret)), sha256.Sum256([]byte(op))
		if subtle.ConstantTimeCompare(a[:], b[:]) == 1 {
			return &caller{operator: true}, nil
		}
	}
	bad := errorf(http.StatusUnauthorized, "unauthorized", "invalid or revoked API key", nil)
	id, err := store.APIKeyID(secret)
	if err != nil {
		return nil, bad
	}
	k, err := s.api.store.APIKeys().Lookup(r.Context(), id)
	switch {
	case errors.Is(err, scheduling.ErrNotFound), errors.Is(err, scheduling.ErrInvalid):
		return nil, bad
	case err != nil:
		return nil, fmt.Errorf("look up API key: %w", err)
	case !k.Verify(secret):
		return nil, bad
	}
	biz, err := s.api.reg.get(r.Context(), k.BusinessID)
	switch {
	case errors.Is(err, scheduling.ErrNotFound):
		return nil, errorf(http.StatusUnauthorized, "unauthorized", "the business of this API key no longer exists", nil)
	case err != nil:
		return nil, err
	}
	return &caller{key: k, biz: biz}, nil
}
