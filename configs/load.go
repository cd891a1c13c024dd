package configs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Limits that keep a hostile or broken file from costing much.
const (
	maxFileSize = 16 << 20 // Load refuses larger files
	maxErrors   = 100
	// maxAliasNodes is how many values the walk may visit beyond those
	// written in the file: it follows YAML aliases, so a few lines of
	// nested aliases could otherwise describe billions of values.
	maxAliasNodes = 100_000
)

// Load reads the file at path, expands ${ENV} references from the process
// environment, decodes it strictly and validates it. See Parse.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("configs: load: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("configs: load %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("configs: load %s: file is larger than %d bytes", path, maxFileSize)
	}
	cfg, err := Parse(path, data, os.LookupEnv)
	if err != nil {
		return nil, fmt.Errorf("configs: load: %w", err)
	}
	return cfg, nil
}

// Parse decodes the YAML config in data, applies defaults, and validates
// it. name labels error messages (usually the file name). getenv resolves
// ${NAME} references in values (not keys); nil means no variable is set.
//
// Decoding is strict: unknown keys, duplicate keys, wrong kinds of value
// and values that do not parse are errors. Parse reports every problem it
// finds, each with its line and field path, as a ValidationErrors. It
// never panics.
func Parse(name string, data []byte, getenv func(string) (string, bool)) (*Config, error) {
	if getenv == nil {
		getenv = func(string) (string, bool) { return "", false }
	}
	d := &decoder{file: name, getenv: getenv, lines: map[string]int{}}
	cfg := &Config{
		Server: Server{
			Listen:          DefaultListen,
			PublicURL:       DefaultPublicURL,
			DataDir:         DefaultDataDir,
			ShutdownTimeout: DefaultShutdownTimeout,
			Mode:            ModeDev,
			MaxCalls:        DefaultMaxCalls,
			Limits: Limits{MaxConns: DefaultMaxConns, MaxConnsPerIP: DefaultMaxConnsPerIP, HeaderTimeout: DefaultHeaderTimeout,
				BodyTimeout: DefaultBodyTimeout, IdleTimeout: DefaultIdleTimeout, MaxBody: DefaultMaxBody},
		},
		Agent: Agent{Mode: AgentReceptionist, EchoDelay: DefaultEchoDelay, STT: ProviderSphinx, LLM: ProviderRules, TTS: ProviderFlite,
			OpenAI: OpenAI{BaseURL: DefaultOpenAIBaseURL, ChatModel: "gpt-4o-mini", TranscriptionModel: "whisper-1",
				SpeechModel: "gpt-4o-mini-tts", Voice: "alloy", Budget: 3 * time.Second}},
		Store: Store{Backend: StoreSQLite, RedisPrefix: DefaultRedisPrefix, Heartbeat: DefaultHeartbeat, NodeTimeout: DefaultNodeTimeout},
	}
	root, err := parseYAML(data)
	switch {
	case err != nil:
		line, msg := splitYAMLError(err)
		d.add(line, "", msg)
	case root == nil:
		d.add(0, "", "file is empty")
	default:
		d.budget = countNodes(root) + maxAliasNodes
		d.config(root, cfg)
		d.check(cfg)
	}
	if len(d.errs) > 0 {
		sort.SliceStable(d.errs, func(i, j int) bool { return d.errs[i].Line < d.errs[j].Line })
		return nil, d.errs
	}
	return cfg, nil
}

// parseYAML parses one YAML document into a node tree. It returns a nil
// node for an empty document.
func parseYAML(data []byte) (root *yaml.Node, err error) {
	// yaml.v3 has panicked on crafted input before (CVE-2022-28948); Parse
	// promises not to, whatever the parser does.
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, fmt.Errorf("yaml: cannot parse: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, err
	default:
		return nil, fmt.Errorf("yaml: line %d: only one YAML document is allowed", extra.Line)
	}
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil, nil
		}
		n := doc.Content[0]
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return nil, nil
		}
		return n, nil
	}
	return &doc, nil
}

