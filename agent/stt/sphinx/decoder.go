//go:build cgo

package sphinx

/*
#cgo pkg-config: pocketsphinx sphinxbase
#cgo LDFLAGS: -lflite_cmulex -lflite -lm
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <stdio.h>
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <sphinxbase/logmath.h>
#include <sphinxbase/ngram_model.h>
#include <sphinxbase/feat.h>
#include <sphinxbase/cmn.h>

// sphinxbase logs through one process-wide callback. Ours keeps the
// warnings and errors of the current thread's call, so that a failing
// call can say why; information lines are dropped. Every wrapper below
// clears the buffer, makes its calls and copies the buffer out before
// returning, all on one thread.
static __thread char fd_log[1024];

static void fd_log_cb(void *user, err_lvl_t lvl, const char *fmt, ...) {
	(void)user;
	if (lvl < ERR_WARN) return;
	size_t n = strlen(fd_log);
	if (n >= sizeof(fd_log) - 1) return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(fd_log + n, sizeof(fd_log) - n, fmt, ap);
	va_end(ap);
}

// err_set_logfp(NULL) first: cmd_ln_parse_r prints the whole configuration
// to the log file pointer, bypassing the callback.
static void fd_install_log(void) {
	err_set_logfp(NULL);
	err_set_callback(fd_log_cb, NULL);
}

static void fd_begin_call(void) { fd_log[0] = 0; }

static void fd_end_call(char *err, int n) {
	if (err && n > 0) {
		strncpy(err, fd_log, n - 1);
		err[n - 1] = 0;
	}
}

static ps_decoder_t *fd_new(char **argv, int argc, const char *lm, char *err, int n) {
	fd_begin_call();
	ps_decoder_t *ps = NULL;
	cmd_ln_t *cfg = cmd_ln_parse_r(NULL, ps_args(), argc, argv, TRUE);
	if (cfg != NULL) {
		ps = ps_init(cfg);
		cmd_ln_free_r(cfg);
	}
	if (ps != NULL && (ps_set_lm_file(ps, "free", lm) < 0 || ps_set_search(ps, "free") < 0)) {
		ps_free(ps);
		ps = NULL;
	}
	fd_end_call(err, n);
	return ps;
}

// fd_cmn copies the cepstral mean normalisation's current mean into get
// (when not NULL) and then sets it from set (when not NULL); it returns
// the vector length, or -1 without CMN.
static int fd_cmn(ps_decoder_t *ps, float *get, const float *set, int n) {
	feat_t *f = ps_get_feat(ps);
	if (f == NULL || f->cmn_struct == NULL || f->cmn_struct->veclen != n) return -1;
	cmn_t *c = f->cmn_struct;
	mfcc_t v[64];
	if (n > 64) return -1;
	for (int i = 0; i < n; i++) {
		if (get != NULL) get[i] = c->cmn_mean[i];
		if (set != NULL) v[i] = set[i];
	}
	if (set != NULL) cmn_live_set(c, v);
	return n;
}

static int fd_add_grammar(ps_decoder_t *ps, const char *name, const char *jsgf, char *err, int n) {
	fd_begin_call();
	int rc = ps_set_jsgf_string(ps, name, jsgf);
	fd_end_call(err, n);
	return rc;
}

static int fd_start(ps_decoder_t *ps, const char *search, char *err, int n) {
	fd_begin_call();
	int rc = 0;
	const char *cur = ps_get_search(ps);
	if (cur == NULL || strcmp(cur, search) != 0) rc = ps_set_search(ps, search);
	if (rc >= 0) rc = ps_start_utt(ps);
	fd_end_call(err, n);
	return rc;
}

static const char *fd_process(ps_decoder_t *ps, const int16 *pcm, size_t len, int *rc, char *err, int n) {
	fd_begin_call();
	const char *hyp = NULL;
	*rc = ps_process_raw(ps, pcm, len, FALSE, FALSE);
	if (*rc >= 0) {
		int32 score;
		hyp = ps_get_hyp(ps, &score);
	}
	fd_end_call(err, n);
	return hyp;
}

// fd_result is what End needs for the confidence of the final text.
typedef struct {
	int rc;
	int frames;     // 10 ms feature frames in the utterance
	int words;      // words of the hypothesis, without fillers
	int wframes;    // frames those words span
	double ascr;    // their acoustic score, in log units of the decoder (base 1.0001)
	double allascr; // acoustic score of every segment, fillers included
	int allframes;  // frames of every segment
	double lmlogp;  // ln P(hypothesis) under the language model, </s> included
	int lmtokens;   // words scored for lmlogp, </s> included
} fd_result;

// SENSCR_SHIFT of pocketsphinx: lattice links keep acoustic scores
// shifted left by 10 bits, the backpointer table (grammar searches) does
// not.
#define FD_LATTICE_SHIFT 1024.0

static int fd_filler(const char *w) {
	return w[0] == '<' || w[0] == '[' || w[0] == '+' || w[0] == '(';
}

// fd_end ends the utterance. lattice says whether the segments come from
// the bestpath lattice (the n-gram search) and lm is that search's
// language model, or NULL for a grammar.
static const char *fd_end(ps_decoder_t *ps, int lattice, fd_result *r, char *err, int n) {
	fd_begin_call();
	memset(r, 0, sizeof *r);
	const char *hyp = NULL;
	r->rc = ps_end_utt(ps);
	if (r->rc < 0) {
		fd_end_call(err, n);
		return NULL;
	}
	int32 score = 0;
	hyp = ps_get_hyp(ps, &score);
	r->frames = ps_get_n_frames(ps);
	if (hyp == NULL || hyp[0] == 0) {
		fd_end_call(err, n);
		return hyp;
	}
	ngram_model_t *lm = lattice ? ps_get_lm(ps, "free") : NULL;
	const char *hist[3] = {"<s>", "<s>", "<s>"}; // hist[0] is the word scored
	char words[3][128];
	int nhist = 1;
	for (ps_seg_t *seg = ps_seg_iter(ps); seg != NULL; seg = ps_seg_next(seg)) {
		const char *w = ps_seg_word(seg);
		int32 ascr = 0, lscr = 0, lback = 0;
		int sf = 0, ef = 0;
		ps_seg_prob(seg, &ascr, &lscr, &lback);
		ps_seg_frames(seg, &sf, &ef);
		if (strcmp(w, "</s>") != 0 && w[0] != '(') { // </s> repeats the last word's score
			r->allascr += lattice ? ascr / FD_LATTICE_SHIFT : ascr;
			r->allframes += ef - sf + 1;
		}
		if (fd_filler(w)) continue;
		r->words++;
		r->wframes += ef - sf + 1;
		r->ascr += lattice ? ascr / FD_LATTICE_SHIFT : ascr;
		if (lm != NULL) {
			// The base word: the dictionary names alternates "word(2)".
			char *buf = words[r->words % 3];
			snprintf(buf, sizeof words[0], "%s", w);
			char *paren = strchr(buf, '(');
			if (paren != NULL) *paren = 0;
			const char *ng[3] = {buf, hist[0], hist[1]};
			r->lmlogp += logmath_log_to_ln(ps_get_logmath(ps), ngram_prob(lm, ng, nhist < 3 ? nhist + 1 : 3));
			r->lmtokens++;
			hist[1] = hist[0];
			hist[0] = buf;
			nhist++;
		}
	}
	if (lm != NULL && r->lmtokens > 0) {
		const char *ng[3] = {"</s>", hist[0], hist[1]};
		r->lmlogp += logmath_log_to_ln(ps_get_logmath(ps), ngram_prob(lm, ng, nhist < 3 ? nhist + 1 : 3));
		r->lmtokens++;
	}
	fd_end_call(err, n);
	return hyp;
}
*/
import "C"

