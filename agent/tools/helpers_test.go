package tools

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/agent"
	"github.com/frontdesk/frontdesk/configs"
)

func exampleConfig(t testing.TB) *configs.Config {
	t.Helper()
	cfg, err := configs.Load("../../configs/example.yaml")
	if err != nil {
		t.Fatalf("load example config: %v", err)
	}
	return cfg
}

func exampleBusiness(t testing.TB, id string) *configs.Business {
	t.Helper()
	biz, ok := exampleConfig(t).Business(id)
	if !ok {
		t.Fatalf("example config has no business %q", id)
	}
	return biz
}

var newYork = mustLoad("America/New_York")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func ny(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, newYork)
}

// fixture is an executor over an in-memory backend at a fixed instant.
type fixture struct {
	t    testing.TB
	biz  *configs.Business
	mem  *Memory
	exec *Executor
}

func newFixture(t testing.TB, id string, now time.Time) *fixture {
	t.Helper()
	biz := exampleBusiness(t, id)
	clock := func() time.Time { return now }
	mem, err := NewMemory(biz, clock)
	if err != nil {
		t.Fatal(err)
	}
	exec, err := NewExecutor(biz, mem, Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, biz: biz, mem: mem, exec: exec}
}

// run executes a tool with args (a struct or a JSON string) and decodes
// the content into out, which may be nil.
func (f *fixture) run(name string, args any, out any) Result {
	f.t.Helper()
	var raw []byte
	switch a := args.(type) {
	case string:
		raw = []byte(a)
	default:
		var err error
		if raw, err = json.Marshal(a); err != nil {
			f.t.Fatal(err)
		}
	}
	res := f.exec.Execute(context.Background(), agent.ToolCall{ID: "t1", Name: name, Arguments: raw})
	if !json.Valid([]byte(res.Content)) {
		f.t.Fatalf("%s: content is not JSON: %s", name, res.Content)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(res.Content), out); err != nil {
			f.t.Fatalf("%s: decode %s: %v", name, res.Content, err)
		}
	}
	return res
}

// mustFail runs a tool that must fail with code and returns the error result.
func (f *fixture) mustFail(name string, args any, code string) ErrorResult {
	f.t.Helper()
	var er ErrorResult
	res := f.run(name, args, &er)
	if er.Code != code || er.Error == "" || res.Err == nil {
		f.t.Fatalf("%s(%v) = %s (err %v), want error code %q", name, args, res.Content, res.Err, code)
	}
	return er
}
