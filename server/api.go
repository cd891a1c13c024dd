package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
)

// apiState is what the /v1 API adds to a Server. Options fill it before
// apiRoutes completes it; immutable afterwards (the registry and the
// SMS sender synchronise themselves).
type apiState struct {
	store      store.Store   // nil: the API answers 503
	reg        *registry     // businesses from the config file and the store
	sms        *smsSender    // nil when Twilio SMS is not configured
	twilioBase string        // Twilio REST base URL override (tests); "" is Twilio's
	smsBackoff time.Duration // first retry delay of an SMS; default 500ms
}

// WithStore gives the server its store: appointments, leads, API keys and
// businesses created through the API. Without one the /v1 API answers 503
// and only the config file's businesses answer calls. The caller closes
// the store after the server has stopped.
func WithStore(st store.Store) Option { return func(s *Server) { s.api.store = st } }

// access says who may call a route.
type access int

const (
	accessPublic   access = iota // no key (the OpenAPI document)
	accessFeed                   // a calendar feed token in the query
	accessOperator               // the operator key
	accessBusiness               // a business's API key with at least the route's role
)

func (a access) String() string {
	return [...]string{"public", "feed token", "operator key", "business key"}[a]
}

// apiHandler serves one /v1 route for an authenticated caller.
type apiHandler func(w http.ResponseWriter, r *http.Request, c *caller) error

// apiRoute is one row of the route table: the only list of /v1 routes.
// apiRoutes registers it, the OpenAPI test compares it with openapi.yaml
// and the auth test walks it.
type apiRoute struct {
	method  string
	pattern string // http.ServeMux path pattern
	access  access
	role    store.Role // least role, for accessBusiness
	h       func(*Server, http.ResponseWriter, *http.Request, *caller) error
}

// routeTable lists the /v1 API. Role is the least role allowed: readonly
// reads, supervisor works with appointments and leads, owner changes the
// business, its keys and its calendar feed.
func routeTable() []apiRoute {
	ro, sup, own := store.RoleReadonly, store.RoleSupervisor, store.RoleOwner
	routes := []apiRoute{
		{"GET", "/v1/openapi.yaml", accessPublic, "", (*Server).apiOpenAPI},
		{"GET", "/v1/calendar.ics", accessFeed, "", (*Server).apiCalendarFeed},

		{"GET", "/v1/businesses", accessOperator, "", (*Server).apiListBusinesses},
		{"POST", "/v1/businesses", accessOperator, "", (*Server).apiCreateBusiness},
		{"GET", "/v1/businesses/{id}", accessOperator, "", (*Server).apiGetBusinessByID},
		{"DELETE", "/v1/businesses/{id}", accessOperator, "", (*Server).apiDeleteBusiness},
		{"POST", "/v1/businesses/{id}/keys", accessOperator, "", (*Server).apiCreateKeyFor},

		{"GET", "/v1/business", accessBusiness, ro, (*Server).apiGetBusiness},
		{"PUT", "/v1/business", accessBusiness, own, (*Server).apiPutBusiness},
		{"PATCH", "/v1/business", accessBusiness, own, (*Server).apiPatchBusiness},
		{"GET", "/v1/keys", accessBusiness, own, (*Server).apiListKeys},
		{"POST", "/v1/keys", accessBusiness, own, (*Server).apiCreateKey},
		{"DELETE", "/v1/keys/{id}", accessBusiness, own, (*Server).apiRevokeKey},
		{"POST", "/v1/calendar/token", accessBusiness, own, (*Server).apiRotateFeedToken},

		{"GET", "/v1/availability", accessBusiness, ro, (*Server).apiAvailability},
		{"GET", "/v1/appointments", accessBusiness, ro, (*Server).apiListAppointments},
		{"POST", "/v1/appointments", accessBusiness, sup, (*Server).apiBook},
		{"GET", "/v1/appointments/{id}", accessBusiness, ro, (*Server).apiGetAppointment},
		{"PATCH", "/v1/appointments/{id}", accessBusiness, sup, (*Server).apiReschedule},
		{"POST", "/v1/appointments/{id}/reschedule", accessBusiness, sup, (*Server).apiReschedule},
		{"DELETE", "/v1/appointments/{id}", accessBusiness, sup, (*Server).apiCancel},
		{"POST", "/v1/appointments/{id}/cancel", accessBusiness, sup, (*Server).apiCancel},

		{"GET", "/v1/leads", accessBusiness, ro, (*Server).apiListLeads},
		{"POST", "/v1/leads", accessBusiness, sup, (*Server).apiUpsertLead},
		{"GET", "/v1/leads.csv", accessBusiness, ro, (*Server).apiLeadsCSV},
		{"GET", "/v1/leads/{id}", accessBusiness, ro, (*Server).apiGetLead},
		{"PATCH", "/v1/leads/{id}", accessBusiness, sup, (*Server).apiUpdateLead},
		{"DELETE", "/v1/leads/{id}", accessBusiness, sup, (*Server).apiDeleteLead},
		{"GET", "/v1/leads/{id}/export", accessBusiness, ro, (*Server).apiExportLead},
	}
	return append(append(routes, callRoutes()...), liveRoutes()...)
}

