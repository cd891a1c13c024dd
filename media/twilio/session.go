package twilio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/media"
)

// Rate is the sample rate of Media Streams audio.
const Rate = 8000

// FrameSamples is the number of samples in one 20 ms Media Streams frame.
const FrameSamples = Rate / 50

// Defaults for SessionOptions.
const (
	DefaultReadLimit    = 4096
	DefaultLead         = 100 * time.Millisecond
	DefaultPingInterval = 10 * time.Second
	DefaultReadTimeout  = 30 * time.Second
	DefaultQueueLimit   = 120 * time.Second
	inboundQueue        = 50 // one second of frames
)

// Errors that end a session because of what the peer sent.
var (
	ErrBinaryFrame      = errors.New("twilio: binary frame (Media Streams sends text only)")
	ErrMediaBeforeStart = errors.New("twilio: media before start")
	ErrWrongStream      = errors.New("twilio: event for another streamSid")
	ErrNoStart          = errors.New("twilio: stream ended before start")
)

// Metrics receives counts from a Session's loops. Implementations must be
// safe for concurrent use and cheap: they are called once per frame.
type Metrics interface {
	FrameIn()
	FramesLost(n int)
	FrameOut(lateness time.Duration)
}

// SessionOptions tunes a Session. Zero values take the defaults above.
type SessionOptions struct {
	// ReadLimit caps one message; a larger one closes the socket with 1009.
	ReadLimit int64
	// Lead is how much audio may sit in Twilio's buffer ahead of the
	// caller's ear. Small enough that clear silences the line at once,
	// large enough to ride out scheduling jitter.
	Lead time.Duration
	// PingInterval is how often a WebSocket ping is sent.
	PingInterval time.Duration
	// ReadTimeout ends the session when nothing arrives for this long.
	ReadTimeout time.Duration
	// QueueLimit caps the audio waiting to be sent; more is dropped.
	QueueLimit time.Duration
	Metrics    Metrics
	// Sent, if set, is called by the writer with each frame of μ-law audio
	// right after it was sent: what the caller hears, when they hear it (a
	// recording taps here). It must not block or keep the slice.
	Sent   func(ulaw []byte)
	Logger *slog.Logger
	// Now is the clock; tests may replace it.
	Now func() time.Time
}

// Stats counts what a session saw.
type Stats = media.Stats

// Session is the server side of one Media Streams WebSocket. Accept reads
// the stream's connected and start events; Run then moves audio until the
// stream stops. Play, Mark, Clear, Stats and Close are safe for concurrent
// use with Run and with each other.
type Session struct {
	// immutable after Accept
	conn  *websocket.Conn
	opts  SessionOptions
	log   *slog.Logger
	start Start
	in    chan media.In
	wake  chan struct{}
	done  chan struct{}

	closeOnce sync.Once

	// owned by readLoop
	dec     Decoder
	ev      Event
	lastSeq int64
	readBuf []byte

	// owned by writeLoop
	wbuf    []byte
	sentBuf []byte    // a copy of the frame just sent, for Sent
	playEnd time.Time // when Twilio will have played all we sent

	mu       sync.Mutex
	queue    []outItem     // guarded by mu; audio and marks in send order
	head     int           // guarded by mu; index of the first unsent item
	queued   time.Duration // guarded by mu
	partial  outItem       // guarded by mu; a frame being filled by Play
	stats    Stats         // guarded by mu
	clearReq bool          // guarded by mu
	lastMark string        // guarded by mu; last mark Twilio echoed
}

type outItem struct {
	ulaw [FrameSamples]byte
	n    int    // audio bytes; 0 for a mark
	mark string // mark name when n == 0
	at   time.Time
}

// Accept reads connected and start from conn and returns a Session ready to
// Run. It never creates call state: the caller checks Start's parameters
// (the call token) before it does. On error the connection is closed.
func Accept(ctx context.Context, conn *websocket.Conn, opts SessionOptions) (*Session, error) {
	s := newSession(conn, opts)
	if err := s.readStart(ctx); err != nil {
		s.closeWith(closeCodeFor(err), err.Error())
		return nil, err
	}
	return s, nil
}