// countNodes counts the nodes written in the file, not following aliases.
func countNodes(root *yaml.Node) int {
	count := 0
	stack := []*yaml.Node{root}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		count++
		stack = append(stack, n.Content...)
	}
	return count
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// splitYAMLError pulls the line number out of a yaml.v3 syntax error,
// which carries it only in the text, and returns the rest of the message.
func splitYAMLError(err error) (line int, msg string) {
	m := yamlLineRE.FindStringSubmatch(err.Error())
	if m == nil {
		return 0, strings.TrimPrefix(err.Error(), "yaml: ")
	}
	n, _ := strconv.Atoi(m[1])
	return n, m[2]
}

// decoder walks the YAML node tree into a Config by hand rather than with
// yaml.v3's reflection, so that every error can name its field path and
// line, and so that errors are collected instead of stopping at the first.
type decoder struct {
	file    string
	getenv  func(string) (string, bool)
	literal bool           // values are taken as written: no ${ENV} expansion
	lines   map[string]int // field path -> line, for the semantic checks
	errs    ValidationErrors
	nodes   int             // nodes visited so far
	budget  int             // nodes that may be visited: bounds alias expansion
	failed  map[string]bool // paths with decode errors, set by check
}

// add records a problem, up to maxErrors.
func (d *decoder) add(line int, path, msg string) {
	switch {
	case len(d.errs) < maxErrors:
		d.errs = append(d.errs, &FieldError{File: d.file, Line: line, Path: path, Msg: msg})
	case len(d.errs) == maxErrors:
		d.errs = append(d.errs, &FieldError{File: d.file, Line: line, Msg: "too many problems; stopping"})
	}
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	d.add(n.Line, path, fmt.Sprintf(format, args...))
}

// node follows aliases and counts visits. It returns nil once the visit
// budget is spent, after reporting it once.
func (d *decoder) node(n *yaml.Node, path string) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i > 100 {
			d.errorf(n, path, "alias chain too long")
			return nil
		}
		n = n.Alias
	}
	if n == nil {
		return nil
	}
	d.nodes++
	if d.nodes == d.budget {
		d.errorf(n, path, "aliases expand to too many values (more than %d beyond those written)", maxAliasNodes)
	}
	if d.nodes >= d.budget {
		return nil
	}
	if _, seen := d.lines[path]; !seen {
		d.lines[path] = n.Line
	}
	return n
}

// field decodes the value of one mapping key at path.
type field func(n *yaml.Node, path string)

// mapping decodes a mapping node, calling the field for each key and
// reporting unknown and duplicate keys. A null value (an empty "key:") is
// allowed and leaves everything at its default.
func (d *decoder) mapping(n *yaml.Node, path string, fields map[string]field) {
	if n = d.node(n, path); n == nil || isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a mapping of keys to values, got %s", kindName(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k = d.node(k, path); k == nil {
			return
		}
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, path, "keys must be plain names, got %s", kindName(k))
			continue
		}
		p := joinPath(path, k.Value)
		f, ok := fields[k.Value]
		switch {
		case k.Value == "<<":
			d.errorf(k, p, "merge keys (<<) are not supported; repeat the keys or alias the whole value")
		case !ok:
			d.errorf(k, p, "unknown field (want one of %s)", strings.Join(sortedKeys(fields), ", "))
		case seen[k.Value]:
			d.errorf(k, p, "duplicate key")
		default:
			seen[k.Value] = true
			d.lines[p] = k.Line
			f(v, p)
		}
	}
}

// sequence decodes a sequence node, calling each for every item. A null
// value is an empty sequence.
func (d *decoder) sequence(n *yaml.Node, path string, each func(i int, n *yaml.Node, path string)) {
	if n = d.node(n, path); n == nil || isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "want a list, got %s", kindName(n))
		return
	}
	for i, item := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		d.lines[p] = item.Line
		each(i, item, p)
	}
}

