package configs

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
)

var (
	slugRE       = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	accountSIDRE = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	currencyRE   = regexp.MustCompile(`^[A-Z]{3}$`)
)

// minOperatorKey is the shortest operator key production mode accepts:
// anything shorter is guessable.
const minOperatorKey = 16

// bad records a semantic problem at path, on the line the decoder saw it,
// unless decoding already failed at path or around it: a value that did
// not decode kept its default, and complaining about that default would
// only repeat the first error in other words.
func (d *decoder) bad(path, format string, args ...any) {
	for p := range ancestors(path) {
		if d.failed[p] {
			return
		}
	}
	d.add(d.line(path), path, fmt.Sprintf(format, args...))
}

// check validates the decoded config and completes it: it applies the
// defaults that depend on other fields, normalises phone numbers to E.164,
// sorts opening hours and loads time zones.
func (d *decoder) check(c *Config) {
	d.failed = map[string]bool{}
	for _, e := range d.errs {
		d.failed[e.Path] = true
	}
	d.checkServer(&c.Server)
	prod := c.Server.Mode == ModeProduction

	if c.Twilio.AccountSID != "" && !accountSIDRE.MatchString(c.Twilio.AccountSID) {
		d.bad("twilio.account_sid", `want "AC" followed by 32 hex digits`)
	}
	if c.Twilio.AuthToken == "" {
		if prod {
			d.bad("twilio.auth_token", "required in production mode (write it as ${TWILIO_AUTH_TOKEN})")
		} else {
			c.Twilio.AuthToken = DevAuthToken
		}
	}

	switch c.Agent.Mode {
	case AgentEcho, AgentGreeting:
	default:
		d.bad("agent.mode", "%q is not a mode (want %q or %q)", c.Agent.Mode, AgentEcho, AgentGreeting)
	}

	if len(c.Plans) == 0 {
		c.Plans = DefaultPlans()
	}
	for _, name := range sortedKeys(c.Plans) {
		if !slugRE.MatchString(name) {
			d.bad(joinPath("plans", name), "plan name %q must be lower-case letters, digits and dashes", name)
		}
	}

	d.checkBusinesses(c)
}

func (d *decoder) checkServer(s *Server) {
	if s.Listen == "" {
		d.bad("server.listen", "must not be empty (default %q)", DefaultListen)
	} else if _, port, err := net.SplitHostPort(s.Listen); err != nil {
		d.bad("server.listen", "%q is not host:port: %v", s.Listen, err)
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		d.bad("server.listen", "%q: port %q is not a number from 0 to 65535", s.Listen, port)
	}

	switch s.Mode {
	case ModeDev, ModeProduction:
	default:
		d.bad("server.mode", "%q is not a mode (want %q or %q)", s.Mode, ModeDev, ModeProduction)
	}

	if u, err := checkPublicURL(s.PublicURL); err != nil {
		d.bad("server.public_url", "%v", err)
	} else {
		s.PublicURL = u
		if s.Mode == ModeProduction && !strings.HasPrefix(u, "https://") {
			d.bad("server.public_url", "%q must be https in production mode (Twilio streams need wss://)", u)
		}
	}

	if s.DataDir == "" {
		d.bad("server.data_dir", "must not be empty (default %q)", DefaultDataDir)
	}
	if s.ShutdownTimeout <= 0 {
		d.bad("server.shutdown_timeout", "must be more than 0 (default %s)", DefaultShutdownTimeout)
	}
	if s.MaxCalls < 1 {
		d.bad("server.max_calls", "must be at least 1, got %d", s.MaxCalls)
	}
	if s.Mode == ModeProduction && len(s.OperatorKey) < minOperatorKey {
		d.bad("server.operator_key", "must be at least %d characters in production mode (write it as ${FRONTDESK_OPERATOR_KEY})", minOperatorKey)
	}
}

// checkPublicURL returns raw without a trailing slash if it is an http(s)
// URL with a host and nothing after it: Twilio signatures are computed
// over the exact URL, so anything extra would make them fail.
func checkPublicURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL", raw)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("%q must start with http:// or https://", raw)
	case u.Host == "":
		return "", fmt.Errorf("%q has no host", raw)
	case u.User != nil:
		return "", fmt.Errorf("%q must not contain user information", raw)
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.ForceQuery, u.Fragment != "":
		return "", fmt.Errorf("%q must be scheme and host only, with no path, query or fragment", raw)
	}
	return strings.TrimSuffix(raw, "/"), nil
}

