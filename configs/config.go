// Package configs holds Frontdesk's configuration: the types, their
// defaults, strict YAML loading with ${ENV} expansion, and validation whose
// errors name the field path and the line.
//
// A *Config returned by Load or Parse is complete: defaults are applied,
// phone numbers are normalised to E.164 and time zones are loaded. Nothing
// in this package modifies a Config afterwards, so one Config may be read
// by any number of goroutines as long as no caller writes to it.
package configs

import (
	"time"

	// Embedded zone data, so that business time zones load on machines
	// (containers, distroless images) that have no /usr/share/zoneinfo.
	_ "time/tzdata"
)

// Defaults applied by Parse. A key that is absent from the file takes the
// default; a key that is present, even as an empty string, keeps its value.
const (
	DefaultListen          = ":8080"
	DefaultPublicURL       = "http://localhost:8080"
	DefaultDataDir         = "./data"
	DefaultShutdownTimeout = 30 * time.Second
	DefaultMaxCalls        = 1000
	DefaultMaxConns        = 4096
	DefaultMaxConnsPerIP   = 1024
	DefaultHeaderTimeout   = 10 * time.Second
	DefaultBodyTimeout     = 30 * time.Second
	DefaultIdleTimeout     = 120 * time.Second
	DefaultMaxBody         = 1 << 20
	DefaultEchoDelay       = time.Second
	DefaultCurrency        = "USD"
	DefaultDisclosure      = "This call is answered by an AI assistant and may be recorded."
	DefaultRedisPrefix     = "fd:"
	DefaultHeartbeat       = 2 * time.Second
	DefaultNodeTimeout     = 6 * time.Second

	// DevAuthToken is the Twilio auth token used in dev mode when
	// twilio.auth_token is empty, so that the local simulator and tests
	// can sign requests exactly as Twilio would. Production mode refuses
	// an empty token instead.
	DevAuthToken = "frontdesk-dev-token"
)

// Server modes.
const (
	ModeDev        = "dev"        // relaxed: empty secrets allowed, http public URL
	ModeProduction = "production" // secrets required, https public URL
)

// Agent modes.
const (
	AgentEcho     = "echo"     // plays the caller's audio back after EchoDelay
	AgentGreeting = "greeting" // plays a tone sequence: a placeholder that needs no speech engines
	// AgentReceptionist is the voice agent: embedded speech recognition,
	// dialogue and synthesis (or cloud providers when configured).
	AgentReceptionist = "receptionist"
)

// Config is one Frontdesk deployment: the server, Twilio credentials, the
// agent, the store, retention plans and the businesses it answers for.
//
// A Config is not modified by this package after Parse returns it; it is
// safe for concurrent reads. Callers that modify it must synchronise.
type Config struct {
	Server     Server          `yaml:"server"`
	Twilio     Twilio          `yaml:"twilio"`
	Agent      Agent           `yaml:"agent"`
	Store      Store           `yaml:"store"`
	Plans      map[string]Plan `yaml:"plans"`      // default: DefaultPlans() when none given
	Businesses []Business      `yaml:"businesses"` // at least one
}

// Server configures the HTTP server. Safe for concurrent reads.
type Server struct {
	// Listen is the TCP address to listen on. Default ":8080".
	Listen string `yaml:"listen"`
	// PublicURL is the scheme and host callers' carriers reach us at, used
	// to build the wss:// stream URL and to check Twilio signatures. http
	// or https, no path, query or fragment; a trailing slash is removed.
	// Default "http://localhost:8080". Production mode requires https.
	PublicURL string `yaml:"public_url"`
	// DataDir holds the database, recordings and transcripts. Default "./data".
	DataDir string `yaml:"data_dir"`
	// ShutdownTimeout bounds how long a drain waits for live calls.
	// Default 30s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// OperatorKey authenticates the operator API. Secret: write it as
	// ${ENV_VAR}. Optional in dev mode; at least 16 characters in
	// production mode.
	OperatorKey string `yaml:"operator_key"`
	// Mode is ModeDev or ModeProduction. Default "dev".
	Mode string `yaml:"mode"`
	// MaxCalls caps concurrent calls on this node. Default 1000.
	MaxCalls int `yaml:"max_calls"`
	// NodeID names this node in a cluster (store backend "redis"): the
	// live-call registry, heartbeats and /v1/live say which node holds a
	// call. 1-64 of [A-Za-z0-9._:-], unique per node. Default empty: the
	// host name and the listen port.
	NodeID string `yaml:"node_id"`
	// Limits protect the HTTP edge from floods and slow clients.
	Limits Limits `yaml:"limits"`
}

