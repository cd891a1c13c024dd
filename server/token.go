package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// streamTokens issues and checks the short-lived token that binds a Media
// Streams connection to the call the voice webhook answered. The key is
// derived from the Twilio auth token so that every node of a cluster can
// check a token another node issued. Safe for concurrent use.
type streamTokens struct {
	key []byte
	ttl time.Duration
}

var errBadToken = errors.New("invalid or expired stream token")

func newStreamTokens(authToken string, ttl time.Duration) *streamTokens {
	k := sha256.Sum256([]byte("frontdesk stream token v1\x00" + authToken))
	return &streamTokens{key: k[:], ttl: ttl}
}

func (t *streamTokens) mac(business, callSID string, exp int64) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte(business))
	m.Write([]byte{0})
	m.Write([]byte(callSID))
	m.Write([]byte{0})
	m.Write(strconv.AppendInt(nil, exp, 10))
	return m.Sum(nil)
}

// issue returns "EXPIRY.MAC" for the business and call.
func (t *streamTokens) issue(business, callSID string, now time.Time) string {
	exp := now.Add(t.ttl).Unix()
	return strconv.FormatInt(exp, 10) + "." + base64.RawURLEncoding.EncodeToString(t.mac(business, callSID, exp))
}

func (t *streamTokens) check(token, business, callSID string, now time.Time) error {
	expStr, macStr, ok := strings.Cut(token, ".")
	if !ok {
		return errBadToken
	}
	exp, err := strconv.ParseInt(expStr, 10, 64)
	if err != nil || now.Unix() > exp {
		return errBadToken
	}
	got, err := base64.RawURLEncoding.DecodeString(macStr)
	if err != nil || !hmac.Equal(got, t.mac(business, callSID, exp)) {
		return errBadToken
	}
	return nil
}
