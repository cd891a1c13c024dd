package twilio_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/internal/leaktest"
	"github.com/frontdesk/frontdesk/media"
	"github.com/frontdesk/frontdesk/media/twilio"
)

// pair starts a real WebSocket server on loopback whose handler accepts a
// Session and hands it to fn, and returns the client side of the socket.
func pair(t *testing.T, opts twilio.SessionOptions, fn func(*twilio.Session, error)) *websocket.Conn {
	t.Helper()
	up := websocket.Upgrader{}
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			t.Errorf("upgrade: %v", err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s, err := twilio.Accept(ctx, conn, opts)
		fn(s, err)
	}))
	t.Cleanup(func() {
		<-done
		srv.Close()
	})
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

const sid = "MZ0123456789abcdef0123456789abcdef"

func startMsgs(t *testing.T, c *websocket.Conn) {
	t.Helper()
	send(t, c, twilio.AppendConnected(nil))
	send(t, c, twilio.AppendStart(nil, 1, &twilio.Start{
		StreamSID: sid, AccountSID: "AC1", CallSID: "CA1", Tracks: []string{"inbound"},
		CustomParameters: map[string]string{"token": "t"},
		MediaFormat:      twilio.MediaFormat{Encoding: "audio/x-mulaw", SampleRate: 8000, Channels: 1},
	}))
}

func send(t *testing.T, c *websocket.Conn, msg []byte) {
	t.Helper()
	if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// readEvents reads server messages until the socket closes, returning the
// events with their arrival times and the close error.
type arrival struct {
	ev twilio.Event
	at time.Time
}

func readAll(c *websocket.Conn, until func([]arrival) bool) ([]arrival, error) {
	var out []arrival
	var dec twilio.Decoder
	for {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, data, err := c.ReadMessage()
		if err != nil {
			return out, err
		}
		var ev twilio.Event
		if err := dec.Decode(data, &ev); err != nil {
			return out, err
		}
		ev.Payload = append([]byte(nil), ev.Payload...)
		out = append(out, arrival{ev, time.Now()})
		if until != nil && until(out) {
			return out, nil
		}
	}
}

func TestSessionPacesAudioAndMarks(t *testing.T) {
	leaktest.Check(t)
	const lead = 100 * time.Millisecond
	runErr := make(chan error, 1)
	c := pair(t, twilio.SessionOptions{Lead: lead}, func(s *twilio.Session, err error) {
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		if got := s.Start().CustomParameters["token"]; got != "t" {
			t.Errorf("custom parameter token = %q, want t", got)
		}
		// One second of audio, a mark, half a second more, another mark.
		s.Play(make([]int16, twilio.Rate))
		s.Mark("one")
		s.Play(make([]int16, twilio.Rate/2))
		s.Mark("two")
		runErr <- s.Run(context.Background())
	})
	startMsgs(t, c)
	evs, err := readAll(c, func(a []arrival) bool { return a[len(a)-1].ev.Type == twilio.EventMark && a[len(a)-1].ev.Mark == "two" })
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var frames, marksAt []int
	for i, a := range evs {
		switch a.ev.Type {
		case twilio.EventMedia:
			frames = append(frames, i)
			if len(a.ev.Payload) != twilio.FrameSamples {
				t.Errorf("frame %d: %d bytes, want %d", len(frames), len(a.ev.Payload), twilio.FrameSamples)
			}
		case twilio.EventMark:
			marksAt = append(marksAt, len(frames))
		}
	}
	if len(frames) != 75 {
		t.Errorf("got %d frames, want 75 (1.5 s)", len(frames))
	}
	if want := []int{50, 75}; len(marksAt) != 2 || marksAt[0] != want[0] || marksAt[1] != want[1] {
		t.Errorf("marks after frames %v, want %v", marksAt, want)
	}
	// Pacing: by any moment, the server cannot have sent more than real
	// time allows plus the lead. (Arrival is later than sending, so this
	// bound holds however slow the machine is.)
	first := evs[frames[0]].at
	allowed := int(lead/(20*time.Millisecond)) + 1
	for n, i := range frames {
		elapsed := evs[i].at.Sub(first)
		if limit := int(elapsed/(20*time.Millisecond)) + allowed; n+1 > limit {
			t.Fatalf("frame %d arrived %v after the first: more than real time + lead (%d)", n+1, elapsed, limit)
		}
	}
	// Echo the marks as Twilio would: the session reports them.
	send(t, c, twilio.AppendMarkEcho(nil, sid, 2, "one"))
	send(t, c, twilio.AppendStop(nil, sid, 3, "AC1", "CA1"))
	if err := <-runErr; err != nil {
		t.Errorf("Run = %v, want nil after stop", err)
	}
}

func TestSessionClear(t *testing.T) {
	leaktest.Check(t)
	var sess *twilio.Session
	ready := make(chan struct{})
	runErr := make(chan error, 1)
	c := pair(t, twilio.SessionOptions{}, func(s *twilio.Session, err error) {
		if err != nil {
			t.Errorf("accept: %v", err)
			close(ready)
			return
		}
		sess = s
		s.Play(make([]int16, 10*twilio.Rate))
		s.Mark("never")
		close(ready)
		runErr <- s.Run(context.Background())
	})
	startMsgs(t, c)
	<-ready
	if _, err := readAll(c, func(a []arrival) bool { return len(a) == 10 }); err != nil {
		t.Fatal(err)
	}
	sess.Clear()
	evs, err := readAll(c, func(a []arrival) bool { return a[len(a)-1].ev.Type == twilio.EventClear })
	if err != nil {
		t.Fatalf("read until clear: %v", err)
	}
	if q := sess.Queued(); q != 0 {
		t.Errorf("queued after clear = %v, want 0", q)
	}
	// After the clear nothing more comes: the 10 s of audio and its mark
	// were dropped. Play a short tail to prove the session still works.
	sess.Play(make([]int16, twilio.FrameSamples))
	sess.Mark("after")
	evs, err = readAll(c, func(a []arrival) bool { return a[len(a)-1].ev.Type == twilio.EventMark })
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].ev.Type != twilio.EventMedia || evs[1].ev.Mark != "after" {
		t.Errorf("after clear got %d events (%v), want one frame then mark \"after\"", len(evs), evs)
	}
	if st := sess.Stats(); st.Clears != 1 || st.FramesOut > 20 {
		t.Errorf("stats %+v: want 1 clear and few frames out", st)
	}
	c.Close()
	if err := <-runErr; err != nil {
		t.Errorf("Run = %v, want nil after the peer closed", err)
	}
}