// Limits are the HTTP edge's caps and timeouts. Safe for concurrent reads.
type Limits struct {
	// MaxConns caps open TCP connections (WebSockets included) on this
	// node; more are answered 503 with Retry-After and closed. Default 4096.
	MaxConns int `yaml:"max_conns"`
	// MaxConnsPerIP caps open connections from one client address; more
	// are answered 429 with Retry-After. 0 turns the per-address cap off.
	// Behind a proxy every connection has the proxy's address: keep it
	// above the node's calls. Default 1024.
	MaxConnsPerIP int `yaml:"max_conns_per_ip"`
	// HeaderTimeout bounds reading a request's headers (slowloris).
	// Default 10s.
	HeaderTimeout time.Duration `yaml:"header_timeout"`
	// BodyTimeout bounds reading a request's body. Default 30s.
	BodyTimeout time.Duration `yaml:"body_timeout"`
	// IdleTimeout closes a keep-alive connection idle this long. Default 120s.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxBody caps any request body in bytes (routes may cap lower).
	// Default 1 MiB.
	MaxBody int `yaml:"max_body"`
}

// Twilio holds the Twilio account credentials. Safe for concurrent reads.
// Its String and LogValue methods redact the auth token.
type Twilio struct {
	// AccountSID is "AC" followed by 32 hex digits; optional (needed only
	// for REST calls such as SMS and transfer). Default empty.
	AccountSID string `yaml:"account_sid"`
	// AuthToken signs Twilio webhooks. Secret: write it as ${ENV_VAR}.
	// Empty in dev mode means DevAuthToken; required in production mode.
	AuthToken string `yaml:"auth_token"`
	// SMSFrom is the number (E.164, any format with the country code) or
	// messaging service SID ("MG" and 32 hex digits) that SMS
	// confirmations are sent from. Confirmations are sent only when it,
	// AccountSID and AuthToken are all set. Default empty (no SMS).
	SMSFrom string `yaml:"sms_from"`
}

// SMSEnabled reports whether SMS confirmations can be sent: an account
// SID, an auth token and a sender are configured.
func (t Twilio) SMSEnabled() bool {
	return t.AccountSID != "" && t.AuthToken != "" && t.SMSFrom != ""
}

// Store backends.
const (
	StoreSQLite = "sqlite" // one SQLite file under server.data_dir: one node
	StoreRedis  = "redis"  // a Redis server shared by several nodes
)

// Store chooses where business data (appointments, leads, API-created
// businesses, API keys) is kept. Safe for concurrent reads. Its String
// and LogValue methods redact a password in RedisURL.
type Store struct {
	// Backend is StoreSQLite or StoreRedis. Default "sqlite".
	Backend string `yaml:"backend"`
	// RedisURL locates the Redis server when Backend is "redis":
	// redis://[user:password@]host:port[/db] or rediss:// for TLS. May
	// hold a password: write it as ${REDIS_URL}. Required for redis.
	RedisURL string `yaml:"redis_url"`
	// RedisPrefix starts every Redis key, so that several deployments can
	// share one server. Default "fd:".
	RedisPrefix string `yaml:"redis_prefix"`
	// Heartbeat is how often a node of a cluster (backend "redis") renews
	// its presence and its live calls in Redis. Default 2s.
	Heartbeat time.Duration `yaml:"heartbeat"`
	// NodeTimeout is how long a node's heartbeat may lapse before the
	// other nodes take it for dead and mark its live calls interrupted.
	// At least twice Heartbeat. Default 6s.
	NodeTimeout time.Duration `yaml:"node_timeout"`
}

// Agent chooses what answers calls. Safe for concurrent reads.
type Agent struct {
	// Mode is AgentReceptionist, AgentEcho or AgentGreeting. Default
	// "receptionist".
	Mode string `yaml:"mode"`
	// EchoDelay is how long echo mode waits before playing audio back.
	// Default 1s.
	EchoDelay time.Duration `yaml:"echo_delay"`
	// STT, LLM and TTS choose the receptionist's providers. STT: "sphinx"
	// (default, embedded) or "openai"; LLM: "rules" (default, embedded) or
	// "openai"; TTS: "flite" (default, embedded) or "openai". A cloud
	// provider always falls back to the embedded one for a turn when it
	// fails or exceeds OpenAI.Budget.
	STT string `yaml:"stt"`
	LLM string `yaml:"llm"`
	TTS string `yaml:"tts"`
	// OpenAI configures the cloud providers.
	OpenAI OpenAI `yaml:"openai"`
}

// OpenAI configures the cloud providers: OpenAI's API or any server that
// speaks it (set BaseURL). Safe for concurrent reads.
type OpenAI struct {
	// BaseURL of the API; default "https://api.openai.com/v1".
	BaseURL string `yaml:"base_url"`
	// APIKey is a secret: write it as ${OPENAI_API_KEY}. Required with
	// the default BaseURL.
	APIKey string `yaml:"api_key"`
	// Models; defaults "gpt-4o-mini", "whisper-1", "gpt-4o-mini-tts".
	ChatModel          string `yaml:"chat_model"`
	TranscriptionModel string `yaml:"transcription_model"`
	SpeechModel        string `yaml:"speech_model"`
	// Voice of the speech model; default "alloy".
	Voice string `yaml:"voice"`
	// Budget is how long a cloud provider may take before the embedded
	// one answers that turn instead; default 3s.
	Budget time.Duration `yaml:"budget"`
}

