package server_test

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/internal/leaktest"
	"github.com/frontdesk/frontdesk/media"
	"github.com/frontdesk/frontdesk/media/webrtc"
	rtcsim "github.com/frontdesk/frontdesk/media/webrtc/sim"
	"github.com/frontdesk/frontdesk/server"
)

// A supervisor listening to a WebRTC call (GET /v1/calls/{id}/listen, real
// WebSocket, stereo at 16 kHz) hears both sides like a phone call's: the
// caller on the left as the caller spoke, the agent (echo, 200 ms later) on
// the right as the caller heard it, from the same tap as the recording.
func TestWebRTCListen(t *testing.T) {
	leaktest.Check(t)
	checkPCs(t)
	e := startLive(t, nil, server.WithWebRTC(webrtc.Config{IPs: []string{"127.0.0.1"}}))
	sup := e.keys["clinic/supervisor"]
	audio := rtcsim.SpeechLike(rtcsim.Rate, 3*time.Second)
	type out struct {
		res *rtcsim.Result
		err error
	}
	done := make(chan out, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		res, err := rtcsim.Call(ctx, rtcsim.Options{Server: e.base, Business: "clinic", Audio: audio, Tail: time.Second, Record: true})
		done <- out{res, err}
	}()
	id, w := watchCall(t, e, sup)
	defer w.Close()
	a, resp, err := e.dial(t, "/v1/calls/"+id+"/listen?format=pcm16&channels=2&rate=16000", sup)
	if err != nil {
		t.Fatalf("listen: %v (%v)", err, resp)
	}
	defer a.Close()
	msgs, code := readAll(t, a, nil)
	o := <-done
	if o.err != nil {
		t.Fatalf("call: %v", o.err)
	}
	if code != websocket.CloseNormalClosure {
		t.Errorf("listener closed with %d, want 1000 after call.ended", code)
	}
	if len(msgs) == 0 || msgs[0].typ() != "hello" {
		t.Fatalf("first message %+v, want hello", msgs)
	}
	var left, right []int16
	ended := false
	for _, m := range msgs[1:] {
		if m.binary == nil {
			ended = ended || m.typ() == "call.ended" && m.event["outcome"] == "completed"
			continue
		}
		if len(m.binary) != 320*2*2 {
			t.Fatalf("frame of %d bytes, want 1280 (20 ms, 16 kHz, stereo, 16-bit)", len(m.binary))
		}
		for i := 0; i < len(m.binary); i += 4 {
			left = append(left, int16(binary.LittleEndian.Uint16(m.binary[i:])))
			right = append(right, int16(binary.LittleEndian.Uint16(m.binary[i+2:])))
		}
	}
	if !ended {
		t.Errorf("no call.ended (completed) event")
	}
	// The listener joined a little after the call began: find each side by
	// correlation over the call's first seconds, not by position.
	maxLag := media.Samples(rtcsim.Rate, 2*time.Second)
	lagC, cc := media.CrossCorrelate(left, audio, maxLag)
	lagA, ca := media.CrossCorrelate(right, o.res.Out, maxLag)
	t.Logf("listener: %v of audio; caller side coeff %.2f, agent side coeff %.2f; offsets %v and %v",
		media.Duration(rtcsim.Rate, len(left)), cc, ca, media.Duration(rtcsim.Rate, lagC), media.Duration(rtcsim.Rate, lagA))
	if cc < 0.5 {
		t.Errorf("caller channel correlates %.2f with what the caller said, want ≥ 0.5", cc)
	}
	if ca < 0.5 {
		t.Errorf("agent channel correlates %.2f with what the caller heard, want ≥ 0.5", ca)
	}
	// Both sides are aligned as the caller experienced them: the same
	// offset (the listener's join) within a few frames.
	if d := media.Duration(rtcsim.Rate, abs(lagC-lagA)); d > maxSkew {
		t.Errorf("caller and agent sides %v apart from the caller's timeline, want within %v", d, maxSkew)
	}
	// And the agent is the echo, 200 ms after the caller.
	lag, coeff := media.CrossCorrelate(left, right, media.Samples(rtcsim.Rate, 400*time.Millisecond))
	if ms := media.Duration(rtcsim.Rate, lag); coeff < 0.4 || ms < 150*time.Millisecond || ms > 350*time.Millisecond {
		t.Errorf("agent channel lags the caller by %v (correlation %.2f), want the 200 ms echo", ms, coeff)
	}
}
