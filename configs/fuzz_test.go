package configs

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics and that what it returns is
// consistent: either a config that meets the invariants validation
// promises, or a non-empty ValidationErrors naming this file.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile("example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte(minimal))
	f.Add([]byte(""))
	f.Add([]byte("server: [1]\n"))
	f.Add([]byte("a: &a [*a]\nbusinesses: *a\n"))
	f.Add([]byte("twilio:\n  auth_token: ${X:-${Y}}\n" + minimal))
	f.Add([]byte(minimal + "    hours:\n      monday: [\"24:00-24:00\", \"00:00-24:00\"]\n    closures: [{from: 2026-02-30, to: 2026-01-01}]\n"))
	f.Add([]byte(minimal + "    numbers: [\"+1 212 555 0100\", \"tel:+44\", \"+\"]\n    services: [{name: x, duration: 9223372036854775807ns, price: 99999999999999999999}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yaml", data, mapEnv(map[string]string{"X": "x"}))
		if err != nil {
			var verrs ValidationErrors
			if !errors.As(err, &verrs) || len(verrs) == 0 {
				t.Fatalf("error %T %q is not a non-empty ValidationErrors", err, err)
			}
			for _, e := range verrs {
				if e.File != "fuzz.yaml" || e.Msg == "" {
					t.Fatalf("error %+v lacks the file name or a message", e)
				}
			}
			return
		}
		if len(cfg.Businesses) == 0 || cfg.Twilio.AuthToken == "" {
			t.Fatalf("accepted config without businesses or auth token: %+v", cfg)
		}
		for _, b := range cfg.Businesses {
			if _, ok := cfg.Plans[b.Plan]; !ok {
				t.Fatalf("business %q has unknown plan %q", b.ID, b.Plan)
			}
			for _, n := range b.Numbers {
				if got, ok := cfg.BusinessByNumber(n); !ok || got.ID != b.ID {
					t.Fatalf("BusinessByNumber(%q) = %v, %v; want %q", n, got, ok, b.ID)
				}
				if !strings.HasPrefix(n, "+") {
					t.Fatalf("number %q is not E.164", n)
				}
			}
			for wd, ranges := range b.Hours {
				for i, r := range ranges {
					if r.Start >= r.End || (i > 0 && r.Start < ranges[i-1].End) {
						t.Fatalf("hours[%d] = %v: not sorted, non-empty and disjoint", wd, ranges)
					}
				}
			}
		}
	})
}

// FuzzNumbers checks that number normalisation and lookup never panic on
// what a caller ID or a config file may hold, and that a normalised
// number normalises to itself.
func FuzzNumbers(f *testing.F) {
	for _, s := range []string{"+12125550100", "+1 (212) 555-0100", "tel:+44-20-7946-0958", "+", "+0", "020 7946 0958", "+999999999999999999999", "+1;ext=12"} {
		f.Add(s)
	}
	cfg := parseOK(f, minimal+"    numbers: [\"+12125550100\"]\n", nil)
	f.Fuzz(func(t *testing.T, s string) {
		cfg.BusinessByNumber(s)
		e164, err := normalizeNumber(s)
		if err != nil {
			return
		}
		if again, err := normalizeNumber(e164); err != nil || again != e164 {
			t.Fatalf("normalizeNumber(%q) = %q, then %q, %v", s, e164, again, err)
		}
	})
}

// FuzzDecodeBusiness checks that DecodeBusiness (the API's business
// documents) never panics, reports failures as ValidationErrors, and that
// what it accepts survives Doc and a second decode unchanged.
func FuzzDecodeBusiness(f *testing.F) {
	f.Add([]byte(`{"id":"acme","name":"Acme","time_zone":"UTC","plan":"starter"}`))
	f.Add([]byte(`{"id":"acme","name":"Acme","time_zone":"America/New_York","plan":"pro","numbers":["+1 212 555 0100"],` +
		`"hours":{"monday":["09:00-12:00","13:00-17:00"]},"closures":[{"date":"2026-12-25"},{"from":"2026-12-30","to":"2027-01-02","reason":"NY"}],` +
		`"faqs":[{"questions":["Open?"],"answer":"Yes.","keywords":["open"]}],"services":[{"name":"Cut","duration":"45m","buffer":"15m","price":6500}]}`))
	f.Add([]byte(`{"id":"acme","name":"${HOME}","time_zone":"UTC","plan":"starter","hours":{"monday":["24:00-24:00"]}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"id":{"a":1}}`))
	f.Add([]byte("{\"id\":\t\"acme\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := DecodeBusiness("api", data, DefaultPlans())
		if err != nil {
			var verrs ValidationErrors
			if !errors.As(err, &verrs) || len(verrs) == 0 {
				t.Fatalf("error %T %q is not a non-empty ValidationErrors", err, err)
			}
			return
		}
		js, err := json.Marshal(b.Doc())
		if err != nil {
			t.Fatal(err)
		}
		again, err := DecodeBusiness("api", js, DefaultPlans())
		if err != nil {
			t.Fatalf("Doc of an accepted business does not decode: %v\n%s", err, js)
		}
		b.loc, again.loc = nil, nil
		if !reflect.DeepEqual(b, again) {
			t.Fatalf("round trip changed the business:\n%+v\n%+v", b, again)
		}
	})
}
