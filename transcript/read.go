package transcript

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/frontdesk/frontdesk/recording"
	"github.com/frontdesk/frontdesk/recording/crypt"
)

// ErrFormat is wrapped for a log whose records break the format.
var ErrFormat = errors.New("malformed transcript log")

// maxLine bounds a record: a turn of MaxTextLen bytes, every byte escaped.
const maxLine = 6*MaxTextLen + 4096

// Read replays the JSON lines of a decrypted log into a Transcript. It is
// strict: unknown kinds or fields, a missing start record, a cut of a turn
// that does not exist or anything after the end record are errors
// wrapping ErrFormat.
func Read(r io.Reader) (*Transcript, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxLine)
	var t *Transcript
	ended := false
	for line := 1; sc.Scan(); line++ {
		bad := func(format string, args ...any) error {
			return fmt.Errorf("transcript: read line %d: %s: %w", line, fmt.Sprintf(format, args...), ErrFormat)
		}
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		var rec record
		if err := dec.Decode(&rec); err != nil {
			return nil, bad("%v", err)
		}
		if dec.More() {
			return nil, bad("more than one record")
		}
		if (t == nil) != (rec.Kind == "start") {
			return nil, bad("%q record, want start first and only first", rec.Kind)
		}
		if ended {
			return nil, bad("%q record after the end", rec.Kind)
		}
		switch rec.Kind {
		case "start":
			if rec.Version != formatVersion || rec.Meta == nil {
				return nil, bad("start record of version %d, want %d with meta", rec.Version, formatVersion)
			}
			if err := rec.Meta.validate(); err != nil {
				return nil, bad("%v", err)
			}
			t = &Transcript{Meta: *rec.Meta}
		case "turn":
			if rec.Turn == nil {
				return nil, bad("turn record without a turn")
			}
			if err := rec.Turn.Validate(); err != nil {
				return nil, bad("%v", err)
			}
			t.Turns = append(t.Turns, *rec.Turn)
		case "cut":
			if rec.Index == nil || *rec.Index < 0 || *rec.Index >= len(t.Turns) || rec.Turn == nil {
				return nil, bad("cut record without a turn index below %d and a turn", len(t.Turns))
			}
			if err := rec.Turn.Validate(); err != nil {
				return nil, bad("%v", err)
			}
			t.Turns[*rec.Index] = *rec.Turn
		case "disclosure":
			t.DisclosureGiven = true
		case "recording_stopped":
			if rec.AtMS == nil || *rec.AtMS < 0 {
				return nil, bad("recording_stopped record without a time")
			}
			t.RecordingStoppedMS = rec.AtMS
		case "end":
			if rec.EndedAt.IsZero() || checkOutcome(rec.Outcome) != nil {
				return nil, bad("end record without a time or with a bad outcome")
			}
			t.EndedAt, t.Outcome, ended = rec.EndedAt, rec.Outcome, true
		default:
			return nil, bad("unknown kind %q", rec.Kind)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("transcript: read: %w", err)
	}
	if t == nil {
		return nil, fmt.Errorf("transcript: read: no start record: %w", ErrFormat)
	}
	return t, nil
}

// Path returns the file of call id's transcript in dir, after checking id.
func Path(dir, id string) (string, error) {
	if err := recording.ValidID(id); err != nil {
		return "", err
	}
	return filepath.Join(dir, id+Ext), nil
}

// Open decrypts and reads call id's transcript in dir. A log still being
// written, or left by a crash until Recover runs, fails with an error
// wrapping crypt.ErrTruncated.
func Open(dir, id string, kr *crypt.Keyring) (*Transcript, error) {
	path, err := Path(dir, id)
	if err != nil {
		return nil, err
	}
	r, err := crypt.OpenFile(path, kr)
	if err != nil {
		return nil, fmt.Errorf("transcript: open %s: %w", id, err)
	}
	defer r.Close()
	t, err := Read(r.NewReader())
	if err != nil {
		return nil, fmt.Errorf("transcript: open %s: %w", id, err)
	}
	if t.CallID != id {
		return nil, fmt.Errorf("transcript: open %s: the file holds call %s: %w", id, t.CallID, ErrFormat)
	}
	return t, nil
}

// Recover finishes the logs in dir that a crashed process left
// unfinished, so that they read with every turn written before the crash.
// It returns the call ids of every unfinished log it found, sorted (their
// calls ended by the crash: no end record); err joins the failures.
// Logs being written hold a lock and are skipped. Run it at start-up.
func Recover(dir string, kr *crypt.Keyring) (ids []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("transcript: recover %s: %w", dir, err)
	}
	var errs []error
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), Ext)
		if !ok || !e.Type().IsRegular() || recording.ValidID(id) != nil {
			continue
		}
		changed, err := crypt.FinishFile(filepath.Join(dir, e.Name()), kr)
		switch {
		case errors.Is(err, crypt.ErrBusy):
		case err != nil:
			ids = append(ids, id)
			errs = append(errs, fmt.Errorf("transcript: recover %s: %w", id, err))
		case changed:
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, errors.Join(errs...)
}

// Erase crypto-shreds call id's transcript in dir (see crypt.Shred).
func Erase(dir, id string) error {
	path, err := Path(dir, id)
	if err != nil {
		return err
	}
	if err := crypt.Shred(path); err != nil {
		return fmt.Errorf("transcript: erase %s: %w", id, err)
	}
	return nil
}
