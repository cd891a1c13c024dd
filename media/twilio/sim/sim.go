// Package sim behaves like Twilio toward a Frontdesk server: it posts a
// signed voice webhook, opens the Media Streams WebSocket the TwiML names,
// streams a caller's audio in real time, plays the returned audio on the
// caller's timeline, echoes marks when their audio has played and honours
// clear. The `frontdesk call` and `frontdesk load` commands and the
// end-to-end tests drive real calls through it.
package sim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/media"
	"github.com/frontdesk/frontdesk/media/twilio"
)

// Options describe one simulated call. Zero values take the defaults noted.
type Options struct {
	// Server is the base URL the simulator connects to, e.g. http://localhost:8080.
	Server string
	// PublicURL is the base URL the server believes it has (its
	// server.public_url); Twilio signs requests with it. Default: Server.
	PublicURL string
	// AuthToken signs requests like Twilio does.
	AuthToken  string
	AccountSID string // default a fixed test SID
	From, To   string // E.164
	// Audio is what the caller says: 8 kHz PCM16, sent in real time.
	Audio []int16
	// Digits are pressed one by one (every 250 ms) after Audio.
	Digits string
	// Tail is how long the caller stays on the line after Audio and
	// Digits, listening. Default 2s.
	Tail time.Duration
	// Turns script a conversation instead of Audio: before each turn the
	// caller waits until the agent has spoken and gone quiet for TurnQuiet
	// (or for MaxWait), then says it. After the last turn's reply the caller
	// hangs up.
	Turns     [][]int16
	TurnQuiet time.Duration // default 1.2s
	MaxWait   time.Duration // default 20s
	// TurnDigits are keys pressed in turn k, after its audio (if any).
	TurnDigits map[int]string
	// Interrupt makes turn k barge in: it is said once the agent's reply
	// has been heard for Interrupt[k], instead of after the reply.
	Interrupt map[int]time.Duration
	// Until, if set, ends the call early: it is called after each message
	// received and ends the call when it returns true.
	Until func(*Result) bool
	// Dialer dials the WebSocket; default websocket.DefaultDialer.
	Dialer *websocket.Dialer
	// HTTPClient posts the webhook; default http.DefaultClient.
	HTTPClient *http.Client
}

// Result is what the caller experienced.
type Result struct {
	CallSID   string
	StreamSID string
	// Said holds <Say> texts when the server answered without a stream.
	Said []string
	// Out is the audio the caller heard, 8 kHz, on the caller's timeline:
	// sample 0 plays when the caller's first frame was sent. Audio dropped
	// by a clear before it played is not in it.
	Out []int16

	FramesSent     int
	FramesReceived int
	Marks          []string // marks the server sent, in order
	MarksEchoed    []string // marks echoed back, in order
	Clears         int
	// Gaps are the intervals between consecutive media messages received.
	Gaps []time.Duration
	// TurnStarts holds where each scripted turn began on the caller's
	// timeline, in samples of Out: the agent's reply to turn k lies between
	// the end of turn k and TurnStarts[k+1].
	TurnStarts []int
	// ReplyLatency is, for each scripted turn, the time from the end of the
	// caller's speech to the first audio of the agent's reply, as the
	// caller heard it; -1 when no reply came before the next turn.
	ReplyLatency []time.Duration
	// CloseCode is the WebSocket close code the server sent, 0 if none.
	CloseCode int
	CloseText string
}

// MaxGap returns the largest interval between received media messages.
func (r *Result) MaxGap() time.Duration {
	if len(r.Gaps) == 0 {
		return 0
	}
	return slices.Max(r.Gaps)
}

// GapPercentile returns the p-th percentile (0–100) of Gaps.
func (r *Result) GapPercentile(p float64) time.Duration { return Percentile(r.Gaps, p) }

// Percentile returns the p-th percentile (0–100) of ds without changing ds.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p / 100 * float64(len(s)-1))
	return s[max(0, min(i, len(s)-1))]
}

// ErrNotConnected is returned (with a Result holding Said) when the server
// answered the call without a stream, as it does for an unknown number.
var ErrNotConnected = errors.New("sim: the server answered without a stream")

