package openai

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/frontdesk/frontdesk/agent/internal/openaiapi"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	oai "github.com/sashabaranov/go-openai"

	"github.com/frontdesk/frontdesk/agent"
	"github.com/frontdesk/frontdesk/media"
)

// Defaults of Options.
const (
	DefaultModel        = "whisper-1"
	DefaultBudget       = 3 * time.Second
	DefaultConfidence   = 0.8
	DefaultMaxUtterance = 30 * time.Second
	// MinAudio is the shortest utterance sent; shorter ones (OpenAI
	// refuses audio under 0.1 s) end with empty text and no request.
	MinAudio = 100 * time.Millisecond
)

// Options configure a Transcriber. The zero value talks to OpenAI with
// DefaultModel.
type Options struct {
	// BaseURL of the API, up to and including the version ("…/v1");
	// default DefaultBaseURL.
	BaseURL string
	// APIKey is sent as a bearer token; empty sends none.
	APIKey string
	// Model; default DefaultModel.
	Model string
	// Language of the callers, ISO 639-1; default "en". "auto" lets the
	// server detect it.
	Language string
	// Format is the response format: "verbose_json" (segments with
	// log-probabilities) or "json". Default verbose_json for whisper
	// models, json for others (the gpt-4o transcribe models offer no
	// verbose_json).
	Format string
	// Budget bounds one utterance's transcription request; default
	// DefaultBudget.
	Budget time.Duration
	// Confidence is given to results whose response carries no
	// log-probabilities; default DefaultConfidence.
	Confidence float64
	// MaxUtterance caps the audio buffered per utterance; later audio is
	// dropped. Default DefaultMaxUtterance.
	MaxUtterance time.Duration
	// HTTPClient; default a new client (Budget bounds the requests).
	HTTPClient *http.Client
}

// Transcriber is an agent.STT over the transcription API. It is safe for
// concurrent use.
type Transcriber struct {
	client *oai.Client
	opts   Options
}

var _ agent.STT = (*Transcriber)(nil)

// New returns a Transcriber configured by opts. It makes no request.
func New(opts Options) (*Transcriber, error) {
	if opts.Model == "" {
		opts.Model = DefaultModel
	}
	switch opts.Language {
	case "":
		opts.Language = "en"
	case "auto":
		opts.Language = ""
	}
	if opts.Format == "" {
		opts.Format = string(oai.AudioResponseFormatJSON)
		if strings.HasPrefix(opts.Model, "whisper") {
			opts.Format = string(oai.AudioResponseFormatVerboseJSON)
		}
	}
	if opts.Format != string(oai.AudioResponseFormatJSON) && opts.Format != string(oai.AudioResponseFormatVerboseJSON) {
		return nil, fmt.Errorf("openai: transcription format %q: want json or verbose_json", opts.Format)
	}
	if opts.Budget <= 0 {
		opts.Budget = DefaultBudget
	}
	if opts.Confidence <= 0 || opts.Confidence > 1 {
		opts.Confidence = DefaultConfidence
	}
	if opts.MaxUtterance <= 0 {
		opts.MaxUtterance = DefaultMaxUtterance
	}
	cfg, err := openaiapi.ClientConfig(opts.BaseURL, opts.APIKey, opts.HTTPClient)
	if err != nil {
		return nil, err
	}
	return &Transcriber{client: oai.NewClientWithConfig(cfg), opts: opts}, nil
}

// NewRecognizer returns a recognizer for one call. Its requests end when
// ctx ends or the recognizer is closed.
func (t *Transcriber) NewRecognizer(ctx context.Context, vocab agent.Vocabulary) (agent.Recognizer, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("openai: new recognizer: %w", err)
	}
	rctx, cancel := context.WithCancel(ctx)
	return &Recognizer{t: t, prompt: prompt(vocab), ctx: rctx, cancel: cancel}, nil
}

// Recognizer transcribes one call's utterances. Begin, Write and End are
// used by one goroutine at a time; Close may come from any goroutine, at
// any time, more than once, and ends a request in flight.
type Recognizer struct {
	// immutable
	t      *Transcriber
	prompt string
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool // guarded by mu

	// owned by the goroutine using the recognizer
	active bool
	pcm    []byte // little-endian PCM16 of the current utterance
}

var _ agent.Recognizer = (*Recognizer)(nil)

// ErrClosed is returned by a closed Recognizer.
var ErrClosed = errors.New("openai: recognizer closed")

func (r *Recognizer) check() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	return nil
}

