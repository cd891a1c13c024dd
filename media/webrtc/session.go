package webrtc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtp"
	pion "github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"

	"github.com/frontdesk/frontdesk/media"
)

// ErrNotConnected is returned by Run when the peer did not connect within
// the configured ConnectTimeout (or failed before it connected).
var ErrNotConnected = errors.New("webrtc: peer did not connect")

// silenceSettle is how many silent frames Opus encodes before the pacer
// repeats the last one's packet instead of encoding more.
const silenceSettle = 5

// maxBehind is how far the pacer may fall behind its 20 ms grid before it
// gives up on the missed slots instead of sending them in a burst.
const maxBehind = 200 * time.Millisecond

// Session is the server side of one call's PeerConnection. Engine.Answer
// makes it; Run moves audio until the call ends. Play, Mark, Flush, Clear,
// Stats, Hangup and Close are safe for concurrent use with Run and with each
// other.
type Session struct {
	// immutable after Answer
	pc        *pion.PeerConnection
	cfg       Config
	metrics   Metrics
	log       *slog.Logger
	sent      func(pcm []int16, at time.Duration) // SessionOptions.Sent, or nil
	track     *pion.TrackLocalStaticSample
	sender    *pion.RTPSender
	codec     string // outbound MIME type
	outRate   int
	outFrame  int // samples per 20 ms at outRate
	answer    string
	in        chan media.In
	remote    chan *pion.TrackRemote // handed off by OnTrack
	connected chan struct{}
	ended     chan struct{} // the peer connection failed or closed
	hangup    chan struct{}

	connectedOnce, endedOnce, hangupOnce, closeOnce, encOnce sync.Once

	// set by Run before its loops start: the call's time zero, when the
	// connection was up; the pacer's first slot and the caller's stream
	// start there
	origin time.Time

	// owned by the pacer
	enc       *OpusEncoder
	cur       []int16 // the frame being sent
	pkt       []byte
	silentRun int    // silent frames encoded in a row
	silentPkt []byte // the Opus packet of settled silence
	skipped   int    // slots the pacer gave up on since the last write

	mu       sync.Mutex
	samples  []int16     // guarded by mu; queued audio, from sHead
	sHead    int         // guarded by mu
	frames   []outFrame  // guarded by mu; audio frames and marks in send order, from fHead
	fHead    int         // guarded by mu
	partial  int         // guarded by mu; samples at the end of samples not yet in a frame
	queued   int         // guarded by mu; audio frames in frames
	stats    media.Stats // guarded by mu
	lastMark string      // guarded by mu
	running  bool        // guarded by mu; Run has started
	closed   bool        // guarded by mu; Close was called
}

// outFrame is one queued 20 ms of audio (n samples) or a mark (n == 0).
type outFrame struct {
	n    int
	mark string
	at   time.Time // when it was queued
}

func newSession(pc *pion.PeerConnection, cfg Config, opts SessionOptions, codec string, rate int) (*Session, error) {
	if opts.Metrics == nil {
		opts.Metrics = nopMetrics{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Session{
		pc:        pc,
		cfg:       cfg,
		metrics:   opts.Metrics,
		log:       opts.Logger,
		sent:      opts.Sent,
		codec:     codec,
		outRate:   rate,
		outFrame:  media.SamplesPerFrame(rate),
		in:        make(chan media.In, inboundQueue),
		remote:    make(chan *pion.TrackRemote, 1),
		connected: make(chan struct{}),
		ended:     make(chan struct{}),
		hangup:    make(chan struct{}),
		pkt:       make([]byte, maxPacketBytes),
		silentPkt: make([]byte, 0, maxPacketBytes),
	}
	s.cur = make([]int16, s.outFrame)
	if strings.EqualFold(codec, pion.MimeTypeOpus) {
		enc, err := NewOpusEncoder(rate)
		if err != nil {
			return s, err
		}
		s.enc = enc
	}
	return s, nil
}

// Answer returns the SDP answer to send back to the peer.
func (s *Session) Answer() string { return s.answer }

// Codec returns the outbound codec's MIME type (audio/opus or audio/PCMU).
func (s *Session) Codec() string { return s.codec }

// OutputRate is the rate Play takes: 16 kHz for Opus (wideband speech, the
// pipeline's rate), 8 kHz for PCMU.
func (s *Session) OutputRate() int { return s.outRate }

// In delivers caller audio (16 kHz, 20 ms frames) and echoed marks, in
// order. It is closed when Run returns. A call that falls a second behind
// loses its oldest frames (Stats.FramesDropped) rather than stalling.
func (s *Session) In() <-chan media.In { return s.in }

// Stats returns the counts so far.
func (s *Session) Stats() media.Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// LastMark returns the name of the last mark echoed, "" if none.
func (s *Session) LastMark() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastMark
}

// Play queues PCM16 audio at OutputRate for the caller. It returns at once;
// the audio leaves at real time. Audio beyond the queue limit is dropped.
func (s *Session) Play(pcm []int16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for len(pcm) > 0 {
		n := min(len(pcm), s.outFrame-s.partial)
		s.samples = append(s.samples, pcm[:n]...)
		s.partial += n
		pcm = pcm[n:]
		if s.partial == s.outFrame {
			s.partial = 0
			s.pushLocked(outFrame{n: s.outFrame, at: now})
		}
	}
}

// Mark queues a mark after the audio played so far. It comes back on In
// when the pacer has sent that audio. Clear drops marks not yet reached.
func (s *Session) Mark(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	s.flushLocked(now)
	s.pushLocked(outFrame{mark: name, at: now})
}

// Flush sends a trailing partial frame (padded with silence) instead of
// waiting for more audio.
func (s *Session) Flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushLocked(time.Now())
}

