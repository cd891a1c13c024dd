package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/configs"
	"github.com/frontdesk/frontdesk/internal/leaktest"
	"github.com/frontdesk/frontdesk/internal/servertest"
	"github.com/frontdesk/frontdesk/media/twilio/sim"
	"github.com/frontdesk/frontdesk/server"
)

// TestCloudFailureFallsBack configures every provider as OpenAI, pointed at
// a server that answers like OpenAI's API does when it is down (500 with
// its error body). The caller is still greeted and answered, by the
// embedded engines, and the fallbacks are counted.
func TestCloudFailureFallsBack(t *testing.T) {
	leaktest.Check(t)
	var hits atomic.Int64
	cloud := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}`))
	}))
	defer cloud.Close()
	log := &turns{}
	srv := servertest.StartWith(t, "receptionist", servertest.Options{
		Example: true,
		Server:  []server.Option{server.WithTurns(log.add)},
		Configure: func(c *configs.Config) {
			c.Agent.STT, c.Agent.LLM, c.Agent.TTS = configs.ProviderOpenAI, configs.ProviderOpenAI, configs.ProviderOpenAI
			c.Agent.OpenAI.BaseURL, c.Agent.OpenAI.APIKey = cloud.URL+"/v1", "sk-test"
			c.Agent.OpenAI.Budget = time.Second
		},
	})
	o := exampleCall(srv)
	o.Turns = speak(t, "what are your opening hours")
	res, err := sim.Call(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if _, reply, ok := log.replyTo("hours"); !ok || !strings.Contains(reply.Text, "Monday to Friday") {
		t.Errorf("reply %q, want the hours from the embedded engines\n%s", reply.Text, log)
	}
	for _, lat := range res.ReplyLatency {
		if lat < 0 {
			t.Errorf("a turn got no reply: dead air")
		}
	}
	if hits.Load() == 0 {
		t.Error("the cloud was never tried")
	}
	for _, kind := range []string{"llm", "stt", "tts"} {
		if n := metricOf(t, srv.URL, `frontdesk_provider_fallbacks_total{kind="`+kind+`",reason="error"}`); n == 0 {
			t.Errorf("no %s fallback counted", kind)
		}
	}
}

func metricOf(t *testing.T, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m, err := sim.ParseMetrics(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return m[name]
}
