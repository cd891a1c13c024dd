package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/live"
)

const (
	liveWriteTimeout = 10 * time.Second // a supervisor whose network stalls longer is dropped
	livePingEvery    = 20 * time.Second
	// liveSendBuffer keeps the kernel's share of a listener's backlog small
	// (under a second of the richest format): a stalled listener's backlog
	// then sits in the hub's bounded queue, where drops are counted and
	// reported, not in socket buffers.
	liveSendBuffer = 64 << 10
)

var liveUpgrader = websocket.Upgrader{
	ReadBufferSize:    1024,
	WriteBufferSize:   4096,
	HandshakeTimeout:  10 * time.Second,
	EnableCompression: false,
	CheckOrigin:       sameOrigin,
}

// sameOrigin accepts clients that send no Origin (tools, tests) and pages
// of this server; a token leaked to another site's page cannot be used from it.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// needUpgrade refuses a plain HTTP request on a WebSocket route, after
// authentication and lookup, before anything else.
func needUpgrade(r *http.Request) error {
	if !websocket.IsWebSocketUpgrade(r) {
		return errorf(http.StatusBadRequest, "websocket_required", "this endpoint is a WebSocket: send an upgrade request", nil)
	}
	return nil
}

// listenFormat reads format, channels and rate from the query.
func listenFormat(q url.Values) (live.Format, error) {
	f := live.Format{Encoding: live.EncodingPCM16, Rate: 8000, Channels: 1}
	if v := q.Get("format"); v != "" {
		f.Encoding = v
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"rate", &f.Rate}, {"channels", &f.Channels}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return f, errorf(http.StatusBadRequest, "bad_request", fmt.Sprintf("%s=%q: want a number", p.name, v), nil)
			}
			*p.dst = n
		}
	}
	if err := f.Validate(); err != nil {
		return f, errorf(http.StatusBadRequest, "bad_request", err.Error(), nil)
	}
	return f, nil
}

// apiListen is GET /v1/calls/{id}/listen: one live call's audio and events.
func (s *Server) apiListen(w http.ResponseWriter, r *http.Request, c *caller) error {
	f, err := listenFormat(r.URL.Query())
	if err != nil {
		return err
	}
	enc, err := live.NewEncoder(f)
	if err != nil {
		return errorf(http.StatusBadRequest, "bad_request", err.Error(), err)
	}
	id := r.PathValue("id")
	ctx, cancel := context.WithCancel(s.liveCtx)
	defer cancel()
	l, err := s.hub.Listen(ctx, id, c.key.BusinessID, live.ListenOptions{})
	if errors.Is(err, live.ErrNotFound) {
		return errorf(http.StatusNotFound, "not_found", "no live call "+id, nil)
	} else if err != nil {
		return fmt.Errorf("listen to %s: %w", id, err)
	}
	defer l.Close()
	if err := needUpgrade(r); err != nil {
		return err
	}
	conn, err := liveUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return nil // the upgrader has answered the client
	}
	defer conn.Close()
	log := s.log.With("call_id", id, "business", c.key.BusinessID, "key_id", c.key.ID)
	log.Info("supervisor listening", "format", f.Encoding, "rate", f.Rate, "channels", f.Channels)
	smallSendBuffer(conn)
	defer readUntilClosed(conn, cancel)()
	err = s.serveListener(ctx, conn, l, enc, f, id)
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Info("supervisor listener ended", "err", err)
	}
	return nil
}

func smallSendBuffer(conn *websocket.Conn) {
	if tc, ok := conn.NetConn().(interface{ SetWriteBuffer(int) error }); ok {
		_ = tc.SetWriteBuffer(liveSendBuffer)
	}
}