// scalar returns the expanded text of a scalar node; a null is "".
func (d *decoder) scalar(n *yaml.Node, path string) (string, bool) {
	if n = d.node(n, path); n == nil {
		return "", false
	}
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, path, "want a single value, got %s", kindName(n))
		return "", false
	}
	if isNull(n) {
		return "", true
	}
	if d.literal {
		return n.Value, true
	}
	s, err := expand(n.Value, d.getenv)
	if err != nil {
		d.errorf(n, path, "%v", err)
		return "", false
	}
	return s, true
}

func (d *decoder) str(dst *string) field {
	return func(n *yaml.Node, path string) {
		if s, ok := d.scalar(n, path); ok {
			*dst = s
		}
	}
}

func (d *decoder) strs(dst *[]string) field {
	return func(n *yaml.Node, path string) {
		*dst = nil
		d.sequence(n, path, func(_ int, n *yaml.Node, path string) {
			if s, ok := d.scalar(n, path); ok {
				*dst = append(*dst, s)
			}
		})
	}
}

func (d *decoder) duration(dst *time.Duration) field {
	return func(n *yaml.Node, path string) {
		s, ok := d.scalar(n, path)
		if !ok {
			return
		}
		v, err := ParseDuration(s)
		if err != nil {
			d.errorf(n, path, "%v", err)
			return
		}
		*dst = v
	}
}

func (d *decoder) int(dst *int) field {
	return func(n *yaml.Node, path string) {
		s, ok := d.scalar(n, path)
		if !ok {
			return
		}
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			d.errorf(n, path, "%q is not a whole number", s)
			return
		}
		*dst = v
	}
}

func (d *decoder) config(n *yaml.Node, c *Config) {
	d.mapping(n, "", map[string]field{
		"server": func(n *yaml.Node, p string) { d.server(n, p, &c.Server) },
		"twilio": func(n *yaml.Node, p string) {
			d.mapping(n, p, map[string]field{
				"account_sid": d.str(&c.Twilio.AccountSID),
				"auth_token":  d.str(&c.Twilio.AuthToken),
				"sms_from":    d.str(&c.Twilio.SMSFrom),
			})
		},
		"agent": func(n *yaml.Node, p string) {
			d.mapping(n, p, map[string]field{
				"mode":       d.str(&c.Agent.Mode),
				"echo_delay": d.duration(&c.Agent.EchoDelay),
				"stt":        d.str(&c.Agent.STT),
				"llm":        d.str(&c.Agent.LLM),
				"tts":        d.str(&c.Agent.TTS),
				"openai": func(n *yaml.Node, p string) {
					o := &c.Agent.OpenAI
					d.mapping(n, p, map[string]field{
						"base_url":            d.str(&o.BaseURL),
						"api_key":             d.str(&o.APIKey),
						"chat_model":          d.str(&o.ChatModel),
						"transcription_model": d.str(&o.TranscriptionModel),
						"speech_model":        d.str(&o.SpeechModel),
						"voice":               d.str(&o.Voice),
						"budget":              d.duration(&o.Budget),
					})
				},
			})
		},
		"store": func(n *yaml.Node, p string) {
			d.mapping(n, p, map[string]field{
				"backend":      d.str(&c.Store.Backend),
				"redis_url":    d.str(&c.Store.RedisURL),
				"redis_prefix": d.str(&c.Store.RedisPrefix),
				"heartbeat":    d.duration(&c.Store.Heartbeat),
				"node_timeout": d.duration(&c.Store.NodeTimeout),
			})
		},
		"plans": func(n *yaml.Node, p string) { d.plans(n, p, c) },
		"businesses": func(n *yaml.Node, p string) {
			d.sequence(n, p, func(_ int, n *yaml.Node, p string) {
				c.Businesses = append(c.Businesses, d.business(n, p))
			})
		},
	})
}

