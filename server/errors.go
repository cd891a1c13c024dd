package server

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/frontdesk/frontdesk/scheduling"
)

// httpError is an error with a status and a message safe to show a client.
// The wrapped cause goes to the log only.
type httpError struct {
	status int
	code   string
	msg    string
	cause  error
	fields []fieldProblem // which input fields are wrong, for 400s
	extra  map[string]any // more members of the error object (next_slots)
}

// fieldProblem is one wrong input field: a path such as
// "hours.monday[1]" or "start", and what is wrong with it.
type fieldProblem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

func (e *httpError) Error() string {
	if e.cause != nil {
		return e.msg + ": " + e.cause.Error()
	}
	return e.msg
}

func (e *httpError) Unwrap() error { return e.cause }

func errorf(status int, code, msg string, cause error) error {
	return &httpError{status: status, code: code, msg: msg, cause: cause}
}

// handlerFunc is an http.HandlerFunc that returns an error; handle adapts it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle maps a handler's error to a status and the JSON error envelope
// {"error":{"code","message","fields"}}. Errors of package scheduling map to
// 4xx (see domainError); anything else unknown is a 500 whose cause only
// the log sees. Only this adapter logs handler errors.
func (s *Server) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		he := &httpError{status: http.StatusInternalServerError, code: "internal", msg: "internal error", cause: err}
		if !errors.As(err, &he) {
			if de := domainError(err); de != nil {
				he = de
			}
		}
		level := slog.LevelInfo
		if he.status >= 500 {
			level = slog.LevelError
		}
		s.log.Log(r.Context(), level, "http request failed", "method", r.Method, "path", r.URL.Path, "status", he.status, "err", err)
		body := map[string]any{"code": he.code, "message": he.msg}
		if len(he.fields) > 0 {
			body["fields"] = he.fields
		}
		for k, v := range he.extra {
			body[k] = v
		}
		writeJSON(w, he.status, map[string]any{"error": body})
	})
}

// domainError maps the sentinel errors of package scheduling (which the
// store returns too) to an HTTP error, or returns nil. The message is the
// error's text from the sentinel on, without the operation names that
// wrap it ("sqlite: book: "), which mean nothing to a client.
func domainError(err error) *httpError {
	var ce *scheduling.ConflictError
	switch {
	case errors.As(err, &ce):
		return &httpError{status: http.StatusConflict, code: "slot_taken", cause: err,
			msg:   "the requested time is taken; next_slots lists the next free times",
			extra: map[string]any{"next_slots": slotsJSON(ce.Next)}}
	case errors.Is(err, scheduling.ErrOutsideHours):
		return &httpError{status: http.StatusBadRequest, code: "outside_hours", msg: fromSentinel(err, scheduling.ErrOutsideHours), cause: err}
	case errors.Is(err, scheduling.ErrInvalidRange):
		return &httpError{status: http.StatusBadRequest, code: "invalid_range", msg: fromSentinel(err, scheduling.ErrInvalidRange), cause: err}
	case errors.Is(err, scheduling.ErrInvalid):
		return &httpError{status: http.StatusBadRequest, code: "invalid", msg: fromSentinel(err, scheduling.ErrInvalid), cause: err}
	case errors.Is(err, scheduling.ErrNotFound):
		return &httpError{status: http.StatusNotFound, code: "not_found", msg: fromSentinel(err, scheduling.ErrNotFound), cause: err}
	case errors.Is(err, scheduling.ErrDuplicate):
		return &httpError{status: http.StatusConflict, code: "duplicate", msg: fromSentinel(err, scheduling.ErrDuplicate), cause: err}
	case errors.Is(err, scheduling.ErrConflict):
		return &httpError{status: http.StatusConflict, code: "conflict", msg: fromSentinel(err, scheduling.ErrConflict), cause: err}
	}
	return nil
}

// fromSentinel returns err's text from where sentinel's text starts;
// "invalid input: " itself is dropped as it says nothing the status
// does not.
func fromSentinel(err, sentinel error) string {
	msg := err.Error()
	if i := strings.Index(msg, sentinel.Error()); i >= 0 {
		msg = msg[i:]
	}
	if rest, ok := strings.CutPrefix(msg, scheduling.ErrInvalid.Error()+": "); ok {
		msg = rest
	}
	return msg
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
