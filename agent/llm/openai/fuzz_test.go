package openai

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/frontdesk/frontdesk/agent"
)

// FuzzStream sends arbitrary event-stream bodies: Complete must not
// panic, and whatever it delivers must be well formed: text or one tool
// call with a name, an ID and a JSON object of arguments.
func FuzzStream(f *testing.F) {
	f.Add([]byte("data: " + chunk(textDelta("Hi."), "stop") + "\n\ndata: [DONE]\n\n"))
	f.Add([]byte("data: " + chunk(`{"tool_calls":[{"index":0,"id":"a","type":"function","function":{"name":"get_hours","arguments":"{\"d"}}]}`, "") + "\n\n" +
		"data: " + chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"ay\":1}"}}]}`, "") + "\n\n" +
		"data: " + chunk(`{"tool_calls":[{"index":1,"id":"b","type":"function","function":{"name":"x","arguments":"{}"}}]}`, "") + "\n\n" +
		"data: " + chunk(`{}`, "tool_calls") + "\n\ndata: [DONE]\n\n"))
	f.Add([]byte("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"wor\n\n"))
	f.Add([]byte(": keep-alive\n\nevent: ping\ndata: {\"error\":{\"message\":\"overloaded\"}}\n\n"))
	f.Add([]byte("data: " + chunk(`{"tool_calls":[{"id":"a","function":{"name":"n","arguments":"{}"}},{"id":"b","function":{"name":"m"}}]}`, "stop") + "\n\n"))

	var mu sync.Mutex
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		b := body
		mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write(b)
	}))
	defer srv.Close()
	c, err := New(Options{BaseURL: srv.URL + "/v1"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		mu.Lock()
		body = data
		mu.Unlock()
		_ = c.Complete(context.Background(), agent.Request{Messages: []agent.Message{{Role: agent.RoleUser, Content: "hi"}}}, func(d agent.Delta) error {
			if (d.Text == "") == (d.ToolCall == nil) {
				t.Fatalf("delta %+v: want text or a tool call", d)
			}
			if tc := d.ToolCall; tc != nil {
				var obj map[string]any
				if tc.Name == "" || tc.ID == "" || json.Unmarshal(tc.Arguments, &obj) != nil || obj == nil {
					t.Fatalf("tool call %+v: want a name, an ID and a JSON object", tc)
				}
			}
			return nil
		})
	})
}