// Begin starts an utterance. The hint is not used: the API has no
// grammars.
func (r *Recognizer) Begin(agent.Hint) error {
	if err := r.check(); err != nil {
		return err
	}
	r.active = true
	r.pcm = r.pcm[:0]
	return nil
}

// Write buffers 16 kHz PCM16 audio and returns an empty partial.
func (r *Recognizer) Write(pcm []int16) (agent.Transcript, error) {
	if err := r.check(); err != nil {
		return agent.Transcript{}, err
	}
	if !r.active {
		return agent.Transcript{}, errors.New("openai: write outside an utterance")
	}
	room := media.Samples(agent.Rate, r.t.opts.MaxUtterance) - len(r.pcm)/2
	for _, s := range pcm[:max(0, min(len(pcm), room))] {
		r.pcm = binary.LittleEndian.AppendUint16(r.pcm, uint16(s))
	}
	return agent.Transcript{}, nil
}

// End sends the utterance and returns its transcript.
func (r *Recognizer) End() (agent.Transcript, error) {
	if err := r.check(); err != nil {
		return agent.Transcript{}, err
	}
	if !r.active {
		return agent.Transcript{}, errors.New("openai: end outside an utterance")
	}
	r.active = false
	if len(r.pcm)/2 < media.Samples(agent.Rate, MinAudio) {
		return agent.Transcript{Final: true}, nil
	}
	wav, err := media.AppendWAVHeader(make([]byte, 0, media.WAVHeaderSize+len(r.pcm)), agent.Rate, 1, uint32(len(r.pcm)))
	if err != nil {
		return agent.Transcript{}, fmt.Errorf("openai: transcribe: %w", err)
	}
	wav = append(wav, r.pcm...)

	ctx, cancel := context.WithTimeoutCause(r.ctx, r.t.opts.Budget, ErrBudget)
	defer cancel()
	ctx, hold := openaiapi.WithHolder(ctx)
	resp, err := r.t.client.CreateTranscription(ctx, oai.AudioRequest{
		Model:    r.t.opts.Model,
		FilePath: "utterance.wav",
		Reader:   bytes.NewReader(wav),
		Prompt:   r.prompt,
		Language: r.t.opts.Language,
		Format:   oai.AudioResponseFormat(r.t.opts.Format),
	})
	if err != nil {
		if r.check() != nil {
			return agent.Transcript{}, fmt.Errorf("openai: transcribe: %w", ErrClosed)
		}
		return agent.Transcript{}, openaiapi.Failure(ctx, "transcribe", hold, err)
	}
	text := strings.TrimSpace(resp.Text)
	tr := agent.Transcript{Text: text, Final: true}
	if text != "" {
		tr.Confidence = r.t.opts.Confidence
		if c, ok := confidence(resp); ok {
			tr.Confidence = c
		}
	}
	return tr, nil
}

// Close ends the recognizer and any request in flight.
func (r *Recognizer) Close() error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	return nil
}

// confidence is the duration-weighted mean over segments of
// exp(avg_logprob) × (1 − no_speech_prob).
func confidence(resp oai.AudioResponse) (float64, bool) {
	var sum, weight float64
	for _, s := range resp.Segments {
		w := s.End - s.Start
		if w <= 0 {
			w = 0.01
		}
		p := math.Exp(min(s.AvgLogprob, 0)) * (1 - min(max(s.NoSpeechProb, 0), 1))
		sum += w * p
		weight += w
	}
	if weight == 0 {
		return 0, false
	}
	return min(max(sum/weight, 0), 1), true
}

// maxPrompt bounds the prompt: whisper reads at most 224 tokens of it.
const maxPrompt = 600

// prompt lists the vocabulary's words, which whisper then spells as given.
func prompt(vocab agent.Vocabulary) string {
	var b strings.Builder
	seen := map[string]bool{}
	for _, w := range vocab.Words {
		w = strings.TrimSpace(w)
		if w == "" || seen[strings.ToLower(w)] {
			continue
		}
		seen[strings.ToLower(w)] = true
		if b.Len()+len(w)+2 > maxPrompt {
			break
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(w)
	}
	if b.Len() == 0 {
		return ""
	}
	return b.String() + "."
}

// Warm opens a connection to the server ahead of the call (the composition
// root calls it from the voice webhook) and checks the key, by listing the
// models. The first request of the call then skips the handshakes.
func (t *Transcriber) Warm(ctx context.Context) error {
	return openaiapi.Warm(ctx, t.client, t.opts.Budget)
}
