package webrtc

import (
	"testing"
	"time"

	"github.com/pion/rtp"
	pion "github.com/pion/webrtc/v4"

	"github.com/frontdesk/frontdesk/media"
)

// testSession is a Session with an unbound track: the pacer's steps run
// without a network (WriteSample on an unbound track sends nothing).
func testSession(t testing.TB, codec string, rate int) *Session {
	t.Helper()
	s, err := newSession(nil, Config{}.WithDefaults(), SessionOptions{}, codec, rate)
	if err != nil {
		t.Fatal(err)
	}
	capab := pcmuCapability
	if codec == pion.MimeTypeOpus {
		capab = opusCapability
	}
	if s.track, err = pion.NewTrackLocalStaticSample(capab, "audio", "test"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.enc != nil {
			s.enc.Close()
		}
	})
	return s
}

func drainIn(s *Session) []media.In {
	var out []media.In
	for {
		select {
		case in := <-s.in:
			out = append(out, in)
		default:
			return out
		}
	}
}

func TestQueueMarksAndClear(t *testing.T) {
	s := testSession(t, pion.MimeTypePCMU, pcmuRate)
	s.Play(make([]int16, 400)) // 50 ms: two frames and 10 ms pending
	if got := s.Queued(); got != 40*time.Millisecond {
		t.Errorf("queued %v, want 40ms", got)
	}
	s.Mark("first") // flushes the partial frame
	s.Play(media.Sine(pcmuRate, 440, 40*time.Millisecond, 0.5))
	s.Mark("second")
	if got := s.Queued(); got != 100*time.Millisecond {
		t.Errorf("queued %v, want 100ms", got)
	}
	now := time.Now()
	var marks []string
	for i := range 3 {
		marks = s.sendSlot(now, now, marks[:0])
		if i < 2 && len(s.in) != 0 {
			t.Fatalf("slot %d: an event before the mark's audio was sent", i)
		}
	}
	ev := drainIn(s)
	if len(ev) != 1 || ev[0].Kind != media.InMark || ev[0].Mark != "first" {
		t.Fatalf("after 3 slots: %+v, want mark first", ev)
	}
	if s.LastMark() != "first" {
		t.Errorf("LastMark %q", s.LastMark())
	}
	s.sendSlot(now, now, nil) // half of the tone
	s.Clear()
	if s.Queued() != 0 {
		t.Errorf("queued %v after Clear", s.Queued())
	}
	for range 3 {
		s.sendSlot(now, now, nil) // silence
	}
	if ev := drainIn(s); len(ev) != 0 {
		t.Errorf("cleared mark echoed: %+v", ev)
	}
	st := s.Stats()
	if st.FramesOut != 4 || st.MarksEchoed != 1 || st.Clears != 1 {
		t.Errorf("stats %+v, want 4 frames out, 1 mark, 1 clear", st)
	}
}

func TestQueueLimit(t *testing.T) {
	s := testSession(t, pion.MimeTypePCMU, pcmuRate)
	s.cfg.QueueLimit = 100 * time.Millisecond
	s.Play(make([]int16, pcmuRate)) // a second into 100 ms of room
	if got, want := s.Queued(), 100*time.Millisecond; got != want {
		t.Errorf("queued %v, want %v", got, want)
	}
	if got := s.Stats().FramesDropped; got != 45 {
		t.Errorf("dropped %d frames, want 45", got)
	}
	s.Mark("m")
	now := time.Now()
	for range 6 {
		s.sendSlot(now, now, nil)
	}
	if ev := drainIn(s); len(ev) != 1 || ev[0].Mark != "m" {
		t.Errorf("events %+v, want the mark after the kept audio", ev)
	}
}

// A call that always has audio queued (echo) must not grow its queue.
func TestQueueReusesMemory(t *testing.T) {
	s := testSession(t, pion.MimeTypePCMU, pcmuRate)
	frame := make([]int16, 160)
	s.Play(make([]int16, pcmuRate)) // a second ahead, like the echo delay
	now := time.Now()
	for range 3000 { // a minute of frames
		s.Play(frame)
		s.sendSlot(now, now, nil)
	}
	if c := cap(s.samples); c > 4*pcmuRate {
		t.Errorf("sample queue capacity %d after a minute, want ≤ %d", c, 4*pcmuRate)
	}
	if c := cap(s.frames); c > 4*50 {
		t.Errorf("frame queue capacity %d after a minute, want ≤ %d", c, 4*50)
	}
}

// The per-frame path allocates nothing: Play, the pacer's slot (encode
// included) and the inbound decode.
func TestFramePathAllocs(t *testing.T) {
	for _, tc := range []struct {
		mime string
		rate int
	}{{pion.MimeTypePCMU, pcmuRate}, {pion.MimeTypeOpus, pipelineRate}} {
		if tc.mime == pion.MimeTypeOpus && !OpusEncoderAvailable {
			continue
		}
		s := testSession(t, tc.mime, tc.rate)
		frame := media.Sine(tc.rate, 300, media.FrameDuration, 0.3)
		now := time.Now()
		s.Play(make([]int16, tc.rate)) // warm the queue
		marks := make([]string, 0, 4)
		if a := testing.AllocsPerRun(200, func() {
			s.Play(frame)
			marks = s.sendSlot(now, now, marks[:0])
		}); a != 0 {
			t.Errorf("%s: %.1f allocations per outbound frame, want 0", tc.mime, a)
		}
	}

	s := testSession(t, pion.MimeTypePCMU, pcmuRate)
	in, err := newInbound(pion.MimeTypePCMU, pcmuRate)
	if err != nil {
		t.Fatal(err)
	}
	pkt := &rtp.Packet{Header: rtp.Header{SequenceNumber: 1}, Payload: make([]byte, 160)}
	a := testing.AllocsPerRun(200, func() {
		pkt.SequenceNumber++
		pkt.Timestamp += 160
		in.receive(s, pkt)
		for len(s.in) > 0 {
			<-s.in
		}
	})
	if a != 0 {
		t.Errorf("PCMU: %.1f allocations per inbound packet, want 0", a)
	}
}

