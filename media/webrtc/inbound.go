package webrtc

import (
	"fmt"
	"strings"

	"github.com/pion/rtp"
	pion "github.com/pion/webrtc/v4"

	"github.com/frontdesk/frontdesk/media"
)

// inbound turns one remote track's RTP into 16 kHz 20 ms frames. Owned by
// the read loop.
type inbound struct {
	opus  *OpusDecoder     // Opus, straight to 16 kHz
	rs    *media.Resampler // PCMU: 8 → 16 kHz
	clock int              // RTP clock rate
	dec   []int16          // one packet at the codec's rate
	pcm   []int16          // one packet at 16 kHz
	frame media.In         // the frame being filled

	started bool
	lastSeq uint16
	lastTS  uint32
	extTS   int64 // RTP timestamp since the first packet, unwrapped
	pos     int64 // 16 kHz samples delivered or pending since the first packet
}

func newInbound(mime string, clock int) (*inbound, error) {
	in := &inbound{clock: clock}
	in.frame.Kind = media.InAudio
	in.frame.Rate = pipelineRate
	switch {
	case strings.EqualFold(mime, pion.MimeTypeOpus):
		d, err := NewOpusDecoder(pipelineRate)
		if err != nil {
			return nil, err
		}
		in.opus = d
		in.pcm = make([]int16, d.MaxSamples())
	case strings.EqualFold(mime, pion.MimeTypePCMU):
		rs, err := media.NewResampler(pcmuRate, pipelineRate)
		if err != nil {
			return nil, err
		}
		in.rs = rs
		in.dec = make([]int16, maxPacketBytes)
		in.pcm = make([]int16, 0, rs.MaxOutput(maxPacketBytes))
	default:
		return nil, fmt.Errorf("webrtc: inbound codec %s not supported", mime)
	}
	if in.clock <= 0 {
		return nil, fmt.Errorf("webrtc: inbound clock rate %d", clock)
	}
	return in, nil
}

// receive decodes one packet and delivers the whole frames it completes.
// Packets that arrive late (behind the last one) are dropped; a gap in the
// timestamps (loss, or a sender's discontinuous transmission) becomes
// silence, so the caller's audio keeps its timing.
func (in *inbound) receive(s *Session, p *rtp.Packet) {
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

	// Fill a gap before this packet with silence, up to a second of it.
	want := in.extTS * pipelineRate / int64(in.clock)
	if gap := want - in.pos; gap > int64(pipelineFrame) {
		gap = min(gap, int64(maxLostFramesConcealed*pipelineFrame))
		in.silence(s, int(gap))
	}
	in.push(s, pcm)
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