func newSession(conn *websocket.Conn, opts SessionOptions) *Session {
	if opts.ReadLimit <= 0 {
		opts.ReadLimit = DefaultReadLimit
	}
	if opts.Lead <= 0 {
		opts.Lead = DefaultLead
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = DefaultPingInterval
	}
	if opts.ReadTimeout <= 0 {
		opts.ReadTimeout = DefaultReadTimeout
	}
	if opts.QueueLimit <= 0 {
		opts.QueueLimit = DefaultQueueLimit
	}
	if opts.Metrics == nil {
		opts.Metrics = nopMetrics{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	conn.SetReadLimit(opts.ReadLimit)
	conn.SetPongHandler(func(string) error {
		return conn.SetReadDeadline(time.Now().Add(opts.ReadTimeout))
	})
	return &Session{
		conn:    conn,
		opts:    opts,
		log:     opts.Logger,
		in:      make(chan media.In, inboundQueue),
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		wbuf:    make([]byte, 0, 512),
		readBuf: make([]byte, 0, 1024),
	}
}

// OutputRate is the rate Play takes: 8 kHz.
func (s *Session) OutputRate() int { return Rate }

// Start returns the stream's start event: stream and call SIDs, custom
// parameters and media format.
func (s *Session) Start() Start { return s.start }

// In delivers caller audio, key presses and echoed marks, in order. It is
// closed when Run returns. A call that falls a second behind loses frames
// (counted in Stats.FramesDropped) rather than stalling the socket.
func (s *Session) In() <-chan media.In { return s.in }

// Stats returns the counts so far.
func (s *Session) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// LastMark returns the name of the last mark Twilio echoed, "" if none.
func (s *Session) LastMark() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastMark
}

// Play queues 8 kHz PCM16 audio for the caller. It returns at once; the
// audio leaves at real time. Audio beyond the queue limit is dropped.
func (s *Session) Play(pcm []int16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	for len(pcm) > 0 {
		p := &s.partial
		n := media.EncodeUlaw(p.ulaw[p.n:], pcm)
		p.n += n
		pcm = pcm[n:]
		if p.n == FrameSamples {
			p.at = now
			s.pushLocked(*p)
			*p = outItem{}
		}
	}
	s.wakeWriter()
}

// Mark queues a mark after the audio played so far; Twilio echoes it when
// that audio has played, or when Clear discarded it.
func (s *Session) Mark(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushPartialLocked()
	s.pushLocked(outItem{mark: name, at: s.opts.Now()})
	s.wakeWriter()
}

// Flush sends a trailing partial frame instead of waiting for more audio.
func (s *Session) Flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushPartialLocked()
	s.wakeWriter()
}

// Clear drops the audio not yet sent and asks Twilio to drop what it has
// buffered. Marks queued behind that audio are dropped too; marks already
// sent come back from Twilio as usual.
func (s *Session) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = s.queue[:0]
	s.head = 0
	s.queued = 0
	s.partial = outItem{}
	s.clearReq = true
	s.wakeWriter()
}

// queueLen is the number of items the queue holds, sent or not (tests).
func (s *Session) queueLen() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cap(s.queue)
}

// Queued returns how much audio is waiting to be sent.
func (s *Session) Queued() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queued
}

func (s *Session) flushPartialLocked() {
	if s.partial.n > 0 {
		s.partial.at = s.opts.Now()
		s.pushLocked(s.partial)
		s.partial = outItem{}
	}
}

func (s *Session) pushLocked(it outItem) {
	if it.n > 0 {
		d := samplesDur(it.n)
		if s.queued+d > s.opts.QueueLimit {
			s.stats.FramesDropped++
			return
		}
		s.queued += d
	}
	// Reclaim the sent items once they are half the slice, so a queue that
	// never drains (echo: a second always waiting) stays bounded.
	if s.head > 0 && s.head >= len(s.queue)/2 {
		n := copy(s.queue, s.queue[s.head:])
		s.queue = s.queue[:n]
		s.head = 0
	}
	s.queue = append(s.queue, it)
}

func (s *Session) wakeWriter() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func samplesDur(n int) time.Duration { return time.Duration(n) * time.Second / Rate }

// Run moves audio until Twilio sends stop (nil), the socket closes (nil),
// the peer breaks the protocol (an error) or ctx ends (ctx.Err()). It closes
// the socket and the In channel before it returns.
func (s *Session) Run(parent context.Context) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	readErr := make(chan error, 1)
	go func() {
		err := s.readLoop()
		cancel()
		readErr <- err
	}()
	werr := s.writeLoop(ctx)
	// The read loop ends when the socket closes; close it for the cases where
	// the write loop ended first (shutdown or a write error).
	code, text := websocket.CloseNormalClosure, "bye"
	if parent.Err() != nil {
		code, text = websocket.CloseGoingAway, "server shutting down"
	}
	s.closeWith(code, text)
	rerr := <-readErr
	close(s.in)
	switch {
	case rerr != nil:
		return rerr
	case werr != nil && !errors.Is(werr, context.Canceled):
		return werr
	}
	return nil // a hang-up or a shutdown is a normal end
}

// Close ends the session. It is idempotent.
func (s *Session) Close() error {
	s.closeWith(websocket.CloseNormalClosure, "bye")
	return nil
}

