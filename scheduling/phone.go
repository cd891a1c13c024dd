package scheduling

import (
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// NormalizePhone parses raw as a phone number and returns it in E.164 form
// ("+14155550123"). A number without a leading + is read as a national
// number of defaultRegion (an ISO 3166 code such as "US" or "GB"); with an
// empty defaultRegion only international numbers are accepted. Numbers that
// cannot exist (too short, unknown ranges) are rejected. Errors wrap
// ErrInvalid and do not repeat the number, which is personal data.
func NormalizePhone(raw, defaultRegion string) (string, error) {
	s := strings.TrimSpace(raw)
	region := strings.ToUpper(strings.TrimSpace(defaultRegion))
	switch {
	case s == "":
		return "", fmt.Errorf("%w: phone number is empty", ErrInvalid)
	case len(s) > 64:
		return "", fmt.Errorf("%w: phone number is longer than 64 characters", ErrInvalid)
	case !strings.HasPrefix(s, "+") && region == "":
		return "", fmt.Errorf("%w: phone number has no +country code and no default region", ErrInvalid)
	}
	if region == "" {
		region = "ZZ" // unknown region: libphonenumber then requires a + prefix
	} else if !phonenumbers.GetSupportedRegions()[region] {
		return "", fmt.Errorf("%w: unknown default region %q", ErrInvalid, defaultRegion)
	}
	n, err := phonenumbers.Parse(s, region)
	if err != nil {
		return "", fmt.Errorf("%w: parse phone number (region %s): %w", ErrInvalid, region, err)
	}
	if !phonenumbers.IsValidNumber(n) {
		return "", fmt.Errorf("%w: not a valid phone number for its country", ErrInvalid)
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// RedactPhone returns p with all but its country prefix and last two digits
// masked, for logs: "+1********23".
func RedactPhone(p string) string {
	if len(p) <= 4 {
		return strings.Repeat("*", len(p))
	}
	return p[:2] + strings.Repeat("*", len(p)-4) + p[len(p)-2:]
}