func TestInboundGapsBecomeSilence(t *testing.T) {
	s := testSession(t, pion.MimeTypePCMU, pcmuRate)
	in, err := newInbound(pion.MimeTypePCMU, pcmuRate)
	if err != nil {
		t.Fatal(err)
	}
	tone := make([]byte, 160)
	media.EncodeUlaw(tone, media.Sine(pcmuRate, 400, media.FrameDuration, 0.5))
	var frames []media.In
	send := func(seq uint16, ts uint32) {
		in.receive(s, &rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: ts}, Payload: tone})
		frames = append(frames, drainIn(s)...)
	}
	send(100, 8000)
	send(101, 8160)
	send(104, 8640) // two packets lost
	send(103, 8480) // late: dropped
	send(105, 8800)
	// 4 packets received (one late and dropped) and 2 lost as silence: 6
	// frames of 20 ms at 16 kHz.
	if len(frames) != 6 {
		t.Fatalf("%d frames, want 6", len(frames))
	}
	for i, f := range frames {
		if f.Rate != pipelineRate || f.N != pipelineFrame {
			t.Errorf("frame %d: rate %d n %d", i, f.Rate, f.N)
		}
		if want := time.Duration(i) * media.FrameDuration; f.Timestamp != want {
			t.Errorf("frame %d: timestamp %v, want %v", i, f.Timestamp, want)
		}
	}
	if st := s.Stats(); st.FramesLost != 2 || st.FramesIn != int64(len(frames)) {
		t.Errorf("stats %+v, want 2 lost", st)
	}
}

func BenchmarkOutboundFrame(b *testing.B) {
	for _, tc := range []struct {
		name   string
		mime   string
		rate   int
		silent bool
	}{
		{"pcmu", pion.MimeTypePCMU, pcmuRate, false},
		{"opus", pion.MimeTypeOpus, pipelineRate, false},
		{"opus-silence", pion.MimeTypeOpus, pipelineRate, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			if tc.mime == pion.MimeTypeOpus && !OpusEncoderAvailable {
				b.Skip("no Opus encoder without cgo")
			}
			s := testSession(b, tc.mime, tc.rate)
			frame := media.Sine(tc.rate, 300, media.FrameDuration, 0.3)
			if tc.silent {
				clear(frame)
			}
			now := time.Now()
			b.ReportAllocs()
			for b.Loop() {
				s.Play(frame)
				s.sendSlot(now, now, nil)
			}
		})
	}
}

func BenchmarkInboundOpus(b *testing.B) {
	if !OpusEncoderAvailable {
		b.Skip("no Opus encoder without cgo")
	}
	enc, err := NewOpusEncoder(pipelineRate)
	if err != nil {
		b.Fatal(err)
	}
	defer enc.Close()
	buf := make([]byte, maxPacketBytes)
	n, err := enc.Encode(buf, media.Sine(pipelineRate, 300, media.FrameDuration, 0.3))
	if err != nil {
		b.Fatal(err)
	}
	s := testSession(b, pion.MimeTypePCMU, pcmuRate)
	in, err := newInbound(pion.MimeTypeOpus, opusClock)
	if err != nil {
		b.Fatal(err)
	}
	pkt := &rtp.Packet{Payload: buf[:n]}
	b.ReportAllocs()
	for b.Loop() {
		pkt.SequenceNumber++
		pkt.Timestamp += 960
		in.receive(s, pkt)
		for len(s.in) > 0 {
			<-s.in
		}
	}
}

// Opus encodes a few silent frames, then repeats the settled packet; speech
// starts the encoder again.
func TestOpusSilenceReuse(t *testing.T) {
	if !OpusEncoderAvailable {
		return
	}
	s := testSession(t, pion.MimeTypeOpus, pipelineRate)
	now := time.Now()
	for range silenceSettle + 10 {
		s.sendSlot(now, now, nil) // nothing queued: silence
	}
	if s.silentRun != silenceSettle || len(s.silentPkt) == 0 {
		t.Fatalf("after silence: run %d, packet %d bytes", s.silentRun, len(s.silentPkt))
	}
	s.Play(media.Sine(pipelineRate, 300, media.FrameDuration, 0.3))
	s.sendSlot(now, now, nil)
	if s.silentRun != 0 {
		t.Errorf("silent run %d after speech, want 0", s.silentRun)
	}
}

func TestLimitOpusBandwidth(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{
			"m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:0 PCMU/8000\r\n",
			"m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1;maxplaybackrate=16000;sprop-maxcapturerate=16000\r\na=rtpmap:0 PCMU/8000\r\n",
		},
		{ // no fmtp line: one is added
			"m=audio 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 OPUS/48000/2\r\na=sendrecv\r\n",
			"m=audio 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 OPUS/48000/2\r\na=fmtp:96 maxplaybackrate=16000;sprop-maxcapturerate=16000\r\na=sendrecv\r\n",
		},
		{ // already limited, or no Opus: unchanged
			"a=rtpmap:111 opus/48000/2\r\na=fmtp:111 maxplaybackrate=8000\r\n",
			"a=rtpmap:111 opus/48000/2\r\na=fmtp:111 maxplaybackrate=8000\r\n",
		},
		{"a=rtpmap:0 PCMU/8000\r\n", "a=rtpmap:0 PCMU/8000\r\n"},
	} {
		if got := limitOpusBandwidth(tc.in); got != tc.want {
			t.Errorf("limitOpusBandwidth(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}
