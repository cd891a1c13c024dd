//go:build cgo

package sphinx

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/frontdesk/frontdesk/agent"
)

// ErrClosed is returned by an Engine or Recognizer used after Close.
var ErrClosed = errors.New("sphinx: closed")

// Engine makes recognizers, building (once per vocabulary) the language
// model and dictionary they decode with. It is safe for concurrent use.
type Engine struct {
	// Immutable after New.
	opts Options

	builds atomic.Int64 // models built, for tests

	mu       sync.Mutex // guards what follows
	dir      string     // created by the first build; removed by Close once unused
	models   map[[32]byte]*model
	clock    uint64 // LRU clock
	inflight int    // models acquired and not released
	closed   bool
}

var _ agent.STT = (*Engine)(nil)

// model is a built language model and dictionary on disk, shared by the
// recognizers of one vocabulary.
type model struct {
	ready chan struct{} // closed once built or failed
	// Set before ready is closed, immutable after.
	err      error
	lm, dict string

	// Guarded by Engine.mu.
	refs    int
	used    uint64
	evicted bool
}

// New checks opts and returns an engine. It starts nothing and builds
// nothing: the first NewRecognizer for a vocabulary builds its model.
func New(opts Options) (*Engine, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	for _, p := range []string{opts.ModelDir, opts.Dict} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("sphinx: new engine: %w (is pocketsphinx-en-us installed?)", err)
		}
	}
	return &Engine{opts: opts, models: map[[32]byte]*model{}}, nil
}

// NewRecognizer returns a recognizer with its own decoder for vocab plus
// the built-in receptionist corpus. The model of a vocabulary is built
// once (tens of milliseconds) and cached; the decoder itself takes a few
// milliseconds and about 7 MB.
func (e *Engine) NewRecognizer(ctx context.Context, vocab agent.Vocabulary) (agent.Recognizer, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sphinx: new recognizer: %w", err)
	}
	m, err := e.acquire(ctx, vocab)
	if err != nil {
		return nil, fmt.Errorf("sphinx: new recognizer: %w", err)
	}
	defer e.release(m)
	d, err := newDecoder(e.opts.ModelDir, m.dict, m.lm, decoderArgs...)
	if err != nil {
		return nil, fmt.Errorf("sphinx: new recognizer: %w", err)
	}
	if !e.opts.Wideband {
		if _, err := d.cmn(phoneCMN[:]); err != nil {
			d.free()
			return nil, fmt.Errorf("sphinx: new recognizer: %w", err)
		}
	}
	return &Recognizer{d: d, search: agent.HintFree, grammars: map[agent.Hint]bool{}}, nil
}

// phoneCMN is the cepstral mean of speech that crossed an 8 kHz μ-law
// line, upsampled to 16 kHz: the average of the means the decoder had
// adapted to after 30 utterances by each of flite's slt, rms and awb
// voices (TestPhoneCMN prints them). Energy above 4 kHz is missing, so
// the higher coefficients sit far from the wideband model's prior.
var phoneCMN = [cmnLen]float32{45.6, 33.2, -31.2, 51.4, -10.3, -5.3, 23.6, -25.6, 10.7, -4.0, -1.7, 15.0, -9.2}

// decoderArgs are the pocketsphinx settings every decoder gets besides
// its model files. None yet: the defaults (with the model's feat.params,
// which override the command line) measured best; see docs/speech.md.
var decoderArgs []string

// acquire returns the built model of vocab, building it if no one has;
// the caller releases it once its decoder has read the files.
func (e *Engine) acquire(ctx context.Context, vocab agent.Vocabulary) (*model, error) {
	key := vocabKey(vocab, e.opts.Discount)
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, ErrClosed
	}
	m, found := e.models[key]
	if !found {
		m = &model{ready: make(chan struct{})}
		e.models[key] = m
		e.evictLocked()
	}
	e.clock++
	m.used = e.clock
	m.refs++
	e.inflight++
	dir, err := e.dirLocked()
	e.mu.Unlock()

	if !found {
		if err == nil {
			m.lm, m.dict, err = e.build(dir, key, vocab)
		}
		m.err = err
		close(m.ready)
	}
	select {
	case <-m.ready:
	case <-ctx.Done():
		e.release(m)
		return nil, ctx.Err()
	}
	if m.err != nil {
		e.mu.Lock()
		if e.models[key] == m {
			delete(e.models, key) // let a later call try again
		}
		e.mu.Unlock()
		e.release(m)
		return nil, m.err
	}
	return m, nil
}

// release undoes acquire, removing files nobody will read any more.
func (e *Engine) release(m *model) {
	e.mu.Lock()
	defer e.mu.Unlock()
	m.refs--
	e.inflight--
	if m.refs == 0 && m.evicted {
		removeModel(m)
	}
	if e.closed && e.inflight == 0 && e.dir != "" {
		os.RemoveAll(e.dir)
		e.dir = ""
	}
}

// evictLocked drops the least recently used built models beyond
// MaxModels; their files go when their last reader is done.
func (e *Engine) evictLocked() {
	for len(e.models) > e.opts.MaxModels {
		var oldKey [32]byte
		var old *model
		for k, m := range e.models {
			select {
			case <-m.ready:
			default:
				continue // still building
			}
			if old == nil || m.used < old.used {
				oldKey, old = k, m
			}
		}
		if old == nil {
			return
		}
		delete(e.models, oldKey)
		old.evicted = true
		if old.refs == 0 {
			removeModel(old)
		}
	}
}

func removeModel(m *model) {
	if m.lm != "" {
		os.Remove(m.lm)
		os.Remove(m.dict)
	}
}

func (e *Engine) dirLocked() (string, error) {
	if e.dir != "" {
		return e.dir, nil
	}
	dir, err := os.MkdirTemp(e.opts.Dir, "frontdesk-sphinx-")
	if err != nil {
		return "", fmt.Errorf("sphinx: model directory: %w", err)
	}
	e.dir = dir
	return dir, nil
}

// build writes the language model and dictionary of vocab into dir.
func (e *Engine) build(dir string, key [32]byte, vocab agent.Vocabulary) (lm, dict string, err error) {
	start := time.Now()
	m, err := buildModel(vocab, e.opts.Dict, e.opts.Discount, guessPronunciation, e.opts.holdOut)
	if err != nil {
		return "", "", err
	}
	name := filepath.Join(dir, hex.EncodeToString(key[:8]))
	lm, dict = name+".lm", name+".dict"
	if err := os.WriteFile(lm, m.arpa, 0o600); err != nil {
		return "", "", fmt.Errorf("sphinx: write language model: %w", err)
	}
	if err := os.WriteFile(dict, m.dict, 0o600); err != nil {
		os.Remove(lm)
		return "", "", fmt.Errorf("sphinx: write dictionary: %w", err)
	}
	e.builds.Add(1)
	e.opts.Logger.Info("sphinx: built language model", "words", m.words, "arpa_bytes", len(m.arpa),
		"dropped_words", m.dropped, "elapsed", time.Since(start))
	return lm, dict, nil
}

// Close makes later NewRecognizer calls fail and removes the built models
// once no recognizer is still being made. Recognizers already made keep
// working. Close is idempotent.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	for k, m := range e.models {
		delete(e.models, k)
		m.evicted = true
	}
	if e.inflight == 0 && e.dir != "" {
		os.RemoveAll(e.dir)
		e.dir = ""
	}
	return nil
}
