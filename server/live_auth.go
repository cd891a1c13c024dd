package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/scheduling"
)

// Live tokens let a browser open the supervisor WebSockets, which cannot
// carry an Authorization header, without putting a long-lived key in a URL:
// POST /v1/live/tokens (with the key) returns "lt_EXP.KEYID.MAC", valid for
// liveTokenTTL, on the WebSocket routes only, for the key's business and
// role as long as the key stays active. The MAC key derives from the Twilio
// auth token, so any node of a cluster accepts a token another issued.
const (
	liveTokenPrefix = "lt_"
	liveTokenTTL    = 60 * time.Second
)

type liveTokens struct{ key []byte }

func newLiveTokens(authToken string) *liveTokens {
	k := sha256.Sum256([]byte("frontdesk live token v1\x00" + authToken))
	return &liveTokens{key: k[:]}
}

func (t *liveTokens) mac(business, keyID string, exp int64) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte(business))
	m.Write([]byte{0})
	m.Write([]byte(keyID))
	m.Write([]byte{0})
	m.Write(strconv.AppendInt(nil, exp, 10))
	return m.Sum(nil)
}

func (t *liveTokens) issue(business, keyID string, now time.Time) (string, time.Time) {
	exp := now.Add(liveTokenTTL).Truncate(time.Second)
	e := exp.Unix()
	return liveTokenPrefix + strconv.FormatInt(e, 10) + "." + keyID + "." +
		base64.RawURLEncoding.EncodeToString(t.mac(business, keyID, e)), exp
}

// parse splits a token and checks its expiry; check verifies its MAC once
// the key (and so the business) is known.
func (t *liveTokens) parse(token string, now time.Time) (keyID string, exp int64, mac []byte, ok bool) {
	rest, ok := strings.CutPrefix(token, liveTokenPrefix)
	parts := strings.Split(rest, ".")
	if !ok || len(parts) != 3 {
		return "", 0, nil, false
	}
	exp, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil || now.Unix() > exp || exp > now.Add(liveTokenTTL+time.Minute).Unix() {
		return "", 0, nil, false
	}
	mac, err = base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return "", 0, nil, false
	}
	return parts[1], exp, mac, true
}

// liveTokenRoutes are the only routes a live token opens.
var liveTokenRoutes = map[string]bool{"GET /v1/live": true, "GET /v1/calls/{id}/listen": true}

// liveTokenCredential authenticates a WebSocket upgrade by its ?token=.
// ok is false when the request carries no live token for a live route.
func (s *Server) liveTokenCredential(r *http.Request) (c *caller, ok bool, err error) {
	tok := r.URL.Query().Get("token")
	if !strings.HasPrefix(tok, liveTokenPrefix) || !liveTokenRoutes[r.Pattern] {
		return nil, false, nil
	}
	bad := errorf(http.StatusUnauthorized, "unauthorized", "invalid or expired live token: get a new one from POST /v1/live/tokens", nil)
	keyID, exp, mac, valid := s.liveTokens.parse(tok, s.now())
	if !valid {
		return nil, true, bad
	}
	k, err := s.api.store.APIKeys().Lookup(r.Context(), keyID)
	switch {
	case errors.Is(err, scheduling.ErrNotFound), errors.Is(err, scheduling.ErrInvalid):
		return nil, true, bad
	case err != nil:
		return nil, true, err
	case k.Revoked() || !hmac.Equal(mac, s.liveTokens.mac(k.BusinessID, k.ID, exp)):
		return nil, true, bad
	}
	biz, err := s.api.reg.get(r.Context(), k.BusinessID)
	switch {
	case errors.Is(err, scheduling.ErrNotFound):
		return nil, true, bad
	case err != nil:
		return nil, true, err
	}
	return &caller{key: k, biz: biz}, true, nil
}

type liveTokenView struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// apiLiveToken issues a live token for the caller's key.
func (s *Server) apiLiveToken(w http.ResponseWriter, r *http.Request, c *caller) error {
	tok, exp := s.liveTokens.issue(c.key.BusinessID, c.key.ID, s.now())
	writeJSON(w, http.StatusCreated, liveTokenView{Token: tok, ExpiresAt: exp.UTC()})
	return nil
}
