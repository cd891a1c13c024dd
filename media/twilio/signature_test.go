package twilio

import (
	"strings"
	"sync"
	"testing"
)

// The request validator test vectors of Twilio's helper libraries.
const vectorToken = "12345"

var vectorParams = map[string]string{
	"CallSid": "CA1234567890ABCDE",
	"Caller":  "+14158675309",
	"Digits":  "1234",
	"From":    "+14158675309",
	"To":      "+18005551212",
}

var vectors = []struct {
	name      string
	signedURL string   // the URL the signature was computed over
	validate  []string // URLs Validate must accept it for
	signature string
}{
	{"https without port", "https://mycompany.com/myapp.php?foo=1&bar=2",
		[]string{"https://mycompany.com/myapp.php?foo=1&bar=2", "https://mycompany.com:443/myapp.php?foo=1&bar=2"},
		"RSOYDt4T1cUTdK1PDd93/VVr8B8="},
	{"https with :443", "https://mycompany.com:443/myapp.php?foo=1&bar=2",
		[]string{"https://mycompany.com:443/myapp.php?foo=1&bar=2", "https://mycompany.com/myapp.php?foo=1&bar=2"},
		"kvajT1Ptam85bY51eRf/AJRuM3w="},
	{"http with :80", "http://mycompany.com:80/myapp.php?foo=1&bar=2",
		[]string{"http://mycompany.com:80/myapp.php?foo=1&bar=2", "http://mycompany.com/myapp.php?foo=1&bar=2"},
		"0ZXoZLH/DfblKGATFgpif+LLRf4="},
	{"http with custom port", "http://mycompany.com:1234/myapp.php?foo=1&bar=2",
		[]string{"http://mycompany.com:1234/myapp.php?foo=1&bar=2"},
		"Zmvh+3yNM1Phv2jhDCwEM3q5ebU="},
}

func TestSignVectors(t *testing.T) {
	for _, v := range vectors {
		if got := Sign(vectorToken, v.signedURL, vectorParams); got != v.signature {
			t.Errorf("%s: Sign(%q) = %q, want %q", v.name, v.signedURL, got, v.signature)
		}
	}
}

func TestValidateVectors(t *testing.T) {
	val := NewValidator(vectorToken)
	for _, v := range vectors {
		for _, u := range v.validate {
			if !val.Validate(u, vectorParams, v.signature) {
				t.Errorf("%s: Validate(%q, params, %q) = false, want true", v.name, u, v.signature)
			}
		}
	}
}

// TestValidateUpgrade covers the WebSocket upgrade: Twilio signs the stream
// URL with no parameters; the server may only know it as wss:// or https://
// and with or without the default port.
func TestValidateUpgrade(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef"
	val := NewValidator(token)
	for _, scheme := range []string{"wss", "https"} {
		plain := scheme + "://voice.example.com/twilio/stream"
		port := scheme + "://voice.example.com:443/twilio/stream"
		for _, signed := range []string{plain, port} {
			sig := Sign(token, signed, nil)
			for _, u := range []string{plain, port} {
				if !val.Validate(u, nil, sig) {
					t.Errorf("signed %q: Validate(%q, nil) = false, want true", signed, u)
				}
				if !val.Validate(u, map[string]string{}, sig) {
					t.Errorf("signed %q: Validate(%q, empty params) = false, want true", signed, u)
				}
			}
			other := "wss"
			if scheme == "wss" {
				other = "https"
			}
			if u := strings.Replace(signed, scheme, other, 1); val.Validate(u, nil, sig) {
				t.Errorf("signed %q: Validate(%q) = true, want false (other scheme)", signed, u)
			}
		}
	}
	// ws:// defaults to port 80.
	sig := Sign(token, "ws://localhost:80/stream", nil)
	if !val.Validate("ws://localhost/stream", nil, sig) {
		t.Error("ws:// URL signed with :80 not accepted without the port")
	}
}

func TestValidateRejects(t *testing.T) {
	val := NewValidator(vectorToken)
	const url = "https://mycompany.com/myapp.php?foo=1&bar=2"
	good := vectors[0].signature
	tampered := map[string]string{}
	for k, v := range vectorParams {
		tampered[k] = v
	}
	tampered["Digits"] = "1235"
	extra := map[string]string{"Extra": "1"}
	for k, v := range vectorParams {
		extra[k] = v
	}
	tests := []struct {
		name      string
		val       *Validator
		url       string
		params    map[string]string
		signature string
	}{
		{"wrong token", NewValidator("54321"), url, vectorParams, good},
		{"empty token", NewValidator(""), url, vectorParams, good},
		{"tampered param", val, url, tampered, good},
		{"extra param", val, url, extra, good},
		{"missing params", val, url, nil, good},
		{"other path", val, "https://mycompany.com/other.php?foo=1&bar=2", vectorParams, good},
		{"other query", val, "https://mycompany.com/myapp.php?foo=2&bar=2", vectorParams, good},
		{"other host", val, "https://evil.com/myapp.php?foo=1&bar=2", vectorParams, good},
		{"empty signature", val, url, vectorParams, ""},
		{"garbage signature", val, url, vectorParams, "not base64 at all!"},
		{"truncated signature", val, url, vectorParams, good[:len(good)-2]},
		{"signature with a flipped char", val, url, vectorParams, "R" + strings.ToLower(good[1:2]) + good[2:]},
		{"unparsable URL", val, "://\x7f", vectorParams, good},
	}
	for _, tt := range tests {
		if tt.val.Validate(tt.url, tt.params, tt.signature) {
			t.Errorf("%s: Validate(%q, …, %q) = true, want false", tt.name, tt.url, tt.signature)
		}
	}
}

func TestValidateConcurrent(t *testing.T) {
	val := NewValidator(vectorToken)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if !val.Validate(vectors[0].signedURL, vectorParams, vectors[0].signature) {
					t.Error("Validate = false under concurrent use")
					return
				}
			}
		})
	}
	wg.Wait()
}
