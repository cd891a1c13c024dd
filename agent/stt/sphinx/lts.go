//go:build cgo

package sphinx

/*
#cgo LDFLAGS: -lflite_cmulex -lflite -lm
#include <stdlib.h>
#include <stdio.h>

// Flite's lexicon, declared here rather than through flite's headers,
// whose names clash with sphinxbase's.
typedef struct cst_lexicon_struct cst_lexicon;
typedef struct cst_val_struct cst_val;
cst_lexicon *cmu_lex_init(void);
cst_val *lex_lookup(const cst_lexicon *l, const char *word, const char *pos, const void *feats);
const cst_val *val_car(const cst_val *v);
const cst_val *val_cdr(const cst_val *v);
const char *val_string(const cst_val *v);
void delete_val(cst_val *v);

// fd_lts writes the phones of word, space separated, into out; it
// returns the length written, or -1 if they do not fit.
static int fd_lts(const cst_lexicon *lex, const char *word, char *out, int n) {
	cst_val *phones = lex_lookup(lex, word, NULL, NULL);
	int k = 0;
	for (const cst_val *p = phones; p != NULL; p = val_cdr(p)) {
		const char *ph = val_string(val_car(p));
		int m = snprintf(out + k, n - k, "%s%s", k ? " " : "", ph);
		if (m < 0 || m >= n - k) { k = -1; break; }
		k += m;
	}
	if (phones) delete_val(phones);
	return k;
}
*/
import "C"

import (
	"strings"
	"sync"
	"unsafe"
)

// The lexicon is a process-wide static in flite: look words up one at a
// time.
var (
	ltsMu  sync.Mutex
	ltsLex *C.cst_lexicon
)

// guessPronunciation gives a pronunciation for a word the dictionary
// lacks (a business or staff name), from flite's lexicon and
// letter-to-sound rules, in the acoustic model's phone set.
func guessPronunciation(word string) (string, bool) {
	w := strings.ReplaceAll(word, "'", "")
	if w == "" || strings.ContainsFunc(w, func(r rune) bool { return r < 'a' || r > 'z' }) {
		return "", false
	}
	cw := C.CString(w)
	defer C.free(unsafe.Pointer(cw))
	buf := make([]byte, 512)
	ltsMu.Lock()
	if ltsLex == nil {
		ltsLex = C.cmu_lex_init()
	}
	n := C.fd_lts(ltsLex, cw, (*C.char)(unsafe.Pointer(&buf[0])), C.int(len(buf)))
	ltsMu.Unlock()
	if n <= 0 {
		return "", false
	}
	return fliteToCMU(strings.Fields(string(buf[:n])))
}
