package scheduling

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizePhone(t *testing.T) {
	for _, tc := range []struct {
		raw, region, want string
	}{
		{"+1 202 555 0100", "", "+12025550100"},
		{"(415) 555-0123", "US", "+14155550123"},
		{"415.555.0123", "us", "+14155550123"},
		{"020 7946 0018", "GB", "+442079460018"},
		{"+44 20 7946 0018", "US", "+442079460018"}, // an explicit country code wins over the region
		{"  +12025550100  ", "", "+12025550100"},
	} {
		got, err := NormalizePhone(tc.raw, tc.region)
		if err != nil || got != tc.want {
			t.Errorf("NormalizePhone(%q, %q) = %q, %v; want %q", tc.raw, tc.region, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ raw, region, wantMsg string }{
		{"", "US", "empty"},
		{"(415) 555-0123", "", "no +country code"},
		{"4155550123", "XX", "unknown default region"},
		{"12345", "US", "not a valid"},
		{"+999 1234", "", "parse"},
		{"call me", "US", "parse"},
		{strings.Repeat("1", 100), "US", "longer than"},
	} {
		got, err := NormalizePhone(tc.raw, tc.region)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.wantMsg) {
			t.Errorf("NormalizePhone(%q, %q) = %q, %v; want ErrInvalid mentioning %q", tc.raw, tc.region, got, err, tc.wantMsg)
		}
		if err != nil && len(tc.raw) > 6 && strings.Contains(err.Error(), tc.raw) {
			t.Errorf("error %q repeats the number", err)
		}
	}
	if got := RedactPhone("+12025550100"); got != "+1********00" {
		t.Errorf("RedactPhone = %q", got)
	}
}

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"+12025550100", "(415) 555-0123", "020 7946 0018", "+", "++1", "+0", "tel:+1-202-555-0100"} {
		f.Add(s, "US")
	}
	f.Fuzz(func(t *testing.T, raw, region string) {
		p, err := NormalizePhone(raw, region)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		again, err := NormalizePhone(p, "")
		if err != nil || again != p {
			t.Fatalf("normalizing %q again = %q, %v; want it unchanged", p, again, err)
		}
	})
}
