package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"maps"
	"net/url"
	"slices"

	"github.com/twilio/twilio-go/client"
)

// Validator checks X-Twilio-Signature. Safe for concurrent use: it holds
// only the auth token, which it never changes.
type Validator struct {
	rv client.RequestValidator
}

// NewValidator returns a Validator for the account's auth token.
func NewValidator(authToken string) *Validator {
	return &Validator{rv: client.NewRequestValidator(authToken)}
}

// Validate reports whether signature signs url and params (nil for a GET or
// a WebSocket upgrade). It accepts the URL with and without the default port.
//
// url must be the URL exactly as Twilio requested it (behind a proxy,
// rebuilt from the public base URL). The comparison is constant-time.
func (v *Validator) Validate(url string, params map[string]string, signature string) bool {
	if signature == "" {
		return false
	}
	if v.rv.Validate(url, params, signature) {
		return true
	}
	// twilio-go adds port 80 to every scheme but https, so a wss:// URL
	// without a port is never tried with its default port 443.
	if withPort, ok := wssWithPort(url); ok {
		return v.rv.Validate(withPort, params, signature)
	}
	return false
}

// wssWithPort returns a wss:// URL that has no port with :443 added.
func wssWithPort(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "wss" || u.Host == "" || u.Port() != "" {
		return "", false
	}
	u.Host += ":443"
	return u.String(), true
}

// Sign computes the signature Twilio would send; the simulator uses it.
//
// It is the base64 HMAC-SHA1, keyed with authToken, of url followed by the
// name and value of each parameter, sorted by name. url is used as given.
func Sign(authToken, url string, params map[string]string) string {
	mac := hmac.New(sha1.New, []byte(authToken))
	io.WriteString(mac, url)
	for _, k := range slices.Sorted(maps.Keys(params)) {
		io.WriteString(mac, k)
		io.WriteString(mac, params[k])
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
