package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/frontdesk/frontdesk/configs"
	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/store/redis"
	"github.com/frontdesk/frontdesk/store/redis/redistest"
	"github.com/frontdesk/frontdesk/store/sqlite"
)

const (
	testOperatorKey = "operator-key-for-tests-0123456789"
	clinicNumber    = "+12125550100"
	salonNumber     = "+442079460958"
)

// testConfig has two businesses: a clinic in New York open every day
// 08:00-20:00 and a salon in London. Its greeting is a parameter so that
// the reload test can change it.
func testConfig(greeting string) string {
	return fmt.Sprintf(`
server:
  public_url: http://127.0.0.1:1
  operator_key: %q
twilio:
  auth_token: testtoken0123456789
businesses:
  - id: clinic
    name: Bright Smile Dental
    numbers: [%q]
    time_zone: America/New_York
    greeting: %q
    plan: starter
    hours:
      monday: ["08:00-20:00"]
      tuesday: ["08:00-20:00"]
      wednesday: ["08:00-20:00"]
      thursday: ["08:00-20:00"]
      friday: ["08:00-20:00"]
      saturday: ["08:00-20:00"]
      sunday: ["08:00-20:00"]
    services:
      - {name: Cleaning, duration: 60m, buffer: 10m, price: 12000}
      - {name: Checkup, duration: 30m}
  - id: salon
    name: Shear Elegance
    numbers: [%q]
    time_zone: Europe/London
    plan: pro
    currency: GBP
    hours:
      tuesday: ["10:00-18:00"]
    services:
      - {name: Cut, duration: 45m, price: 6500}
`, testOperatorKey, clinicNumber, greeting, salonNumber)
}

// syncLog is a log sink tests can read while the server writes.
type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// apiEnv is a real server on loopback with a real store.
type apiEnv struct {
	t       testing.TB
	srv     *Server
	url     string
	st      store.Store
	cfgPath string
	logs    *syncLog
	keys    map[string]string // "business/role" -> secret
}

// openStore opens a store of the backend in a fresh place: an SQLite
// file in a temporary directory, or a new prefix on a real redis-server.
func openStore(t testing.TB, backend string) store.Store {
	t.Helper()
	switch backend {
	case "sqlite":
		st, err := sqlite.Open(context.Background(), t.TempDir(), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	case "redis":
		c := goredis.NewClient(&goredis.Options{Addr: redisAddr(t), PoolSize: 64})
		t.Cleanup(func() { c.Close() })
		return redis.New(c, redis.Options{Prefix: fmt.Sprintf("t%d:", redisPrefixes.Add(1))})
	}
	t.Fatalf("unknown backend %q", backend)
	return nil
}

// redisPrefixes keeps stores on one redis-server apart.
var redisPrefixes atomic.Int64

// redisAddr starts a real redis-server for the test.
func redisAddr(t testing.TB) string {
	t.Helper()
	return redistest.Start(t)
}

// newAPI starts a server with the test config (or yaml) and a store of
// the backend.
func newAPI(t testing.TB, backend string, opts ...Option) *apiEnv {
	return newAPIWith(t, backend, testConfig("Hello from the clinic."), opts...)
}

func newAPIWith(t testing.TB, backend, yaml string, opts ...Option) *apiEnv {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "frontdesk.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := configs.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	env := &apiEnv{t: t, cfgPath: path, logs: &syncLog{}, keys: map[string]string{}}
	env.st = openStore(t, backend)
	log := slog.New(slog.NewTextHandler(env.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	env.srv, err = New(cfg, log, append([]Option{WithStore(env.st)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(env.srv.Handler())
	env.url = hs.URL
	t.Cleanup(func() {
		hs.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", env.logs.String())
		}
	})
	return env
}

// resp is an HTTP answer with its body read.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// json decodes the body into v, failing the test when it is not JSON.
func (r resp) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r, err)
	}
}

// errorCode returns the envelope's error code ("" when not an error).
func (r resp) errorCode() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(r.body, &e)
	return e.Error.Code
}

// apiError is the error envelope.
type apiError struct {
	Error struct {
		Code    string         `json:"code"`
		Message string         `json:"message"`
		Fields  []fieldProblem `json:"fields"`
		Next    []slotJSON     `json:"next_slots"`
	} `json:"error"`
}

// do sends a request with key as the bearer token (none when empty).
// body is sent as is when it is a string, else as JSON.
func (e *apiEnv) do(method, path, key string, body any, header ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: data}
}

// must sends a request and fails the test unless the status is want.
func (e *apiEnv) must(want int, method, path, key string, body any, header ...string) resp {
	e.t.Helper()
	r := e.do(method, path, key, body, header...)
	if r.status != want {
		e.t.Fatalf("%s %s: got %s, want %d", method, path, r, want)
	}
	return r
}

// key returns an API key of business with role, made once through the
// operator API.
func (e *apiEnv) key(business string, role store.Role) string {
	e.t.Helper()
	k := business + "/" + string(role)
	if s, ok := e.keys[k]; ok {
		return s
	}
	var v keyView
	e.must(http.StatusCreated, "POST", "/v1/businesses/"+business+"/keys", testOperatorKey,
		map[string]string{"role": string(role), "name": "test " + string(role)}).json(e.t, &v)
	if v.Key == "" || v.BusinessID != business || v.Role != role {
		e.t.Fatalf("created key %+v", v)
	}
	e.keys[k] = v.Key
	return v.Key
}

// day returns a date n days from now in loc, at hh:mm local time.
func day(loc *time.Location, n, hh, mm int) time.Time {
	d := time.Now().In(loc).AddDate(0, 0, n)
	return time.Date(d.Year(), d.Month(), d.Day(), hh, mm, 0, 0, loc)
}

func newYork(t testing.TB) *time.Location {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