// Provider names for Agent.STT, Agent.LLM and Agent.TTS.
const (
	ProviderOpenAI = "openai"
	ProviderSphinx = "sphinx"
	ProviderRules  = "rules"
	ProviderFlite  = "flite"
)

// DefaultOpenAIBaseURL is OpenAI's API.
const DefaultOpenAIBaseURL = "https://api.openai.com/v1"

// Plan is a retention plan: how long each artifact of a call is kept.
// Zero means the artifact is not recorded or kept at all. Both fields are
// required in the file so that "record nothing" is never an accident.
// Safe for concurrent reads.
type Plan struct {
	Recordings  time.Duration `yaml:"recordings"`
	Transcripts time.Duration `yaml:"transcripts"`
}

// DefaultPlans returns the plans used when the file defines none:
// starter keeps recordings 180 days and transcripts 365 days, pro keeps
// them 365 and 730 days. It returns a new map on each call.
func DefaultPlans() map[string]Plan {
	const day = 24 * time.Hour
	return map[string]Plan{
		"starter": {Recordings: 180 * day, Transcripts: 365 * day},
		"pro":     {Recordings: 365 * day, Transcripts: 730 * day},
	}
}

// Business is one tenant: a business whose calls Frontdesk answers.
// Safe for concurrent reads.
type Business struct {
	// ID is a slug ([a-z0-9-], at most 63 characters), unique. Required.
	ID string `yaml:"id"`
	// Name is what the receptionist calls the business. Required.
	Name string `yaml:"name"`
	// Numbers are the business's phone numbers in E.164 ("+12125550100"),
	// unique across businesses. The file may format them any way that
	// includes the country code ("+1 (212) 555-0100"). Default none
	// (reachable only by business ID, e.g. the browser softphone).
	Numbers []string `yaml:"numbers"`
	// TimeZone is an IANA zone name such as "America/New_York". Required.
	TimeZone string `yaml:"time_zone"`
	// Hours are the weekly opening hours in TimeZone. Default: closed.
	Hours WeeklyHours `yaml:"hours"`
	// Closures are dates on which the business is closed all day.
	Closures []Closure `yaml:"closures"`
	// Greeting is said when the call is answered. Default
	// "Thank you for calling <Name>. How can I help you today?".
	Greeting string `yaml:"greeting"`
	// FAQs are the questions the receptionist answers from.
	FAQs []FAQ `yaml:"faqs"`
	// Services are what can be booked.
	Services []Service `yaml:"services"`
	// Currency is the ISO 4217 code of service prices. Default "USD".
	Currency string `yaml:"currency"`
	// Plan names an entry of Config.Plans. Required.
	Plan string `yaml:"plan"`
	// TransferNumber is where calls are transferred to a human, in E.164.
	// Default none (no transfer offered).
	TransferNumber string `yaml:"transfer_number"`
	// Disclosure is said before anything else on every call. Default
	// DefaultDisclosure; an explicit empty string disables it (check the
	// law where the business operates first).
	Disclosure string `yaml:"disclosure"`
	// OptOutKey is the keypad key a caller presses to stop the recording
	// for the rest of the call ("0"–"9", "*" or "#"). Default "*"; an
	// explicit empty string disables it (callers can still say so).
	OptOutKey string `yaml:"opt_out_key"`

	loc *time.Location // loaded from TimeZone by Parse; nil for hand-built values
}

// FAQ is one question the receptionist can answer, with several ways a
// caller may ask it. Safe for concurrent reads.
type FAQ struct {
	Questions []string `yaml:"questions"` // at least one phrasing
	Answer    string   `yaml:"answer"`    // required
	Keywords  []string `yaml:"keywords"`  // optional extra words that point to this answer
}

// Service is something a caller can book. Safe for concurrent reads.
type Service struct {
	// Name is unique within the business (ignoring case). Required.
	Name string `yaml:"name"`
	// Duration is the appointment length, whole minutes. Required.
	Duration time.Duration `yaml:"duration"`
	// Buffer is free time kept after the appointment, whole minutes.
	// Default 0.
	Buffer time.Duration `yaml:"buffer"`
	// Price is in minor units (cents) of the business's Currency, written
	// as an integer: 12000 is $120.00. Integers rather than "$120" strings
	// so prices can be compared and summed without parsing. 0 (the
	// default) means no price is quoted.
	Price int64 `yaml:"price"`
}
