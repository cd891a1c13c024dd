package server

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

// Tokens arrive from the network: a stream token in a Media Streams start
// event's custom parameters, a live token in a WebSocket URL. Checking
// any string must not panic, and only the token issued for exactly this
// business and call (or key) passes.

func FuzzStreamToken(f *testing.F) {
	tokens := newStreamTokens("fuzz-auth-token", time.Minute)
	now := time.Unix(1_800_000_000, 0)
	good := tokens.issue("clinic", "CA1", now)
	f.Add(good, "clinic", "CA1")
	f.Add("", "", "")
	f.Add("1800000060.", "clinic", "CA1")
	f.Add("99999999999999999999.AAAA", "clinic", "CA1")
	f.Add("-1.x.y", "a", "b")
	f.Fuzz(func(t *testing.T, token, business, callSID string) {
		err := tokens.check(token, business, callSID, now)
		if err != nil && !errors.Is(err, errBadToken) {
			t.Fatalf("check(%q): %v, want errBadToken", token, err)
		}
		// Only the issued token carries a MAC for clinic/CA1; nothing can
		// pass for another business or call.
		if err == nil && (business != "clinic" || callSID != "CA1") {
			t.Fatalf("token %q passed for %q/%q", token, business, callSID)
		}
	})
}

func FuzzLiveTokenParse(f *testing.F) {
	tokens := newLiveTokens("fuzz-auth-token")
	now := time.Unix(1_800_000_000, 0)
	good, _ := tokens.issue("clinic", "key_1", now)
	f.Add(good)
	f.Add("")
	f.Add(liveTokenPrefix + "1800000060.key.")
	f.Add(liveTokenPrefix + "1800000060..AAAA")
	f.Add(liveTokenPrefix + "9223372036854775807.k.AAAA")
	f.Fuzz(func(t *testing.T, token string) {
		keyID, exp, mac, ok := tokens.parse(token, now)
		if !ok {
			return
		}
		if exp < now.Unix() || exp > now.Add(liveTokenTTL+time.Minute).Unix() {
			t.Fatalf("parse(%q) accepted expiry %d", token, exp)
		}
		_ = keyID
		_ = mac
	})
}

// FuzzUnmarshalStrict feeds API request bodies to the strict decoder with
// the request types of the routes: any input is either decoded or a 4xx
// whose message points at the problem; no panic (jsonError computes line
// and column from the decoder's offsets).
func FuzzUnmarshalStrict(f *testing.F) {
	for _, s := range []string{
		`{"name":"Ana","phone":"+12125550123"}`,
		`{"service":"Cleaning","start":"2026-03-09T10:00:00-04:00","name":"Ana","phone":"+12125550123"}`,
		`{"start":"2026-03-09T10:00:00-04:00"}`,
		`{"status": "qualified", "score": 80}`,
		`{"name": 5}`, `[1,2]`, `{"a":1} {"b":2}`, "{\n\"x\":\n", `"\u00e9`, "\xff", `{"score": 1e999}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, dst := range []func() any{
			func() any { return new(bookRequest) },
			func() any { return new(rescheduleRequest) },
			func() any { return new(leadRequest) },
			func() any { return new(map[string]any) },
		} {
			err := unmarshalStrict(body, dst())
			if err == nil {
				continue
			}
			var he *httpError
			if !errors.As(err, &he) || he.status != http.StatusBadRequest || he.msg == "" {
				t.Fatalf("unmarshalStrict(%q): %v, want a 400 with a message", body, err)
			}
		}
	})
}