func TestSessionDeliversAudioDTMFAndCountsGaps(t *testing.T) {
	leaktest.Check(t)
	got := make(chan []media.In, 1)
	stats := make(chan twilio.Stats, 1)
	c := pair(t, twilio.SessionOptions{}, func(s *twilio.Session, err error) {
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		collected := make(chan []media.In)
		go func() {
			var ins []media.In
			for in := range s.In() {
				ins = append(ins, in)
			}
			collected <- ins
		}()
		_ = s.Run(context.Background())
		got <- <-collected
		stats <- s.Stats()
	})
	startMsgs(t, c)
	ulaw := make([]byte, 160)
	for i := range ulaw {
		ulaw[i] = 0x80 // +32124
	}
	send(t, c, twilio.AppendInboundMedia(nil, sid, 2, 1, 0, ulaw))
	send(t, c, twilio.AppendInboundMedia(nil, sid, 5, 4, 60, ulaw)) // 3 and 4 lost
	send(t, c, twilio.AppendDTMF(nil, sid, 6, "7"))
	send(t, c, []byte(`{"event":"surprise","sequenceNumber":"7"}`))
	send(t, c, []byte(`{not json`))
	send(t, c, twilio.AppendStop(nil, sid, 8, "AC1", "CA1"))
	ins := <-got
	st := <-stats
	if len(ins) != 3 || ins[0].Kind != media.InAudio || ins[2].Kind != media.InDTMF || ins[2].Digit != "7" {
		t.Fatalf("got %+v, want audio, audio, dtmf 7", ins)
	}
	if ins[0].N != 160 || ins[0].Frame[0] != 32124 {
		t.Errorf("audio frame: n=%d first=%d, want 160 samples of 32124", ins[0].N, ins[0].Frame[0])
	}
	if ins[1].Timestamp != 60*time.Millisecond {
		t.Errorf("timestamp %v, want 60ms", ins[1].Timestamp)
	}
	if st.FramesLost != 2 || st.FramesIn != 2 || st.Unknown != 1 || st.DTMF != 1 {
		t.Errorf("stats %+v, want 2 lost, 2 in, 1 unknown, 1 dtmf", st)
	}
}

func TestSessionRejects(t *testing.T) {
	ulaw := make([]byte, 160)
	tests := []struct {
		name     string
		send     func(t *testing.T, c *websocket.Conn)
		wantCode int
	}{
		{"media before start", func(t *testing.T, c *websocket.Conn) {
			send(t, c, twilio.AppendConnected(nil))
			send(t, c, twilio.AppendInboundMedia(nil, sid, 1, 1, 0, ulaw))
		}, websocket.ClosePolicyViolation},
		{"binary frame", func(t *testing.T, c *websocket.Conn) {
			startMsgs(t, c)
			_ = c.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3})
		}, websocket.CloseUnsupportedData},
		{"oversize message", func(t *testing.T, c *websocket.Conn) {
			startMsgs(t, c)
			_ = c.WriteMessage(websocket.TextMessage, []byte(`{"event":"media","pad":"`+strings.Repeat("x", 10000)+`"}`))
		}, websocket.CloseMessageTooBig},
		{"wrong streamSid", func(t *testing.T, c *websocket.Conn) {
			startMsgs(t, c)
			send(t, c, twilio.AppendInboundMedia(nil, "MZother", 2, 1, 0, ulaw))
		}, websocket.ClosePolicyViolation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaktest.Check(t)
			c := pair(t, twilio.SessionOptions{}, func(s *twilio.Session, err error) {
				if err == nil {
					_ = s.Run(context.Background())
				}
			})
			tt.send(t, c)
			_, err := readAll(c, nil)
			if !websocket.IsCloseError(err, tt.wantCode) {
				t.Errorf("got %v, want close code %d", err, tt.wantCode)
			}
		})
	}
}

func TestSessionEndsOnContext(t *testing.T) {
	leaktest.Check(t)
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	c := pair(t, twilio.SessionOptions{}, func(s *twilio.Session, err error) {
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		runErr <- s.Run(ctx)
	})
	startMsgs(t, c)
	cancel()
	_, err := readAll(c, nil)
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Errorf("got %v, want close 1001 going away", err)
	}
	if err := <-runErr; err != nil {
		t.Errorf("Run = %v, want nil on shutdown", err)
	}
}
