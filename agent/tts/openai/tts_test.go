package openai

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	oai "github.com/sashabaranov/go-openai"

	"github.com/frontdesk/frontdesk/agent/agenttest"
)

type speechRequest struct {
	Model          string  `json:"model"`
	Input          string  `json:"input"`
	Voice          string  `json:"voice"`
	Instructions   string  `json:"instructions"`
	ResponseFormat string  `json:"response_format"`
	Speed          float64 `json:"speed"`
}

// voice is the fake's audio for text: 25 ms per character of a 220 Hz
// tone, as 24 kHz PCM16 little-endian.
func voice(text string) []byte {
	n := len(text) * 24000 / 40
	b := make([]byte, 0, 2*n)
	for i := range n {
		v := int16(6000 * math.Sin(2*math.Pi*220*float64(i)/24000))
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	return b
}

// fakeSpeech answers POST /v1/audio/speech as OpenAI does with
// response_format pcm: a chunked body written in pieces as they are
// "synthesised" (odd sizes, so samples straddle pieces).
type fakeSpeech struct {
	requests atomic.Int64
	last     atomic.Pointer[speechRequest]
	gate     chan struct{} // if not nil, the rest of the body waits for it
}

func (f *fakeSpeech) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	if r.URL.Path != "/v1/audio/speech" || r.Method != http.MethodPost {
		apiError(w, http.StatusNotFound, "invalid_request_error", "no route "+r.URL.Path)
		return
	}
	var req speechRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		apiError(w, http.StatusBadRequest, "invalid_request_error", err.Error())
		return
	}
	f.last.Store(&req)
	if req.ResponseFormat != "pcm" || req.Input == "" || req.Model == "" || req.Voice == "" {
		apiError(w, http.StatusBadRequest, "invalid_request_error", "want pcm, input, model and voice")
		return
	}
	audio := voice(req.Input)
	w.Header().Set("Content-Type", "audio/pcm")
	w.WriteHeader(http.StatusOK)
	fl := w.(http.Flusher)
	for i := 0; len(audio) > 0; i++ {
		n := min(len(audio), 4801)
		if _, err := w.Write(audio[:n]); err != nil {
			return
		}
		fl.Flush()
		audio = audio[n:]
		if i == 0 && f.gate != nil {
			select {
			case <-f.gate:
			case <-r.Context().Done():
				return
			}
		}
		time.Sleep(2 * time.Millisecond) // synthesis takes time
	}
}