// CloseWith ends the session with a WebSocket close code and reason, for a
// stream refused after start (an invalid call token, say). Idempotent.
func (s *Session) CloseWith(code int, reason string) { s.closeWith(code, reason) }

func (s *Session) closeWith(code int, text string) {
	s.closeOnce.Do(func() {
		close(s.done)
		msg := websocket.FormatCloseMessage(code, text)
		_ = s.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		_ = s.conn.Close()
	})
}

func closeCodeFor(err error) int {
	switch {
	case errors.Is(err, ErrBinaryFrame):
		return websocket.CloseUnsupportedData
	case errors.Is(err, ErrMalformed), errors.Is(err, ErrMediaBeforeStart), errors.Is(err, ErrWrongStream):
		return websocket.ClosePolicyViolation
	}
	return websocket.CloseNormalClosure
}

// next reads one text message into the decoder's event.
func (s *Session) next() error {
	_ = s.conn.SetReadDeadline(time.Now().Add(s.opts.ReadTimeout))
	typ, r, err := s.conn.NextReader()
	if err != nil {
		return err
	}
	if typ != websocket.TextMessage {
		return ErrBinaryFrame
	}
	buf := s.readBuf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	s.readBuf = buf
	return s.dec.Decode(buf, &s.ev)
}

func (s *Session) readStart(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { _ = s.conn.SetReadDeadline(time.Now()) })
	defer stop()
	for {
		if err := s.next(); err != nil {
			if isClosed(err) {
				return ErrNoStart
			}
			return fmt.Errorf("twilio: read before start: %w", err)
		}
		switch s.ev.Type {
		case EventConnected:
			continue
		case EventStart:
			s.start = s.ev.Start
			s.start.StreamSID = s.ev.StreamSID
			if s.start.StreamSID == "" {
				s.start.StreamSID = s.ev.Start.StreamSID
			}
			s.lastSeq = s.ev.SequenceNumber
			return nil
		case EventMedia, EventDTMF, EventMark:
			return fmt.Errorf("%w: got %s", ErrMediaBeforeStart, s.ev.Name)
		case EventStop:
			return ErrNoStart
		default:
			s.log.Warn("twilio: unknown event before start", "event", s.ev.Name)
		}
	}
}

func (s *Session) readLoop() error {
	for {
		err := s.next()
		if err != nil {
			if isClosed(err) {
				return nil
			}
			if errors.Is(err, ErrMalformed) {
				// Twilio would call this warning 31951; one bad message is
				// not worth dropping a live call over.
				s.log.Warn("twilio: malformed event ignored", "err", err)
				continue
			}
			if errors.Is(err, ErrBinaryFrame) {
				s.closeWith(websocket.CloseUnsupportedData, "text frames only")
				return err
			}
			select {
			case <-s.done: // we closed the socket ourselves
				return nil
			default:
			}
			return fmt.Errorf("twilio: read: %w", err)
		}
		ev := &s.ev
		if ev.SequenceNumber > 0 {
			if gap := ev.SequenceNumber - s.lastSeq - 1; s.lastSeq > 0 && gap > 0 {
				s.mu.Lock()
				s.stats.FramesLost += gap
				s.mu.Unlock()
				s.opts.Metrics.FramesLost(int(gap))
			}
			s.lastSeq = ev.SequenceNumber
		}
		if ev.StreamSID != "" && ev.StreamSID != s.start.StreamSID {
			err := fmt.Errorf("%w: %q, want %q", ErrWrongStream, ev.StreamSID, s.start.StreamSID)
			s.closeWith(websocket.ClosePolicyViolation, "wrong streamSid")
			return err
		}
		switch ev.Type {
		case EventMedia:
			if ev.Track != "" && ev.Track != "inbound" {
				continue
			}
			s.deliverAudio(ev)
		case EventDTMF:
			s.count(func(st *Stats) { st.DTMF++ })
			s.deliver(media.In{Kind: media.InDTMF, Digit: ev.Digit})
		case EventMark:
			s.mu.Lock()
			s.stats.MarksEchoed++
			s.lastMark = ev.Mark
			s.mu.Unlock()
			s.deliver(media.In{Kind: media.InMark, Mark: ev.Mark})
		case EventStop:
			return nil
		case EventStart:
			s.log.Warn("twilio: second start ignored")
		case EventConnected:
		default:
			s.count(func(st *Stats) { st.Unknown++ })
			s.log.Warn("twilio: unknown event ignored", "event", ev.Name)
		}
	}
}

