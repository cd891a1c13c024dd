package configs

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Business returns the business with the given ID.
func (c *Config) Business(id string) (*Business, bool) {
	for i := range c.Businesses {
		if c.Businesses[i].ID == id {
			return &c.Businesses[i], true
		}
	}
	return nil, false
}

// BusinessByNumber returns the business that owns number. number may be
// in any format phonenumbers understands: E.164 as Twilio sends it, with
// spaces and punctuation ("+1 (212) 555-0100"), or in the national format
// of the country of one of the configured numbers ("(212) 555-0100").
func (c *Config) BusinessByNumber(number string) (*Business, bool) {
	number = strings.TrimSpace(number)
	if number == "" {
		return nil, false
	}
	international := strings.HasPrefix(number, "+")
	var e164 string
	if international {
		n, err := phonenumbers.Parse(number, "ZZ")
		if err != nil {
			return nil, false
		}
		e164 = phonenumbers.Format(n, phonenumbers.E164)
	}
	for i := range c.Businesses {
		b := &c.Businesses[i]
		for _, own := range b.Numbers {
			if international && own == e164 {
				return b, true
			}
			if !international && sameNational(number, own) {
				return b, true
			}
		}
	}
	return nil, false
}

// sameNational reports whether number, read in the national format of
// own's country, is own.
func sameNational(number, own string) bool {
	on, err := phonenumbers.Parse(own, "ZZ")
	if err != nil {
		return false
	}
	region := phonenumbers.GetRegionCodeForNumber(on)
	n, err := phonenumbers.Parse(number, region)
	if err != nil {
		return false
	}
	return phonenumbers.Format(n, phonenumbers.E164) == phonenumbers.Format(on, phonenumbers.E164)
}

// StreamURL returns the WebSocket URL of path on PublicURL: https becomes
// wss and http becomes ws. StreamURL("/twilio/media") on
// "https://fd.example.com" is "wss://fd.example.com/twilio/media".
func (s Server) StreamURL(path string) string {
	base := strings.TrimSuffix(s.PublicURL, "/")
	if rest, ok := strings.CutPrefix(base, "https://"); ok {
		base = "wss://" + rest
	} else if rest, ok := strings.CutPrefix(base, "http://"); ok {
		base = "ws://" + rest
	}
	return base + "/" + strings.TrimPrefix(path, "/")
}

// FormatPrice formats a price in cents of the business's currency for
// speech and display: "$120", "$89.50", "£45", or "120.00 CHF" for
// currencies without a symbol here.
func (b *Business) FormatPrice(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	amount := fmt.Sprintf("%d", cents/100)
	if cents%100 != 0 {
		amount = fmt.Sprintf("%d.%02d", cents/100, cents%100)
	}
	switch b.Currency {
	case "USD", "CAD", "AUD", "NZD":
		return sign + "$" + amount
	case "GBP":
		return sign + "£" + amount
	case "EUR":
		return sign + "€" + amount
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, cents/100, cents%100, b.Currency)
}

// redacted replaces a secret for printing, keeping whether it is set.
func redacted(secret string) string {
	if secret == "" {
		return ""
	}
	return "[redacted]"
}

// Redacted returns a copy of c with its secrets (operator key, Twilio
// auth token, the password in the Redis URL) replaced by "[redacted]", for printing the effective
// config. The copy shares plans and businesses with c, which hold no
// secrets; do not modify them.
func (c *Config) Redacted() *Config {
	r := *c
	r.Server.OperatorKey = redacted(r.Server.OperatorKey)
	r.Twilio.AuthToken = redacted(r.Twilio.AuthToken)
	r.Agent.OpenAI.APIKey = redacted(r.Agent.OpenAI.APIKey)
	r.Store.RedisURL = redactURL(r.Store.RedisURL)
	return &r
}

// LogValue logs a summary of c with secrets redacted.
func (c *Config) LogValue() slog.Value {
	ids := make([]string, len(c.Businesses))
	for i, b := range c.Businesses {
		ids[i] = b.ID
	}
	return slog.GroupValue(
		slog.Any("server", c.Server),
		slog.Any("twilio", c.Twilio),
		slog.String("agent_mode", c.Agent.Mode),
		slog.Any("store", c.Store),
		slog.Any("plans", sortedKeys(c.Plans)),
		slog.Any("businesses", ids),
	)
}

// LogValue logs s with the operator key redacted.
func (s Server) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("listen", s.Listen),
		slog.String("public_url", s.PublicURL),
		slog.String("data_dir", s.DataDir),
		slog.Duration("shutdown_timeout", s.ShutdownTimeout),
		slog.String("operator_key", redacted(s.OperatorKey)),
		slog.String("mode", s.Mode),
		slog.Int("max_calls", s.MaxCalls),
		slog.Any("limits", s.Limits),
	)
}

// String formats s for %v with the operator key redacted.
func (s Server) String() string {
	return fmt.Sprintf("{Listen:%s PublicURL:%s DataDir:%s ShutdownTimeout:%s OperatorKey:%s Mode:%s MaxCalls:%d Limits:%+v}",
		s.Listen, s.PublicURL, s.DataDir, s.ShutdownTimeout, redacted(s.OperatorKey), s.Mode, s.MaxCalls, s.Limits)
}

// GoString formats s for %#v with the operator key redacted.
func (s Server) GoString() string {
	return fmt.Sprintf("configs.Server{Listen:%q, PublicURL:%q, DataDir:%q, ShutdownTimeout:%d, OperatorKey:%q, Mode:%q, MaxCalls:%d, Limits:%#v}",
		s.Listen, s.PublicURL, s.DataDir, s.ShutdownTimeout, redacted(s.OperatorKey), s.Mode, s.MaxCalls, s.Limits)
}

// LogValue logs t with the auth token redacted.
func (t Twilio) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("account_sid", t.AccountSID),
		slog.String("auth_token", redacted(t.AuthToken)),
		slog.String("sms_from", t.SMSFrom),
	)
}

// String formats t for %v with the auth token redacted.
func (t Twilio) String() string {
	return fmt.Sprintf("{AccountSID:%s AuthToken:%s SMSFrom:%s}", t.AccountSID, redacted(t.AuthToken), t.SMSFrom)
}

// GoString formats t for %#v with the auth token redacted.
func (t Twilio) GoString() string {
	return fmt.Sprintf("configs.Twilio{AccountSID:%q, AuthToken:%q, SMSFrom:%q}", t.AccountSID, redacted(t.AuthToken), t.SMSFrom)
}

// redactURL replaces the password of a URL, if any, with "[redacted]".
// Text that does not parse as a URL is redacted whole: it may be a
// mistyped URL with a password in it.
func redactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "[redacted]"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "[redacted]")
		return strings.Replace(u.String(), url.QueryEscape("[redacted]"), "[redacted]", 1)
	}
	return u.String()
}

// LogValue logs s with the password in the Redis URL redacted.
func (s Store) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("backend", s.Backend),
		slog.String("redis_url", redactURL(s.RedisURL)),
		slog.String("redis_prefix", s.RedisPrefix),
	)
}

// String formats s for %v with the password in the Redis URL redacted.
func (s Store) String() string {
	return fmt.Sprintf("{Backend:%s RedisURL:%s RedisPrefix:%s}", s.Backend, redactURL(s.RedisURL), s.RedisPrefix)
}

// GoString formats s for %#v with the password in the Redis URL redacted.
func (s Store) GoString() string {
	return fmt.Sprintf("configs.Store{Backend:%q, RedisURL:%q, RedisPrefix:%q}", s.Backend, redactURL(s.RedisURL), s.RedisPrefix)
}
