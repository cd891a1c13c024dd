package server

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/internal/leaktest"
	"github.com/frontdesk/frontdesk/store"
)

func (e *apiEnv) writeConfig(yaml string) {
	e.t.Helper()
	if err := os.WriteFile(e.cfgPath, []byte(yaml), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

func (e *apiEnv) greeting(key string) string {
	e.t.Helper()
	var v businessView
	e.must(200, "GET", "/v1/business", key, nil).json(e.t, &v)
	return v.Business.Greeting
}

func TestReload(t *testing.T) {
	leaktest.Check(t)
	e := newAPI(t, "sqlite")
	ctx := context.Background()
	ro := e.key("clinic", store.RoleReadonly)
	if g := e.greeting(ro); g != "Hello from the clinic." {
		t.Fatalf("greeting %q", g)
	}
	// A call in progress holds the business it started with.
	live, ok := e.srv.businessByNumber(ctx, clinicNumber)
	if !ok {
		t.Fatal("no business for the clinic's number")
	}

	next := strings.Replace(testConfig("Hello, version two."), `monday: ["08:00-20:00"]`, `monday: ["10:00-14:00"]`, 1)
	e.writeConfig(next)
	if err := e.srv.ReloadFile(ctx, e.cfgPath); err != nil {
		t.Fatal(err)
	}
	var v businessView
	e.must(200, "GET", "/v1/business", ro, nil).json(t, &v)
	if v.Business.Greeting != "Hello, version two." || v.Business.Hours["monday"][0] != "10:00-14:00" {
		t.Errorf("after reload: greeting %q, monday %v", v.Business.Greeting, v.Business.Hours["monday"])
	}
	if now, _ := e.srv.businessByNumber(ctx, clinicNumber); now.Greeting != "Hello, version two." {
		t.Errorf("new calls get greeting %q", now.Greeting)
	}
	if live.Greeting != "Hello from the clinic." {
		t.Errorf("the live call's business changed under it: %q", live.Greeting)
	}

	// A broken file changes nothing.
	e.writeConfig(strings.Replace(next, "time_zone: America/New_York", "time_zone: Mars/Olympus", 1))
	err := e.srv.ReloadFile(ctx, e.cfgPath)
	if err == nil || !strings.Contains(err.Error(), "Mars/Olympus") {
		t.Errorf("reload of a broken file: %v", err)
	}
	if g := e.greeting(ro); g != "Hello, version two." {
		t.Errorf("greeting after a failed reload %q", g)
	}

	// Fields written through the API stay over the file's.
	e.must(200, "PATCH", "/v1/business", e.key("clinic", store.RoleOwner), `{"greeting":"From the API."}`)
	e.writeConfig(testConfig("Hello, version three."))
	if err := e.srv.ReloadFile(ctx, e.cfgPath); err != nil {
		t.Fatal(err)
	}
	e.must(200, "GET", "/v1/business", ro, nil).json(t, &v)
	if v.Business.Greeting != "From the API." || v.Business.Hours["monday"][0] != "08:00-20:00" {
		t.Errorf("after reload under an API part: greeting %q, monday %v", v.Business.Greeting, v.Business.Hours["monday"])
	}

	// The operator key is reloaded too.
	e.writeConfig(strings.Replace(testConfig("x"), testOperatorKey, "a-new-operator-key-0000", 1))
	if err := e.srv.ReloadFile(ctx, e.cfgPath); err != nil {
		t.Fatal(err)
	}
	e.must(401, "GET", "/v1/businesses", testOperatorKey, nil)
	e.must(200, "GET", "/v1/businesses", "a-new-operator-key-0000", nil)
}

// TestWatchConfig: the file is reloaded when it changes and on SIGHUP; a
// broken file is logged and the running config kept.
func TestWatchConfig(t *testing.T) {
	leaktest.Check(t)
	e := newAPI(t, "sqlite")
	ro := e.key("clinic", store.RoleReadonly)
	ctx, cancel := context.WithCancel(context.Background())
	hup := make(chan os.Signal, 1)
	done := make(chan error, 1)
	go func() { done <- e.srv.WatchConfig(ctx, e.cfgPath, 10*time.Millisecond, hup) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("WatchConfig: %v", err)
		}
	}()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor("the watcher", func() bool { return strings.Contains(e.logs.String(), "watching config file") })
	// Change the file (and its size, so that a coarse mtime cannot hide it).
	e.writeConfig(testConfig("Changed on disk."))
	waitFor("the changed greeting", func() bool { return e.greeting(ro) == "Changed on disk." })

	e.writeConfig("businesses: [}")
	waitFor("the failed reload in the log", func() bool { return strings.Contains(e.logs.String(), "config reload failed") })
	if g := e.greeting(ro); g != "Changed on disk." {
		t.Errorf("greeting after a broken file: %q", g)
	}

	// SIGHUP reloads even when the file looks unchanged.
	reloads := strings.Count(e.logs.String(), "config reloaded")
	e.writeConfig(testConfig("After HUP."))
	hup <- syscall.SIGHUP
	waitFor("the reload", func() bool { return e.greeting(ro) == "After HUP." })
	// The new config is live before its log line is written.
	waitFor("the reload logged", func() bool { return strings.Count(e.logs.String(), "config reloaded") > reloads })
}
