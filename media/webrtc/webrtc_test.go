package webrtc_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	pion "github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"

	"github.com/frontdesk/frontdesk/internal/leaktest"
	"github.com/frontdesk/frontdesk/media"
	"github.com/frontdesk/frontdesk/media/webrtc"
	"github.com/frontdesk/frontdesk/media/webrtc/sim"
)

// heard is what the test's caller received: per packet, when it arrived
// and its RMS.
type heard struct {
	mu      sync.Mutex
	at      []time.Time
	rms     []float64
	packets int
}

func (h *heard) loudSince(t time.Time, min float64) (last time.Time, n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, at := range h.at {
		if at.After(t) && h.rms[i] > min {
			n++
			last = at
		}
	}
	return last, n
}

// connect makes a caller PeerConnection on loopback, answers its offer with
// e and runs the session until the test ends. The caller sends audio
// (16 kHz) and records what it hears.
func connect(t *testing.T, e *webrtc.Engine, codec string, audio []int16) (*webrtc.Session, *heard, chan error) {
	t.Helper()
	pc, err := sim.NewPeerConnection(codec, nil)
	if err != nil {
		t.Fatal(err)
	}
	capab := pion.RTPCodecCapability{MimeType: pion.MimeTypeOpus, ClockRate: 48000, Channels: 2}
	if codec == sim.PCMU {
		capab = pion.RTPCodecCapability{MimeType: pion.MimeTypePCMU, ClockRate: 8000, Channels: 1}
	}
	track, err := pion.NewTrackLocalStaticSample(capab, "audio", "caller")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTrack(track); err != nil {
		t.Fatal(err)
	}
	h := &heard{}
	var wg sync.WaitGroup
	pc.OnTrack(func(tr *pion.TrackRemote, _ *pion.RTPReceiver) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dec, _ := webrtc.NewOpusDecoder(16000)
			pcm := make([]int16, 16000)
			buf := make([]byte, 1500)
			var p rtp.Packet
			for {
				n, _, err := tr.Read(buf)
				if err != nil {
					return
				}
				now := time.Now()
				if p.Unmarshal(buf[:n]) != nil {
					continue
				}
				var rms float64
				if tr.Codec().MimeType == pion.MimeTypePCMU {
					k := media.DecodeUlaw(pcm, p.Payload)
					rms = media.RMS(pcm[:k])
				} else if k, err := dec.Decode(pcm, p.Payload); err == nil {
					rms = media.RMS(pcm[:k])
				}
				h.mu.Lock()
				h.at = append(h.at, now)
				h.rms = append(h.rms, rms)
				h.packets++
				h.mu.Unlock()
			}
		}()
	})
	connected := make(chan struct{})
	var once sync.Once
	pc.OnConnectionStateChange(func(s pion.PeerConnectionState) {
		if s == pion.PeerConnectionStateConnected {
			once.Do(func() { close(connected) })
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := pion.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	sess, err := e.Answer(ctx, pc.LocalDescription().SDP, webrtc.SessionOptions{})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- sess.Run(ctx) }()
	t.Cleanup(func() {
		sess.Hangup()
		<-done
		cancel()
		_ = pc.GracefulClose()
		wg.Wait()
	})
	if err := pc.SetRemoteDescription(pion.SessionDescription{Type: pion.SDPTypeAnswer, SDP: sess.Answer()}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		t.Fatal("not connected")
	}
	if audio != nil {
		packets, err := sim.Encode(codec, audio)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			for i, p := range packets {
				time.Sleep(time.Until(start.Add(time.Duration(i) * media.FrameDuration)))
				if track.WriteSample(pmedia.Sample{Data: p, Duration: media.FrameDuration}) != nil {
					return
				}
			}
		}()
	}
	return sess, h, done
}