func (d *decoder) server(n *yaml.Node, path string, s *Server) {
	d.mapping(n, path, map[string]field{
		"listen":           d.str(&s.Listen),
		"public_url":       d.str(&s.PublicURL),
		"data_dir":         d.str(&s.DataDir),
		"shutdown_timeout": d.duration(&s.ShutdownTimeout),
		"operator_key":     d.str(&s.OperatorKey),
		"mode":             d.str(&s.Mode),
		"max_calls":        d.int(&s.MaxCalls),
		"node_id":          d.str(&s.NodeID),
		"limits": func(n *yaml.Node, p string) {
			l := &s.Limits
			d.mapping(n, p, map[string]field{
				"max_conns":        d.int(&l.MaxConns),
				"max_conns_per_ip": d.int(&l.MaxConnsPerIP),
				"header_timeout":   d.duration(&l.HeaderTimeout),
				"body_timeout":     d.duration(&l.BodyTimeout),
				"idle_timeout":     d.duration(&l.IdleTimeout),
				"max_body":         d.int(&l.MaxBody),
			})
		},
	})
}

// plans decodes the plans mapping; its keys are plan names, not fields.
func (d *decoder) plans(n *yaml.Node, path string, c *Config) {
	if n = d.node(n, path); n == nil || isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a mapping of plan names to plans, got %s", kindName(n))
		return
	}
	c.Plans = map[string]Plan{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k = d.node(k, path); k == nil {
			return
		}
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, path, "plan names must be plain names, got %s", kindName(k))
			continue
		}
		p := joinPath(path, k.Value)
		if _, dup := c.Plans[k.Value]; dup {
			d.errorf(k, p, "duplicate plan")
			continue
		}
		d.lines[p] = k.Line
		var plan Plan
		var hasRec, hasTr bool
		d.mapping(v, p, map[string]field{
			"recordings": func(n *yaml.Node, p string) {
				hasRec = true
				d.duration(&plan.Recordings)(n, p)
			},
			"transcripts": func(n *yaml.Node, p string) {
				hasTr = true
				d.duration(&plan.Transcripts)(n, p)
			},
		})
		// Both are required: an absent key silently meaning "keep
		// nothing" (or "keep forever") would surprise someone.
		if !hasRec {
			d.errorf(k, p+".recordings", "required (0 means do not record)")
		}
		if !hasTr {
			d.errorf(k, p+".transcripts", "required (0 means do not keep transcripts)")
		}
		c.Plans[k.Value] = plan
	}
}

func (d *decoder) business(n *yaml.Node, path string) Business {
	b := Business{Currency: DefaultCurrency, Disclosure: DefaultDisclosure, OptOutKey: "*"}
	d.mapping(n, path, map[string]field{
		"id":              d.str(&b.ID),
		"name":            d.str(&b.Name),
		"numbers":         d.strs(&b.Numbers),
		"time_zone":       d.str(&b.TimeZone),
		"hours":           func(n *yaml.Node, p string) { d.hours(n, p, &b.Hours) },
		"closures":        func(n *yaml.Node, p string) { d.closures(n, p, &b.Closures) },
		"greeting":        d.str(&b.Greeting),
		"faqs":            func(n *yaml.Node, p string) { d.faqs(n, p, &b.FAQs) },
		"services":        func(n *yaml.Node, p string) { d.services(n, p, &b.Services) },
		"currency":        d.str(&b.Currency),
		"plan":            d.str(&b.Plan),
		"transfer_number": d.str(&b.TransferNumber),
		"disclosure":      d.str(&b.Disclosure),
		"opt_out_key":     d.str(&b.OptOutKey),
	})
	return b
}

var weekdays = [7]string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

