package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	pion "github.com/pion/webrtc/v4"

	"github.com/frontdesk/frontdesk/internal/leaktest"
	"github.com/frontdesk/frontdesk/media/webrtc"
	"github.com/frontdesk/frontdesk/media/webrtc/sim"
)

const pionAudio = pion.RTPCodecTypeAudio

var sendRecv = pion.RTPTransceiverInit{Direction: pion.RTPTransceiverDirectionSendrecv}

// gatheredOffer returns pc's offer with every ICE candidate in it.
func gatheredOffer(t testing.TB, pc *pion.PeerConnection) string {
	t.Helper()
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := pion.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("ICE gathering did not complete")
	}
	return pc.LocalDescription().SDP
}

// audioOffer is a real caller's offer (Opus and PCMU, loopback candidates).
func audioOffer(t testing.TB) string {
	t.Helper()
	pc, err := sim.NewPeerConnection(sim.Opus, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.GracefulClose()
	if _, err := pc.AddTransceiverFromKind(pionAudio, sendRecv); err != nil {
		t.Fatal(err)
	}
	return gatheredOffer(t, pc)
}

func postOffer(t testing.TB, base, business, sdp string) (int, string, http.Header) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"sdp": sdp, "type": "offer", "business": business})
	return post(t, base+"/v1/webrtc/offer", "application/json", body)
}

func post(t testing.TB, url, contentType string, body []byte) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Post(url, contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data), resp.Header
}

// errorCode is the code of the server's JSON error envelope.
func errorCode(body string) string {
	var e struct {
		Error struct{ Code, Message string }
	}
	_ = json.Unmarshal([]byte(body), &e)
	return e.Error.Code
}

func TestWebRTCBadInput(t *testing.T) {
	leaktest.Check(t)
	checkPCs(t)
	ts := startRTC(t, "echo", webrtc.Config{OffersPerIP: -1, OffersPerBusiness: -1})
	good := audioOffer(t)

	noAudio := func() string {
		pc, err := sim.NewPeerConnection(sim.Opus, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer pc.GracefulClose()
		if _, err := pc.CreateDataChannel("chat", nil); err != nil {
			t.Fatal(err)
		}
		return gatheredOffer(t, pc)
	}()
	// The good offer with its audio codecs replaced by G.722 (payload 9).
	noCodec := good
	for _, l := range strings.Split(good, "\r\n") {
		if strings.HasPrefix(l, "m=audio ") {
			f := strings.Fields(l)
			noCodec = strings.Replace(noCodec, l, strings.Join(append(f[:3], "9"), " "), 1)
		}
	}
	noCodec = strings.ReplaceAll(noCodec, "a=rtpmap:111 opus/48000/2\r\n", "a=rtpmap:9 G722/8000\r\n")

	for _, tc := range []struct {
		name        string
		path, ctype string
		body        string
		status      int
		code        string
	}{
		{"not json", "/v1/webrtc/offer", "application/json", "{sdp:", 400, "bad_request"},
		{"answer type", "/v1/webrtc/offer", "application/json", `{"type":"answer","sdp":"v=0","business":"clinic"}`, 400, "bad_request"},
		{"empty sdp", "/v1/webrtc/offer", "application/json", `{"type":"offer","sdp":"","business":"clinic"}`, 400, "bad_sdp"},
		{"malformed sdp", "/v1/webrtc/offer", "application/json", jsonOffer("clinic", "v=0\r\nthis is not SDP\r\n"), 400, "bad_sdp"},
		{"no audio", "/v1/webrtc/offer", "application/json", jsonOffer("clinic", noAudio), 400, "no_audio"},
		{"no codec", "/v1/webrtc/offer", "application/json", jsonOffer("clinic", noCodec), 400, "no_codec"},
		{"unknown business", "/v1/webrtc/offer", "application/json", jsonOffer("nope", good), 404, "not_found"},
		{"whip unknown business", "/v1/whip/nope", "application/sdp", good, 404, "not_found"},
		{"whip json", "/v1/whip/clinic", "application/json", jsonOffer("clinic", good), 415, "unsupported_media_type"},
		{"whip malformed", "/v1/whip/clinic", "application/sdp", "hello", 400, "bad_sdp"},
		{"whip no audio", "/v1/whip/clinic", "application/sdp", noAudio, 400, "no_audio"},
		{"too large", "/v1/whip/clinic", "application/sdp", strings.Repeat("a=x\r\n", 20000), 413, "too_large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, _ := post(t, ts.URL+tc.path, tc.ctype, []byte(tc.body))
			if status != tc.status || errorCode(body) != tc.code {
				t.Errorf("%d %s, want %d with code %q", status, strings.TrimSpace(body), tc.status, tc.code)
			}
		})
	}

	// An offer cut before its last required line (ICE credentials, DTLS
	// fingerprint, codecs) is refused, wherever the cut: at every line start
	// (the cuts most likely to parse) and inside lines. Cut later, it can be
	// a valid offer with fewer candidates.
	last := 0 // where the last required line starts
	for _, attr := range []string{"a=ice-ufrag:", "a=ice-pwd:", "a=fingerprint:", "a=rtpmap:0 "} {
		i := strings.LastIndex(good, attr)
		if i < 0 {
			t.Fatalf("the good offer has no %s", attr)
		}
		last = max(last, i)
	}
	var cuts []int
	for i := 0; i <= last; i++ {
		if i == 0 || good[i-1] == '\n' || i%37 == 0 {
			cuts = append(cuts, i)
		}
	}
	for _, n := range cuts {
		status, body, _ := post(t, ts.URL+"/v1/webrtc/offer", "application/json", []byte(jsonOffer("clinic", good[:n])))
		if status/100 != 4 {
			t.Errorf("offer cut at %d of %d bytes: %d %s, want a 4xx", n, len(good), status, tail(body, 200))
		}
	}

	req, _ := http.NewRequest(http.MethodDelete, ts.URL+"/v1/webrtc/calls/call_nope", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("DELETE of an unknown call: %d, want 404", resp.StatusCode)
	}
	if n := ts.ActiveCalls(); n != 0 {
		t.Errorf("%d calls after bad offers, want 0", n)
	}
	if got := scrape(t, ts.URL)[`frontdesk_rejected_total{reason="bad_offer"}`]; got < 8 {
		t.Errorf("rejected bad_offer = %v, want ≥ 8", got)
	}
}

