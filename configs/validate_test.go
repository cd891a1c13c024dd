package configs

import (
	"errors"
	"strings"
	"testing"
)

// minimal is the smallest valid config: one business, everything else
// defaulted. Cases below append to it or replace it; line numbers in
// their wants count from the top of the final text.
const minimal = `businesses:
  - id: acme
    name: Acme
    time_zone: UTC
    plan: starter
`

func parseErrors(t *testing.T, src string, env map[string]string) ValidationErrors {
	t.Helper()
	cfg, err := Parse("t.yaml", []byte(src), mapEnv(env))
	if err == nil {
		t.Fatalf("Parse succeeded, want an error; config %+v", cfg)
	}
	var verrs ValidationErrors
	if !errors.As(err, &verrs) {
		t.Fatalf("Parse error %T %v, want ValidationErrors", err, err)
	}
	return verrs
}

func mapEnv(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestValidationErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // each must be the start of one error, in order
	}{
		{"unknown top-level key", "servr:\n  listen: x\n" + minimal,
			[]string{`t.yaml:1: servr: unknown field (want one of agent, businesses, plans, server, store, twilio)`}},
		{"unknown nested key", "server:\n  lisen: ':1'\n" + minimal,
			[]string{`t.yaml:2: server.lisen: unknown field (want one of data_dir, limits, listen,`}},
		{"duplicate key", "server:\n  listen: ':1'\n  listen: ':2'\n" + minimal,
			[]string{`t.yaml:3: server.listen: duplicate key`}},
		{"merge key", "x: &x {listen: ':1'}\n" + minimal, []string{`t.yaml:1: x: unknown field`}},
		{"merge key in mapping", "server:\n  <<: {listen: ':1'}\n" + minimal,
			[]string{`t.yaml:2: server["<<"]: merge keys (<<) are not supported`}},
		{"mapping wanted", "server: [1]\n" + minimal, []string{`t.yaml:1: server: want a mapping of keys to values, got a list`}},
		{"scalar wanted", "server:\n  listen: {a: 1}\n" + minimal, []string{`t.yaml:2: server.listen: want a single value, got a mapping`}},
		{"list wanted", minimal + "    numbers: \"+12125550100\"\n", []string{`t.yaml:6: businesses[0].numbers: want a list, got "+12125550100"`}},
		{"listen not host:port", "server:\n  listen: nope\n" + minimal, []string{`t.yaml:2: server.listen: "nope" is not host:port`}},
		{"listen bad port", "server:\n  listen: ':99999'\n" + minimal, []string{`t.yaml:2: server.listen: ":99999": port "99999" is not a number`}},
		{"listen empty", "server:\n  listen: ''\n" + minimal, []string{`t.yaml:2: server.listen: must not be empty`}},
		{"public_url path", "server:\n  public_url: https://fd.example.com/app\n" + minimal,
			[]string{`t.yaml:2: server.public_url: "https://fd.example.com/app" must be scheme and host only`}},
		{"public_url query", "server:\n  public_url: https://fd.example.com?x=1\n" + minimal,
			[]string{`t.yaml:2: server.public_url: "https://fd.example.com?x=1" must be scheme and host only`}},
		{"public_url scheme", "server:\n  public_url: ftp://fd.example.com\n" + minimal,
			[]string{`t.yaml:2: server.public_url: "ftp://fd.example.com" must start with http:// or https://`}},
		{"public_url no host", "server:\n  public_url: 'https://'\n" + minimal, []string{`t.yaml:2: server.public_url: "https://" has no host`}},
		{"mode", "server:\n  mode: prod\n" + minimal, []string{`t.yaml:2: server.mode: "prod" is not a mode (want "dev" or "production")`}},
		{"production needs secrets", "server:\n  mode: production\n  public_url: https://fd.example.com\n" + minimal, []string{
			`t.yaml:1: server.operator_key: must be at least 16 characters in production mode`,
			`t.yaml:1: twilio.auth_token: required in production mode`,
		}},
		{"production needs https", "server:\n  mode: production\n  public_url: http://fd.example.com\n  operator_key: 0123456789abcdef\ntwilio:\n  auth_token: tok\n" + minimal,
			[]string{`t.yaml:3: server.public_url: "http://fd.example.com" must be https in production mode`}},
		{"negative duration", "server:\n  shutdown_timeout: -1s\n" + minimal, []string{`t.yaml:2: server.shutdown_timeout: invalid duration "-1s": must not be negative`}},
		{"zero shutdown", "server:\n  shutdown_timeout: 0s\n" + minimal, []string{`t.yaml:2: server.shutdown_timeout: must be more than 0`}},
		{"max_calls word", "server:\n  max_calls: lots\n" + minimal, []string{`t.yaml:2: server.max_calls: "lots" is not a whole number`}},
		{"max_calls zero", "server:\n  max_calls: 0\n" + minimal, []string{`t.yaml:2: server.max_calls: must be at least 1, got 0`}},
		{"data_dir empty", "server:\n  data_dir: ''\n" + minimal, []string{`t.yaml:2: server.data_dir: must not be empty`}},
		{"account sid", "twilio:\n  account_sid: AB123\n" + minimal, []string{`t.yaml:2: twilio.account_sid: want "AC" followed by 32 hex digits`}},
		{"sms_from invalid", "twilio:\n  account_sid: AC0123456789abcdef0123456789abcdef\n  auth_token: tok\n  sms_from: \"+1555\"\n" + minimal,
			[]string{`t.yaml:4: twilio.sms_from: "+1555" is not a valid E.164 number`}},
		{"sms_from without credentials", "twilio:\n  sms_from: \"+12125550100\"\n" + minimal, []string{
			`t.yaml:2: twilio.sms_from: sending SMS needs twilio.account_sid`,
			`t.yaml:2: twilio.sms_from: sending SMS needs twilio.auth_token`,
		}},
		{"store backend", "store:\n  backend: postgres\n" + minimal, []string{`t.yaml:2: store.backend: "postgres" is not a backend (want "sqlite" or "redis")`}},
		{"store redis without url", "store:\n  backend: redis\n" + minimal, []string{`t.yaml:1: store.redis_url: required with backend "redis"`}},
		{"store redis bad scheme", "store:\n  backend: redis\n  redis_url: http://h:6379\n" + minimal, []string{`t.yaml:3: store.redis_url: scheme "http": want redis:// or rediss://`}},
		{"store redis no host", "store:\n  backend: redis\n  redis_url: \"redis://\"\n" + minimal, []string{`t.yaml:3: store.redis_url: has no host`}},
		{"store unknown key", "store:\n  backend: redis\n  url: redis://h\n" + minimal, []string{
			`t.yaml:1: store.redis_url: required with backend "redis"`,
			`t.yaml:3: store.url: unknown field (want one of backend, heartbeat, node_timeout, redis_prefix, redis_url)`,
		}},
		{"store heartbeat zero", "store:\n  heartbeat: 0s\n" + minimal, []string{`t.yaml:2: store.heartbeat: must be more than 0`}},
		{"store node_timeout short", "store:\n  heartbeat: 2s\n  node_timeout: 3s\n" + minimal,
			[]string{`t.yaml:3: store.node_timeout: 3s must be at least twice store.heartbeat (2s)`}},
		{"node_id", "server:\n  node_id: 'node a'\n" + minimal, []string{`t.yaml:2: server.node_id: "node a": want 1-64 letters`}},
		{"agent provider", "agent:\n  llm: gpt\n" + minimal, []string{`t.yaml:2: agent.llm: "gpt" is not a provider (want "rules" or "openai")`}},
		{"openai without a key", "agent:\n  tts: openai\n" + minimal, []string{`t.yaml:1: agent.openai.api_key: required for OpenAI's API: set it to ${OPENAI_API_KEY}`}},
		{"agent mode", "agent:\n  mode: parrot\n" + minimal, []string{`t.yaml:2: agent.mode: "parrot" is not a mode (want "receptionist", "echo" or "greeting")`}},
		{"echo_delay", "agent:\n  echo_delay: 1 second\n" + minimal, []string{`t.yaml:2: agent.echo_delay: invalid duration "1 second"`}},
		{"plan missing field", "plans:\n  starter:\n    recordings: 180d\n" + minimal,
			[]string{`t.yaml:2: plans.starter.transcripts: required (0 means do not keep transcripts)`}},
		{"plan bad duration", "plans:\n  starter:\n    recordings: 180days\n    transcripts: 1d\n" + minimal,
			[]string{`t.yaml:3: plans.starter.recordings: invalid duration "180days"`}},
		{"plan bad name", "plans:\n  Gold Plan: {recordings: 1d, transcripts: 1d}\n  starter: {recordings: 1d, transcripts: 1d}\n" + minimal,
			[]string{`t.yaml:2: plans["Gold Plan"]: plan name "Gold Plan" must be lower-case`}},
		{"plan unknown key", "plans:\n  starter: {recordings: 1d, transcripts: 1d, audit: 1d}\n" + minimal,
			[]string{`t.yaml:2: plans.starter.audit: unknown field (want one of recordings, transcripts)`}},
		{"business plan unknown", strings.Replace(minimal, "plan: starter", "plan: gold", 1),
			[]string{`t.yaml:5: businesses[0].plan: "gold" is not a plan (want one of pro, starter)`}},
		{"business plan missing", strings.Replace(minimal, "    plan: starter\n", "", 1),
			[]string{`t.yaml:2: businesses[0].plan: required (one of pro, starter)`}},
		{"no businesses", "server:\n  listen: ':1'\n", []string{`t.yaml:1: businesses: at least one business is required`}},
		{"id not a slug", strings.Replace(minimal, "id: acme", "id: Acme!", 1),
			[]string{`t.yaml:2: businesses[0].id: "Acme!" must be 1 to 63 lower-case letters`}},
		{"id missing", strings.Replace(minimal, "- id: acme\n    name", "- name", 1), []string{`t.yaml:2: businesses[0].id: required`}},
		{"id duplicate", minimal + strings.TrimPrefix(minimal, "businesses:\n"),
			[]string{`t.yaml:6: businesses[1].id: "acme" is already used by businesses[0]`}},
		{"name missing", strings.Replace(minimal, "    name: Acme\n", "", 1), []string{`t.yaml:2: businesses[0].name: required`}},
		{"number invalid", minimal + "    numbers:\n      - \"+12125550100\"\n      - \"+1555\"\n",
			[]string{`t.yaml:8: businesses[0].numbers[1]: "+1555" is not a valid E.164 number`}},
		{"number without country code", minimal + "    numbers: [\"2125550100\"]\n",
			[]string{`t.yaml:6: businesses[0].numbers[0]: "2125550100" is not a valid E.164 number: start with + and the country code`}},
		{"number duplicate across businesses", minimal + "    numbers: [\"+12125550100\"]\n  - id: other\n    name: Other\n    time_zone: UTC\n    plan: pro\n    numbers: [\"+1 212-555-0100\"]\n",
			[]string{`t.yaml:11: businesses[1].numbers[0]: +12125550100 is already used by businesses[0].numbers[0]`}},
		{"time zone missing", strings.Replace(minimal, "    time_zone: UTC\n", "", 1), []string{`t.yaml:2: businesses[0].time_zone: required`}},
		{"time zone unknown", strings.Replace(minimal, "UTC", "Mars/Olympus", 1), []string{`t.yaml:4: businesses[0].time_zone: "Mars/Olympus" is not an IANA time zone`}},
		{"time zone Local", strings.Replace(minimal, "UTC", "Local", 1), []string{`t.yaml:4: businesses[0].time_zone: "Local" is not allowed`}},
		{"hours unknown day", minimal + "    hours:\n      mondays: [\"09:00-17:00\"]\n",
			[]string{`t.yaml:7: businesses[0].hours.mondays: unknown field (want one of friday, monday,`}},
		{"hours bad range", minimal + "    hours:\n      monday: [\"9-5\"]\n", []string{`t.yaml:7: businesses[0].hours.monday[0]: "9" is not a time like "09:00"`}},
		{"hours bad minute", minimal + "    hours:\n      monday: [\"09:60-17:00\"]\n", []string{`t.yaml:7: businesses[0].hours.monday[0]: "09:60" is not a time of day`}},
		{"hours backwards", minimal + "    hours:\n      monday: [\"17:00-09:00\"]\n",
			[]string{`t.yaml:7: businesses[0].hours.monday[0]: "17:00-09:00" ends before it starts`}},
		{"hours overlap", minimal + "    hours:\n      monday:\n        - 13:00-17:00\n        - 08:00-12:00\n        - 11:30-12:30\n",
			[]string{`t.yaml:10: businesses[0].hours.monday[2]: 11:30-12:30 overlaps 08:00-12:00`}},
		{"hours not a list", minimal + "    hours:\n      monday: 09:00-17:00\n", []string{`t.yaml:7: businesses[0].hours.monday: want a list, got "09:00-17:00"`}},
		{"closure date and range", minimal + "    closures:\n      - date: 2026-12-25\n        from: 2026-12-24\n",
			[]string{`t.yaml:7: businesses[0].closures[0]: give either "date" or "from" and "to", not both`}},
		{"closure nothing", minimal + "    closures:\n      - reason: Holiday\n", []string{`t.yaml:7: businesses[0].closures[0]: want "date", or "from" and "to"`}},
		{"closure bad date", minimal + "    closures:\n      - date: 2026-13-01\n", []string{`t.yaml:7: businesses[0].closures[0].date: "2026-13-01" is not a date like "2026-12-25"`}},
		{"closure missing to", minimal + "    closures:\n      - from: 2026-12-24\n", []string{`t.yaml:7: businesses[0].closures[0].to: required`}},
		{"closure backwards", minimal + "    closures:\n      - from: 2026-12-26\n        to: 2026-12-24\n",
			[]string{`t.yaml:8: businesses[0].closures[0].to: 2026-12-24 is before from 2026-12-26`}},
		{"faq no questions", minimal + "    faqs:\n      - answer: Yes.\n", []string{`t.yaml:7: businesses[0].faqs[0].questions: at least one question is required`}},
		{"faq empty question", minimal + "    faqs:\n      - questions: [\"Open?\", \"\"]\n        answer: Yes.\n", []string{`t.yaml:7: businesses[0].faqs[0].questions[1]: must not be empty`}},
		{"faq no answer", minimal + "    faqs:\n      - questions: [\"Open?\"]\n", []string{`t.yaml:7: businesses[0].faqs[0].answer: required`}},
		{"service no duration", minimal + "    services:\n      - name: Cut\n", []string{`t.yaml:7: businesses[0].services[0].duration: required, a whole number of minutes`}},
		{"service seconds", minimal + "    services:\n      - name: Cut\n        duration: 90s\n", []string{`t.yaml:8: businesses[0].services[0].duration: required, a whole number of minutes`}},
		{"service buffer seconds", minimal + "    services:\n      - name: Cut\n        duration: 30m\n        buffer: 30s\n",
			[]string{`t.yaml:9: businesses[0].services[0].buffer: must be a whole number of minutes, got 30s`}},
		{"service price string", minimal + "    services:\n      - name: Cut\n        duration: 30m\n        price: $120\n",
			[]string{`t.yaml:9: businesses[0].services[0].price: want whole cents as an integer (12000 for 120.00), got "$120"`}},
		{"service price negative", minimal + "    services:\n      - name: Cut\n        duration: 30m\n        price: -5\n",
			[]string{`t.yaml:9: businesses[0].services[0].price: must not be negative, got -5`}},
		{"service duplicate name", minimal + "    services:\n      - {name: Cut, duration: 30m}\n      - {name: cut, duration: 45m}\n",
			[]string{`t.yaml:8: businesses[0].services[1].name: "cut" is already the name of services[0]`}},
		{"currency", minimal + "    currency: usd\n", []string{`t.yaml:6: businesses[0].currency: "usd" is not an ISO 4217 code`}},
		{"transfer invalid", minimal + "    transfer_number: \"+1555\"\n", []string{`t.yaml:6: businesses[0].transfer_number: "+1555" is not a valid E.164 number`}},
		{"transfer loops", minimal + "    numbers: [\"+12125550100\"]\n    transfer_number: \"+1 212 555 0100\"\n",
			[]string{`t.yaml:7: businesses[0].transfer_number: +12125550100 is answered by Frontdesk (businesses[0].numbers[0])`}},
		{"env unset", "twilio:\n  auth_token: ${TWILIO_AUTH_TOKEN}\n" + minimal,
			[]string{`t.yaml:2: twilio.auth_token: environment variable TWILIO_AUTH_TOKEN is not set`}},
		{"env bad reference", "server:\n  operator_key: ${1BAD}\n" + minimal,
			[]string{`t.yaml:2: server.operator_key: invalid environment variable reference ${1BAD}`}},
		{"env unterminated", "server:\n  operator_key: \"${KEY\"\n" + minimal, []string{`t.yaml:2: server.operator_key: unterminated "${KEY"`}},
		{"empty file", "", []string{`t.yaml: file is empty`}},
		{"only a comment", "# nothing\n", []string{`t.yaml: file is empty`}},
		{"syntax error", "server:\n  listen: [\n" + minimal, []string{`t.yaml:3: did not find expected`}},
		{"two documents", minimal + "---\nserver: {}\n", []string{`t.yaml:6: only one YAML document is allowed`}},
		{"top-level list", "- 1\n", []string{`t.yaml:1: want a mapping of keys to values, got a list`}},
		{"unknown anchor", "server: *nope\n", []string{`t.yaml: unknown anchor 'nope' referenced`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := parseErrors(t, tt.src, nil)
			if len(errs) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(tt.want), errs)
			}
			for i, want := range tt.want {
				if got := errs[i].Error(); !strings.HasPrefix(got, want) {
					t.Errorf("error %d:\n got  %s\n want %s…", i, got, want)
				}
			}
		})
	}
}