func (d *decoder) hours(n *yaml.Node, path string, h *WeeklyHours) {
	fields := map[string]field{}
	for wd, name := range weekdays {
		fields[name] = func(n *yaml.Node, p string) {
			d.sequence(n, p, func(_ int, n *yaml.Node, p string) {
				s, ok := d.scalar(n, p)
				if !ok {
					return
				}
				r, err := parseTimeRange(s)
				if err != nil {
					d.errorf(n, p, "%v", err)
					return
				}
				h[wd] = append(h[wd], r)
			})
		}
	}
	d.mapping(n, path, fields)
}

func (d *decoder) closures(n *yaml.Node, path string, dst *[]Closure) {
	d.sequence(n, path, func(_ int, n *yaml.Node, path string) {
		var date, from, to, reason string
		d.mapping(n, path, map[string]field{
			"date":   d.str(&date),
			"from":   d.str(&from),
			"to":     d.str(&to),
			"reason": d.str(&reason),
		})
		switch {
		case date != "" && (from != "" || to != ""):
			d.add(d.line(path), path, `give either "date" or "from" and "to", not both`)
		case date != "":
			if day, ok := d.date(path+".date", date); ok {
				*dst = append(*dst, Closure{From: day, To: day, Reason: reason})
			}
		case from != "" || to != "":
			f, ok1 := d.date(path+".from", from)
			t, ok2 := d.date(path+".to", to)
			if ok1 && ok2 {
				*dst = append(*dst, Closure{From: f, To: t, Reason: reason})
			}
		default:
			d.add(d.line(path), path, `want "date", or "from" and "to"`)
		}
	})
}

// date parses the date value found at path.
func (d *decoder) date(path, s string) (Date, bool) {
	if s == "" {
		d.add(d.line(path), path, "required")
		return Date{}, false
	}
	day, err := parseDate(s)
	if err != nil {
		d.add(d.line(path), path, err.Error())
		return Date{}, false
	}
	return day, true
}

func (d *decoder) faqs(n *yaml.Node, path string, dst *[]FAQ) {
	d.sequence(n, path, func(_ int, n *yaml.Node, path string) {
		var f FAQ
		d.mapping(n, path, map[string]field{
			"questions": d.strs(&f.Questions),
			"answer":    d.str(&f.Answer),
			"keywords":  d.strs(&f.Keywords),
		})
		*dst = append(*dst, f)
	})
}

func (d *decoder) services(n *yaml.Node, path string, dst *[]Service) {
	d.sequence(n, path, func(_ int, n *yaml.Node, path string) {
		var s Service
		d.mapping(n, path, map[string]field{
			"name":     d.str(&s.Name),
			"duration": d.duration(&s.Duration),
			"buffer":   d.duration(&s.Buffer),
			"price": func(n *yaml.Node, p string) {
				v, ok := d.scalar(n, p)
				if !ok {
					return
				}
				cents, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				if err != nil {
					d.errorf(n, p, "want whole cents as an integer (12000 for 120.00), got %q", v)
					return
				}
				s.Price = cents
			},
		})
		*dst = append(*dst, s)
	})
}

// line returns the line recorded for path or, failing that, for the
// nearest enclosing path.
func (d *decoder) line(path string) int {
	for p := range ancestors(path) {
		if l, ok := d.lines[p]; ok {
			return l
		}
	}
	return 0
}

// ancestors yields path, then each enclosing path, ending with "":
// "a.b[1]", "a.b", "a", "".
func ancestors(path string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for {
			if !yield(path) || path == "" {
				return
			}
			i := strings.LastIndexAny(path, ".[")
			if i < 0 {
				i = 0
			}
			path = path[:i]
		}
	}
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an unexpected YAML node"
}

// joinPath appends a key to a field path, quoting keys that are not plain
// names (plan names come from the user).
func joinPath(path, key string) string {
	if !plainKey(key) {
		return fmt.Sprintf("%s[%q]", path, key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func plainKey(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c == '-' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
