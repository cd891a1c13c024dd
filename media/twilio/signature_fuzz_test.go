package twilio

import "testing"

// FuzzValidate checks signatures as the webhooks receive them: any URL,
// parameters and header value; no panic, and a signature Sign made for the
// same URL and parameters always passes while it fails for another URL.
func FuzzValidate(f *testing.F) {
	v := NewValidator("fuzz-auth-token")
	f.Add("https://fd.example.com/twilio/voice", "CallSid", "CA1", "")
	f.Add("wss://fd.example.com/twilio/media", "", "", "bm90IGEgc2lnbmF0dXJl")
	f.Add("wss://fd.example.com:443/twilio/media", "To", "+12125550100", "====")
	f.Add("https://[::1", "a", "\x00", "\xff")
	f.Add("", "", "", "")
	f.Fuzz(func(t *testing.T, url, key, value, sig string) {
		params := map[string]string{key: value}
		_ = v.Validate(url, params, sig)
		good := Sign("fuzz-auth-token", url, params)
		if !v.Validate(url, params, good) {
			t.Fatalf("Sign(%q, %v) did not validate", url, params)
		}
		if v.Validate(url+"x", params, good) {
			t.Fatalf("signature of %q validated for %q", url, url+"x")
		}
	})
}