// Clear drops the audio and marks not yet sent. What was sent is at most
// the frame in flight, so the caller hears silence within about 20 ms.
func (s *Session) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samples, s.sHead, s.partial = s.samples[:0], 0, 0
	s.frames, s.fHead, s.queued = s.frames[:0], 0, 0
	s.stats.Clears++
}

// Queued returns how much audio is waiting to be sent.
func (s *Session) Queued() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Duration(s.queued) * media.FrameDuration
}

func (s *Session) flushLocked(now time.Time) {
	if s.partial == 0 {
		return
	}
	for ; s.partial < s.outFrame; s.partial++ {
		s.samples = append(s.samples, 0)
	}
	s.partial = 0
	s.pushLocked(outFrame{n: s.outFrame, at: now})
}

// pushLocked queues f, whose samples (if any) are the last f.n of samples.
func (s *Session) pushLocked(f outFrame) {
	if f.n > 0 {
		if time.Duration(s.queued+1)*media.FrameDuration > s.cfg.QueueLimit {
			s.samples = s.samples[:len(s.samples)-f.n]
			s.stats.FramesDropped++
			return
		}
		s.queued++
	}
	// Reclaim what the pacer consumed before the slices grow: a call that
	// always has audio queued (echo) never drains them.
	if s.fHead > 0 && len(s.frames) == cap(s.frames) {
		n := copy(s.frames, s.frames[s.fHead:])
		s.frames, s.fHead = s.frames[:n], 0
	}
	if s.sHead > 0 && s.sHead >= len(s.samples)/2 {
		n := copy(s.samples, s.samples[s.sHead:])
		s.samples, s.sHead = s.samples[:n], 0
	}
	s.frames = append(s.frames, f)
}

// Hangup ends the call: Run closes the PeerConnection and returns. It is
// idempotent.
func (s *Session) Hangup() {
	s.hangupOnce.Do(func() { close(s.hangup) })
}

// Close hangs up and closes the PeerConnection, for a session that will
// not Run; with Run it only hangs up, and Run closes. It is idempotent and
// waits for pion's goroutines.
func (s *Session) Close() {
	s.Hangup()
	s.mu.Lock()
	s.closed = true
	running := s.running
	s.mu.Unlock()
	if !running {
		s.closePC()
		s.releaseEncoder()
	}
}

func (s *Session) closePC() {
	s.closeOnce.Do(func() {
		_ = s.pc.GracefulClose()
		livePCs.Add(-1)
	})
}

// releaseEncoder frees libopus's state once nothing can encode any more:
// after the pacer has ended, or when it never started.
func (s *Session) releaseEncoder() {
	s.encOnce.Do(func() {
		if s.enc != nil {
			s.enc.Close()
		}
	})
}

// onTrack and onState run on pion's goroutines: they only hand work off.
func (s *Session) onTrack(t *pion.TrackRemote, _ *pion.RTPReceiver) {
	if t.Kind() != pion.RTPCodecTypeAudio {
		return
	}
	select {
	case s.remote <- t:
	default: // a second audio track: the call hears the first only
	}
}

