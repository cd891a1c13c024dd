package server_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/media/twilio/sim"
	"github.com/frontdesk/frontdesk/store"
)

// TestPlanWithoutRecordingsWritesNoAudio: a business on a plan that keeps
// no recordings takes a real call through the simulator; the call is
// stored and transcribed, but nothing is ever written under
// data_dir/recordings.
func TestPlanWithoutRecordingsWritesNoAudio(t *testing.T) {
	const token, number = "norecord-token", "+12125550100"
	base, dataDir, st := storeServer(t, func(base, dataDir string) string {
		return fmt.Sprintf(`
server: {listen: "127.0.0.1:0", public_url: %q, shutdown_timeout: 3s, data_dir: %q}
twilio: {auth_token: %q}
agent: {mode: echo, echo_delay: 200ms}
plans:
  private: {recordings: 0, transcripts: 30d}
businesses:
  - {id: clinic, name: Private Clinic, numbers: [%q], time_zone: America/New_York, plan: private}
`, base, dataDir, token, number)
	})
	tone := make([]int16, 3*8000)
	for i := range tone {
		tone[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/8000))
	}
	res, err := sim.Call(context.Background(), sim.Options{Server: base, AuthToken: token, From: "+12125550123", To: number,
		Audio: tone, Tail: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.FramesSent == 0 || len(res.Out) == 0 {
		t.Fatalf("no call took place: %+v", res)
	}

	c := finishedCall(t, st, "clinic")
	if c.RecordingID != "" || !c.RecordingExpires.IsZero() {
		t.Errorf("call record has a recording %q (expires %v) on a plan that records nothing", c.RecordingID, c.RecordingExpires)
	}
	if c.TranscriptID == "" {
		t.Errorf("call record has no transcript: the plan keeps transcripts 30 days")
	}
	if _, err := st.Timers().Get(context.Background(), store.TimerID("clinic", store.TimerRecording, c.ID)); err == nil {
		t.Errorf("a recording timer was scheduled")
	}
	entries, err := os.ReadDir(filepath.Join(dataDir, "recordings"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("file written under recordings: %s", e.Name())
	}
	if tr, _ := os.ReadDir(filepath.Join(dataDir, "transcripts")); len(tr) != 1 {
		t.Errorf("transcripts: %d files, want the call's one", len(tr))
	}
}
