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
	nodeIDRE     = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)
	// messagingServiceRE matches a Twilio messaging service SID.
	messagingServiceRE = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)
)

// minOperatorKey is the shortest operator key production mode accepts:
// anything shorter is guessable.
const minOperatorKey = 16

// bad records a semantic problem at path, on the line the decoder saw it,
// unless decoding already failed at path or around it: a value that did
// not decode kept its default, and complaining about that default would
// only repeat the first error in other words.
func (d *decoder) bad(path, format string, args ...any) {
	if d.failedAt(path) {
		return
	}
	d.add(d.line(path), path, fmt.Sprintf(format, args...))
}

// failedAt reports whether decoding failed at path or around it.
func (d *decoder) failedAt(path string) bool {
	for p := range ancestors(path) {
		if d.failed[p] {
			return true
		}
	}
	return false
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
	if c.Twilio.SMSFrom != "" {
		d.checkSMSFrom(&c.Twilio)
	}
	if c.Twilio.AuthToken == "" {
		if prod {
			d.bad("twilio.auth_token", "required in production mode (write it as ${TWILIO_AUTH_TOKEN})")
		} else {
			c.Twilio.AuthToken = DevAuthToken
		}
	}

	switch c.Agent.Mode {
	case AgentReceptionist, AgentEcho, AgentGreeting:
	default:
		d.bad("agent.mode", "%q is not a mode (want %q, %q or %q)", c.Agent.Mode, AgentReceptionist, AgentEcho, AgentGreeting)
	}
	cloud := false
	for _, p := range []struct{ path, v, embedded string }{
		{"agent.stt", c.Agent.STT, ProviderSphinx}, {"agent.llm", c.Agent.LLM, ProviderRules}, {"agent.tts", c.Agent.TTS, ProviderFlite},
	} {
		switch p.v {
		case p.embedded:
		case ProviderOpenAI:
			cloud = true
		default:
			d.bad(p.path, "%q is not a provider (want %q or %q)", p.v, p.embedded, ProviderOpenAI)
		}
	}
	if o := c.Agent.OpenAI; cloud {
		if u, err := url.Parse(o.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			d.bad("agent.openai.base_url", "%q is not an http(s) URL", o.BaseURL)
		}
		if o.APIKey == "" && o.BaseURL == DefaultOpenAIBaseURL {
			d.bad("agent.openai.api_key", "required for OpenAI's API: set it to ${OPENAI_API_KEY}")
		}
		if o.Budget <= 0 {
			d.bad("agent.openai.budget", "must be positive")
		}
	}

	if len(c.Plans) == 0 {
		c.Plans = DefaultPlans()
	}
	for _, name := range sortedKeys(c.Plans) {
		if !slugRE.MatchString(name) {
			d.bad(joinPath("plans", name), "plan name %q must be lower-case letters, digits and dashes", name)
		}
	}

	d.checkStore(&c.Store)
	d.checkBusinesses(c)
}

// checkSMSFrom checks the SMS sender and that the credentials to send
// with are there (the dev token cannot send anything).
func (d *decoder) checkSMSFrom(t *Twilio) {
	if !messagingServiceRE.MatchString(t.SMSFrom) {
		e164, err := normalizeNumber(t.SMSFrom)
		if err != nil {
			d.bad("twilio.sms_from", "%v (or a messaging service SID, \"MG\" and 32 hex digits)", err)
		} else {
			t.SMSFrom = e164
		}
	}
	if t.AccountSID == "" {
		d.bad("twilio.sms_from", "sending SMS needs twilio.account_sid")
	}
	if t.AuthToken == "" {
		d.bad("twilio.sms_from", "sending SMS needs twilio.auth_token")
	}
}