func loopbackEngine(t *testing.T, cfg webrtc.Config) *webrtc.Engine {
	t.Helper()
	cfg.IPs = []string{"127.0.0.1"}
	e, err := webrtc.NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func checkPCs(t *testing.T) {
	before := webrtc.Live()
	t.Cleanup(func() {
		if got := webrtc.Live(); got != before {
			t.Errorf("%d PeerConnections open, want %d", got, before)
		}
	})
}

// Barge-in: a mark comes back when its audio has been sent, Clear silences
// the caller within a frame or two and drops the marks behind it.
func TestMarkAndClear(t *testing.T) {
	leaktest.Check(t)
	checkPCs(t)
	e := loopbackEngine(t, webrtc.Config{})
	for _, codec := range []string{sim.Opus, sim.PCMU} {
		t.Run(codec, func(t *testing.T) {
			sess, h, _ := connect(t, e, codec, nil)
			rate := sess.OutputRate()
			start := time.Now()
			sess.Play(media.Sine(rate, 440, 400*time.Millisecond, 0.4))
			sess.Mark("first")
			sess.Play(media.Sine(rate, 440, 2*time.Second, 0.4))
			sess.Mark("second")

			var markAt time.Time
			for markAt.IsZero() {
				select {
				case in := <-sess.In():
					if in.Kind == media.InMark {
						if in.Mark != "first" {
							t.Fatalf("mark %q, want first", in.Mark)
						}
						markAt = time.Now()
					}
				case <-time.After(5 * time.Second):
					t.Fatal("mark first never came back")
				}
			}
			// Never before its audio has left; late only if the machine is.
			if d := markAt.Sub(start); d < 360*time.Millisecond || d > 2*time.Second {
				t.Errorf("mark came back after %v, want when its 400 ms of audio were sent", d)
			}
			time.Sleep(300 * time.Millisecond) // into the second tone
			cleared := time.Now()
			sess.Clear()
			// Stay on the line for a while to hear whatever still comes.
			deadline := time.After(600 * time.Millisecond)
			for wait := true; wait; {
				select {
				case in := <-sess.In():
					if in.Kind == media.InMark {
						t.Errorf("mark %q echoed after Clear dropped its audio", in.Mark)
					}
				case <-deadline:
					wait = false
				}
			}
			// The pacer sends a frame per 20 ms slot, so by the time of
			// Clear at most one frame per 20 ms since start had left (and
			// one more in flight); nothing loud may follow. Counting all
			// loud packets, not their arrival times, keeps this true on a
			// busy machine where the caller reads late.
			sent := int(cleared.Sub(start) / media.FrameDuration)
			_, loud := h.loudSince(start, 500)
			last, _ := h.loudSince(start, 500)
			t.Logf("%s: %d loud packets for %d slots before Clear; the last arrived %v after it", codec, loud, sent, last.Sub(cleared))
			if loud > sent+2 {
				t.Errorf("%d loud packets, want ≤ %d: audio was sent after Clear", loud, sent+2)
			}
			if loud < sent/2 {
				t.Errorf("%d loud packets for %d slots: the tone was not heard", loud, sent)
			}
			if st := sess.Stats(); st.Clears != 1 || st.MarksEchoed != 1 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// Caller audio arrives as 16 kHz 20 ms frames in order, whatever the codec.
func TestInbound(t *testing.T) {
	leaktest.Check(t)
	checkPCs(t)
	e := loopbackEngine(t, webrtc.Config{})
	for _, codec := range []string{sim.Opus, sim.PCMU} {
		t.Run(codec, func(t *testing.T) {
			tone := media.Sine(16000, 500, time.Second, 0.4)
			sess, _, _ := connect(t, e, codec, tone)
			var got []int16
			var last time.Duration = -1
			timeout := time.After(5 * time.Second)
			for len(got) < len(tone)+8000 { // the tone, then silence: the stream goes on
				select {
				case in := <-sess.In():
					if in.Kind != media.InAudio {
						continue
					}
					if in.Rate != 16000 || in.N != 320 {
						t.Fatalf("frame rate %d n %d, want 16000 and 320", in.Rate, in.N)
					}
					if in.Timestamp <= last {
						t.Fatalf("timestamp %v after %v", in.Timestamp, last)
					}
					last = in.Timestamp
					got = append(got, in.PCM()...)
				case <-timeout:
					t.Fatalf("got %d samples of %d", len(got), len(tone))
				}
			}
			// The stream starts when the connection is up, so the tone
			// comes after the time its first packet took (on a busy
			// machine, a few hundred ms of silence).
			lag, coeff := media.CrossCorrelate(tone, got, 8000)
			if coeff < 0.8 || lag < 0 || lag > 8000 {
				t.Errorf("received tone: lag %d coeff %.2f, want the tone", lag, coeff)
			}
		})
	}
}

func TestNeverConnects(t *testing.T) {
	leaktest.Check(t)
	checkPCs(t)
	e := loopbackEngine(t, webrtc.Config{ConnectTimeout: 300 * time.Millisecond})
	pc, err := sim.NewPeerConnection(sim.Opus, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTransceiverFromKind(pion.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	offer, _ := pc.CreateOffer(nil)
	g := pion.GatheringCompletePromise(pc)
	_ = pc.SetLocalDescription(offer)
	<-g
	sdp := pc.LocalDescription().SDP
	_ = pc.GracefulClose()
	sess, err := e.Answer(context.Background(), sdp, webrtc.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = sess.Run(context.Background())
	if !errors.Is(err, webrtc.ErrNotConnected) {
		t.Errorf("Run: %v, want ErrNotConnected", err)
	}
	if _, ok := <-sess.In(); ok {
		t.Error("In not closed after Run")
	}
	sess.Close() // idempotent after Run
}

func TestCheckOffer(t *testing.T) {
	for _, tc := range []struct {
		name string
		sdp  string
		want webrtc.Offer
		err  error
	}{
		{"empty", "", webrtc.Offer{}, webrtc.ErrBadOffer},
		{"garbage", "hello", webrtc.Offer{}, webrtc.ErrBadOffer},
		{"video only", sdpWith("m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n"), webrtc.Offer{}, webrtc.ErrNoAudio},
		{"audio port 0", sdpWith("m=audio 0 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n"), webrtc.Offer{}, webrtc.ErrNoAudio},
		{"g722 only", sdpWith("m=audio 9 UDP/TLS/RTP/SAVPF 9\r\na=rtpmap:9 G722/8000\r\n"), webrtc.Offer{Direction: "sendrecv"}, webrtc.ErrNoCodec},
		{"opus and pcmu", sdpWith("m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\n"), webrtc.Offer{Opus: true, PCMU: true, Direction: "sendrecv"}, nil},
		{"static pcmu, whip", sdpWith("m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=sendonly\r\n"), webrtc.Offer{PCMU: true, Direction: "sendonly"}, nil},
		{"no ice credentials", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\n", webrtc.Offer{}, webrtc.ErrBadOffer},
		{"rtpmap of an unlisted type", sdpWith("m=audio 9 UDP/TLS/RTP/SAVPF 9\r\na=rtpmap:111 opus/48000/2\r\n"), webrtc.Offer{Direction: "sendrecv"}, webrtc.ErrNoCodec},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := webrtc.CheckOffer(tc.sdp)
			if !errors.Is(err, tc.err) || (tc.err == nil && got != tc.want) {
				t.Errorf("CheckOffer = %+v, %v; want %+v, %v", got, err, tc.want, tc.err)
			}
		})
	}
}

func sdpWith(media string) string {
	return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
		"a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijkl\r\n" +
		"a=fingerprint:sha-256 06:86:38:C5:4F:D6:A9:FC:35:5A:33:92:71:E6:86:73:61:8C:A4:5B:90:3C:16:12:B5:C7:D7:44:FC:85:8D:AF\r\n" + media
}

// FuzzCheckOffer: no offer makes the checker panic, and an offer it accepts
// has audio it can use.
func FuzzCheckOffer(f *testing.F) {
	f.Add(sdpWith("m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\n"))
	f.Add(sdpWith("m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=sendonly\r\n"))
	f.Add(sdpWith("m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"))
	f.Add("v=0\r\n")
	f.Fuzz(func(t *testing.T, sdp string) {
		o, err := webrtc.CheckOffer(sdp)
		if err == nil && !o.Opus && !o.PCMU {
			t.Errorf("accepted %q without a codec", sdp)
		}
	})
}
