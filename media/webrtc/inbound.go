package webrtc

import (
	"fmt"
	"strings"
	"time"

	"github.com/pion/rtp"
	pion "github.com/pion/webrtc/v4"

	"github.com/frontdesk/frontdesk/media"
)

// inbound turns one remote track's RTP into 16 kHz 20 ms frames on the
// call's real-time clock. Owned by the read loop.
//
// The caller's stream is the call's clock (the recording's position, the
// agent's endpointing), so it must not stop when the peer stops sending:
// a sender in discontinuous transmission, a muted or stalled one, or one
// whose first packet is slow to come. When nothing has arrived for
// fillDelay, idle delivers silence for the time that has passed; a packet
// that then arrives goes after it.
type inbound struct {
	opus  *OpusDecoder     // Opus, straight to 16 kHz
	rs    *media.Resampler // PCMU: 8 → 16 kHz
	clock int              // RTP clock rate; 0 until setCodec
	dec   []int16          // one packet at the codec's rate
	pcm   []int16          // one packet at 16 kHz
	frame media.In         // the frame being filled

	started bool
	lastSeq uint16
	lastTS  uint32
	extTS   int64 // RTP timestamp since the first packet, unwrapped
	pos     int64 // 16 kHz samples delivered or pending since the stream began
	// base is the position of the sender's first packet's timestamp; it
	// moves on when idle's silence ran past the sender's timeline (a
	// sender that paused without advancing its timestamps).
	base int64

	start    time.Time // the stream's position 0: when the connection was up
	heardAt  time.Time // when the last packet arrived (the stream's start before any)
	heardPos int64     // pos right after it
}

// fillDelay is how long the read loop waits for a packet before it
// delivers silence in its place: long enough to ride out network jitter,
// short enough for the agent to notice the caller went quiet.
const fillDelay = 100 * time.Millisecond

// aheadSlack is how far the stream may run ahead of the wall clock before
// quiet audio is dropped to bring it back: packets held up longer than
// fillDelay (a stalled network or process) arrive after idle has filled
// their time, and pushing them after it moves the caller's clock ahead of
// the agent's.
const aheadSlack = 40 * time.Millisecond

// quietRMS is the level below which caller audio may be dropped to catch
// up: room noise, not speech.
const quietRMS = 200

// newInbound starts a caller stream at start (the connection's) with no
// codec yet: until setCodec it can only fill silence.
func newInbound(start time.Time) *inbound {
	in := &inbound{start: start, heardAt: start}
	in.frame.Kind = media.InAudio
	in.frame.Rate = pipelineRate
	return in
}

// setCodec prepares the decoder of the remote track's codec.
func (in *inbound) setCodec(mime string, clock int) error {
	if clock <= 0 {
		return fmt.Errorf("webrtc: inbound clock rate %d", clock)
	}
	switch {
	case strings.EqualFold(mime, pion.MimeTypeOpus):
		d, err := NewOpusDecoder(pipelineRate)
		if err != nil {
			return err
		}
		in.opus = d
		in.pcm = make([]int16, d.MaxSamples())
	case strings.EqualFold(mime, pion.MimeTypePCMU):
		rs, err := media.NewResampler(pcmuRate, pipelineRate)
		if err != nil {
			return err
		}
		in.rs = rs
		in.dec = make([]int16, maxPacketBytes)
		in.pcm = make([]int16, 0, rs.MaxOutput(maxPacketBytes))
	default:
		return fmt.Errorf("webrtc: inbound codec %s not supported", mime)
	}
	in.clock = clock
	return nil
}