func (s *Session) onState(st pion.PeerConnectionState) {
	switch st {
	case pion.PeerConnectionStateConnected:
		s.connectedOnce.Do(func() { close(s.connected) })
	case pion.PeerConnectionStateFailed, pion.PeerConnectionStateClosed:
		s.endedOnce.Do(func() { close(s.ended) })
	}
}

// Run waits for the peer to connect, then moves audio until the peer hangs
// up or its connection fails (nil), Hangup is called (nil), or ctx ends
// (nil: a shutdown is a normal end). A peer that never connects gives
// ErrNotConnected. Run closes the PeerConnection and the In channel before
// it returns.
func (s *Session) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return errors.New("webrtc: Run called twice")
	}
	s.running = true
	closed := s.closed
	s.mu.Unlock()
	defer close(s.in)
	if closed {
		return nil // Close has released everything
	}
	defer s.releaseEncoder() // after the pacer: Run waits for it below
	defer s.closePC()
	t := time.NewTimer(s.cfg.ConnectTimeout)
	defer t.Stop()
	select {
	case <-s.connected:
	case <-s.ended:
		return ErrNotConnected
	case <-t.C:
		return fmt.Errorf("%w within %v", ErrNotConnected, s.cfg.ConnectTimeout)
	case <-s.hangup:
		return nil
	case <-ctx.Done():
		return nil
	}
	s.origin = time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); s.readLoop(ctx) }()
	go func() { defer wg.Done(); s.readRTCP() }()
	go func() { defer wg.Done(); s.pace(ctx) }()
	select {
	case <-ctx.Done():
	case <-s.ended:
	case <-s.hangup:
	}
	cancel()
	s.closePC() // ends the reads
	wg.Wait()
	return nil
}

// readRTCP drains the RTCP pion receives for our sender, so that its
// interceptors see the peer's reports.
func (s *Session) readRTCP() {
	buf := make([]byte, maxPacketBytes)
	for {
		if _, _, err := s.sender.Read(buf); err != nil {
			return
		}
	}
}

// readLoop waits for the peer's audio track and decodes it into In. From
// the moment the connection is up it keeps the caller's stream at real
// time: silence stands in for packets that do not come (inbound.idle).
func (s *Session) readLoop(ctx context.Context) {
	in := newInbound(s.origin)
	idle := time.NewTimer(time.Until(in.idle(s, time.Now())))
	defer idle.Stop()
	var t *pion.TrackRemote
	for t == nil {
		select {
		case t = <-s.remote:
		case <-ctx.Done():
			return
		case now := <-idle.C:
			idle.Reset(time.Until(in.idle(s, now)))
		}
	}
	if err := in.setCodec(t.Codec().MimeType, int(t.Codec().ClockRate)); err != nil {
		s.log.Warn("webrtc: inbound audio ignored", "err", err)
		return
	}
	buf := make([]byte, maxPacketBytes)
	var pkt rtp.Packet
	// The read deadline is moved only when it passes, not per packet: idle
	// knows whether the time since the last packet calls for silence. A
	// passed deadline fails a read even with packets waiting (this process
	// was descheduled, not the caller quiet), so a timeout first probes for
	// them with a short read.
	_ = t.SetReadDeadline(in.idle(s, time.Now()))
	probed := false
	for {
		n, _, err := t.Read(buf)
		now := time.Now()
		if err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				return
			}
			if !probed {
				probed = true
				_ = t.SetReadDeadline(now.Add(time.Millisecond))
				continue
			}
			probed = false
			_ = t.SetReadDeadline(in.idle(s, now))
			continue
		}
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			s.count(func(st *media.Stats) { st.Unknown++ })
		} else {
			in.receive(s, &pkt, now)
		}
		if probed {
			probed = false
			_ = t.SetReadDeadline(in.idle(s, now)) // after receive: nothing to fill
		}
	}
}

// deliver hands an event to the call without ever blocking the network: if
// the call has fallen a second behind, the oldest event is dropped.
func (s *Session) deliver(in *media.In) {
	for {
		select {
		case s.in <- *in:
			return
		default:
		}
		select {
		case <-s.in:
			s.count(func(st *media.Stats) { st.FramesDropped++ })
		default:
		}
	}
}

