package fallback

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// cloud is a fake OpenAI API on loopback: it speaks the real wire format
// (SSE chat chunks, multipart transcription, streamed PCM speech) and can
// be told to fail.
type cloud struct {
	srv      *httptest.Server
	mode     atomic.Value // string: one of the modes below
	requests atomic.Int64
	release  chan struct{}
}

const (
	modeOK         = "ok"          // answer
	modeError      = "500"         // HTTP 500 with OpenAI's error JSON
	modeRateLimit  = "429"         // HTTP 429, Retry-After: 60
	modeStall      = "stall"       // never answer
	modeStallAfter = "stall-after" // start answering, then stall
)

// Texts the fake cloud says.
const (
	cloudReply = "This is the cloud speaking. We are open nine to five."
	cloudHeard = "cloud heard you"
)

func newCloud(t *testing.T, mode string) *cloud {
	c := &cloud{release: make(chan struct{})}
	c.mode.Store(mode)
	c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(func() {
		close(c.release)
		c.srv.Close()
	})
	return c
}

func (c *cloud) url() string     { return c.srv.URL + "/v1" }
func (c *cloud) set(mode string) { c.mode.Store(mode) }
func (c *cloud) modeNow() string { return c.mode.Load().(string) }
func (c *cloud) count() int64    { return c.requests.Load() }
func (c *cloud) stall(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-c.release:
	}
}

func (c *cloud) serve(w http.ResponseWriter, r *http.Request) {
	c.requests.Add(1)
	mode := c.modeNow()
	var body []byte
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		body, _ = io.ReadAll(r.Body)
	}
	switch mode {
	case modeError:
		apiError(w, http.StatusInternalServerError, "server_error", "The server had an error while processing your request.")
		return
	case modeRateLimit:
		w.Header().Set("Retry-After", "60")
		apiError(w, http.StatusTooManyRequests, "rate_limit_exceeded", "Rate limit reached for requests")
		return
	case modeStall:
		io.Copy(io.Discard, r.Body)
		c.stall(r)
		return
	}
	switch r.URL.Path {
	case "/v1/chat/completions":
		c.chat(w, r, mode)
	case "/v1/audio/transcriptions":
		c.transcribe(w, r, mode)
	case "/v1/audio/speech":
		var req struct{ Input string }
		json.Unmarshal(body, &req)
		c.speech(w, r, mode, req.Input)
	default:
		apiError(w, http.StatusNotFound, "invalid_request_error", "no route")
	}
}

func apiError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"message":%q,"type":%q,"param":null,"code":null}}`, msg, typ)
}

func (c *cloud) chat(w http.ResponseWriter, r *http.Request, mode string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	send := func(delta, finish string) {
		fr := "null"
		if finish != "" {
			fr = `"` + finish + `"`
		}
		fmt.Fprintf(w, "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":%s,\"finish_reason\":%s}]}\n\n", delta, fr)
		w.(http.Flusher).Flush()
	}
	send(`{"role":"assistant","content":""}`, "")
	words := strings.SplitAfter(cloudReply, " ")
	for i, word := range words {
		b, _ := json.Marshal(word)
		send(`{"content":`+string(b)+`}`, "")
		if mode == modeStallAfter && i == 3 {
			c.stall(r)
			return
		}
	}
	send(`{}`, "stop")
	fmt.Fprint(w, "data: [DONE]\n\n")
}

func (c *cloud) transcribe(w http.ResponseWriter, r *http.Request, mode string) {
	if err := r.ParseMultipartForm(10 << 20); err != nil || r.FormValue("model") == "" {
		apiError(w, http.StatusBadRequest, "invalid_request_error", "bad form")
		return
	}
	if _, _, err := r.FormFile("file"); err != nil {
		apiError(w, http.StatusBadRequest, "invalid_request_error", "no file")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"text":%q}`, cloudHeard)
}

// cloudRate is the fake's speech rate (OpenAI's pcm).
const cloudRate = 24000

func (c *cloud) speech(w http.ResponseWriter, r *http.Request, mode, text string) {
	w.Header().Set("Content-Type", "audio/pcm")
	w.WriteHeader(http.StatusOK)
	n := len(text) * cloudRate / 40 // 25 ms per character
	var b []byte
	for i := range n {
		v := int16(6000 * math.Sin(2*math.Pi*220*float64(i)/cloudRate))
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	for len(b) > 0 {
		k := min(len(b), 4800)
		w.Write(b[:k])
		w.(http.Flusher).Flush()
		b = b[k:]
		if mode == modeStallAfter {
			c.stall(r)
			return
		}
		time.Sleep(time.Millisecond)
	}
}
