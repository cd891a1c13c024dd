package openai

import (
	"context"
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

	"github.com/frontdesk/frontdesk/agent"
	"github.com/frontdesk/frontdesk/agent/agenttest"
	"github.com/frontdesk/frontdesk/media"
)

// upload is what the fake read from one multipart transcription request.
type upload struct {
	model, format, language, prompt, filename string
	audio                                     *media.Audio
}

// fakeWhisper answers POST /v1/audio/transcriptions as OpenAI does: it
// parses the multipart form, reads the WAV, and "recognises" speech by
// its loudness: a loud utterance says heard, a quiet one nothing.
type fakeWhisper struct {
	heard    string
	requests atomic.Int64
	uploads  chan upload // if not nil, receives each request
}

func (f *fakeWhisper) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	if r.URL.Path != "/v1/audio/transcriptions" || r.Method != http.MethodPost {
		apiError(w, http.StatusNotFound, "invalid_request_error", "no route "+r.URL.Path)
		return
	}
	if err := r.ParseMultipartForm(10 << 20); err != nil {
		apiError(w, http.StatusBadRequest, "invalid_request_error", err.Error())
		return
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		apiError(w, http.StatusBadRequest, "invalid_request_error", "file: "+err.Error())
		return
	}
	defer file.Close()
	a, err := media.ReadWAV(file)
	if err != nil {
		apiError(w, http.StatusBadRequest, "invalid_request_error", "Invalid file format. "+err.Error())
		return
	}
	u := upload{model: r.FormValue("model"), format: r.FormValue("response_format"), language: r.FormValue("language"),
		prompt: r.FormValue("prompt"), filename: hdr.Filename, audio: a}
	if u.model == "" {
		apiError(w, http.StatusBadRequest, "invalid_request_error", "you must provide a model parameter")
		return
	}
	if a.Duration() < 100*time.Millisecond {
		apiError(w, http.StatusBadRequest, "invalid_request_error", "Audio file is too short. Minimum audio length is 0.1 seconds.")
		return
	}
	if f.uploads != nil {
		f.uploads <- u
	}
	text := ""
	if media.DBFS(media.RMS(a.Samples)) > -30 {
		text = f.heard
	}
	w.Header().Set("Content-Type", "application/json")
	switch u.format {
	case "verbose_json":
		d := a.Duration().Seconds()
		fmt.Fprintf(w, `{"task":"transcribe","language":"english","duration":%.2f,"text":%q,"segments":[`+
			`{"id":0,"seek":0,"start":0.0,"end":%.3f,"text":%q,"tokens":[50364,708],"temperature":0.0,"avg_logprob":-0.2,"compression_ratio":0.9,"no_speech_prob":0.1},`+
			`{"id":1,"seek":0,"start":%.3f,"end":%.3f,"text":"","tokens":[],"temperature":0.0,"avg_logprob":-1.5,"compression_ratio":0.9,"no_speech_prob":0.5}]}`,
			d, text, d/2, text, d/2, d)
	case "text":
		fmt.Fprint(w, text)
	default:
		fmt.Fprintf(w, `{"text":%q,"usage":{"type":"duration","seconds":%d}}`, text, int(math.Ceil(a.Duration().Seconds())))
	}
}