func apiError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"message":%q,"type":%q,"param":null,"code":null}}`, msg, typ)
}

func serve(t *testing.T, h http.Handler, opts Options) *Synth {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	opts.BaseURL = srv.URL + "/v1"
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	agenttest.TestTTS(t, serve(t, &fakeSpeech{}, Options{}))
}

// TestRequest: the request's fields, and the audio out exactly as sent.
func TestRequest(t *testing.T) {
	f := &fakeSpeech{}
	s := serve(t, f, Options{Model: "tts-1", Voice: "coral", Instructions: "Warm and calm.", Speed: 1.1, Chunk: 20 * time.Millisecond})
	const text = "We are open from nine to five."
	var got []int16
	chunks := 0
	err := s.Synthesize(context.Background(), "  "+text+"\n", func(pcm []int16) error {
		if len(pcm) == 0 || len(pcm) > 480 {
			t.Errorf("chunk of %d samples, want 1…480 (20 ms)", len(pcm))
		}
		got = append(got, pcm...)
		chunks++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r := f.last.Load()
	if r.Model != "tts-1" || r.Voice != "coral" || r.Input != text || r.ResponseFormat != "pcm" || r.Instructions != "Warm and calm." || r.Speed != 1.1 {
		t.Errorf("request %+v", *r)
	}
	want := voice(text)
	if len(got) != len(want)/2 {
		t.Fatalf("%d samples, want %d", len(got), len(want)/2)
	}
	for i := range got {
		if w := int16(binary.LittleEndian.Uint16(want[2*i:])); got[i] != w {
			t.Fatalf("sample %d = %d, want %d", i, got[i], w)
		}
	}
	if s.Rate() != 24000 {
		t.Errorf("Rate() = %d", s.Rate())
	}
}

// TestStreams: the first audio reaches out before the server has sent
// the rest.
func TestStreams(t *testing.T) {
	f := &fakeSpeech{gate: make(chan struct{})}
	s := serve(t, f, Options{})
	n := 0
	err := s.Synthesize(context.Background(), "Thank you for calling, how can I help you today?", func(pcm []int16) error {
		if n == 0 {
			close(f.gate)
		}
		n += len(pcm)
		return nil
	})
	if err != nil || n == 0 {
		t.Fatalf("Synthesize = %v with %d samples", err, n)
	}
}

func TestNoText(t *testing.T) {
	f := &fakeSpeech{}
	s := serve(t, f, Options{})
	if err := s.Synthesize(context.Background(), " \n", func([]int16) error { return nil }); err != nil || f.requests.Load() != 0 {
		t.Fatalf("Synthesize(blank) = %v with %d requests", err, f.requests.Load())
	}
}

func TestErrors(t *testing.T) {
	const budget = 150 * time.Millisecond
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	stall := func(r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
	for _, tc := range []struct {
		name    string
		h       http.HandlerFunc
		check   func(error) bool
		partial bool
	}{
		{"RateLimited", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "1.5")
			apiError(w, http.StatusTooManyRequests, "rate_limit_exceeded", "Rate limit reached")
		}, func(err error) bool {
			var api *oai.APIError
			var ra interface{ RetryAfter() time.Duration }
			return errors.As(err, &api) && api.HTTPStatusCode == 429 && errors.As(err, &ra) && ra.RetryAfter() == 1500*time.Millisecond
		}, false},
		{"ServerError", func(w http.ResponseWriter, r *http.Request) {
			apiError(w, http.StatusInternalServerError, "server_error", "internal error")
		}, func(err error) bool {
			var api *oai.APIError
			return errors.As(err, &api) && api.HTTPStatusCode == 500
		}, false},
		{"StallBeforeHeaders", func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			stall(r)
		}, isBudget, false},
		{"StallMidBody", func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusOK)
			w.Write(voice("hello"))
			w.(http.Flusher).Flush()
			stall(r)
		}, isBudget, true},
		{"ConnectionLost", func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusOK)
			w.Write(voice("hello"))
			w.(http.Flusher).Flush()
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close() // mid chunked body
			}
		}, func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := serve(t, tc.h, Options{Budget: budget})
			n := 0
			err := s.Synthesize(context.Background(), "Hello there.", func(pcm []int16) error { n += len(pcm); return nil })
			if !tc.check(err) || !strings.HasPrefix(fmt.Sprint(err), "openai: ") {
				t.Fatalf("Synthesize = %v", err)
			}
			if (n > 0) != tc.partial {
				t.Errorf("%d samples before the error, want some: %v", n, tc.partial)
			}
		})
	}
}

func isBudget(err error) bool {
	return errors.Is(err, ErrBudget) && errors.Is(err, context.DeadlineExceeded)
}

func TestNew(t *testing.T) {
	for _, o := range []Options{{Rate: 1000}, {Speed: 9}, {BaseURL: "::"}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) succeeded", o)
		}
	}
}

func TestWarm(t *testing.T) {
	var auth string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		if r.URL.Path != "/v1/models" || auth != "Bearer sk-good" {
			apiError(w, http.StatusUnauthorized, "invalid_request_error", "Incorrect API key provided")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"object":"list","data":[{"id":"gpt-4o-mini","object":"model","created":1686935002,"owned_by":"openai"}]}`)
	})
	good, bad := serve(t, h, Options{APIKey: "sk-good"}), serve(t, h, Options{APIKey: "sk-bad"})
	if err := good.Warm(context.Background()); err != nil {
		t.Fatalf("Warm = %v", err)
	}
	var api *oai.APIError
	if err := bad.Warm(context.Background()); !errors.As(err, &api) || api.HTTPStatusCode != 401 {
		t.Fatalf("Warm with a wrong key = %v, want a 401", err)
	}
}