// apiRoutes completes the API state from the options and registers the
// route table on mux, plus a JSON 404/405 for other /v1 paths.
func (s *Server) apiRoutes(mux *http.ServeMux) {
	s.api.reg = newRegistry(s.cfg, s.api.store, s.log, s.now)
	s.api.sms = newSMSSender(s.cfg.Twilio, s.api.twilioBase, s.api.smsBackoff)
	paths := http.NewServeMux() // path patterns only, to tell 405 from 404
	allow := map[string][]string{}
	for _, rt := range routeTable() {
		h := rt.h
		mux.Handle(rt.method+" "+rt.pattern, s.handle(s.authenticate(rt, func(w http.ResponseWriter, r *http.Request, c *caller) error {
			return h(s, w, r, c)
		})))
		if allow[rt.pattern] == nil {
			paths.Handle(rt.pattern, http.NotFoundHandler())
		}
		allow[rt.pattern] = append(allow[rt.pattern], rt.method)
	}
	mux.Handle("/v1/", s.handle(func(w http.ResponseWriter, r *http.Request) error {
		if _, pattern := paths.Handler(r); pattern != "" {
			methods := allow[pattern]
			sort.Strings(methods)
			w.Header().Set("Allow", strings.Join(methods, ", "))
			return errorf(http.StatusMethodNotAllowed, "method_not_allowed",
				fmt.Sprintf("%s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, strings.Join(methods, ", ")), nil)
		}
		return errorf(http.StatusNotFound, "not_found", fmt.Sprintf("no API endpoint %s; see /v1/openapi.yaml", r.URL.Path), nil)
	}))
}

// maxJSONBody bounds request bodies; a business with many FAQs fits.
const maxJSONBody = 1 << 20

// decodeJSON reads one JSON value from r's body into dst, strictly:
// unknown fields, trailing data, a wrong Content-Type and bodies over
// maxJSONBody are errors with messages naming what is wrong.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if err := checkContentType(r); err != nil {
		return err
	}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	return unmarshalStrict(body, dst)
}

// checkContentType accepts JSON bodies: application/json, any
// application/*+json (merge-patch), and application/x-www-form-urlencoded,
// which is what curl -d sends unless told otherwise (the body must still
// be JSON). No Content-Type is fine too.
func checkContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || mt == "application/x-www-form-urlencoded" ||
		strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
		return nil
	}
	return errorf(http.StatusUnsupportedMediaType, "unsupported_media_type",
		fmt.Sprintf("the body must be JSON (Content-Type: application/json), not %q", ct), nil)
}

