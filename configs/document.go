package configs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"gopkg.in/yaml.v3"
)

// BusinessKeys are the keys of one business, as written in the file's
// businesses list and in the API's JSON documents, in file order.
var BusinessKeys = []string{
	"id", "name", "numbers", "time_zone", "hours", "closures", "greeting",
	"faqs", "services", "currency", "plan", "transfer_number", "disclosure", "opt_out_key",
}

// BusinessDoc is a business in the file's shape, for JSON: durations as
// "30m", hours as {"monday": ["09:00-17:00"]}, closures with "date" or
// "from" and "to". DecodeBusiness reads it back. Safe for concurrent reads.
type BusinessDoc struct {
	ID             string              `json:"id"`
	Name           string              `json:"name"`
	Numbers        []string            `json:"numbers"`
	TimeZone       string              `json:"time_zone"`
	Hours          map[string][]string `json:"hours"`
	Closures       []ClosureDoc        `json:"closures"`
	Greeting       string              `json:"greeting"`
	FAQs           []FAQDoc            `json:"faqs"`
	Services       []ServiceDoc        `json:"services"`
	Currency       string              `json:"currency"`
	Plan           string              `json:"plan"`
	TransferNumber string              `json:"transfer_number"`
	Disclosure     string              `json:"disclosure"`
	OptOutKey      string              `json:"opt_out_key"`
}

// ClosureDoc is a Closure in the file's shape.
type ClosureDoc struct {
	Date   string `json:"date,omitempty"`
	From   string `json:"from,omitempty"`
	To     string `json:"to,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// FAQDoc is an FAQ in the file's shape.
type FAQDoc struct {
	Questions []string `json:"questions"`
	Answer    string   `json:"answer"`
	Keywords  []string `json:"keywords,omitempty"`
}

// ServiceDoc is a Service in the file's shape.
type ServiceDoc struct {
	Name     string `json:"name"`
	Duration string `json:"duration"`
	Buffer   string `json:"buffer,omitempty"`
	Price    int64  `json:"price"`
}

// Doc returns b in the file's shape. Empty lists are [] and closed days
// are left out of Hours.
func (b *Business) Doc() BusinessDoc {
	d := BusinessDoc{
		ID: b.ID, Name: b.Name, Numbers: append([]string{}, b.Numbers...), TimeZone: b.TimeZone,
		Hours: map[string][]string{}, Closures: []ClosureDoc{}, Greeting: b.Greeting,
		FAQs: []FAQDoc{}, Services: []ServiceDoc{}, Currency: b.Currency, Plan: b.Plan,
		TransferNumber: b.TransferNumber, Disclosure: b.Disclosure, OptOutKey: b.OptOutKey,
	}
	for wd, ranges := range b.Hours {
		for _, r := range ranges {
			d.Hours[weekdays[wd]] = append(d.Hours[weekdays[wd]], r.String())
		}
	}
	for _, c := range b.Closures {
		cd := ClosureDoc{Reason: c.Reason}
		if c.From == c.To {
			cd.Date = c.From.String()
		} else {
			cd.From, cd.To = c.From.String(), c.To.String()
		}
		d.Closures = append(d.Closures, cd)
	}
	for _, f := range b.FAQs {
		d.FAQs = append(d.FAQs, FAQDoc{Questions: append([]string{}, f.Questions...), Answer: f.Answer, Keywords: f.Keywords})
	}
	for _, s := range b.Services {
		sd := ServiceDoc{Name: s.Name, Duration: FormatDuration(s.Duration), Price: s.Price}
		if s.Buffer != 0 {
			sd.Buffer = FormatDuration(s.Buffer)
		}
		d.Services = append(d.Services, sd)
	}
	return d
}

// FormatDuration writes d the way the file does: "90m" for whole minutes,
// "180d" for whole days, else Go's form ("1m30s"). ParseDuration reads
// each back.
func FormatDuration(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d == 0:
		return "0"
	case d%day == 0:
		return fmt.Sprintf("%dd", d/day)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// DecodeBusiness decodes one business written in JSON (an object with the
// keys of one entry of the file's businesses list, see BusinessKeys) and
// validates it as Parse validates a business of the file: strictly, with
// the same defaults and completions (E.164 numbers, default greeting,
// sorted hours, loaded time zone), against the given plans. Values are
// taken literally: ${ENV} references are not expanded, so that whoever
// writes the document cannot read the server's environment.
//
// Errors are a ValidationErrors whose paths are relative to the business
// ("hours.monday[1]", "services[0].duration"); name labels them. Checks
// across businesses (unique IDs and numbers) are the caller's. It never
// panics.
func DecodeBusiness(name string, data []byte, plans map[string]Plan) (*Business, error) {
	d := &decoder{file: name, literal: true, lines: map[string]int{}}
	// JSON is YAML, except that YAML refuses tabs where JSON allows them:
	// compacting removes all insignificant white space first.
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		d.add(0, "", fmt.Sprintf("not valid JSON: %v", err))
		return nil, d.errs
	}
	var b Business
	root, err := parseYAML(compact.Bytes())
	switch {
	case err != nil:
		_, msg := splitYAMLError(err)
		d.add(0, "", msg)
	case root == nil:
		d.add(0, "", "want a JSON object with the business's fields, got nothing")
	case root.Kind != yaml.MappingNode:
		d.add(0, "", fmt.Sprintf("want a JSON object with the business's fields, got %s", kindName(root)))
	default:
		d.budget = countNodes(root) + maxAliasNodes
		b = d.business(root, "")
		d.failed = map[string]bool{}
		for _, e := range d.errs {
			d.failed[e.Path] = true
		}
		d.checkBusiness("", &b, plans)
		d.checkUnique([]Business{b}, []string{""})
	}
	if len(d.errs) > 0 {
		sort.SliceStable(d.errs, func(i, j int) bool { return d.errs[i].Path < d.errs[j].Path })
		return nil, d.errs
	}
	return &b, nil
}