func jsonOffer(business, sdp string) string {
	b, _ := json.Marshal(map[string]string{"sdp": sdp, "type": "offer", "business": business})
	return string(b)
}

// A flood of offers from one address is refused with 429 and Retry-After
// once the address's bucket is empty; the calls it did make never connect
// and are cleaned up.
func TestWebRTCOfferFlood(t *testing.T) {
	leaktest.Check(t)
	checkPCs(t)
	ts := startRTC(t, "echo", webrtc.Config{ConnectTimeout: 500 * time.Millisecond})
	offer := audioOffer(t)
	var ok, limited int
	for i := range 15 {
		status, body, h := postOffer(t, ts.URL, "clinic", offer)
		switch status {
		case http.StatusOK:
			ok++
		case http.StatusTooManyRequests:
			limited++
			if h.Get("Retry-After") == "" || errorCode(body) != "rate_limited" {
				t.Errorf("offer %d: 429 without Retry-After or code: %v %s", i, h, body)
			}
		default:
			t.Errorf("offer %d: %d %s", i, status, body)
		}
	}
	if ok != webrtc.DefaultOffersPerIP || limited != 15-ok {
		t.Errorf("%d answered, %d refused; want %d answered", ok, limited, webrtc.DefaultOffersPerIP)
	}
	// The answered ones never connect: cleaned up after ConnectTimeout.
	waitMetric(t, ts.URL, `frontdesk_calls_total{outcome="error",transport="webrtc"}`, float64(ok))
	if n := ts.ActiveCalls(); n != 0 {
		t.Errorf("%d calls left, want 0", n)
	}
}

// The per-business limit holds whatever the addresses.
func TestWebRTCBusinessLimit(t *testing.T) {
	leaktest.Check(t)
	checkPCs(t)
	ts := startRTC(t, "echo", webrtc.Config{OffersPerIP: -1, OffersPerBusiness: 3, ConnectTimeout: 500 * time.Millisecond})
	offer := audioOffer(t)
	var statuses []int
	for range 4 {
		status, _, _ := postOffer(t, ts.URL, "clinic", offer)
		statuses = append(statuses, status)
	}
	if want := []int{200, 200, 200, 429}; !equalInts(statuses, want) {
		t.Errorf("statuses %v, want %v", statuses, want)
	}
	waitMetric(t, ts.URL, `frontdesk_calls_total{outcome="error",transport="webrtc"}`, 3)
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
