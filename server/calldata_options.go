package server

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/frontdesk/frontdesk/configs"
	"github.com/frontdesk/frontdesk/recording/crypt"
	"github.com/frontdesk/frontdesk/retention"
)

// KeysEnv is the environment variable that holds the key-encryption keys
// of recordings and transcripts: "id1:base64key,id2:base64key", each key
// 32 bytes in standard or URL base64 (padded or not), the first one
// current (new files are wrapped with it), the others kept to read older
// files. Generate one with `head -c32 /dev/urandom | base64`.
const KeysEnv = "FRONTDESK_RECORDING_KEYS"

// callDataState is what recordings, transcripts and their retention add
// to a Server. Options fill keyring; setup completes the rest once and it
// is immutable afterwards (the Scheduler synchronises itself).
type callDataState struct {
	keyring *crypt.Keyring // from WithKeyring; setup makes one in dev mode

	setupOnce sync.Once
	setupErr  error
	recDir    string               // <data_dir>/recordings
	trDir     string               // <data_dir>/transcripts
	files     retention.Files      // deletes files and clears them on call records
	sched     *retention.Scheduler // nil without a store
}

// cdState returns the server's recording and retention state.
func (s *Server) cdState() *callDataState { return &s.calldata }

// WithKeyring gives the server the key-encryption keys of recordings and
// transcripts (see LoadKeyring). Without it, a dev-mode server makes an
// ephemeral key and a production-mode server refuses to start.
func WithKeyring(kr *crypt.Keyring) Option {
	return func(s *Server) { s.cdState().keyring = kr }
}

// LoadKeyring reads the key-encryption keys from the environment variable
// KeysEnv (see its format). When it is unset or empty, a production-mode
// configuration is an error: recordings must stay readable across
// restarts and nodes. A dev-mode one gets a random key that lives as long
// as the process, with a loud warning: files written with it cannot be
// read after a restart.
func LoadKeyring(cfg *configs.Config, getenv func(string) (string, bool), log *slog.Logger) (*crypt.Keyring, error) {
	raw, _ := getenv(KeysEnv)
	if strings.TrimSpace(raw) == "" {
		return devKeyring(cfg, log)
	}
	kr := crypt.NewKeyring()
	for i, part := range strings.Split(raw, ",") {
		id, b64, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok || id == "" {
			return nil, fmt.Errorf("server: %s: entry %d: want id:base64key", KeysEnv, i+1)
		}
		key, err := decodeKey(b64)
		if err != nil {
			return nil, fmt.Errorf("server: %s: key %q: %w", KeysEnv, id, err)
		}
		if err := kr.Add(id, key); err != nil { // checks the id; the first added is current
			return nil, fmt.Errorf("server: %s: %w", KeysEnv, err)
		}
	}
	return kr, nil
}

// decodeKey decodes a base64 key of crypt.KeySize bytes. Errors never
// show the key.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil {
			if len(key) != crypt.KeySize {
				return nil, fmt.Errorf("want %d bytes, got %d", crypt.KeySize, len(key))
			}
			return key, nil
		}
	}
	return nil, errors.New("not base64")
}

// devKeyring is the keyring of a dev-mode server without configured keys.
func devKeyring(cfg *configs.Config, log *slog.Logger) (*crypt.Keyring, error) {
	if cfg.Server.Mode == configs.ModeProduction {
		return nil, fmt.Errorf("server: no key-encryption key for recordings and transcripts: set %s (production mode refuses to start without one)", KeysEnv)
	}
	kr := crypt.NewKeyring()
	if err := kr.Add("ephemeral", crypt.NewKey()); err != nil {
		return nil, err
	}
	log.Warn("!!! NO RECORDING KEY: recordings and transcripts are encrypted with an ephemeral key and become UNREADABLE when this process exits; set "+
		KeysEnv+" (dev mode only; production mode refuses to start)", "env", KeysEnv)
	return kr, nil
}

// setupCallData completes the recording state once: the keyring (see
// LoadKeyring; from the environment when WithKeyring gave none), the file
// directories' names under server.data_dir (created by the first writer,
// see ensureDirs) and the retention scheduler. It does no I/O and is
// idempotent; call it from New so that a production server without keys
// fails to start. Every user of the state calls it first.
func (s *Server) setupCallData() error {
	st := s.cdState()
	st.setupOnce.Do(func() {
		if st.keyring == nil {
			st.keyring, st.setupErr = LoadKeyring(s.cfg, os.LookupEnv, s.log)
			if st.setupErr != nil {
				return
			}
		}
		st.recDir = filepath.Join(s.cfg.Server.DataDir, "recordings")
		st.trDir = filepath.Join(s.cfg.Server.DataDir, "transcripts")
		if s.api.store != nil {
			st.files = retention.Files{Calls: s.api.store.Calls(), RecordingDir: st.recDir, TranscriptDir: st.trDir}
			st.sched = retention.New(s.api.store, st.files, retention.Options{Log: s.log.With("component", "retention")})
		}
	})
	return st.setupErr
}

// ensureDirs creates the recording and transcript directories.
func (st *callDataState) ensureDirs() error {
	for _, d := range []string{st.recDir, st.trDir} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return fmt.Errorf("server: recordings: %w", err)
		}
	}
	return nil
}
