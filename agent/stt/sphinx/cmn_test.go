//go:build cgo

package sphinx

import (
	"context"
	"flag"
	"testing"
)

var printCMN = flag.Bool("print-cmn", false, "TestPhoneCMN: print the cepstral means the decoder adapts to per voice")

// TestPhoneCMN checks that a recognizer starts from the phone-line
// cepstral mean (or the model's own with Wideband). With -print-cmn it
// prints the means the decoder adapts to, which phoneCMN averages:
//
//	go test -run PhoneCMN -v -print-cmn ./agent/stt/sphinx
func TestPhoneCMN(t *testing.T) {
	for _, wide := range []bool{false, true} {
		e := newEngine(t, Options{Wideband: wide})
		rr, err := e.NewRecognizer(context.Background(), dentalVocab())
		if err != nil {
			t.Fatal(err)
		}
		defer rr.Close()
		m, err := rr.(*Recognizer).d.cmn(nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := m[1] == phoneCMN[1]; got == wide {
			t.Errorf("Wideband %v: starting mean %v", wide, m)
		}
	}
	if !*printCMN {
		return
	}
	e := newEngine(t, Options{})
	rr, _ := e.NewRecognizer(context.Background(), dentalVocab())
	defer rr.Close()
	r := rr.(*Recognizer)
	for _, v := range []string{"slt", "rms", "awb"} {
		for _, u := range utterances(t)[:10] {
			recognise(t, r, "", speak(t, v, u))
		}
		m, err := r.d.cmn(nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: adapted mean %.1f", v, m)
	}
}
