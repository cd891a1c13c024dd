package recording

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/frontdesk/frontdesk/recording/crypt"
)

// Recover finishes the recordings in dir that a crashed process left
// unfinished (no final chunk), so that they decrypt and play up to the
// last second sealed before the crash. It returns the call ids of every
// unfinished recording it found, sorted, so the caller can mark those calls
// interrupted; err joins the failures of the ones it could not finish
// (their files are left as they are, for inspection). Recordings being
// written, by this process or another node sharing the directory, hold a
// lock and are skipped. Run it at start-up, before taking calls.
func Recover(dir string, kr *crypt.Keyring) (ids []string, err error) {
	return finishDir(dir, Ext, kr)
}

// finishDir runs crypt.FinishFile over the files named <id><ext> in dir.
func finishDir(dir, ext string, kr *crypt.Keyring) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("recording: recover %s: %w", dir, err)
	}
	var ids []string
	var errs []error
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ext)
		if !ok || !e.Type().IsRegular() || ValidID(id) != nil {
			continue
		}
		changed, err := crypt.FinishFile(filepath.Join(dir, e.Name()), kr)
		switch {
		case errors.Is(err, crypt.ErrBusy):
		case err != nil:
			ids = append(ids, id)
			errs = append(errs, fmt.Errorf("recording: recover %s: %w", id, err))
		case changed:
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, errors.Join(errs...)
}

// Erase crypto-shreds call id's recording in dir (see crypt.Shred). A
// recording that does not exist gives an error wrapping fs.ErrNotExist.
func Erase(dir, id string) error {
	path, err := Path(dir, id)
	if err != nil {
		return err
	}
	if err := crypt.Shred(path); err != nil {
		return fmt.Errorf("recording: erase %s: %w", id, err)
	}
	return nil
}

// Rewrap moves call id's recording to the keyring's current KEK without
// rewriting its audio (see crypt.Rewrap).
func Rewrap(dir, id string, kr *crypt.Keyring) error {
	path, err := Path(dir, id)
	if err != nil {
		return err
	}
	if err := crypt.RewrapFile(path, kr); err != nil {
		return fmt.Errorf("recording: rewrap %s: %w", id, err)
	}
	return nil
}
