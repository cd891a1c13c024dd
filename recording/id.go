package recording

import (
	"fmt"
	"path/filepath"
)

// MaxIDLen bounds a call id: a Twilio CallSid is 34 characters, a UUID 36.
const MaxIDLen = 64

// Ext is the file name extension of a recording.
const Ext = ".wav.enc"

// ValidID checks that id can name a file: 1 to 64 bytes of
// [A-Za-z0-9_-]. Everything else is refused, so no id can climb out of
// the directory ("../", "/"), hide an encoded form ("%2e%2e", "\\") or
// cut a path short (NUL).
func ValidID(id string) error {
	if len(id) == 0 || len(id) > MaxIDLen {
		return fmt.Errorf("recording: id %q: length %d, want 1..%d", trim(id), len(id), MaxIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return fmt.Errorf("recording: id %q: byte %#x at %d is not [A-Za-z0-9_-]", trim(id), c, i)
		}
	}
	return nil
}

// trim keeps an error message short for a huge id.
func trim(id string) string {
	if len(id) > MaxIDLen {
		return id[:MaxIDLen] + "…"
	}
	return id
}

// Path returns the file of call id's recording in dir, after checking id.
func Path(dir, id string) (string, error) {
	if err := ValidID(id); err != nil {
		return "", err
	}
	return filepath.Join(dir, id+Ext), nil
}
