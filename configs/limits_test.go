package configs

import (
	"strings"
	"testing"
	"time"
)

func TestLimitsDefaultsAndParse(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte(minimal), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Limits{MaxConns: 4096, MaxConnsPerIP: 1024, HeaderTimeout: 10 * time.Second,
		BodyTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second, MaxBody: 1 << 20}
	if got := cfg.Server.Limits; got != want {
		t.Errorf("defaults: got %+v, want %+v", got, want)
	}
	src := "server:\n  limits:\n    max_conns: 100\n    max_conns_per_ip: 0\n    header_timeout: 2s\n    body_timeout: 5s\n    idle_timeout: 1m\n    max_body: 65536\n" + minimal
	cfg, err = Parse("t.yaml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	want = Limits{MaxConns: 100, MaxConnsPerIP: 0, HeaderTimeout: 2 * time.Second,
		BodyTimeout: 5 * time.Second, IdleTimeout: time.Minute, MaxBody: 65536}
	if got := cfg.Server.Limits; got != want {
		t.Errorf("parsed: got %+v, want %+v", got, want)
	}
}

func TestLimitsErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"server:\n  limits:\n    max_con: 1\n", "t.yaml:3: server.limits.max_con: unknown field"},
		{"server:\n  limits:\n    max_conns: 0\n", "server.limits.max_conns: must be at least 1, got 0"},
		{"server:\n  limits:\n    max_conns_per_ip: -1\n", "server.limits.max_conns_per_ip: must be 0 (no cap) or more, got -1"},
		{"server:\n  limits:\n    header_timeout: 0\n", "server.limits.header_timeout: must be more than 0"},
		{"server:\n  limits:\n    max_body: 10\n", "server.limits.max_body: must be at least 1024 bytes, got 10"},
	} {
		verrs := parseErrors(t, tc.src+minimal, nil)
		if len(verrs) != 1 || !strings.Contains(verrs[0].Error(), tc.want) {
			t.Errorf("%q: got %v, want one error containing %q", tc.src, verrs, tc.want)
		}
	}
}
