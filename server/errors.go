package server

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
)

// httpError is an error with a status and a message safe to show a client.
// The wrapped cause goes to the log only.
type httpError struct {
	status int
	code   string
	msg    string
	cause  error
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
// {"error":{"code","message"}}. Only this adapter logs handler errors.
func (s *Server) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		he := &httpError{status: http.StatusInternalServerError, code: "internal", msg: "internal error", cause: err}
		errors.As(err, &he)
		level := slog.LevelInfo
		if he.status >= 500 {
			level = slog.LevelError
		}
		s.log.Log(r.Context(), level, "http request failed", "method", r.Method, "path", r.URL.Path, "status", he.status, "err", err)
		writeJSON(w, he.status, map[string]any{"error": map[string]string{"code": he.code, "message": he.msg}})
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
