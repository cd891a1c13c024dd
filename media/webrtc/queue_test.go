package webrtc

import (
	"slices"
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

// codecInbound is an inbound stream started now with its codec set.
func codecInbound(mime string, clock int) (*inbound, error) {
	in := newInbound(time.Now())
	return in, in.setCodec(mime, clock)
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
	in, err := codecInbound(pion.MimeTypePCMU, pcmuRate)
	if err != nil {
		t.Fatal(err)
	}
	pkt := &rtp.Packet{Header: rtp.Header{SequenceNumber: 1}, Payload: make([]byte, 160)}
	now := time.Now()
	a := testing.AllocsPerRun(200, func() {
		pkt.SequenceNumber++
		pkt.Timestamp += 160
		in.receive(s, pkt, now)
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
	in, err := codecInbound(pion.MimeTypePCMU, pcmuRate)
	if err != nil {
		t.Fatal(err)
	}
	tone := make([]byte, 160)
	media.EncodeUlaw(tone, media.Sine(pcmuRate, 400, media.FrameDuration, 0.5))
	var frames []media.In
	send := func(seq uint16, ts uint32) {
		in.receive(s, &rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: ts}, Payload: tone}, time.Now())
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

// The caller's stream keeps real time when the peer sends nothing: before
// its first packet, while it pauses without advancing its timestamps (the
// audio then comes after the silence), and in discontinuous transmission
// (the timestamps jump: the audio lands where they say, not twice as late).
func TestInboundIdleKeepsTime(t *testing.T) {
	s := testSession(t, pion.MimeTypePCMU, pcmuRate)
	t0 := time.Now()
	in := newInbound(t0)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	const ms = time.Millisecond
	var frames []media.In
	collect := func() { frames = append(frames, drainIn(s)...) }
	loud := make([]byte, 160)
	media.EncodeUlaw(loud, media.Sine(pcmuRate, 400, media.FrameDuration, 0.5))
	send := func(seq uint16, ts uint32, when time.Duration) {
		in.receive(s, &rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: ts}, Payload: loud}, at(when))
		collect()
	}
	// positions, in 20 ms frames, of the loud frames delivered
	loudAt := func() []int {
		var out []int
		for i, f := range frames {
			if media.RMS(f.PCM()) > 1000 {
				out = append(out, i)
			}
		}
		return out
	}

	// No packet yet: nothing within fillDelay, then a frame per 20 ms.
	if next := in.idle(s, at(50*ms)); !next.Equal(at(120 * ms)) {
		t.Errorf("next fill at %v, want 120ms", next.Sub(t0))
	}
	collect()
	if len(frames) != 0 {
		t.Fatalf("%d frames within fillDelay, want none", len(frames))
	}
	in.idle(s, at(165*ms))
	collect()
	if len(frames) != 3 {
		t.Fatalf("%d frames 165 ms after the start, want 3 of silence", len(frames))
	}
	if err := in.setCodec(pion.MimeTypePCMU, pcmuRate); err != nil {
		t.Fatal(err)
	}
	// The first packet goes after the silence; four more at 20 ms.
	for i := range 5 {
		send(uint16(100+i), uint32(8000+160*i), 170*ms+time.Duration(i)*20*ms)
	}
	// The sender pauses 300 ms with no timestamp jump (a stalled sender):
	// silence fills the pause beyond fillDelay, and the audio goes after.
	in.idle(s, at(250*ms+300*ms))
	collect()
	send(105, 8000+160*5, 550*ms)
	// Then discontinuous transmission: the next packet's timestamp is 400
	// ms on, and it comes 400 ms later. Silence fills 300 ms of it while
	// waiting, the packet the rest.
	in.idle(s, at(550*ms+400*ms))
	collect()
	send(106, 8000+160*5+8*400, 950*ms)

	want := []int{3, 4, 5, 6, 7, 18, 38}
	if got := loudAt(); !slices.Equal(got, want) {
		t.Errorf("loud frames at %v, want %v (of %d frames)", got, want, len(frames))
	}
	for i, f := range frames {
		if want := time.Duration(i) * media.FrameDuration; f.Timestamp != want {
			t.Fatalf("frame %d: timestamp %v, want %v", i, f.Timestamp, want)
		}
	}
}

// Packets held up past fillDelay arrive after idle filled their time: the
// speech among them is kept, and quiet audio after it is dropped until the
// stream is back on the wall clock, so the caller's clock does not stay
// ahead of the agent's.
func TestInboundCatchesUp(t *testing.T) {
	s := testSession(t, pion.MimeTypePCMU, pcmuRate)
	t0 := time.Now()
	in := newInbound(t0)
	if err := in.setCodec(pion.MimeTypePCMU, pcmuRate); err != nil {
		t.Fatal(err)
	}
	loud, quiet := make([]byte, 160), make([]byte, 160)
	media.EncodeUlaw(loud, media.Sine(pcmuRate, 400, media.FrameDuration, 0.5))
	media.EncodeUlaw(quiet, make([]int16, 160))
	var frames []media.In
	seq, ts := uint16(1), uint32(0)
	send := func(p []byte, at time.Duration) {
		in.receive(s, &rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: ts}, Payload: p}, t0.Add(at))
		seq, ts = seq+1, ts+160
		frames = append(frames, drainIn(s)...)
	}
	for i := range 5 { // on time
		send(quiet, time.Duration(i+1)*media.FrameDuration)
	}
	// 400 ms with nothing, then everything at once: 15 frames of speech
	// and 5 quiet ones, then the stream goes on in time.
	in.idle(s, t0.Add(500*time.Millisecond))
	frames = append(frames, drainIn(s)...)
	filled := len(frames) - 5
	for i := range 20 {
		p := loud
		if i >= 15 {
			p = quiet
		}
		send(p, 500*time.Millisecond)
	}
	for i := range 10 {
		send(quiet, 500*time.Millisecond+time.Duration(i+1)*media.FrameDuration)
	}
	speech := 0
	for _, f := range frames {
		if media.RMS(f.PCM()) > 1000 {
			speech++
		}
	}
	if speech < 15 { // 16 with the resampler's delay
		t.Errorf("%d frames of speech delivered, want all 15", speech)
	}
	// The stream ends where the wall clock is (700 ms: 35 frames), within
	// aheadSlack, not 400 ms of filled silence later.
	end := time.Duration(len(frames)) * media.FrameDuration
	if end > 700*time.Millisecond+aheadSlack || end < 700*time.Millisecond-fillDelay {
		t.Errorf("stream at %v after 700 ms (idle filled %d frames), want about 700 ms", end, filled)
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
	in, err := codecInbound(pion.MimeTypeOpus, opusClock)
	if err != nil {
		b.Fatal(err)
	}
	pkt := &rtp.Packet{Payload: buf[:n]}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		pkt.SequenceNumber++
		pkt.Timestamp += 960
		in.receive(s, pkt, now)
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

// Sent sees every queued frame as the pacer writes it, in order and before
// the mark after it is echoed, and nothing for the slots the pacer fills
// with silence; the tap adds no allocation to the frame path.
func TestSentTap(t *testing.T) {
	for _, tc := range []struct {
		mime string
		rate int
	}{{pion.MimeTypePCMU, pcmuRate}, {pion.MimeTypeOpus, pipelineRate}} {
		if tc.mime == pion.MimeTypeOpus && !OpusEncoderAvailable {
			continue
		}
		s := testSession(t, tc.mime, tc.rate)
		var got []int16
		var ats []time.Duration
		var marksSeen []int // frames tapped when each mark was echoed
		s.sent = func(pcm []int16, at time.Duration) {
			if len(pcm) != media.SamplesPerFrame(tc.rate) {
				t.Errorf("%s: tapped %d samples, want one frame", tc.mime, len(pcm))
			}
			got = append(got, pcm...)
			ats = append(ats, at)
		}
		tone := media.Sine(tc.rate, 440, 90*time.Millisecond, 0.5) // 4.5 frames
		s.Play(tone)
		s.Mark("m")
		now := time.Now()
		s.origin = now.Add(-time.Second)
		for i := range 8 { // 5 frames of audio, then 3 silent slots
			slot := now.Add(time.Duration(i) * media.FrameDuration)
			s.sendSlot(slot, slot, nil)
			for _, ev := range drainIn(s) {
				if ev.Kind == media.InMark {
					marksSeen = append(marksSeen, len(got)/media.SamplesPerFrame(tc.rate))
				}
			}
		}
		want := append(tone[:len(tone):len(tone)], make([]int16, 5*media.SamplesPerFrame(tc.rate)-len(tone))...)
		if len(got) != len(want) {
			t.Fatalf("%s: tapped %d samples, want %d (5 frames, none for the silent slots)", tc.mime, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: tapped sample %d = %d, want %d", tc.mime, i, got[i], want[i])
			}
		}
		for i, at := range ats {
			if want := time.Second + time.Duration(i)*media.FrameDuration; at != want {
				t.Errorf("%s: frame %d tapped at %v, want its slot's %v", tc.mime, i, at, want)
			}
		}
		if len(marksSeen) != 1 || marksSeen[0] != 5 {
			t.Errorf("%s: mark echoed after %v tapped frames, want [5]", tc.mime, marksSeen)
		}

		var n int
		s.sent = func(pcm []int16, _ time.Duration) { n += len(pcm) }
		frame := media.Sine(tc.rate, 300, media.FrameDuration, 0.3)
		s.Play(make([]int16, tc.rate))
		if a := testing.AllocsPerRun(200, func() {
			s.Play(frame)
			s.sendSlot(now, now, nil)
		}); a != 0 {
			t.Errorf("%s: %.1f allocations per tapped frame, want 0", tc.mime, a)
		}
		if n == 0 {
			t.Errorf("%s: the tap saw nothing", tc.mime)
		}
	}
}