func apiError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"message":%q,"type":%q,"param":null,"code":null}}`, msg, typ)
}

func serve(t *testing.T, h http.Handler, opts Options) *Transcriber {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	opts.BaseURL = srv.URL + "/v1"
	tr, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestConformance(t *testing.T) {
	agenttest.TestSTT(t, serve(t, &fakeWhisper{heard: "What are your opening hours?"}, Options{}))
}

// speech is a loud test signal (the fake hears loudness, not words).
func speech(d time.Duration) []int16 {
	return media.Sine(agent.Rate, 440, d, 8000)
}

func utter(t *testing.T, r agent.Recognizer, pcm []int16) (agent.Transcript, error) {
	t.Helper()
	if err := r.Begin(agent.HintFree); err != nil {
		t.Fatal(err)
	}
	for len(pcm) > 0 {
		n := min(320, len(pcm))
		p, err := r.Write(pcm[:n])
		if err != nil {
			t.Fatal(err)
		}
		if p.Text != "" || p.Final {
			t.Fatalf("partial %+v, want empty", p)
		}
		pcm = pcm[n:]
	}
	return r.End()
}

// TestRequest checks the multipart request: the WAV holds exactly the
// utterance, and model, format, language and prompt are the configured
// ones.
func TestRequest(t *testing.T) {
	for _, tc := range []struct {
		model, format, wantFormat string
		wantConf                  float64
	}{
		{"whisper-1", "", "verbose_json", 0.5 * (math.Exp(-0.2)*0.9 + math.Exp(-1.5)*0.5)},
		{"gpt-4o-mini-transcribe", "", "json", DefaultConfidence},
		{"whisper-1", "json", "json", DefaultConfidence},
	} {
		t.Run(tc.model+"/"+tc.wantFormat, func(t *testing.T) {
			f := &fakeWhisper{heard: "I'd like to book a cleaning with Doctor Lee.", uploads: make(chan upload, 1)}
			tr := serve(t, f, Options{Model: tc.model, Format: tc.format})
			r, err := tr.NewRecognizer(context.Background(), agent.Vocabulary{Words: []string{"cleaning", "Doctor Lee", "Invisalign", "cleaning"}})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			pcm := speech(1234 * time.Millisecond)
			got, err := utter(t, r, pcm)
			if err != nil {
				t.Fatal(err)
			}
			u := <-f.uploads
			if u.model != tc.model || u.format != tc.wantFormat || u.language != "en" || u.filename != "utterance.wav" {
				t.Errorf("fields model %q format %q language %q file %q", u.model, u.format, u.language, u.filename)
			}
			if u.prompt != "cleaning, Doctor Lee, Invisalign." {
				t.Errorf("prompt = %q", u.prompt)
			}
			if u.audio.Rate != agent.Rate || u.audio.Channels != 1 || len(u.audio.Samples) != len(pcm) {
				t.Fatalf("WAV %d Hz × %d, %d samples; want 16000 × 1, %d", u.audio.Rate, u.audio.Channels, len(u.audio.Samples), len(pcm))
			}
			for i := range pcm {
				if u.audio.Samples[i] != pcm[i] {
					t.Fatalf("sample %d = %d, want %d", i, u.audio.Samples[i], pcm[i])
				}
			}
			if got.Text != f.heard || !got.Final || math.Abs(got.Confidence-tc.wantConf) > 1e-9 {
				t.Errorf("End = %+v, want %q final with confidence %.4f", got, f.heard, tc.wantConf)
			}
		})
	}
}

func TestNothingHeard(t *testing.T) {
	f := &fakeWhisper{heard: "hello"}
	tr := serve(t, f, Options{})
	r, _ := tr.NewRecognizer(context.Background(), agent.Vocabulary{})
	defer r.Close()
	// Too short to send: no request.
	got, err := utter(t, r, speech(60*time.Millisecond))
	if err != nil || got.Text != "" || !got.Final || f.requests.Load() != 0 {
		t.Fatalf("short utterance: %+v, %v, %d requests; want empty final and none", got, err, f.requests.Load())
	}
	// Silence: sent, nothing heard, confidence 0.
	got, err = utter(t, r, make([]int16, 8000))
	if err != nil || got.Text != "" || got.Confidence != 0 || f.requests.Load() != 1 {
		t.Fatalf("silence: %+v, %v, %d requests", got, err, f.requests.Load())
	}
}

func TestMaxUtterance(t *testing.T) {
	f := &fakeWhisper{heard: "hello", uploads: make(chan upload, 1)}
	tr := serve(t, f, Options{MaxUtterance: 500 * time.Millisecond})
	r, _ := tr.NewRecognizer(context.Background(), agent.Vocabulary{})
	defer r.Close()
	if _, err := utter(t, r, speech(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if u := <-f.uploads; len(u.audio.Samples) != 8000 {
		t.Fatalf("sent %d samples, want the first 8000", len(u.audio.Samples))
	}
}

func TestErrors(t *testing.T) {
	const budget = 150 * time.Millisecond
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	stall := func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
	for _, tc := range []struct {
		name  string
		h     http.HandlerFunc
		check func(error) bool
	}{
		{"RateLimited", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "3")
			apiError(w, http.StatusTooManyRequests, "rate_limit_exceeded", "Rate limit reached")
		}, func(err error) bool {
			var api *oai.APIError
			var ra interface{ RetryAfter() time.Duration }
			return errors.As(err, &api) && api.HTTPStatusCode == 429 && errors.As(err, &ra) && ra.RetryAfter() == 3*time.Second
		}},
		{"ServerError", func(w http.ResponseWriter, r *http.Request) {
			apiError(w, http.StatusInternalServerError, "server_error", "internal error")
		}, func(err error) bool {
			var api *oai.APIError
			return errors.As(err, &api) && api.HTTPStatusCode == 500
		}},
		{"Stall", stall, func(err error) bool { return errors.Is(err, ErrBudget) && errors.Is(err, context.DeadlineExceeded) }},
		{"NotJSON", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"text": "cut sh`)
		}, func(err error) bool { return err != nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := serve(t, tc.h, Options{Budget: budget})
			r, _ := tr.NewRecognizer(context.Background(), agent.Vocabulary{})
			defer r.Close()
			got, err := utter(t, r, speech(time.Second))
			if !tc.check(err) || !strings.HasPrefix(fmt.Sprint(err), "openai: ") {
				t.Fatalf("End = %+v, %v", got, err)
			}
			// The recognizer still works for the next utterance (which
			// fails the same way, but is sent).
			if _, err := utter(t, r, speech(time.Second)); err == nil {
				t.Fatal("second utterance succeeded against a failing server")
			}
		})
	}
}

// TestCloseDuringEnd: a hang-up ends the request in flight.
func TestCloseDuringEnd(t *testing.T) {
	arrived := make(chan struct{})
	tr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		close(arrived)
		<-r.Context().Done()
	}), Options{Budget: time.Minute})
	r, _ := tr.NewRecognizer(context.Background(), agent.Vocabulary{})
	go func() {
		<-arrived
		r.Close()
	}()
	_, err := utter(t, r, speech(time.Second))
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("End during Close = %v, want ErrClosed", err)
	}
}

func TestNew(t *testing.T) {
	if _, err := New(Options{Format: "srt"}); err == nil {
		t.Error("New(Format srt) succeeded")
	}
	if _, err := New(Options{BaseURL: "not a url"}); err == nil {
		t.Error("New(bad URL) succeeded")
	}
}

func TestConfidenceJSON(t *testing.T) {
	var resp oai.AudioResponse
	if err := json.Unmarshal([]byte(`{"text":"x","segments":[{"start":0,"end":1,"avg_logprob":0.3,"no_speech_prob":-1}]}`), &resp); err != nil {
		t.Fatal(err)
	}
	if c, ok := confidence(resp); !ok || c != 1 {
		t.Errorf("confidence of out-of-range values = %v, %v; want clamped to 1", c, ok)
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
