package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/frontdesk/frontdesk/configs"
	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
)

// Where a part of a business's configuration comes from (GET /v1/business
// "sources").
const (
	sourceConfig  = "config"  // the YAML file
	sourceAPI     = "api"     // written through the API, kept in the store
	sourceDefault = "default" // neither: the default applies
)

// How often the index of businesses is rebuilt from the store at most, on
// a lookup that misses, and at least, on any lookup: businesses created or
// changed on another node reach this one's voice webhook within
// indexMaxAge.
const (
	indexMinAge = time.Second
	indexMaxAge = 10 * time.Second
)

// registry is the businesses the server answers for: those of the config
// file (replaced on reload) and those created through the API (kept in
// the store), side by side. A config business may have an API part too:
// fields written through the API override the file's, field by field.
// Safe for concurrent use.
type registry struct {
	// immutable
	st  store.Store // nil: config businesses only
	log *slog.Logger
	now func() time.Time

	cfg atomic.Pointer[configs.Config] // the file as last loaded
	idx atomic.Pointer[bizIndex]       // every effective business, by ID and number

	mu    sync.Mutex // serialises rebuilds
	tried time.Time  // guarded by mu: when the last rebuild started
}

// bizIndex is a snapshot of the effective businesses. Immutable.
type bizIndex struct {
	cfg      *configs.Config
	byID     map[string]*bizEntry
	byNumber map[string]*bizEntry // E.164
	built    time.Time
}

// bizEntry is one business as it is effective at one moment. Immutable:
// a live call keeps the entry (its *configs.Business) it started with.
type bizEntry struct {
	biz      *configs.Business
	cal      *scheduling.Calendar
	region   string // ISO region of the first number: national phone numbers are read in it
	inConfig bool
	rec      store.BusinessRecord // Version 0 when there is no API part
	doc      recordDoc            // the API part
	sources  map[string]string    // business key -> source*
}

// recordDoc is the JSON kept in a store.BusinessRecord's Data.
type recordDoc struct {
	// Business holds the top-level keys of the business document written
	// through the API (configs.BusinessKeys), as JSON.
	Business map[string]json.RawMessage `json:"business"`
	// FeedTokenSHA256 is the hex SHA-256 of the calendar feed token; the
	// token itself is shown once, when it is made.
	FeedTokenSHA256 string `json:"feed_token_sha256,omitempty"`
}

func newRegistry(cfg *configs.Config, st store.Store, log *slog.Logger, now func() time.Time) *registry {
	g := &registry{st: st, log: log, now: now}
	g.cfg.Store(cfg)
	// Start from the file alone; the first lookup (or Reload) reads the
	// store, so that New stays free of I/O.
	g.idx.Store(g.buildFrom(cfg, nil))
	return g
}

func (g *registry) config() *configs.Config { return g.cfg.Load() }

// setConfig installs a newly loaded file and rebuilds the index.
func (g *registry) setConfig(ctx context.Context, cfg *configs.Config) error {
	g.cfg.Store(cfg)
	return g.rebuild(ctx, true)
}

// index returns the current index, rebuilding it first when it is older
// than indexMaxAge or was built from an older config.
func (g *registry) index(ctx context.Context) *bizIndex {
	idx := g.idx.Load()
	if g.st != nil && (g.now().Sub(idx.built) > indexMaxAge || idx.cfg != g.cfg.Load()) {
		if err := g.rebuild(ctx, false); err != nil {
			g.log.Warn("business index: rebuild failed; using the previous one", "err", err)
		}
		idx = g.idx.Load()
	}
	return idx
}

// rebuild reads every API business from the store and replaces the
// index. Unless force, it does nothing when a rebuild started less than
// indexMinAge ago.
func (g *registry) rebuild(ctx context.Context, force bool) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !force && g.now().Sub(g.tried) < indexMinAge {
		return nil
	}
	g.tried = g.now()
	cfg := g.cfg.Load()
	var recs []store.BusinessRecord
	if g.st != nil {
		p := store.Page{Limit: store.MaxLimit}
		for {
			items, next, err := g.st.Businesses().List(ctx, p)
			if err != nil {
				return fmt.Errorf("list businesses: %w", err)
			}
			recs = append(recs, items...)
			if next == "" {
				break
			}
			p.Cursor = next
		}
	}
	g.idx.Store(g.buildFrom(cfg, recs))
	return nil
}

