package openai

import (
	"context"
	"errors"
	"fmt"
	"github.com/frontdesk/frontdesk/agent/internal/openaiapi"
	"io"
	"net/http"
	"strings"
	"time"

	oai "github.com/sashabaranov/go-openai"

	"github.com/frontdesk/frontdesk/agent"
)

// Defaults of Options.
const (
	DefaultModel  = "gpt-4o-mini-tts"
	DefaultVoice  = "alloy"
	DefaultRate   = 24000 // OpenAI's pcm format
	DefaultBudget = 2 * time.Second
	DefaultChunk  = 40 * time.Millisecond
)

// Options configure a Synth. The zero value talks to OpenAI with
// DefaultModel and DefaultVoice.
type Options struct {
	// BaseURL of the API, up to and including the version ("…/v1");
	// default DefaultBaseURL.
	BaseURL string
	// APIKey is sent as a bearer token; empty sends none.
	APIKey string
	// Model; default DefaultModel.
	Model string
	// Voice; default DefaultVoice.
	Voice string
	// Instructions steer the voice (gpt-4o-mini-tts only); default none.
	Instructions string
	// Speed in [0.25, 4]; zero leaves the server's default (1).
	Speed float64
	// Rate is the sample rate of the server's pcm; default DefaultRate.
	// Other servers may use another.
	Rate int
	// Budget bounds each wait on the server: the response to start and
	// every piece of the body after it. Default DefaultBudget.
	Budget time.Duration
	// Chunk is the most audio handed to out at once; a piece of the body
	// that holds more is cut. Default DefaultChunk.
	Chunk time.Duration
	// HTTPClient; default a new client (Budget bounds the waits).
	HTTPClient *http.Client
}

// Synth is an agent.TTS over the speech API. It is safe for concurrent
// use.
type Synth struct {
	client *oai.Client
	opts   Options
}

var _ agent.TTS = (*Synth)(nil)

// New returns a Synth configured by opts. It makes no request.
func New(opts Options) (*Synth, error) {
	if opts.Model == "" {
		opts.Model = DefaultModel
	}
	if opts.Voice == "" {
		opts.Voice = DefaultVoice
	}
	if opts.Rate == 0 {
		opts.Rate = DefaultRate
	}
	if opts.Rate < 8000 || opts.Rate > 48000 {
		return nil, fmt.Errorf("openai: speech rate %d: want within [8000, 48000]", opts.Rate)
	}
	if opts.Speed != 0 && (opts.Speed < 0.25 || opts.Speed > 4) {
		return nil, fmt.Errorf("openai: speech speed %v: want within [0.25, 4]", opts.Speed)
	}
	if opts.Budget <= 0 {
		opts.Budget = DefaultBudget
	}
	if opts.Chunk <= 0 {
		opts.Chunk = DefaultChunk
	}
	cfg, err := openaiapi.ClientConfig(opts.BaseURL, opts.APIKey, opts.HTTPClient)
	if err != nil {
		return nil, err
	}
	return &Synth{client: oai.NewClientWithConfig(cfg), opts: opts}, nil
}

// Rate returns the sample rate of the audio: Options.Rate, 24000 by
// default.
func (s *Synth) Rate() int { return s.opts.Rate }

// Synthesize streams the audio of text to out as the server sends it, in
// chunks of at most Options.Chunk. Each chunk is a fresh slice that out may
// keep. Text with no words gives no audio, no request and no error. It
// returns ctx's error if ctx ends first, or out's error (which stops the
// request).
func (s *Synth) Synthesize(ctx context.Context, text string, out func(pcm []int16) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return nil
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ctx, hold := openaiapi.WithHolder(ctx)
	wd := openaiapi.NewWatchdog(s.opts.Budget, cancel)
	defer wd.Disarm()

	resp, err := s.client.CreateSpeech(ctx, oai.CreateSpeechRequest{
		Model:          oai.SpeechModel(s.opts.Model),
		Input:          text,
		Voice:          oai.SpeechVoice(s.opts.Voice),
		Instructions:   s.opts.Instructions,
		ResponseFormat: oai.SpeechResponseFormatPcm,
		Speed:          s.opts.Speed,
	})
	wd.Disarm()
	if err != nil {
		return openaiapi.Failure(ctx, "speech", hold, err)
	}
	defer resp.Close()

	buf := make([]byte, 2*max(1, int(s.opts.Chunk.Seconds()*float64(s.opts.Rate))))
	have := 0 // bytes in buf, at most one left over between reads
	for {
		wd.Arm()
		n, err := resp.Read(buf[have:])
		wd.Disarm()
		have += n
		if even := have &^ 1; even > 0 {
			pcm := make([]int16, even/2)
			for i := range pcm {
				pcm[i] = int16(uint16(buf[2*i]) | uint16(buf[2*i+1])<<8)
			}
			if cerr := ctx.Err(); cerr != nil {
				return openaiapi.Failure(ctx, "speech", hold, cerr)
			}
			if oerr := out(pcm); oerr != nil {
				return oerr
			}
			if cerr := ctx.Err(); cerr != nil {
				return openaiapi.Failure(ctx, "speech", hold, cerr)
			}
			copy(buf, buf[even:have])
			have -= even
		}
		if errors.Is(err, io.EOF) {
			return nil // an odd last byte is dropped
		}
		if err != nil {
			return openaiapi.Failure(ctx, "speech", hold, err)
		}
	}
}

// Warm opens a connection to the server ahead of the call (the composition
// root calls it from the voice webhook) and checks the key, by listing the
// models. The first request of the call then skips the handshakes.
func (s *Synth) Warm(ctx context.Context) error {
	return openaiapi.Warm(ctx, s.client, s.opts.Budget)
}