// Call places one call and returns what the caller experienced.
func Call(ctx context.Context, o Options) (*Result, error) {
	if o.PublicURL == "" {
		o.PublicURL = o.Server
	}
	if o.AccountSID == "" {
		o.AccountSID = "AC00000000000000000000000000000000"
	}
	if o.Tail == 0 {
		o.Tail = 2 * time.Second
	}
	if o.Dialer == nil {
		o.Dialer = websocket.DefaultDialer
	}
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	res := &Result{CallSID: "CA" + randHex(16), StreamSID: "MZ" + randHex(16)}
	tw, err := postVoice(ctx, o, res.CallSID)
	if err != nil {
		return nil, err
	}
	if tw.Connect == nil || tw.Connect.Stream == nil {
		res.Said = tw.Say
		return res, ErrNotConnected
	}
	st := tw.Connect.Stream
	conn, err := dialStream(ctx, o, st.URL)
	if err != nil {
		return nil, err
	}
	params := make(map[string]string, len(st.Parameters))
	for _, p := range st.Parameters {
		params[p.Name] = p.Value
	}
	c := &caller{o: o, conn: conn, res: res, params: params, wake: make(chan struct{}, 1)}
	return res, c.run(ctx)
}

type twimlResponse struct {
	Say     []string  `xml:"Say"`
	Hangup  *struct{} `xml:"Hangup"`
	Connect *struct {
		Stream *struct {
			URL        string `xml:"url,attr"`
			Parameters []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			} `xml:"Parameter"`
		} `xml:"Stream"`
	} `xml:"Connect"`
}

func postVoice(ctx context.Context, o Options, callSID string) (*twimlResponse, error) {
	params := map[string]string{
		"AccountSid": o.AccountSID, "ApiVersion": "2010-04-01", "CallSid": callSID,
		"CallStatus": "ringing", "Direction": "inbound", "From": o.From, "To": o.To,
		"Caller": o.From, "Called": o.To,
	}
	form := url.Values{}
	for k, v := range params {
		form.Set(k, v)
	}
	signed := strings.TrimSuffix(o.PublicURL, "/") + "/twilio/voice"
	target := strings.TrimSuffix(o.Server, "/") + "/twilio/voice"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("sim: voice webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twilio.Sign(o.AuthToken, signed, params))
	resp, err := o.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sim: voice webhook: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("sim: voice webhook: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("sim: voice webhook: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	var tw twimlResponse
	if err := xml.Unmarshal(body, &tw); err != nil {
		return nil, fmt.Errorf("sim: voice webhook: parse TwiML: %w", err)
	}
	return &tw, nil
}

// dialStream opens the stream the TwiML names. Twilio signs the upgrade
// with the URL as written in the TwiML; the simulator connects to the same
// path on Server, since the public host may not be reachable from here.
func dialStream(ctx context.Context, o Options, streamURL string) (*websocket.Conn, error) {
	pub, err := url.Parse(streamURL)
	if err != nil {
		return nil, fmt.Errorf("sim: stream URL %q: %w", streamURL, err)
	}
	base, err := url.Parse(o.Server)
	if err != nil {
		return nil, fmt.Errorf("sim: server URL %q: %w", o.Server, err)
	}
	target := *pub
	target.Host = base.Host
	target.Scheme = "ws"
	if base.Scheme == "https" {
		target.Scheme = "wss"
	}
	h := http.Header{}
	h.Set("X-Twilio-Signature", twilio.Sign(o.AuthToken, streamURL, nil))
	conn, resp, err := o.Dialer.DialContext(ctx, target.String(), h)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("sim: open stream: %s: %w", resp.Status, err)
		}
		return nil, fmt.Errorf("sim: open stream: %w", err)
	}
	return conn, nil
}

// caller runs one stream: a sender paced at real time and a receiver that
// models Twilio's playback buffer.
type caller struct {
	o      Options
	conn   *websocket.Conn
	res    *Result
	params map[string]string
	wake   chan struct{} // the receiver has marks or news for the sender

	mu       sync.Mutex // guards res, t0, playEnd, pending, lastRecv
	t0       time.Time  // when the first caller frame was sent
	playEnd  time.Time  // when the audio received so far will have played
	pending  []pendingMark
	lastRecv time.Time
	done     bool
}