func (s *Session) count(f func(*media.Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// pace sends one 20 ms frame per slot of a fixed grid: queued audio, or
// silence when there is none, so the peer's jitter buffer sees a steady
// stream and nothing waits ahead of the caller's ear. It sleeps until the
// exact instant the next slot is due.
func (s *Session) pace(ctx context.Context) {
	// The grid starts now, not at origin: a late start must not send a
	// burst of catch-up frames (Sent's at still counts from origin).
	next := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	var marks []string
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		now := time.Now()
		if now.Sub(next) > maxBehind {
			// The process stalled: skip the missed slots. The next packet
			// says so (its RTP timestamp moves on by them), so the peer
			// plays it when it is due, not right after the last one, and
			// the caller's timeline stays the one Sent reports.
			k := now.Sub(next) / media.FrameDuration
			s.skipped += int(k)
			next = next.Add(k * media.FrameDuration)
		}
		for !next.After(now) {
			marks = s.sendSlot(next, now, marks[:0])
			next = next.Add(media.FrameDuration)
		}
		timer.Reset(time.Until(next))
	}
}

// sendSlot sends the frame of one slot and echoes the marks around it.
func (s *Session) sendSlot(slot, now time.Time, marks []string) []string {
	s.mu.Lock()
	marks = s.popMarksLocked(marks)
	audio := false
	var late time.Duration
	if s.fHead < len(s.frames) {
		f := s.frames[s.fHead]
		s.fHead++
		s.queued--
		copy(s.cur, s.samples[s.sHead:s.sHead+f.n])
		s.sHead += f.n
		audio = true
		late = now.Sub(slot)
		if f.at.After(slot) {
			late = now.Sub(f.at)
		}
		s.stats.FramesOut++
	}
	s.mu.Unlock()
	if !audio {
		clear(s.cur)
	}
	s.echo(marks)
	s.write()
	if audio {
		s.metrics.FrameOut(max(late, 0))
		if s.sent != nil {
			s.sent(s.cur, slot.Sub(s.origin))
		}
	}
	s.mu.Lock()
	marks = s.popMarksLocked(marks[:0])
	s.mu.Unlock()
	s.echo(marks)
	return marks
}

// popMarksLocked takes the marks at the head of the queue: the audio before
// them has been sent.
func (s *Session) popMarksLocked(marks []string) []string {
	for s.fHead < len(s.frames) && s.frames[s.fHead].n == 0 {
		marks = append(marks, s.frames[s.fHead].mark)
		s.frames[s.fHead].mark = ""
		s.fHead++
		s.stats.MarksSent++
		s.stats.MarksEchoed++
	}
	if len(marks) > 0 {
		s.lastMark = marks[len(marks)-1]
	}
	return marks
}

func (s *Session) echo(marks []string) {
	for _, m := range marks {
		s.deliver(&media.In{Kind: media.InMark, Mark: m})
	}
}

// write encodes s.cur and writes it to the track. A failed write (the
// connection closing, a full socket buffer) loses that frame only.
//
// Opus costs about as much to encode silence as speech, and a call is
// mostly silence on the agent's side. Once the encoder has seen a few
// silent frames its state, and the peer's decoder's, have settled; the
// packet it produced then is sent again for every further silent frame
// instead of encoding each one.
func (s *Session) write() {
	var data []byte
	switch {
	case s.enc == nil:
		n := media.EncodeUlaw(s.pkt, s.cur)
		data = s.pkt[:n]
	case s.silentRun >= silenceSettle && isSilent(s.cur):
		data = s.silentPkt
	default:
		n, err := s.enc.Encode(s.pkt, s.cur)
		if err != nil {
			s.log.Debug("webrtc: encode", "err", err)
			return
		}
		data = s.pkt[:n]
		if !isSilent(s.cur) {
			s.silentRun = 0
		} else if s.silentRun++; s.silentRun == silenceSettle {
			s.silentPkt = append(s.silentPkt[:0], data...)
		}
	}
	skipped := uint16(min(s.skipped, math.MaxUint16))
	s.skipped = 0
	if err := s.track.WriteSample(pmedia.Sample{Data: data, Duration: media.FrameDuration, PrevDroppedPackets: skipped}); err != nil {
		s.log.Debug("webrtc: write sample", "err", err)
	}
}

func isSilent(pcm []int16) bool {
	for _, v := range pcm {
		if v != 0 {
			return false
		}
	}
	return true
}

type nopMetrics struct{}

func (nopMetrics) FrameIn()               {}
func (nopMetrics) FramesLost(int)         {}
func (nopMetrics) FrameOut(time.Duration) {}
