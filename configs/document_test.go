package configs

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestDocRoundTrip checks that every business of the example survives
// Doc → JSON → DecodeBusiness unchanged.
func TestDocRoundTrip(t *testing.T) {
	data, err := os.ReadFile("example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse("example.yaml", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range cfg.Businesses {
		want := &cfg.Businesses[i]
		js, err := json.Marshal(want.Doc())
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeBusiness("api", js, cfg.Plans)
		if err != nil {
			t.Fatalf("%s: DecodeBusiness(Doc()): %v\n%s", want.ID, err, js)
		}
		got.loc, want.loc = nil, nil // loaded separately; same zone name
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: round trip changed the business:\n got  %+v\n want %+v", want.ID, got, want)
		}
	}
}

func TestDecodeBusinessDefaults(t *testing.T) {
	b, err := DecodeBusiness("api", []byte("{\n\t\"id\": \"acme\",\n\t\"name\": \"Acme\",\n\t\"time_zone\": \"Europe/Paris\",\n\t\"plan\": \"pro\",\n\t\"numbers\": [\"+33 1 23 45 67 89\"],\n\t\"services\": [{\"name\": \"Cut\", \"duration\": \"45m\"}]\n}"), DefaultPlans())
	if err != nil {
		t.Fatal(err)
	}
	if b.Greeting != "Thank you for calling Acme. How can I help you today?" || b.Currency != "USD" || b.Disclosure != DefaultDisclosure {
		t.Errorf("defaults not applied: %+v", b)
	}
	if b.Numbers[0] != "+33123456789" {
		t.Errorf("number = %q, want E.164", b.Numbers[0])
	}
	if b.Location().String() != "Europe/Paris" || b.Services[0].Duration != 45*time.Minute {
		t.Errorf("zone %v, duration %v", b.Location(), b.Services[0].Duration)
	}
}

func TestDecodeBusinessErrors(t *testing.T) {
	const base = `"id":"acme","name":"Acme","time_zone":"UTC","plan":"starter"`
	tests := []struct {
		name, doc string
		want      []string // "path: message" prefixes, sorted by path
	}{
		{"not JSON", `{"id":`, []string{`: not valid JSON`}},
		{"not an object", `[1]`, []string{`: want a JSON object with the business's fields, got a list`}},
		{"null", `null`, []string{`: want a JSON object`}},
		{"unknown field", `{` + base + `,"colour":"red"}`, []string{`colour: unknown field (want one of closures, currency,`}},
		{"duplicate field", `{` + base + `,"name":"B"}`, []string{`name: duplicate key`}},
		{"wrong kind", `{` + base + `,"numbers":"+12125550100"}`, []string{`numbers: want a list, got "+12125550100"`}},
		{"missing required", `{"name":"Acme"}`, []string{`id: required`, `plan: required (one of pro, starter)`, `time_zone: required`}},
		{"nested paths", `{` + base + `,"hours":{"monday":["09:00-12:00","11:00-13:00"]},"services":[{"name":"Cut","duration":"90s"}]}`,
			[]string{`hours.monday[1]: 11:00-13:00 overlaps 09:00-12:00`, `services[0].duration: required, a whole number of minutes`}},
		{"number twice", `{` + base + `,"numbers":["+12125550100","+1 212 555 0100"]}`, []string{`numbers[1]: +12125550100 is already used by numbers[0]`}},
		{"transfer to own number", `{` + base + `,"numbers":["+12125550100"],"transfer_number":"+12125550100"}`,
			[]string{`transfer_number: +12125550100 is answered by Frontdesk (numbers[0])`}},
		{"bad phone", `{` + base + `,"numbers":["555-0100"]}`, []string{`numbers[0]: "555-0100" is not a valid E.164 number: start with + and the country code`}},
		{"price as string", `{` + base + `,"services":[{"name":"Cut","duration":"30m","price":"$12"}]}`,
			[]string{`services[0].price: want whole cents as an integer`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeBusiness("api", []byte(tt.doc), DefaultPlans())
			var verrs ValidationErrors
			if !errors.As(err, &verrs) {
				t.Fatalf("err = %v, want ValidationErrors", err)
			}
			if len(verrs) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(verrs), len(tt.want), verrs)
			}
			for i, want := range tt.want {
				if got := verrs[i].Path + ": " + verrs[i].Msg; !strings.HasPrefix(got, want) {
					t.Errorf("error %d:\n got  %s\n want %s…", i, got, want)
				}
			}
		})
	}
}

// TestDecodeBusinessLiteral checks that API documents cannot read the
// server's environment.
func TestDecodeBusinessLiteral(t *testing.T) {
	t.Setenv("FRONTDESK_TEST_SECRET", "s3cret")
	b, err := DecodeBusiness("api", []byte(`{"id":"acme","name":"${FRONTDESK_TEST_SECRET}","time_zone":"UTC","plan":"starter"}`), DefaultPlans())
	if err != nil {
		t.Fatal(err)
	}
	if b.Name != "${FRONTDESK_TEST_SECRET}" {
		t.Errorf("name = %q, want the text as written", b.Name)
	}
}

func TestFormatDuration(t *testing.T) {
	for _, d := range []time.Duration{0, 30 * time.Minute, 90 * time.Minute, 24 * time.Hour, 180 * 24 * time.Hour, 90 * time.Second} {
		s := FormatDuration(d)
		back, err := ParseDuration(s)
		if err != nil || back != d {
			t.Errorf("FormatDuration(%v) = %q, parses back to %v, %v", d, s, back, err)
		}
	}
	if got := FormatDuration(90 * time.Minute); got != "90m" {
		t.Errorf("FormatDuration(90m) = %q", got)
	}
}

func TestStoreDefaultsAndRedaction(t *testing.T) {
	cfg := parseOK(t, minimal, nil)
	if cfg.Store.Backend != StoreSQLite || cfg.Store.RedisPrefix != DefaultRedisPrefix {
		t.Errorf("store defaults = %+v", cfg.Store)
	}
	cfg = parseOK(t, "store:\n  backend: redis\n  redis_url: ${REDIS_URL}\n"+minimal, map[string]string{"REDIS_URL": "redis://fd:SECRETPW@10.0.0.5:6379/2"})
	if cfg.Store.RedisURL != "redis://fd:SECRETPW@10.0.0.5:6379/2" {
		t.Errorf("redis_url = %q", cfg.Store.RedisURL)
	}
	for name, out := range map[string]string{
		"%v":       fmt.Sprintf("%v", cfg),
		"%#v":      fmt.Sprintf("%#v", cfg.Store),
		"Redacted": cfg.Redacted().Store.RedisURL,
	} {
		if strings.Contains(out, "SECRETPW") || !strings.Contains(out, "fd:[redacted]@10.0.0.5:6379/2") {
			t.Errorf("%s: %s", name, out)
		}
	}
}