// buildFrom makes the index of cfg's businesses and the stored ones.
// Problems (a stored document that no longer validates, a number claimed
// twice) are logged and the offending part left out: the file's
// businesses always answer.
func (g *registry) buildFrom(cfg *configs.Config, recs []store.BusinessRecord) *bizIndex {
	idx := &bizIndex{cfg: cfg, byID: map[string]*bizEntry{}, byNumber: map[string]*bizEntry{}, built: g.now()}
	byID := map[string]*store.BusinessRecord{}
	for i := range recs {
		byID[recs[i].ID] = &recs[i]
	}
	var order []*bizEntry
	for i := range cfg.Businesses {
		id := cfg.Businesses[i].ID
		e, err := effective(cfg, id, byID[id])
		if err != nil {
			g.log.Error("business: the API part no longer validates over the file; using the file alone", "business", id, "err", err)
			e, _ = effective(cfg, id, nil)
		}
		if e != nil {
			idx.byID[id] = e
			order = append(order, e)
		}
	}
	for _, rec := range recs {
		if _, done := idx.byID[rec.ID]; done {
			continue
		}
		e, err := effective(cfg, rec.ID, &rec)
		if err != nil {
			g.log.Error("business: stored document does not validate; the business does not answer", "business", rec.ID, "err", err)
			continue
		}
		idx.byID[rec.ID] = e
		order = append(order, e)
	}
	for _, e := range order {
		for _, n := range e.biz.Numbers {
			if other, taken := idx.byNumber[n]; taken {
				g.log.Error("business: number already answered by another business; ignored", "business", e.biz.ID, "number", redactNumber(n), "owner", other.biz.ID)
				continue
			}
			idx.byNumber[n] = e
		}
	}
	return idx
}

// get returns the business id as it is effective now, reading its API
// part from the store. A business that exists nowhere is ErrNotFound.
func (g *registry) get(ctx context.Context, id string) (*bizEntry, error) {
	idx := g.idx.Load()
	cfg := g.cfg.Load()
	if g.st == nil || !store.ValidID(id) {
		if e := idx.byID[id]; e != nil && idx.cfg == cfg {
			return e, nil
		}
		return nil, store.NotFound("business", id)
	}
	rec, err := g.st.Businesses().Get(ctx, id)
	switch {
	case errors.Is(err, scheduling.ErrNotFound):
		if _, ok := cfg.Business(id); !ok {
			return nil, store.NotFound("business", id)
		}
		if e := idx.byID[id]; e != nil && idx.cfg == cfg && e.rec.Version == 0 {
			return e, nil
		}
		return effective(cfg, id, nil)
	case err != nil:
		return nil, fmt.Errorf("get business %s: %w", id, err)
	}
	if e := idx.byID[id]; e != nil && idx.cfg == cfg && e.rec.Version == rec.Version && e.rec.UpdatedAt.Equal(rec.UpdatedAt) {
		return e, nil
	}
	e, err := effective(cfg, id, &rec)
	if err != nil {
		return nil, fmt.Errorf("business %s: stored document: %w", id, err)
	}
	return e, nil
}

// byNumber returns the business that answers number (E.164 as Twilio
// sends it, or any format configs.Config.BusinessByNumber reads).
func (g *registry) byNumber(ctx context.Context, number string) (*bizEntry, bool) {
	e164 := number
	if n, err := phonenumbers.Parse(strings.TrimSpace(number), "ZZ"); err == nil {
		e164 = phonenumbers.Format(n, phonenumbers.E164)
	} else if b, ok := g.cfg.Load().BusinessByNumber(number); ok {
		e164 = b.Numbers[0] // a national format of a file business's number
		for _, own := range b.Numbers {
			if sameNumber(number, own) {
				e164 = own
			}
		}
	}
	if e := g.index(ctx).byNumber[e164]; e != nil {
		return e, true
	}
	// Perhaps created on another node since the last rebuild.
	if g.st != nil {
		if err := g.rebuild(ctx, false); err != nil {
			g.log.Warn("business index: rebuild failed", "err", err)
		}
		if e := g.idx.Load().byNumber[e164]; e != nil {
			return e, true
		}
	}
	return nil, false
}

// sameNumber reports whether number, read in own's country, is own.
func sameNumber(number, own string) bool {
	on, err := phonenumbers.Parse(own, "ZZ")
	if err != nil {
		return false
	}
	n, err := phonenumbers.Parse(number, phonenumbers.GetRegionCodeForNumber(on))
	return err == nil && phonenumbers.Format(n, phonenumbers.E164) == own
}

// byID returns the business id from the index (for the media stream,
// which the voice webhook has just looked up).
func (g *registry) byID(ctx context.Context, id string) (*bizEntry, bool) {
	if e := g.index(ctx).byID[id]; e != nil {
		return e, true
	}
	e, err := g.get(ctx, id)
	return e, err == nil
}