// readBody reads the whole request body, up to maxJSONBody.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, errorf(http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the body is larger than %d bytes", maxJSONBody), err)
	case err != nil:
		return nil, errorf(http.StatusBadRequest, "bad_request", "could not read the request body", err)
	case len(strings.TrimSpace(string(body))) == 0:
		return nil, errorf(http.StatusBadRequest, "invalid_json", "the body is empty; send a JSON object", nil)
	}
	return body, nil
}

// unmarshalStrict decodes body into dst, refusing unknown fields and
// anything after the value.
func unmarshalStrict(body []byte, dst any) error {
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(body, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errorf(http.StatusBadRequest, "invalid_json", "unexpected data after the JSON object", nil)
	}
	return nil
}

// jsonError turns an encoding/json error into a 400 that says where the
// problem is.
func jsonError(body []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := position(body, syn.Offset-1) // Offset is just after the bad byte
		return errorf(http.StatusBadRequest, "invalid_json", fmt.Sprintf("malformed JSON at line %d, column %d: %v", line, col, syn), err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, "invalid_json", "malformed JSON: the body ends in the middle of a value", err)
	case errors.As(err, &typ):
		path := typ.Field
		if path == "" {
			return errorf(http.StatusBadRequest, "invalid_json", fmt.Sprintf("want a JSON object, got a JSON %s", typ.Value), err)
		}
		return &httpError{status: http.StatusBadRequest, code: "invalid", cause: err,
			msg:    fmt.Sprintf("field %q: want a %s, got a JSON %s", path, jsonKind(typ.Type.String()), typ.Value),
			fields: []fieldProblem{{Path: path, Message: fmt.Sprintf("want a %s, got a JSON %s", jsonKind(typ.Type.String()), typ.Value)}}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return &httpError{status: http.StatusBadRequest, code: "unknown_field", cause: err,
			msg:    fmt.Sprintf("unknown field %q; see /v1/openapi.yaml for the fields of this request", name),
			fields: []fieldProblem{{Path: name, Message: "unknown field"}}}
	}
	return errorf(http.StatusBadRequest, "invalid_json", "malformed JSON: "+err.Error(), err)
}

func jsonKind(goType string) string {
	switch {
	case strings.Contains(goType, "int"), strings.Contains(goType, "float"):
		return "number"
	case strings.Contains(goType, "string"):
		return "string"
	case strings.Contains(goType, "bool"):
		return "boolean"
	case strings.HasPrefix(goType, "[]"), strings.HasPrefix(goType, "*[]"):
		return "list"
	}
	return "object"
}

// position converts a byte offset into a 1-based line and column.
func position(body []byte, off int64) (line, col int) {
	line, col = 1, 1
	for i := int64(0); i < off && i < int64(len(body)); i++ {
		if body[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// invalidField is a 400 about one input field.
func invalidField(path, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &httpError{status: http.StatusBadRequest, code: "invalid", msg: path + ": " + msg,
		fields: []fieldProblem{{Path: path, Message: msg}}}
}

// page reads ?cursor= and ?limit=.
func page(q url.Values) (store.Page, error) {
	p := store.Page{Cursor: q.Get("cursor")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > store.MaxLimit {
			return p, invalidField("limit", "want a whole number from 1 to %d, got %q", store.MaxLimit, l)
		}
		p.Limit = n
	}
	return p, nil
}

// list is the shape of every paginated response.
type list[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// slotJSON is a free slot, in the business's time zone.
type slotJSON struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

func slotsJSON(slots []scheduling.Slot) []slotJSON {
	out := make([]slotJSON, len(slots))
	for i, sl := range slots {
		out[i] = slotJSON{Start: sl.Start.Format(time.RFC3339), End: sl.End.Format(time.RFC3339)}
	}
	return out
}

// needStore is the error of API routes on a server without a store.
func (s *Server) needStore() error {
	if s.api.store == nil {
		return errorf(http.StatusServiceUnavailable, "no_store", "this server has no store configured", nil)
	}
	return nil
}

// detach returns a context for work that must finish once started (a
// write followed by its bookkeeping) even if the client goes away.
func detach(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
}
