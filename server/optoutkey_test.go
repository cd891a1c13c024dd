package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/media/twilio/sim"
	"github.com/frontdesk/frontdesk/recording"
	"github.com/frontdesk/frontdesk/recording/crypt"
	"github.com/frontdesk/frontdesk/server"
)

// TestOptOutByKey: the caller presses the business's opt-out key (the
// default "*") after 3 s of speech; the recording stops there for the rest
// of the call, and the call record says when.
func TestOptOutByKey(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	t.Setenv(server.KeysEnv, "k1:"+base64.StdEncoding.EncodeToString(key))
	const token, number = "optout-token", "+12125550100"
	base, dataDir, st := storeServer(t, func(base, dataDir string) string {
		return fmt.Sprintf(`
server: {listen: "127.0.0.1:0", public_url: %q, shutdown_timeout: 3s, data_dir: %q}
twilio: {auth_token: %q}
agent: {mode: echo, echo_delay: 200ms}
businesses:
  - {id: clinic, name: Clinic, numbers: [%q], time_zone: America/New_York, plan: starter, opt_out_key: "*"}
`, base, dataDir, token, number)
	})
	tone := make([]int16, 3*8000)
	for i := range tone {
		tone[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/8000))
	}
	if _, err := sim.Call(context.Background(), sim.Options{Server: base, AuthToken: token, From: "+12125550123", To: number,
		Audio: tone, Digits: "*", Tail: 3 * time.Second}); err != nil {
		t.Fatal(err)
	}
	c := finishedCall(t, st, "clinic")
	if c.RecordingStoppedAt.IsZero() {
		t.Fatal("recording_stopped_at not set after the opt-out key")
	}
	kr := crypt.NewKeyring()
	if err := kr.Add("k1", key); err != nil {
		t.Fatal(err)
	}
	pb, err := recording.Open(filepath.Join(dataDir, "recordings"), c.RecordingID, kr)
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Close()
	// 3 s of speech, then the key: the call lasted 6 s, the recording stops
	// near 3 s.
	if d := pb.Duration(); d < 2500*time.Millisecond || d > 4500*time.Millisecond {
		t.Errorf("recording lasts %v, want it to stop at the key, about 3 s into a 6 s call", d)
	}
}
