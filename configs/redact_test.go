package configs

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretsNeverPrint(t *testing.T) {
	const opKey, token = "operator-key-SECRET-1", "auth-token-SECRET-2"
	cfg := parseOK(t, "server:\n  operator_key: ${K}\ntwilio:\n  auth_token: ${T}\n"+minimal, map[string]string{"K": opKey, "T": token})

	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "config", cfg, "server", cfg.Server, "twilio", cfg.Twilio)
	outputs := map[string]string{
		"%v":       fmt.Sprintf("%v", cfg),
		"%+v":      fmt.Sprintf("%+v", cfg),
		"%#v":      fmt.Sprintf("%#v", cfg),
		"%v value": fmt.Sprintf("%+v", *cfg),
		"slog":     logged.String(),
		"Redacted": fmt.Sprintf("%#v %#v", cfg.Redacted().Server.OperatorKey, cfg.Redacted().Twilio.AuthToken),
	}
	for name, out := range outputs {
		if strings.Contains(out, "SECRET") {
			t.Errorf("%s prints a secret:\n%s", name, out)
		}
		if !strings.Contains(out, "[redacted]") {
			t.Errorf("%s does not show that a secret is set:\n%s", name, out)
		}
	}
	if !strings.Contains(logged.String(), `"businesses":["acme"]`) {
		t.Errorf("slog output lacks the business list: %s", logged.String())
	}
	// Redacted copies; the original keeps its secrets.
	if cfg.Server.OperatorKey != opKey || cfg.Twilio.AuthToken != token {
		t.Error("Redacted modified the original config")
	}
}

func TestStreamURL(t *testing.T) {
	tests := []struct{ base, path, want string }{
		{"https://fd.example.com", "/twilio/media", "wss://fd.example.com/twilio/media"},
		{"http://localhost:8080", "twilio/media", "ws://localhost:8080/twilio/media"},
		{"http://localhost:8080/", "/x", "ws://localhost:8080/x"},
	}
	for _, tt := range tests {
		if got := (Server{PublicURL: tt.base}).StreamURL(tt.path); got != tt.want {
			t.Errorf("StreamURL(%q on %q) = %q, want %q", tt.path, tt.base, got, tt.want)
		}
	}
}

func TestFormatPrice(t *testing.T) {
	tests := []struct {
		currency string
		cents    int64
		want     string
	}{
		{"USD", 12000, "$120"},
		{"USD", 8950, "$89.50"},
		{"USD", 5, "$0.05"},
		{"GBP", 6500, "£65"},
		{"EUR", 1999, "€19.99"},
		{"CHF", 12000, "120.00 CHF"},
		{"USD", -250, "-$2.50"},
	}
	for _, tt := range tests {
		if got := (&Business{Currency: tt.currency}).FormatPrice(tt.cents); got != tt.want {
			t.Errorf("FormatPrice(%s %d) = %q, want %q", tt.currency, tt.cents, got, tt.want)
		}
	}
}