func (d *decoder) checkBusinesses(c *Config) {
	if len(c.Businesses) == 0 {
		d.bad("businesses", "at least one business is required")
		return
	}
	ids := map[string]string{}     // id -> path of its first use
	numbers := map[string]string{} // E.164 -> path of its first use
	for i := range c.Businesses {
		b := &c.Businesses[i]
		p := fmt.Sprintf("businesses[%d]", i)
		switch {
		case b.ID == "":
			d.bad(p+".id", "required")
		case !slugRE.MatchString(b.ID):
			d.bad(p+".id", "%q must be 1 to 63 lower-case letters, digits and dashes, starting with a letter or digit", b.ID)
		case ids[b.ID] != "":
			d.bad(p+".id", "%q is already used by %s", b.ID, ids[b.ID])
		default:
			ids[b.ID] = p
		}
		if strings.TrimSpace(b.Name) == "" {
			d.bad(p+".name", "required")
		}
		for j, raw := range b.Numbers {
			np := fmt.Sprintf("%s.numbers[%d]", p, j)
			e164, err := normalizeNumber(raw)
			if err != nil {
				d.bad(np, "%v", err)
				continue
			}
			b.Numbers[j] = e164
			if other, dup := numbers[e164]; dup {
				d.bad(np, "%s is already used by %s", e164, other)
				continue
			}
			numbers[e164] = np
		}
		d.checkTimeZone(p, b)
		d.checkHours(p, b)
		for j, cl := range b.Closures {
			if cl.To.Compare(cl.From) < 0 {
				d.bad(fmt.Sprintf("%s.closures[%d].to", p, j), "%s is before from %s", cl.To, cl.From)
			}
		}
		if b.Greeting == "" && b.Name != "" {
			b.Greeting = fmt.Sprintf("Thank you for calling %s. How can I help you today?", strings.TrimSpace(b.Name))
		}
		d.checkFAQs(p, b)
		d.checkServices(p, b)
		if !currencyRE.MatchString(b.Currency) {
			d.bad(p+".currency", "%q is not an ISO 4217 code like \"USD\"", b.Currency)
		}
		switch _, ok := c.Plans[b.Plan]; {
		case b.Plan == "":
			d.bad(p+".plan", "required (one of %s)", strings.Join(sortedKeys(c.Plans), ", "))
		case !ok:
			d.bad(p+".plan", "%q is not a plan (want one of %s)", b.Plan, strings.Join(sortedKeys(c.Plans), ", "))
		}
		if b.TransferNumber != "" {
			e164, err := normalizeNumber(b.TransferNumber)
			if err != nil {
				d.bad(p+".transfer_number", "%v", err)
			} else {
				b.TransferNumber = e164
			}
		}
	}
	// Transferring to a number Frontdesk answers would loop the call back
	// to the receptionist.
	for i, b := range c.Businesses {
		if other, ok := numbers[b.TransferNumber]; ok && b.TransferNumber != "" {
			d.bad(fmt.Sprintf("businesses[%d].transfer_number", i), "%s is answered by Frontdesk (%s); transfer to a human's number", b.TransferNumber, other)
		}
	}
}

func (d *decoder) checkTimeZone(p string, b *Business) {
	switch b.TimeZone {
	case "":
		d.bad(p+".time_zone", `required, an IANA name like "America/New_York"`)
		return
	case "Local":
		// "Local" is the server's zone, which is not the business's.
		d.bad(p+".time_zone", `"Local" is not allowed; give an IANA name like "America/New_York"`)
		return
	}
	loc, err := time.LoadLocation(b.TimeZone)
	if err != nil {
		d.bad(p+".time_zone", "%q is not an IANA time zone", b.TimeZone)
		return
	}
	b.loc = loc
}

func (d *decoder) checkHours(p string, b *Business) {
	for wd, ranges := range b.Hours {
		type indexed struct {
			TimeRange
			i int
		}
		sorted := make([]indexed, len(ranges))
		for i, r := range ranges {
			sorted[i] = indexed{r, i}
		}
		slices.SortStableFunc(sorted, func(a, b indexed) int { return int(a.Start - b.Start) })
		for k := 1; k < len(sorted); k++ {
			prev, cur := sorted[k-1], sorted[k]
			if cur.Start < prev.End {
				d.bad(fmt.Sprintf("%s.hours.%s[%d]", p, weekdays[wd], cur.i), "%s overlaps %s", cur.TimeRange, prev.TimeRange)
			}
		}
		for i, r := range sorted {
			ranges[i] = r.TimeRange
		}
	}
}

func (d *decoder) checkFAQs(p string, b *Business) {
	for i, f := range b.FAQs {
		fp := fmt.Sprintf("%s.faqs[%d]", p, i)
		if len(f.Questions) == 0 {
			d.bad(fp+".questions", "at least one question is required")
		}
		for j, q := range f.Questions {
			if strings.TrimSpace(q) == "" {
				d.bad(fmt.Sprintf("%s.questions[%d]", fp, j), "must not be empty")
			}
		}
		if strings.TrimSpace(f.Answer) == "" {
			d.bad(fp+".answer", "required")
		}
		for j, k := range f.Keywords {
			if strings.TrimSpace(k) == "" {
				d.bad(fmt.Sprintf("%s.keywords[%d]", fp, j), "must not be empty")
			}
		}
	}
}

func (d *decoder) checkServices(p string, b *Business) {
	names := map[string]int{}
	for i, s := range b.Services {
		sp := fmt.Sprintf("%s.services[%d]", p, i)
		key := strings.ToLower(strings.TrimSpace(s.Name))
		if key == "" {
			d.bad(sp+".name", "required")
		} else if j, dup := names[key]; dup {
			d.bad(sp+".name", "%q is already the name of services[%d]", s.Name, j)
		} else {
			names[key] = i
		}
		// Whole minutes: booking works on a minute grid.
		if s.Duration <= 0 || s.Duration%time.Minute != 0 {
			d.bad(sp+".duration", "required, a whole number of minutes like \"30m\"")
		}
		if s.Buffer%time.Minute != 0 {
			d.bad(sp+".buffer", "must be a whole number of minutes, got %s", s.Buffer)
		}
		if s.Price < 0 {
			d.bad(sp+".price", "must not be negative, got %d", s.Price)
		}
	}
}

// normalizeNumber parses a phone number written with its country code in
// any common format and returns it in E.164.
func normalizeNumber(raw string) (string, error) {
	if !strings.HasPrefix(strings.TrimSpace(raw), "+") {
		return "", fmt.Errorf("%q is not a valid E.164 number: start with + and the country code", raw)
	}
	n, err := phonenumbers.Parse(raw, "ZZ")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", fmt.Errorf("%q is not a valid E.164 number", raw)
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}