func (d *decoder) checkStore(s *Store) {
	switch s.Backend {
	case StoreSQLite:
	case StoreRedis:
		if s.RedisURL == "" {
			d.bad("store.redis_url", "required with backend %q (write it as ${REDIS_URL})", StoreRedis)
			break
		}
		u, err := url.Parse(s.RedisURL)
		switch {
		case err != nil:
			d.bad("store.redis_url", "not a URL; want redis://[user:password@]host:port[/db]")
		case u.Scheme != "redis" && u.Scheme != "rediss":
			d.bad("store.redis_url", "scheme %q: want redis:// or rediss://", u.Scheme)
		case u.Host == "":
			d.bad("store.redis_url", "has no host; want redis://host:port")
		}
	default:
		d.bad("store.backend", "%q is not a backend (want %q or %q)", s.Backend, StoreSQLite, StoreRedis)
	}
	if s.Heartbeat <= 0 {
		d.bad("store.heartbeat", "must be more than 0 (default %s)", DefaultHeartbeat)
	} else if s.NodeTimeout < 2*s.Heartbeat {
		d.bad("store.node_timeout", "%s must be at least twice store.heartbeat (%s): one late heartbeat must not declare a node dead", s.NodeTimeout, s.Heartbeat)
	}
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
	if s.NodeID != "" && !nodeIDRE.MatchString(s.NodeID) {
		d.bad("server.node_id", "%q: want 1-64 letters, digits, '.', '_', ':' or '-'", s.NodeID)
	}
	l := s.Limits
	if l.MaxConns < 1 {
		d.bad("server.limits.max_conns", "must be at least 1, got %d", l.MaxConns)
	}
	if l.MaxConnsPerIP < 0 {
		d.bad("server.limits.max_conns_per_ip", "must be 0 (no cap) or more, got %d", l.MaxConnsPerIP)
	}
	for _, t := range []struct {
		name string
		v    time.Duration
	}{{"header_timeout", l.HeaderTimeout}, {"body_timeout", l.BodyTimeout}, {"idle_timeout", l.IdleTimeout}} {
		if t.v <= 0 {
			d.bad("server.limits."+t.name, "must be more than 0")
		}
	}
	if l.MaxBody < 1024 {
		d.bad("server.limits.max_body", "must be at least 1024 bytes, got %d", l.MaxBody)
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
	paths := make([]string, len(c.Businesses))
	for i := range c.Businesses {
		paths[i] = fmt.Sprintf("businesses[%d]", i)
		d.checkBusiness(paths[i], &c.Businesses[i], c.Plans)
	}
	d.checkUnique(c.Businesses, paths)
}

// checkUnique reports IDs and numbers used twice among bs (found at
// paths), and transfer numbers that Frontdesk itself answers.
func (d *decoder) checkUnique(bs []Business, paths []string) {
	ids := map[string]string{}     // id -> path of its first use
	numbers := map[string]string{} // E.164 -> path of its first use
	for i := range bs {
		b, p := &bs[i], paths[i]
		if slugRE.MatchString(b.ID) {
			if other := ids[b.ID]; other != "" {
				d.bad(at(p, "id"), "%q is already used by %s", b.ID, other)
			} else {
				ids[b.ID] = at(p, "id")
			}
		}
		for j, e164 := range b.Numbers {
			np := at(p, fmt.Sprintf("numbers[%d]", j))
			if !strings.HasPrefix(e164, "+") || d.failedAt(np) {
				continue // not normalised: reported already
			}
			if other, dup := numbers[e164]; dup {
				d.bad(np, "%s is already used by %s", e164, other)
				continue
			}
			numbers[e164] = np
		}
	}
	// Transferring to a number Frontdesk answers would loop the call back
	// to the receptionist.
	for i, b := range bs {
		if other, ok := numbers[b.TransferNumber]; ok && b.TransferNumber != "" {
			d.bad(at(paths[i], "transfer_number"), "%s is answered by Frontdesk (%s); transfer to a human's number", b.TransferNumber, other)
		}
	}
}

// at joins a field path and a key; an empty path is the document itself.
func at(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// checkBusiness validates one business found at path and completes it:
// numbers in E.164, the default greeting, sorted hours, its time zone.
// Checks across businesses (unique IDs and numbers) are the caller's.
func (d *decoder) checkBusiness(p string, b *Business, plans map[string]Plan) {
	switch {
	case b.ID == "":
		d.bad(at(p, "id"), "required")
	case !slugRE.MatchString(b.ID):
		d.bad(at(p, "id"), "%q must be 1 to 63 lower-case letters, digits and dashes, starting with a letter or digit", b.ID)
	}
	if strings.TrimSpace(b.Name) == "" {
		d.bad(at(p, "name"), "required")
	}
	for j, raw := range b.Numbers {
		np := at(p, fmt.Sprintf("numbers[%d]", j))
		e164, err := normalizeNumber(raw)
		if err != nil {
			d.bad(np, "%v", err)
			d.failed[np] = true
			continue
		}
		b.Numbers[j] = e164
	}
	d.checkTimeZone(p, b)
	d.checkHours(p, b)
	for j, cl := range b.Closures {
		if cl.To.Compare(cl.From) < 0 {
			d.bad(at(p, fmt.Sprintf("closures[%d].to", j)), "%s is before from %s", cl.To, cl.From)
		}
	}
	if b.Greeting == "" && b.Name != "" {
		b.Greeting = fmt.Sprintf("Thank you for calling %s. How can I help you today?", strings.TrimSpace(b.Name))
	}
	d.checkFAQs(p, b)
	d.checkServices(p, b)
	if !currencyRE.MatchString(b.Currency) {
		d.bad(at(p, "currency"), "%q is not an ISO 4217 code like \"USD\"", b.Currency)
	}
	switch _, ok := plans[b.Plan]; {
	case b.Plan == "":
		d.bad(at(p, "plan"), "required (one of %s)", strings.Join(sortedKeys(plans), ", "))
	case !ok:
		d.bad(at(p, "plan"), "%q is not a plan (want one of %s)", b.Plan, strings.Join(sortedKeys(plans), ", "))
	}
	if k := b.OptOutKey; k != "" && (len(k) != 1 || !strings.Contains("0123456789*#", k)) {
		d.bad(at(p, "opt_out_key"), "%q is not a keypad key (want one of 0-9, * or #)", k)
	}
	if b.TransferNumber != "" {
		e164, err := normalizeNumber(b.TransferNumber)
		if err != nil {
			d.bad(at(p, "transfer_number"), "%v", err)
		} else {
			b.TransferNumber = e164
		}
	}
}

func (d *decoder) checkTimeZone(p string, b *Business) {
	switch b.TimeZone {
	case "":
		d.bad(at(p, "time_zone"), `required, an IANA name like "America/New_York"`)
		return
	case "Local":
		// "Local" is the server's zone, which is not the business's.
		d.bad(at(p, "time_zone"), `"Local" is not allowed; give an IANA name like "America/New_York"`)
		return
	}
	loc, err := time.LoadLocation(b.TimeZone)
	if err != nil {
		d.bad(at(p, "time_zone"), "%q is not an IANA time zone", b.TimeZone)
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
				d.bad(at(p, fmt.Sprintf("hours.%s[%d]", weekdays[wd], cur.i)), "%s overlaps %s", cur.TimeRange, prev.TimeRange)
			}
		}
		for i, r := range sorted {
			ranges[i] = r.TimeRange
		}
	}
}

func (d *decoder) checkFAQs(p string, b *Business) {
	for i, f := range b.FAQs {
		fp := at(p, fmt.Sprintf("faqs[%d]", i))
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
		sp := at(p, fmt.Sprintf("services[%d]", i))
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