func (s *Session) deliverAudio(ev *Event) {
	p := ev.Payload
	ts := time.Duration(ev.Timestamp) * time.Millisecond
	for len(p) > 0 {
		var in media.In
		in.Kind = media.InAudio
		in.Rate = Rate
		in.Timestamp = ts
		n := min(len(p), FrameSamples)
		in.N = media.DecodeUlaw(in.Frame[:n], p[:n])
		p = p[n:]
		ts += samplesDur(in.N)
		s.opts.Metrics.FrameIn()
		s.mu.Lock()
		s.stats.FramesIn++
		s.mu.Unlock()
		s.deliver(in)
	}
}

// deliver hands an event to the call without ever blocking the socket: if
// the call has fallen a second behind, the oldest event is dropped.
func (s *Session) deliver(in media.In) {
	for {
		select {
		case s.in <- in:
			return
		default:
		}
		select {
		case <-s.in:
			s.count(func(st *Stats) { st.FramesDropped++ })
		default:
		}
	}
}

func (s *Session) count(f func(*Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

func isClosed(err error) bool {
	if websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived) {
		return true
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var ce *websocket.CloseError
	return errors.As(err, &ce) && ce.Code == websocket.CloseAbnormalClosure
}

// writeLoop paces queued audio at real time with a bounded lead, sends marks
// behind their audio and clear when asked, and pings. It sleeps until the
// instant the next frame is due rather than ticking: a fixed ticker beating
// against the moments audio is queued would delay frames by up to a tick.
func (s *Session) writeLoop(ctx context.Context) error {
	timer := time.NewTimer(s.opts.PingInterval)
	defer timer.Stop()
	nextPing := s.opts.Now().Add(s.opts.PingInterval)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			return nil
		case <-timer.C:
		case <-s.wake:
		}
		now := s.opts.Now()
		next, err := s.sendDue(now)
		if err != nil {
			return err
		}
		if !now.Before(nextPing) {
			nextPing = now.Add(s.opts.PingInterval)
			if err := s.conn.WriteControl(websocket.PingMessage, nil, now.Add(5*time.Second)); err != nil {
				return fmt.Errorf("twilio: ping: %w", err)
			}
		}
		if next.IsZero() || next.After(nextPing) {
			next = nextPing
		}
		timer.Reset(next.Sub(now))
	}
}

// sendDue writes what may leave now: a clear if asked, then audio and marks
// until Twilio's buffer holds Lead of audio. It returns when the next queued
// frame is due, or the zero time when nothing is queued.
func (s *Session) sendDue(now time.Time) (next time.Time, err error) {
	if s.playEnd.Before(now) {
		s.playEnd = now
	}
	s.mu.Lock()
	if s.clearReq {
		s.clearReq = false
		s.stats.Clears++
		s.mu.Unlock()
		s.playEnd = now
		if err := s.write(AppendClear(s.wbuf[:0], s.start.StreamSID)); err != nil {
			return time.Time{}, err
		}
		s.mu.Lock()
	}
	for s.head < len(s.queue) {
		it := &s.queue[s.head]
		due := s.playEnd.Add(-s.opts.Lead)
		if it.n > 0 && due.After(now) {
			s.mu.Unlock()
			return due, nil
		}
		s.head++
		var sent []byte
		if it.n == 0 {
			s.stats.MarksSent++
			s.wbuf = AppendMark(s.wbuf[:0], s.start.StreamSID, it.mark)
		} else {
			// The frame should have left when Twilio's buffer fell to the
			// lead, or when it was queued, whichever is later.
			late := now.Sub(due)
			if it.at.After(due) {
				late = now.Sub(it.at)
			}
			s.playEnd = s.playEnd.Add(samplesDur(it.n))
			s.queued -= samplesDur(it.n)
			s.stats.FramesOut++
			s.opts.Metrics.FrameOut(max(late, 0))
			s.wbuf = AppendMedia(s.wbuf[:0], s.start.StreamSID, it.ulaw[:it.n])
			s.sentBuf = append(s.sentBuf[:0], it.ulaw[:it.n]...)
			sent = s.sentBuf
		}
		// Write without the lock: Play and Clear must never wait on the network.
		s.mu.Unlock()
		if err := s.write(s.wbuf); err != nil {
			return time.Time{}, err
		}
		if sent != nil && s.opts.Sent != nil {
			s.opts.Sent(sent)
		}
		s.mu.Lock()
	}
	s.mu.Unlock()
	return time.Time{}, nil
}

func (s *Session) write(msg []byte) error {
	_ = s.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := s.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
		select {
		case <-s.done:
			return nil
		default:
		}
		return fmt.Errorf("twilio: write: %w", err)
	}
	return nil
}

type nopMetrics struct{}

func (nopMetrics) FrameIn()               {}
func (nopMetrics) FramesLost(int)         {}
func (nopMetrics) FrameOut(time.Duration) {}