// effective computes business id from the file's entry (if any) and the
// stored API part (if any): each top-level key of the API part replaces
// the file's, and the result is validated exactly as the file is.
func effective(cfg *configs.Config, id string, rec *store.BusinessRecord) (*bizEntry, error) {
	e := &bizEntry{sources: map[string]string{}}
	base, inConfig := cfg.Business(id)
	e.inConfig = inConfig
	if rec != nil {
		e.rec = *rec
		if err := json.Unmarshal(rec.Data, &e.doc); err != nil {
			return nil, fmt.Errorf("decode stored business %s: %w", id, err)
		}
	}
	for _, k := range configs.BusinessKeys {
		switch _, api := e.doc.Business[k]; {
		case api:
			e.sources[k] = sourceAPI
		case inConfig:
			e.sources[k] = sourceConfig
		default:
			e.sources[k] = sourceDefault
		}
	}
	if inConfig && len(e.doc.Business) == 0 {
		e.biz = base // the very value the file produced
	} else {
		merged := map[string]json.RawMessage{}
		if inConfig {
			js, err := json.Marshal(base.Doc())
			if err != nil {
				return nil, err
			}
			if err := json.Unmarshal(js, &merged); err != nil {
				return nil, err
			}
		}
		for k, v := range e.doc.Business {
			merged[k] = v
		}
		if !inConfig {
			if _, ok := merged["id"]; !ok {
				merged["id"], _ = json.Marshal(id)
			}
		}
		data, err := json.Marshal(merged)
		if err != nil {
			return nil, err
		}
		b, err := configs.DecodeBusiness("business", data, cfg.Plans)
		if err != nil {
			return nil, err
		}
		if b.ID != id {
			return nil, configs.ValidationErrors{{File: "business", Path: "id", Msg: fmt.Sprintf("%q cannot change; this business is %q", b.ID, id)}}
		}
		e.biz = b
	}
	cal, err := calendarOf(e.biz)
	if err != nil {
		return nil, err
	}
	e.cal = cal
	if len(e.biz.Numbers) > 0 {
		if n, err := phonenumbers.Parse(e.biz.Numbers[0], "ZZ"); err == nil {
			e.region = phonenumbers.GetRegionCodeForNumber(n)
		}
	}
	return e, nil
}

// calendarOf converts a validated business into the calendar that
// availability and booking use. Service IDs come from serviceID.
func calendarOf(b *configs.Business) (*scheduling.Calendar, error) {
	cal := &scheduling.Calendar{Location: b.Location()}
	for wd, ranges := range b.Hours {
		for _, r := range ranges {
			cal.Hours[wd] = append(cal.Hours[wd], scheduling.TimeRange{Start: scheduling.TimeOfDay(r.Start), End: scheduling.TimeOfDay(r.End)})
		}
	}
	for _, c := range b.Closures {
		cal.Closures = append(cal.Closures, scheduling.Closure{Start: scheduling.Date(c.From), End: scheduling.Date(c.To), Reason: c.Reason})
	}
	for _, s := range b.Services {
		cal.Services = append(cal.Services, scheduling.Service{
			ID: serviceID(s.Name), Name: s.Name, Duration: s.Duration, Buffer: s.Buffer, Price: s.Price, Currency: b.Currency,
		})
	}
	if err := cal.Validate(); err != nil {
		return nil, fmt.Errorf("calendar of %s: %w", b.ID, err)
	}
	return cal, nil
}

// serviceID is the scheduling service ID of a configured service name:
// lower-case ASCII letters and digits, other runs folded to one "-"
// ("Exam and X-rays" is "exam-and-x-rays"). The agent's booking tools use
// the same rule, so appointments booked on a call and through the API
// name services alike.
func serviceID(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	return b.String()
}

// numberOwners reports which of b's numbers (and its transfer number) are
// answered by another business, as field problems.
func (idx *bizIndex) numberProblems(b *configs.Business) []fieldProblem {
	var out []fieldProblem
	for i, n := range b.Numbers {
		if owner := idx.byNumber[n]; owner != nil && owner.biz.ID != b.ID {
			out = append(out, fieldProblem{Path: fmt.Sprintf("numbers[%d]", i), Message: n + " is already answered by another business"})
		}
	}
	if t := b.TransferNumber; t != "" && idx.byNumber[t] != nil && !slices.Contains(b.Numbers, t) {
		out = append(out, fieldProblem{Path: "transfer_number", Message: t + " is answered by Frontdesk; transfer to a human's number"})
	}
	return out
}

// businessByNumber returns the business that answers calls to number:
// a business of the config file or one created through the API.
func (s *Server) businessByNumber(ctx context.Context, number string) (*configs.Business, bool) {
	e, ok := s.api.reg.byNumber(ctx, number)
	if !ok {
		return nil, false
	}
	return e.biz, true
}

// businessByID returns business id as it is effective now.
func (s *Server) businessByID(ctx context.Context, id string) (*configs.Business, bool) {
	e, ok := s.api.reg.byID(ctx, id)
	if !ok {
		return nil, false
	}
	return e.biz, true
}
