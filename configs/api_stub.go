// Package configs holds Frontdesk's configuration: types, defaults, strict
// YAML loading with ${ENV} expansion, and validation errors that name the
// field and the line.
package configs

// CONTRACT STUB: the helper owning configs/ replaces this file. Fields named
// here are used by server/ and cmd/ and must keep these names and types;
// add whatever else the issue asks for.

import "time"

type Config struct {
	Server     Server          `yaml:"server"`
	Twilio     Twilio          `yaml:"twilio"`
	Agent      Agent           `yaml:"agent"`
	Plans      map[string]Plan `yaml:"plans"`
	Businesses []Business      `yaml:"businesses"`
}

type Server struct {
	Listen          string        // default ":8080"
	PublicURL       string        // e.g. "https://frontdesk.example.com"; default "http://localhost:8080"
	DataDir         string        // default "./data"
	ShutdownTimeout time.Duration // drain timeout; default 30s
	OperatorKey     string        // API operator key, may be ${ENV}
}

type Twilio struct {
	AccountSID string
	AuthToken  string
}

// Agent chooses what answers calls. Mode "echo" plays the caller's audio
// back after EchoDelay; "greeting" plays a tone sequence.
type Agent struct {
	Mode      string        // "echo" | "greeting"; default "greeting"
	EchoDelay time.Duration // default 1s
}

type Plan struct {
	Recordings  time.Duration
	Transcripts time.Duration
}

type Business struct {
	ID             string
	Name           string
	Numbers        []string // E.164
	TimeZone       string
	Greeting       string
	Plan           string
	TransferNumber string
}

// Load reads, expands, decodes strictly and validates the file at path.
func Load(path string) (*Config, error) { panic("unimplemented") }

// Parse does what Load does on data; name is used in error messages.
func Parse(name string, data []byte, getenv func(string) (string, bool)) (*Config, error) {
	panic("unimplemented")
}

// BusinessByNumber returns the business that owns the E.164 number.
func (c *Config) BusinessByNumber(number string) (*Business, bool) { panic("unimplemented") }
