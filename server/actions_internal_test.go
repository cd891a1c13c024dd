package server

import (
	"testing"

	"github.com/frontdesk/frontdesk/store"
)

// TestTransferWebRTCCall: a browser call has no phone leg to redirect.
func TestTransferWebRTCCall(t *testing.T) {
	e := newAPI(t, "sqlite")
	biz := &e.srv.cfg.Businesses[0]
	if biz.ID != "clinic" {
		t.Fatalf("first business %s, want clinic", biz.ID)
	}
	c := &call{id: "call_webrtc", business: biz, transport: "webrtc", srv: e.srv, log: e.srv.log}
	e.srv.mu.Lock()
	e.srv.live[c.id] = c
	e.srv.mu.Unlock()
	r := e.must(409, "POST", "/v1/calls/call_webrtc/transfer", e.key("clinic", store.RoleSupervisor), map[string]string{"to": "+12125550199"})
	if r.errorCode() != "not_transferable" {
		t.Errorf("transfer of a WebRTC call: %s, want not_transferable", r)
	}
}
