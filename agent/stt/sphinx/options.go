package sphinx

import (
	"fmt"
	"log/slog"
)

// Default paths of Debian's pocketsphinx-en-us package.
const (
	DefaultModelDir = "/usr/share/pocketsphinx/model/en-us/en-us"
	DefaultDict     = "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict"
)

// DefaultMaxModels is how many vocabularies' models the engine keeps.
const DefaultMaxModels = 64

// DefaultThreshold is the confidence below which the agent should not act
// on a final transcript and ask again instead. Measured on synthetic
// speech over a phone line: see docs/speech.md.
const DefaultThreshold = 0.5

// Options configure an Engine. The zero value uses Debian's US English
// model and dictionary.
type Options struct {
	// ModelDir is the acoustic model directory (16 kHz only); default
	// DefaultModelDir.
	ModelDir string
	// Dict is the full pronunciation dictionary the reduced ones are cut
	// from; default DefaultDict.
	Dict string
	// Discount is the Kneser-Ney discount of the built language models,
	// in (0, 1); default DefaultDiscount.
	Discount float64
	// MaxModels bounds the cache of built models (one per vocabulary);
	// default DefaultMaxModels. The least recently used goes first.
	MaxModels int
	// Dir is where built models are written for the decoder to read;
	// default a new directory under os.TempDir, removed by Close.
	Dir string
	// Wideband keeps the acoustic model's own starting cepstral mean,
	// for callers heard through a wideband channel (a WebRTC softphone)
	// rather than the phone network. By default a recognizer starts from
	// the mean of 8 kHz μ-law speech upsampled to 16 kHz (phoneCMN):
	// live cepstral mean normalisation takes several seconds of speech to
	// move from the model's wideband prior, which ruined the first
	// utterance of every phone call (the answer to the greeting).
	Wideband bool
	// Logger receives model builds and dropped words; default
	// slog.Default().
	Logger *slog.Logger

	holdOut map[string]bool // tests: sentences left out of every model
}

func (o Options) withDefaults() (Options, error) {
	if o.ModelDir == "" {
		o.ModelDir = DefaultModelDir
	}
	if o.Dict == "" {
		o.Dict = DefaultDict
	}
	if o.Discount == 0 {
		o.Discount = DefaultDiscount
	}
	if o.Discount <= 0 || o.Discount >= 1 {
		return o, fmt.Errorf("sphinx: discount %v out of (0, 1)", o.Discount)
	}
	if o.MaxModels == 0 {
		o.MaxModels = DefaultMaxModels
	}
	if o.MaxModels < 1 {
		return o, fmt.Errorf("sphinx: MaxModels %d, want at least 1", o.MaxModels)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}