// receive decodes one packet, which arrived at now, and delivers the whole
// frames it completes. Packets that arrive late (behind the last one) are
// dropped; a gap in the timestamps (loss, or a sender's discontinuous
// transmission) becomes silence, so the caller's audio keeps its timing.
func (in *inbound) receive(s *Session, p *rtp.Packet, now time.Time) {
	if in.started {
		d := int16(p.SequenceNumber - in.lastSeq)
		if d <= 0 {
			return // duplicate or reordered
		}
		if d > 1 {
			s.count(func(st *media.Stats) { st.FramesLost += int64(d - 1) })
			s.metrics.FramesLost(int(d - 1))
		}
		in.extTS += int64(int32(p.Timestamp - in.lastTS))
	} else {
		in.base = in.pos // after whatever idle filled before the first packet
	}
	in.started = true
	in.lastSeq, in.lastTS = p.SequenceNumber, p.Timestamp

	var pcm []int16
	if in.opus != nil {
		n, err := in.opus.Decode(in.pcm, p.Payload)
		if err != nil {
			s.count(func(st *media.Stats) { st.Unknown++ })
			return
		}
		pcm = in.pcm[:n]
	} else {
		n := media.DecodeUlaw(in.dec, p.Payload)
		pcm = in.rs.Process(in.pcm[:0], in.dec[:n])
	}

	// Fill a gap before this packet with silence, up to a second of it. A
	// packet behind the stream (idle filled its time already) goes next,
	// and the sender's timeline is re-based there.
	want := in.base + in.extTS*pipelineRate/int64(in.clock)
	if gap := want - in.pos; gap > int64(pipelineFrame) {
		gap = min(gap, int64(maxLostFramesConcealed*pipelineFrame))
		in.silence(s, int(gap))
	} else if gap < 0 {
		in.base -= gap
	}
	// Ahead of the wall clock (idle filled time whose packets then came):
	// drop quiet audio until the stream is back, never speech.
	wall := int64(now.Sub(in.start)) * pipelineRate / int64(time.Second)
	if ahead := in.pos + int64(len(pcm)) - wall; ahead > int64(media.Samples(pipelineRate, aheadSlack)) && media.RMS(pcm) < quietRMS {
		k := int(min(ahead, int64(len(pcm))))
		pcm = pcm[k:]
		in.base -= int64(k) // the sender's later timestamps count from here
	}
	in.push(s, pcm)
	in.heardAt, in.heardPos = now, in.pos
}

// idle delivers silence for the time since the last packet beyond
// fillDelay, in whole frames, and returns when it will next have some to
// deliver if nothing arrives.
func (in *inbound) idle(s *Session, now time.Time) (next time.Time) {
	quiet := now.Sub(in.heardAt) - fillDelay
	if quiet > 0 {
		target := in.heardPos + int64(quiet)*pipelineRate/int64(time.Second)
		if n := target - in.pos - (target-in.pos+int64(in.frame.N))%int64(pipelineFrame); n > 0 {
			in.silence(s, int(n))
		}
	}
	// The next frame is due when the stream's time reaches the end of the
	// frame being filled.
	end := in.pos - int64(in.frame.N) + int64(pipelineFrame)
	return in.heardAt.Add(fillDelay + media.Duration(pipelineRate, int(end-in.heardPos)))
}

func (in *inbound) silence(s *Session, n int) {
	for n > 0 {
		k := min(n, pipelineFrame-in.frame.N)
		clear(in.frame.Frame[in.frame.N : in.frame.N+k])
		in.frame.N += k
		in.pos += int64(k)
		n -= k
		in.flush(s)
	}
}

func (in *inbound) push(s *Session, pcm []int16) {
	for len(pcm) > 0 {
		k := copy(in.frame.Frame[in.frame.N:pipelineFrame], pcm)
		in.frame.N += k
		in.pos += int64(k)
		pcm = pcm[k:]
		in.flush(s)
	}
}

func (in *inbound) flush(s *Session) {
	if in.frame.N < pipelineFrame {
		return
	}
	in.frame.Timestamp = media.Duration(pipelineRate, int(in.pos)-pipelineFrame)
	s.metrics.FrameIn()
	s.count(func(st *media.Stats) { st.FramesIn++ })
	s.deliver(&in.frame)
	in.frame.N = 0
}