// readUntilClosed starts reading (and discarding) client messages so
// control frames are answered, cancelling when the client goes away. The
// returned func closes conn and waits for the reader.
func readUntilClosed(conn *websocket.Conn, cancel context.CancelFunc) (closeAndWait func()) {
	done := make(chan struct{})
	conn.SetReadLimit(4096)
	go func() {
		defer close(done)
		defer cancel()
		for {
			if _, _, err := conn.NextReader(); err != nil {
				return
			}
		}
	}()
	return func() { _ = conn.Close(); <-done }
}

type helloMsg struct {
	Type     string `json:"type"`
	CallID   string `json:"call_id"`
	Format   string `json:"format"`
	Rate     int    `json:"rate"`
	Channels int    `json:"channels"`
	FrameMS  int    `json:"frame_ms"`
}

// serveListener writes hello, the history, then events and audio until the
// call ends (close 1000), the client leaves or the server stops.
func (s *Server) serveListener(ctx context.Context, conn *websocket.Conn, l *live.Listener, enc *live.Encoder, f live.Format, id string) error {
	write := func(kind int, b []byte) error {
		_ = conn.SetWriteDeadline(time.Now().Add(liveWriteTimeout))
		return conn.WriteMessage(kind, b)
	}
	hello, _ := json.Marshal(helloMsg{Type: "hello", CallID: id, Format: f.Encoding, Rate: f.Rate, Channels: f.Channels, FrameMS: 20})
	if err := write(websocket.TextMessage, hello); err != nil {
		return err
	}
	events := func() error {
		for {
			raw, ok := l.NextEvent()
			if !ok {
				return nil
			}
			if err := write(websocket.TextMessage, raw); err != nil {
				return err
			}
		}
	}
	// The history first: a late joiner reads the transcript so far.
	if err := events(); err != nil {
		return err
	}
	var fr live.Frame
	var buf []byte
	var reported [2]uint64
	ping := time.NewTicker(livePingEvery)
	defer ping.Stop()
	for {
		// Audio before events: the two queues are separate and the end
		// event must not overtake the call's last frames.
		for l.NextAudio(&fr) {
			var err error
			if buf, err = enc.Encode(buf[:0], &fr); err != nil {
				return err
			}
			if err := write(websocket.BinaryMessage, buf); err != nil {
				return err
			}
		}
		if frames, evs := l.Dropped(); frames != reported[0] || evs != reported[1] {
			// Tell this listener what it lost since the last report
			// (before the events, so call.ended stays last).
			msg, _ := json.Marshal(live.Event{Type: live.EventDropped, Frames: frames - reported[0], Events: evs - reported[1]})
			reported = [2]uint64{frames, evs}
			if err := write(websocket.TextMessage, msg); err != nil {
				return err
			}
		}
		if err := events(); err != nil {
			return err
		}
		if l.Done() {
			_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "call ended"),
				time.Now().Add(time.Second))
			return nil
		}
		select {
		case <-ctx.Done():
			_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server stopping"),
				time.Now().Add(time.Second))
			return ctx.Err()
		case <-ping.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(liveWriteTimeout)); err != nil {
				return err
			}
		case <-l.Ready():
		}
	}
}

// apiLiveCalls is GET /v1/live: the business's live calls, then changes.
func (s *Server) apiLiveCalls(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := needUpgrade(r); err != nil {
		return err
	}
	conn, err := liveUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return nil
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(s.liveCtx)
	defer cancel()
	defer readUntilClosed(conn, cancel)()
	wt := s.hub.Watch(ctx, c.key.BusinessID)
	defer wt.Close()
	ping := time.NewTicker(livePingEvery)
	defer ping.Stop()
	for {
		for {
			u, ok := wt.Next()
			if !ok {
				break
			}
			b, err := json.Marshal(u)
			if err != nil {
				return nil
			}
			_ = conn.SetWriteDeadline(time.Now().Add(liveWriteTimeout))
			if err := conn.WriteMessage(websocket.TextMessage, b); err != nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, ""), time.Now().Add(time.Second))
			return nil
		case <-ping.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(liveWriteTimeout)); err != nil {
				return nil
			}
		case <-wt.Ready():
		}
	}
}
