// Package sqlite is the embedded store: one SQLite database file (pure-Go
// modernc.org/sqlite) in WAL mode under a data directory, for a single node.
//
// Writes go through one connection and BEGIN IMMEDIATE transactions, so a
// booking's overlap check and insert are atomic against other goroutines
// and, through SQLite's file lock and busy timeout, against other processes
// opening the same file. Reads use a separate pool and never block writers.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/frontdesk/frontdesk/store"
)

// FileName is the database file's name inside the data directory.
const FileName = "frontdesk.db"

// Options configure Open.
type Options struct {
	// Now is the clock for timestamps, "in the past" checks and lease
	// expiry; default time.Now.
	Now func() time.Time
	// BusyTimeout is how long a write waits for another process's lock;
	// default 10s.
	BusyTimeout time.Duration
}

// Store is the SQLite backend. It is safe for concurrent use.
type Store struct {
	// immutable after Open
	path string
	w    *sql.DB // one connection; transactions BEGIN IMMEDIATE
	r    *sql.DB // readers
	now  func() time.Time

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database in dir and applies pending
// migrations.
func Open(ctx context.Context, dir string, opts Options) (*Store, error) {
	if dir == "" {
		return nil, errors.New("sqlite: open: data directory is empty")
	}
	if strings.ContainsAny(dir, "?#") {
		return nil, fmt.Errorf("sqlite: open: data directory %q must not contain '?' or '#'", dir)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 10 * time.Second
	}
	path := filepath.Join(dir, FileName)
	dsn := fmt.Sprintf("file:%s?_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)",
		path, opts.BusyTimeout.Milliseconds())
	w, err := sql.Open("sqlite", dsn+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// One writer connection: goroutines queue in database/sql instead of
	// spinning in SQLite's busy handler; other processes still meet the
	// file lock and busy_timeout.
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", dsn)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(8)
	s := &Store{path: path, w: w, r: r, now: opts.Now}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Close closes the database. It is idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = errors.Join(s.r.Close(), s.w.Close())
		if s.closeErr != nil {
			s.closeErr = fmt.Errorf("sqlite: close: %w", s.closeErr)
		}
	})
	return s.closeErr
}

func (s *Store) Appointments() store.Appointments { return (*appointments)(s) }
func (s *Store) Leads() store.Leads               { return (*leads)(s) }
func (s *Store) Businesses() store.Businesses     { return (*businesses)(s) }
func (s *Store) APIKeys() store.APIKeys           { return (*apiKeys)(s) }
func (s *Store) Leases() store.Leases             { return (*leases)(s) }
func (s *Store) Calls() store.Calls               { return (*calls)(s) }
func (s *Store) Holds() store.Holds               { return (*holds)(s) }
func (s *Store) Audit() store.Audit               { return (*audit)(s) }
func (s *Store) Timers() store.Timers             { return (*timers)(s) }

// write runs fn in an immediate transaction and commits if fn returns nil.
func (s *Store) write(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: %s: begin: %w", op, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: %s: commit: %w", op, err)
	}
	return nil
}

// queryer is what both *sql.DB and *sql.Tx offer.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func toNS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNS(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// likePattern turns a substring into a LIKE pattern that matches it
// literally.
func likePattern(sub string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(sub) + "%"
}