// TestAllErrorsReported checks that problems in different places are all
// reported in one go, in line order, with an error message listing them.
func TestAllErrorsReported(t *testing.T) {
	src := `server:
  listen: nope
  mode: prod
businesses:
  - id: acme
    name: Acme
    time_zone: Nowhere/City
    plan: gold
    numbers: ["+1555"]
    services:
      - name: Cut
        duration: soon
`
	errs := parseErrors(t, src, nil)
	want := []string{
		"t.yaml:2: server.listen:",
		"t.yaml:3: server.mode:",
		"t.yaml:7: businesses[0].time_zone:",
		"t.yaml:8: businesses[0].plan:",
		"t.yaml:9: businesses[0].numbers[0]:",
		"t.yaml:12: businesses[0].services[0].duration: invalid duration",
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(want), errs)
	}
	for i := range want {
		if !strings.HasPrefix(errs[i].Error(), want[i]) {
			t.Errorf("error %d: got %q, want prefix %q", i, errs[i], want[i])
		}
	}
	msg := errs.Error()
	if !strings.HasPrefix(msg, "t.yaml: 6 problems:\n") || strings.Count(msg, "\n") != 6 {
		t.Errorf("Error() =\n%s\nwant a header and one line per problem", msg)
	}
}

// TestTooManyErrors checks that a file full of mistakes yields a bounded
// list that says it stopped.
func TestTooManyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("server:\n")
	for i := range 300 {
		b.WriteString("  bad" + strings.Repeat("x", i) + ": 1\n")
	}
	errs := parseErrors(t, b.String()+minimal, nil)
	if len(errs) != maxErrors+1 {
		t.Fatalf("got %d errors, want %d", len(errs), maxErrors+1)
	}
	if got := errs[len(errs)-1].Msg; !strings.Contains(got, "too many problems") {
		t.Errorf("last error %q, want it to say there were too many", got)
	}
}

// TestAliasBomb checks that nested aliases cannot make Parse walk an
// enormous tree: 100 businesses × 100 FAQs × 100 questions, written in a
// few kilobytes.
func TestAliasBomb(t *testing.T) {
	list := func(ref string) string { return "[" + strings.TrimSuffix(strings.Repeat(ref+", ", 100), ", ") + "]" }
	// The anchors must live somewhere: at unknown top-level keys, each
	// reported once.
	src := "questions: &q " + list("q") + "\n"
	src += "faq: &f {questions: *q, answer: a}\n"
	src += "business: &b {id: a, name: A, time_zone: UTC, plan: starter, faqs: " + list("*f") + "}\n"
	src += "businesses: " + list("*b") + "\n"
	errs := parseErrors(t, src, nil)
	found := false
	for _, e := range errs {
		found = found || strings.Contains(e.Msg, "aliases expand to too many values")
	}
	if !found {
		t.Errorf("no error about alias expansion in:\n%v", errs)
	}
}
