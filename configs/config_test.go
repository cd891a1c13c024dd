package configs

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func parseOK(t testing.TB, src string, env map[string]string) *Config {
	t.Helper()
	cfg, err := Parse("t.yaml", []byte(src), mapEnv(env))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return cfg
}

func TestExampleLoads(t *testing.T) {
	data, err := os.ReadFile("example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse("example.yaml", data, nil) // no environment at all
	if err != nil {
		t.Fatalf("example.yaml: %v", err)
	}
	if got, want := cfg.Server.Mode, ModeDev; got != want {
		t.Errorf("server.mode = %q, want %q", got, want)
	}
	if got, want := cfg.Twilio.AuthToken, DevAuthToken; got != want {
		t.Errorf("twilio.auth_token = %q, want the dev token %q", got, want)
	}
	if got, want := cfg.Agent.Mode, AgentReceptionist; got != want {
		t.Errorf("agent.mode = %q, want %q", got, want)
	}
	if got, want := cfg.Plans["private"], (Plan{Recordings: 0, Transcripts: 30 * 24 * time.Hour}); got != want {
		t.Errorf("plans.private = %+v, want %+v", got, want)
	}

	b, ok := cfg.Business("bright-smile")
	if !ok {
		t.Fatal(`Business("bright-smile") not found`)
	}
	if got, want := b.Numbers, []string{"+12125550100", "+12125550101"}; !slices.Equal(got, want) {
		t.Errorf("numbers = %q, want %q (normalised to E.164)", got, want)
	}
	if got, want := b.Location().String(), "America/New_York"; got != want {
		t.Errorf("Location() = %s, want %s", got, want)
	}
	wantHours := []TimeRange{{8 * 60, 12 * 60}, {13 * 60, 17 * 60}}
	for wd := time.Monday; wd <= time.Friday; wd++ {
		if !slices.Equal(b.Hours[wd], wantHours) {
			t.Errorf("hours %s = %v, want %v", wd, b.Hours[wd], wantHours)
		}
	}
	if got := b.Hours[time.Saturday]; !slices.Equal(got, []TimeRange{{9 * 60, 13 * 60}}) {
		t.Errorf("hours saturday = %v, want [09:00-13:00]", got)
	}
	if got := b.Hours[time.Sunday]; len(got) != 0 {
		t.Errorf("hours sunday = %v, want closed", got)
	}
	if got, want := fmt.Sprint(b.Closures), "[{2026-12-24 2026-12-26 Christmas} {2027-01-01 2027-01-01 New Year's Day}]"; got != want {
		t.Errorf("closures = %s, want %s", got, want)
	}
	if n := len(b.FAQs); n < 10 || n > 15 {
		t.Errorf("%d FAQs, want 10 to 15", n)
	}
	for i, f := range b.FAQs {
		if n := len(f.Questions); n < 3 || n > 5 {
			t.Errorf("faqs[%d] has %d phrasings, want 3 to 5", i, n)
		}
	}
	if n := len(b.Services); n < 5 || n > 6 {
		t.Errorf("%d services, want 5 or 6", n)
	}
	if got, want := b.Services[0], (Service{Name: "Cleaning", Duration: time.Hour, Buffer: 10 * time.Minute, Price: 12000}); got != want {
		t.Errorf("services[0] = %+v, want %+v", got, want)
	}
	if b.Plan != "starter" || b.TransferNumber != "+12125550199" || b.Currency != "USD" {
		t.Errorf("plan, transfer, currency = %q, %q, %q; want starter, +12125550199, USD", b.Plan, b.TransferNumber, b.Currency)
	}
	if !strings.HasPrefix(b.Greeting, "Thank you for calling Bright Smile Dental.") {
		t.Errorf("greeting = %q", b.Greeting)
	}

	salon, ok := cfg.BusinessByNumber("+44 20 7946 0958")
	if !ok || salon.ID != "shear-elegance" {
		t.Fatalf("BusinessByNumber(salon) = %v, %v", salon, ok)
	}
	if got, want := salon.Greeting, "Thank you for calling Shear Elegance. How can I help you today?"; got != want {
		t.Errorf("default greeting = %q, want %q", got, want)
	}
	if got, want := salon.Disclosure, DefaultDisclosure; got != want {
		t.Errorf("default disclosure = %q, want %q", got, want)
	}
	if got, want := salon.FormatPrice(salon.Services[0].Price), "£65"; got != want {
		t.Errorf("FormatPrice = %q, want %q", got, want)
	}
}

// TestLoadProductionFromEnv loads the example through Load with the
// environment a production deployment would set.
func TestLoadProductionFromEnv(t *testing.T) {
	t.Setenv("FRONTDESK_MODE", "production")
	t.Setenv("FRONTDESK_PUBLIC_URL", "https://frontdesk.example.com/")
	t.Setenv("FRONTDESK_OPERATOR_KEY", "op-key-0123456789abcdef")
	t.Setenv("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef")
	t.Setenv("TWILIO_AUTH_TOKEN", "secret-token")
	cfg, err := Load("example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Server.PublicURL, "https://frontdesk.example.com"; got != want {
		t.Errorf("public_url = %q, want %q (trailing slash removed)", got, want)
	}
	if got, want := cfg.Server.StreamURL("/twilio/media"), "wss://frontdesk.example.com/twilio/media"; got != want {
		t.Errorf("StreamURL = %q, want %q", got, want)
	}
	if cfg.Server.Mode != ModeProduction || cfg.Twilio.AuthToken != "secret-token" || cfg.Server.OperatorKey != "op-key-0123456789abcdef" {
		t.Errorf("env not applied: %+v %+v", cfg.Server, cfg.Redacted().Twilio)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "configs: load:") {
		t.Errorf("Load(missing) error = %v, want a wrapped open error", err)
	}
	path := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(path, []byte("server:\n  mode: prod\n"+minimal), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path+":2: server.mode:") {
		t.Errorf("Load(bad) error = %v, want the file, line and field", err)
	}
}

func TestDefaults(t *testing.T) {
	cfg := parseOK(t, minimal, nil)
	want := Config{
		Server: Server{
			Listen: ":8080", PublicURL: "http://localhost:8080", DataDir: "./data",
			ShutdownTimeout: 30 * time.Second, Mode: "dev", MaxCalls: 1000,
			Limits: Limits{MaxConns: 4096, MaxConnsPerIP: 1024, HeaderTimeout: 10 * time.Second,
				BodyTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second, MaxBody: 1 << 20},
		},
		Twilio: Twilio{AuthToken: DevAuthToken},
		Agent: Agent{Mode: "receptionist", EchoDelay: time.Second, STT: "sphinx", LLM: "rules", TTS: "flite",
			OpenAI: OpenAI{BaseURL: "https://api.openai.com/v1", ChatModel: "gpt-4o-mini", TranscriptionModel: "whisper-1",
				SpeechModel: "gpt-4o-mini-tts", Voice: "alloy", Budget: 3 * time.Second}},
	}
	if cfg.Server != want.Server || cfg.Twilio != want.Twilio || cfg.Agent != want.Agent {
		t.Errorf("got %+v %+v %+v, want %+v %+v %+v", cfg.Server, cfg.Twilio, cfg.Agent, want.Server, want.Twilio, want.Agent)
	}
	const day = 24 * time.Hour
	if got := cfg.Plans; len(got) != 2 || got["starter"] != (Plan{180 * day, 365 * day}) || got["pro"] != (Plan{365 * day, 730 * day}) {
		t.Errorf("plans = %v, want the default starter and pro", got)
	}
	b := cfg.Businesses[0]
	if b.Disclosure != DefaultDisclosure || b.Currency != "USD" || b.Greeting != "Thank you for calling Acme. How can I help you today?" {
		t.Errorf("business defaults: disclosure %q, currency %q, greeting %q", b.Disclosure, b.Currency, b.Greeting)
	}
	// A key that is present keeps its value, even when it equals a zero.
	cfg = parseOK(t, "agent:\n  echo_delay: 0\n"+minimal+"    disclosure: \"\"\n", nil)
	if cfg.Agent.EchoDelay != 0 || cfg.Businesses[0].Disclosure != "" {
		t.Errorf("explicit zero values replaced by defaults: echo_delay %v, disclosure %q", cfg.Agent.EchoDelay, cfg.Businesses[0].Disclosure)
	}
	// Plans given replace the defaults entirely.
	cfg = parseOK(t, "plans:\n  gold: {recordings: 4320h, transcripts: 0}\n"+strings.Replace(minimal, "starter", "gold", 1), nil)
	if len(cfg.Plans) != 1 || cfg.Plans["gold"] != (Plan{180 * day, 0}) {
		t.Errorf("plans = %v, want only gold", cfg.Plans)
	}
}

func TestEnvExpansion(t *testing.T) {
	env := map[string]string{"TOKEN": "t0k", "EMPTY": "", "PORT": "9090"}
	tests := []struct{ in, want, err string }{
		{"plain", "plain", ""},
		{"${TOKEN}", "t0k", ""},
		{"a-${TOKEN}-b-${TOKEN}", "a-t0k-b-t0k", ""},
		{"${EMPTY}", "", ""},
		{"${EMPTY:-fallback}", "fallback", ""},
		{"${UNSET:-fallback}", "fallback", ""},
		{"${UNSET:-}", "", ""},
		{"${TOKEN:-fallback}", "t0k", ""},
		{"${UNSET:-a:-b}", "a:-b", ""},
		{"$${TOKEN}", "${TOKEN}", ""},
		{"cost $5 and $$", "cost $5 and $$", ""},
		{"${UNSET}", "", "environment variable UNSET is not set"},
		{"${}", "", "invalid environment variable reference ${}"},
		{"${A B}", "", "invalid environment variable reference ${A B}"},
		{"${TOKEN", "", `unterminated "${TOKEN"`},
	}
	for _, tt := range tests {
		got, err := expand(tt.in, mapEnv(env))
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("expand(%q) error = %v, want %q", tt.in, err, tt.err)
		case tt.err == "" && err != nil:
			t.Errorf("expand(%q) error = %v", tt.in, err)
		case got != tt.want:
			t.Errorf("expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}

	// In the file: values of every type are expanded, then parsed.
	cfg := parseOK(t, "server:\n  listen: \":${PORT}\"\n  max_calls: ${CALLS:-7}\n  operator_key: ${TOKEN}\n"+minimal, env)
	if cfg.Server.Listen != ":9090" || cfg.Server.MaxCalls != 7 || cfg.Server.OperatorKey != "t0k" {
		t.Errorf("got listen %q, max_calls %d, operator_key %q", cfg.Server.Listen, cfg.Server.MaxCalls, cfg.Server.OperatorKey)
	}
	// A value from the environment is data, not YAML: it cannot add keys.
	cfg = parseOK(t, "server:\n  operator_key: ${TOKEN}\n"+minimal, map[string]string{"TOKEN": "x\nmode: production"})
	if cfg.Server.Mode != ModeDev || cfg.Server.OperatorKey != "x\nmode: production" {
		t.Errorf("environment value was parsed as YAML: %+v", cfg.Server)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30s", 30 * time.Second, true},
		{"4320h", 180 * 24 * time.Hour, true},
		{"180d", 180 * 24 * time.Hour, true},
		{"0d", 0, true},
		{"0", 0, true},
		{"1h30m", 90 * time.Minute, true},
		{"1.5d", 0, false},
		{"-1d", 0, false},
		{"+1d", 0, false},
		{"d", 0, false},
		{"-5m", 0, false},
		{"10", 0, false},
		{"99999999999999d", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestBusinessByNumber(t *testing.T) {
	cfg := parseOK(t, minimal+`    numbers: ["+1 212 555 0100"]
  - id: salon
    name: Salon
    time_zone: Europe/London
    plan: pro
    numbers: ["+442079460958"]
`, nil)
	tests := []struct{ number, want string }{
		{"+12125550100", "acme"},
		{"+1 (212) 555-0100", "acme"},
		{"+1-212-555-0100", "acme"},
		{"tel:+1-212-555-0100", "acme"},
		{"(212) 555-0100", "acme"}, // national format of a configured number's country
		{"+44 20 7946 0958", "salon"},
		{"020 7946 0958", "salon"},
		{"+442079460958", "salon"},
		{"+12125550101", ""},
		{"+1555", ""},
		{"", ""},
		{"not a number", ""},
	}
	for _, tt := range tests {
		b, ok := cfg.BusinessByNumber(tt.number)
		got := ""
		if ok {
			got = b.ID
		}
		if got != tt.want {
			t.Errorf("BusinessByNumber(%q) = %q, want %q", tt.number, got, tt.want)
		}
	}
	if _, ok := cfg.Business("nope"); ok {
		t.Error(`Business("nope") found something`)
	}
	b, ok := cfg.Business("salon")
	if !ok || b != &cfg.Businesses[1] {
		t.Errorf(`Business("salon") = %p, %v; want a pointer into Businesses`, b, ok)
	}
}

func TestOpenAt(t *testing.T) {
	cfg := parseOK(t, strings.Replace(minimal, "UTC", "America/New_York", 1)+`    hours:
      monday: ["08:00-12:00", "13:00-17:00"]
      sunday: ["01:00-04:00"]
    closures:
      - date: 2026-03-16
      - from: 2026-12-24
        to: 2026-12-27
`, nil)
	b := &cfg.Businesses[0]
	utc := func(s string) time.Time {
		t.Helper()
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		name string
		at   string // UTC
		want bool
	}{
		// The same UTC instant is 08:30 on the Monday after DST starts
		// (2026-03-08) and 07:30 on the Monday before: a fixed offset
		// would get one of them wrong.
		{"Mon before DST, 07:30 EST", "2026-03-02T12:30:00Z", false},
		{"Mon after DST, 08:30 EDT", "2026-03-09T12:30:00Z", true},
		{"Mon after DST, 07:59 EDT", "2026-03-09T11:59:00Z", false},
		{"Mon after DST, 16:59 EDT", "2026-03-09T20:59:00Z", true},
		{"Mon after DST, 17:00 EDT", "2026-03-09T21:00:00Z", false},
		{"Mon lunch, 12:30 EDT", "2026-03-09T16:30:00Z", false},
		// On the change day itself: 01:30 EST, then 03:30 EDT an hour later.
		{"DST day 01:30 EST", "2026-03-08T06:30:00Z", true},
		{"DST day 03:30 EDT", "2026-03-08T07:30:00Z", true},
		{"DST day 04:00 EDT", "2026-03-08T08:00:00Z", false},
		// Back to standard time on 2026-11-01: 01:30 happens twice.
		{"fall back, first 01:30 EDT", "2026-11-01T05:30:00Z", true},
		{"fall back, second 01:30 EST", "2026-11-01T06:30:00Z", true},
		{"fall back, 04:00 EST", "2026-11-01T09:00:00Z", false},
		{"Mon before fall back, 08:30 EDT", "2026-10-26T12:30:00Z", true},
		{"Mon after fall back, 07:30 EST", "2026-11-02T12:30:00Z", false},
		{"Mon after fall back, 08:30 EST", "2026-11-02T13:30:00Z", true},
		// Closures are whole days in the business's zone.
		{"single-day closure", "2026-03-16T14:00:00Z", false},
		{"Mon after closure", "2026-03-23T14:00:00Z", true},
		// The Christmas closure runs Thursday 24th to Sunday 27th.
		{"Mon before Christmas", "2026-12-21T14:00:00Z", true},
		{"Sun 01:30 inside closure", "2026-12-27T06:30:00Z", false},
		{"Mon after Christmas", "2026-12-28T14:00:00Z", true},
		{"Sun 01:30 after closure", "2027-01-03T06:30:00Z", true},
	}
	for _, tt := range tests {
		if got := b.OpenAt(utc(tt.at)); got != tt.want {
			t.Errorf("%s: OpenAt(%s = %s) = %v, want %v", tt.name, tt.at, utc(tt.at).In(b.Location()).Format("Mon 15:04 MST"), got, tt.want)
		}
	}
	c, ok := b.ClosureOn(utc("2026-12-25T15:00:00Z"))
	if !ok || c.From != (Date{2026, 12, 24}) {
		t.Errorf("ClosureOn(Christmas) = %v, %v", c, ok)
	}
	// Late on the 27th in New York is already the 28th in UTC: the
	// closure is judged on the business's calendar, not UTC's.
	if _, ok := b.ClosureOn(utc("2026-12-28T03:00:00Z")); !ok {
		t.Error("ClosureOn(2026-12-27 22:00 EST) = false, want inside the Christmas closure")
	}
	if _, ok := b.ClosureOn(utc("2026-12-28T05:00:00Z")); ok {
		t.Error("ClosureOn(2026-12-28 00:00 EST) = true, want after the Christmas closure")
	}
}