import (
	"fmt"
	"strings"
	"sync"
	"unsafe"
)

var installLog sync.Once

// decoder is one ps_decoder_t. Not safe for concurrent use.
type decoder struct {
	ps  *C.ps_decoder_t
	err []byte // the C wrappers' log buffer; Go memory without pointers
}

// errText is the log the last wrapper call left, trimmed.
func (d *decoder) errText() string {
	s := string(d.err[:max(0, strings.IndexByte(string(d.err), 0))])
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "no reason logged"
	}
	return s
}

func (d *decoder) errArgs() (*C.char, C.int) {
	return (*C.char)(unsafe.Pointer(&d.err[0])), C.int(len(d.err))
}

// newDecoder starts a decoder with the acoustic model in hmm, the
// dictionary file dict and the language model file lm as search "free",
// plus extra pocketsphinx arguments (name, value pairs).
func newDecoder(hmm, dict, lm string, extra ...string) (*decoder, error) {
	installLog.Do(func() { C.fd_install_log() })
	args := append([]string{"-hmm", hmm, "-dict", dict}, extra...)
	argv := make([]*C.char, len(args))
	for i, a := range args {
		argv[i] = C.CString(a)
	}
	defer func() {
		for _, p := range argv {
			C.free(unsafe.Pointer(p))
		}
	}()
	clm := C.CString(lm)
	defer C.free(unsafe.Pointer(clm))
	d := &decoder{err: make([]byte, 1024)}
	e, n := d.errArgs()
	// argv is Go memory holding C pointers only, which cgo allows.
	d.ps = C.fd_new(&argv[0], C.int(len(argv)), clm, e, n)
	if d.ps == nil {
		return nil, fmt.Errorf("start decoder: %s", d.errText())
	}
	return d, nil
}