type pendingMark struct {
	name string
	at   time.Time
}

func (c *caller) run(parent context.Context) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	// The caller's timeline starts now: the first frame leaves right after
	// connected and start.
	c.t0 = time.Now()
	c.playEnd = c.t0
	recvErr := make(chan error, 1)
	go func() {
		err := c.receive()
		cancel()
		recvErr <- err
	}()
	sendErr := c.send(ctx)
	// Closing tells the server we hung up; the receiver then ends.
	_ = c.conn.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, "hangup"), time.Now().Add(time.Second))
	t := time.AfterFunc(2*time.Second, func() { _ = c.conn.Close() })
	rerr := <-recvErr
	t.Stop()
	_ = c.conn.Close()
	if sendErr != nil && !errors.Is(sendErr, context.Canceled) && !errors.Is(sendErr, errHungUp) {
		return sendErr
	}
	if rerr != nil {
		return rerr
	}
	return parent.Err() // nil unless the caller's ctx ended the call
}

// errHungUp ends the sender when the server has closed the stream: the
// server hanging up is a normal end of the call.
var errHungUp = errors.New("sim: the server hung up")

func (c *caller) write(msg []byte) error {
	_ = c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	err := c.conn.WriteMessage(websocket.TextMessage, msg)
	if err != nil && c.finished() {
		return errHungUp
	}
	return err
}

// send streams connected, start, the caller's audio and digits at real
// time, silence during the tail (Twilio streams continuously), then stop.
func (c *caller) send(ctx context.Context) error {
	sid := c.res.StreamSID
	seq := int64(1)
	buf := make([]byte, 0, 1024)
	if err := c.write(twilio.AppendConnected(buf[:0])); err != nil {
		return fmt.Errorf("sim: send connected: %w", err)
	}
	start := &twilio.Start{
		StreamSID: sid, AccountSID: c.o.AccountSID, CallSID: c.res.CallSID,
		Tracks: []string{"inbound"}, CustomParameters: c.params,
		MediaFormat: twilio.MediaFormat{Encoding: "audio/x-mulaw", SampleRate: 8000, Channels: 1},
	}
	if err := c.write(twilio.AppendStart(buf[:0], seq, start)); err != nil {
		return fmt.Errorf("sim: send start: %w", err)
	}
	seq++

	sc := newScript(c.o)
	var ulaw [twilio.FrameSamples]byte
	sendFrame := func() error {
		c.mu.Lock()
		pcm, digit, ok := sc.next(c.index(time.Now()), c.agentState())
		c.mu.Unlock()
		if !ok {
			return nil
		}
		k := media.EncodeUlaw(ulaw[:], pcm)
		for j := k; j < len(ulaw); j++ {
			ulaw[j] = 0xFF // μ-law silence
		}
		ts := int64(sc.frame) * int64(media.FrameDuration/time.Millisecond)
		buf = twilio.AppendInboundMedia(buf[:0], sid, seq, int64(sc.frame), ts, ulaw[:])
		seq++
		if err := c.write(buf); err != nil {
			return fmt.Errorf("sim: send media: %w", err)
		}
		c.mu.Lock()
		c.res.FramesSent++
		c.mu.Unlock()
		if digit != "" {
			buf = twilio.AppendDTMF(buf[:0], sid, seq, digit)
			seq++
			if err := c.write(buf); err != nil {
				return fmt.Errorf("sim: send dtmf: %w", err)
			}
		}
		return nil
	}

	tick := time.NewTicker(media.FrameDuration)
	defer tick.Stop()
	if err := sendFrame(); err != nil {
		return err
	}
	for !sc.over() && !c.finished() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			if err := sendFrame(); err != nil {
				return err
			}
		case <-c.wake:
		}
		// Echo every mark whose audio has played by now.
		for _, name := range c.dueMarks(time.Now()) {
			buf = twilio.AppendMarkEcho(buf[:0], sid, seq, name)
			seq++
			if err := c.write(buf); err != nil {
				return fmt.Errorf("sim: echo mark: %w", err)
			}
		}
	}
	c.mu.Lock()
	c.res.TurnStarts = sc.starts
	c.res.ReplyLatency = replyLatencies(c.res.Out, sc.starts, c.o.Turns)
	c.mu.Unlock()
	if err := c.write(twilio.AppendStop(buf[:0], sid, seq, c.o.AccountSID, c.res.CallSID)); err != nil {
		return fmt.Errorf("sim: send stop: %w", err)
	}
	return nil
}

