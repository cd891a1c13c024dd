package server

import (
	"context"
	"encoding/json"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/agent"
	"github.com/frontdesk/frontdesk/agent/tools"
	"github.com/frontdesk/frontdesk/configs"
	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/store/sqlite"
)

// A booking on a WebRTC call makes a lead whose source is webrtc, in the
// real SQLite store, whether the lead comes from the booking itself or from
// update_lead after it; on a phone call the same booking's lead is "call".
func TestWebRTCLeadSource(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	cfg, err := configs.Load(filepath.Join(filepath.Dir(file), "..", "configs", "example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	biz, _ := cfg.Business("bright-smile")
	ny := biz.Location()
	now := time.Date(2026, 11, 22, 19, 0, 0, 0, ny) // Sunday evening
	clock := func() time.Time { return now }
	for i, tc := range []struct {
		source scheduling.LeadSource
		phone  string
	}{
		{scheduling.SourceWebRTC, "+12125550123"},
		{scheduling.SourceCall, "+12125550124"},
	} {
		ctx := context.Background()
		st, err := sqlite.Open(ctx, t.TempDir(), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		be, err := newStoreBackend(st, biz, clock)
		if err != nil {
			t.Fatal(err)
		}
		exec, err := tools.NewExecutor(biz, be, tools.Options{Now: clock, Source: tc.source})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Date(2026, 11, 23, 8+i, 0, 0, 0, ny).Format(time.RFC3339)
		args, _ := json.Marshal(map[string]string{"service": biz.Services[0].Name, "start": start, "name": "Sarah Johnson", "phone": tc.phone})
		if r := exec.Execute(ctx, agent.ToolCall{Name: tools.BookAppointment, Arguments: args}); r.Err != nil {
			t.Fatalf("%s: book: %v (%s)", tc.source, r.Err, r.Content)
		}
		leads, _, err := st.Leads().List(ctx, biz.ID, store.LeadFilter{}, store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(leads) != 1 || leads[0].Source != tc.source {
			t.Fatalf("%s: leads after the booking %+v, want one with source %s", tc.source, leads, tc.source)
		}
		args, _ = json.Marshal(map[string]string{"name": "Sarah Johnson", "phone": tc.phone, "notes": "prefers mornings"})
		if r := exec.Execute(ctx, agent.ToolCall{Name: tools.UpdateLead, Arguments: args}); r.Err != nil {
			t.Fatalf("%s: update_lead: %v (%s)", tc.source, r.Err, r.Content)
		}
		leads, _, _ = st.Leads().List(ctx, biz.ID, store.LeadFilter{}, store.Page{})
		if len(leads) != 1 || leads[0].Source != tc.source {
			t.Errorf("%s: leads after update_lead %+v, want one with source %s", tc.source, leads, tc.source)
		}
	}
}