// cmnLen is the length of the model's cepstral vectors.
const cmnLen = 13

// cmn returns the current cepstral mean and, if set is not nil, replaces
// it.
func (d *decoder) cmn(set []float32) ([]float32, error) {
	if set != nil && len(set) != cmnLen {
		return nil, fmt.Errorf("cepstral mean of %d values, want %d", len(set), cmnLen)
	}
	get := make([]float32, cmnLen)
	var setp *C.float
	if set != nil {
		setp = (*C.float)(unsafe.Pointer(&set[0]))
	}
	if C.fd_cmn(d.ps, (*C.float)(unsafe.Pointer(&get[0])), setp, cmnLen) < 0 {
		return nil, fmt.Errorf("cepstral mean: the model has no %d-value live CMN", cmnLen)
	}
	return get, nil
}

func (d *decoder) addGrammar(name, jsgf string) error {
	cn, cj := C.CString(name), C.CString(jsgf)
	defer C.free(unsafe.Pointer(cn))
	defer C.free(unsafe.Pointer(cj))
	e, n := d.errArgs()
	if C.fd_add_grammar(d.ps, cn, cj, e, n) < 0 {
		return fmt.Errorf("add grammar %s: %s", name, d.errText())
	}
	return nil
}

func (d *decoder) start(search string) error {
	cs := C.CString(search)
	defer C.free(unsafe.Pointer(cs))
	e, n := d.errArgs()
	if C.fd_start(d.ps, cs, e, n) < 0 {
		return fmt.Errorf("start utterance (search %s): %s", search, d.errText())
	}
	return nil
}

// process feeds pcm and returns the partial hypothesis.
func (d *decoder) process(pcm []int16) (string, error) {
	var rc C.int
	e, n := d.errArgs()
	hyp := C.fd_process(d.ps, (*C.int16)(unsafe.Pointer(&pcm[0])), C.size_t(len(pcm)), &rc, e, n)
	if rc < 0 {
		return "", fmt.Errorf("process audio: %s", d.errText())
	}
	return goString(hyp), nil
}

// end ends the utterance; lattice is true for the n-gram search.
func (d *decoder) end(lattice bool) (result, error) {
	var r C.fd_result
	e, n := d.errArgs()
	l := C.int(0)
	if lattice {
		l = 1
	}
	hyp := C.fd_end(d.ps, l, &r, e, n)
	if r.rc < 0 {
		return result{}, fmt.Errorf("end utterance: %s", d.errText())
	}
	return result{
		text: goString(hyp), frames: int(r.frames), words: int(r.words), wframes: int(r.wframes),
		ascr: float64(r.ascr), allASCR: float64(r.allascr), allFrames: int(r.allframes), lmLogP: float64(r.lmlogp), lmTokens: int(r.lmtokens),
	}, nil
}

func (d *decoder) free() {
	if d.ps != nil {
		C.ps_free(d.ps)
		d.ps = nil
	}
}

// goString copies a hypothesis, normalising its spacing; nil is "".
func goString(s *C.char) string {
	if s == nil {
		return ""
	}
	return strings.Join(strings.Fields(C.GoString(s)), " ")
}