// agentState reports, under c.mu, how much the caller has heard and when
// the agent's audio will have finished playing (as a sample index).
func (c *caller) agentState() agentState {
	return agentState{framesHeard: c.res.FramesReceived, playEnd: c.index(c.playEnd)}
}

func (c *caller) finished() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.done
}

// dueMarks removes and returns the marks whose audio has played by now.
func (c *caller) dueMarks(now time.Time) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var due []string
	keep := c.pending[:0]
	for _, m := range c.pending {
		if m.at.After(now) {
			keep = append(keep, m)
			continue
		}
		due = append(due, m.name)
		c.res.MarksEchoed = append(c.res.MarksEchoed, m.name)
	}
	c.pending = keep
	return due
}

func (c *caller) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// receive reads the server's messages and plays them on the caller's
// timeline, as Twilio's buffer would.
func (c *caller) receive() error {
	var dec twilio.Decoder
	var ev twilio.Event
	var pcm [8 * twilio.FrameSamples]int16
	for {
		typ, data, err := c.conn.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				c.mu.Lock()
				c.res.CloseCode, c.res.CloseText = ce.Code, ce.Text
				c.done = true
				c.mu.Unlock()
				c.poke()
				return nil
			}
			c.mu.Lock()
			c.done = true
			c.mu.Unlock()
			c.poke()
			if errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil
			}
			return fmt.Errorf("sim: read: %w", err)
		}
		if typ != websocket.TextMessage {
			return fmt.Errorf("sim: server sent a binary frame")
		}
		if err := dec.Decode(data, &ev); err != nil {
			return fmt.Errorf("sim: server sent an invalid message: %w", err)
		}
		if ev.StreamSID != "" && ev.StreamSID != c.res.StreamSID {
			return fmt.Errorf("sim: server sent streamSid %q, want %q", ev.StreamSID, c.res.StreamSID)
		}
		now := time.Now()
		c.mu.Lock()
		switch ev.Type {
		case twilio.EventMedia:
			if !c.lastRecv.IsZero() {
				c.res.Gaps = append(c.res.Gaps, now.Sub(c.lastRecv))
			}
			c.lastRecv = now
			c.res.FramesReceived++
			if c.playEnd.Before(now) {
				c.playEnd = now
			}
			p := ev.Payload
			for len(p) > 0 {
				n := min(len(p), len(pcm))
				media.DecodeUlaw(pcm[:n], p[:n])
				c.place(c.playEnd, pcm[:n])
				c.playEnd = c.playEnd.Add(time.Duration(n) * time.Second / twilio.Rate)
				p = p[n:]
			}
		case twilio.EventMark:
			c.res.Marks = append(c.res.Marks, ev.Mark)
			c.pending = append(c.pending, pendingMark{name: ev.Mark, at: c.playEnd})
		case twilio.EventClear:
			c.res.Clears++
			if c.playEnd.After(now) {
				// What was buffered but not yet played is never heard.
				c.res.Out = c.res.Out[:min(max(c.index(now), 0), len(c.res.Out))]
				c.playEnd = now
			}
			for i := range c.pending {
				c.pending[i].at = time.Time{}
			}
		default:
			c.mu.Unlock()
			return fmt.Errorf("sim: server sent unexpected event %q", ev.Name)
		}
		stop := c.o.Until != nil && c.o.Until(c.res)
		if stop {
			c.done = true
		}
		c.mu.Unlock()
		c.poke()
	}
}

// index is the sample index of t on the caller's timeline.
func (c *caller) index(t time.Time) int {
	return int(t.Sub(c.t0) * twilio.Rate / time.Second)
}

// place writes pcm into Out at the position of time at.
func (c *caller) place(at time.Time, pcm []int16) {
	i := max(c.index(at), 0)
	if need := i + len(pcm); need > len(c.res.Out) {
		c.res.Out = append(c.res.Out, make([]int16, need-len(c.res.Out))...)
	}
	copy(c.res.Out[i:], pcm)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
