package twilio

import (
	"errors"
	"io"
	"testing"
)

func TestEventTypeString(t *testing.T) {
	tests := []struct {
		t    EventType
		want string
	}{
		{EventUnknown, "unknown"},
		{EventConnected, "connected"},
		{EventStart, "start"},
		{EventMedia, "media"},
		{EventDTMF, "dtmf"},
		{EventMark, "mark"},
		{EventStop, "stop"},
		{EventClear, "clear"},
		{EventType(200), "EventType(200)"},
	}
	for _, tt := range tests {
		if got := tt.t.String(); got != tt.want {
			t.Errorf("EventType(%d).String() = %q, want %q", tt.t, got, tt.want)
		}
		if tt.t != EventUnknown && tt.t <= EventClear {
			if got := eventType(tt.want); got != tt.t {
				t.Errorf("eventType(%q) = %v, want %v", tt.want, got, tt.t)
			}
		}
	}
	if got := eventType("Media"); got != EventUnknown {
		t.Errorf(`eventType("Media") = %v, want unknown: event names are case-sensitive`, got)
	}
}

func TestDecodeErrorMessage(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{malformed("", `missing "event"`, nil), `twilio: decode event: malformed: missing "event"`},
		{malformed("media", "missing media.payload", nil), "twilio: decode media event: malformed: missing media.payload"},
		{malformed("", "invalid JSON", io.ErrUnexpectedEOF), "twilio: decode event: malformed: invalid JSON: unexpected EOF"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
		if !errors.Is(tt.err, ErrMalformed) {
			t.Errorf("%v does not wrap ErrMalformed", tt.err)
		}
	}
	if err := malformed("", "x", io.ErrUnexpectedEOF); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("%v does not wrap its cause", err)
	}
}
