package transcript

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/frontdesk/frontdesk/recording/crypt"
)

// Ext is the file name extension of a transcript log.
const Ext = ".jsonl.enc"

// formatVersion is written in the start record.
const formatVersion = 1

// record is one line of a log file. Kind says which fields it carries:
//
//	start              v, meta (always the first line)
//	turn               turn
//	cut                index, turn: the turn after the cut, replacing it
//	disclosure         (nothing): the recording disclosure was given
//	recording_stopped  at_ms
//	end                ended_at, outcome (always the last line)
type record struct {
	Kind    string    `json:"kind"`
	Version int       `json:"v,omitempty"`
	Meta    *Meta     `json:"meta,omitempty"`
	Index   *int      `json:"index,omitempty"`
	Turn    *Turn     `json:"turn,omitempty"`
	AtMS    *int64    `json:"at_ms,omitempty"`
	EndedAt time.Time `json:"ended_at,omitzero"`
	Outcome string    `json:"outcome,omitempty"`
}

// Options configures a Log.
type Options struct {
	// Keyring wraps the log's data key with its current KEK. Required.
	Keyring *crypt.Keyring
	// Sync fsyncs the file after every record, so that a power cut also
	// keeps every finished turn. Off by default: a process crash keeps
	// them either way.
	Sync bool
}

// ErrClosed is returned by a Log used after Close.
var ErrClosed = errors.New("transcript: log closed")

// Log is the transcript of a live call, appended as turns finish. Every
// record is sealed and written out before its method returns, so a crash
// loses no finished turn. A Log is safe for concurrent use: the agent
// appends its turns and the call its events from different goroutines.
type Log struct {
	mu     sync.Mutex
	w      *crypt.Writer // guarded by mu
	t      Transcript    // what was written; guarded by mu
	ended  bool          // guarded by mu
	err    error         // sticky write error; guarded by mu
	closed bool          // guarded by mu
}

// Create starts the transcript of the call meta describes in dir:
// dir/<meta.CallID>.jsonl.enc, which must not exist yet.
func Create(dir string, meta Meta, opts Options) (*Log, error) {
	if err := meta.validate(); err != nil {
		return nil, fmt.Errorf("transcript: create: %w", err)
	}
	if !meta.EndedAt.IsZero() || meta.Outcome != "" || meta.DisclosureGiven || meta.RecordingStoppedMS != nil {
		return nil, fmt.Errorf("transcript: create %s: meta already has events; log them with the Log's methods", meta.CallID)
	}
	if opts.Keyring == nil {
		return nil, fmt.Errorf("transcript: create %s: no keyring", meta.CallID)
	}
	w, err := crypt.CreateFile(filepath.Join(dir, meta.CallID+Ext), opts.Keyring, &crypt.Options{Sync: opts.Sync})
	if err != nil {
		return nil, fmt.Errorf("transcript: create %s: %w", meta.CallID, err)
	}
	l := &Log{w: w, t: Transcript{Meta: meta}}
	if err := l.writeLocked(&record{Kind: "start", Version: formatVersion, Meta: &meta}); err != nil {
		w.Close()
		return nil, err
	}
	return l, nil
}

// Append writes a finished turn and returns its index, for Cut.
func (l *Log) Append(t Turn) (int, error) {
	if err := t.Validate(); err != nil {
		return 0, fmt.Errorf("transcript: append turn: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writeLocked(&record{Kind: "turn", Turn: &t}); err != nil {
		return 0, err
	}
	l.t.Turns = append(l.t.Turns, t)
	return len(l.t.Turns) - 1, nil
}

// Cut records a barge-in: agent turn index was heard only up to atMS. The
// turn is flagged interrupted, its EndMS becomes atMS and its text is cut
// to what the caller heard, by this rule:
//
//   - The heard share of the text is estimated in proportion to time:
//     h = runes × (atMS − StartMS) / (EndMS − StartMS).
//   - If a sentence ends (., !, ? or … before a space or the end) at or
//     before h plus a tolerance of max(3, runes/20), the text is cut after
//     the last such sentence: speech is marked per sentence, so a cut near
//     a sentence end almost always means the sentence was heard.
//   - Otherwise the text keeps the whole words that end at or before h,
//     possibly none.
//
// A cut at or after EndMS changes nothing (the caller heard it all). Cut
// returns the turn as it now stands.
func (l *Log) Cut(index int, atMS int64) (Turn, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if index < 0 || index >= len(l.t.Turns) {
		return Turn{}, fmt.Errorf("transcript: cut turn %d: %d turns", index, len(l.t.Turns))
	}
	t := l.t.Turns[index]
	if t.Speaker != Agent {
		return t, fmt.Errorf("transcript: cut turn %d: a %s turn; only agent turns are cut", index, t.Speaker)
	}
	if atMS >= t.EndMS {
		return t, nil
	}
	t = cutTurn(t, atMS)
	if err := l.writeLocked(&record{Kind: "cut", Index: &index, Turn: &t}); err != nil {
		return l.t.Turns[index], err
	}
	l.t.Turns[index] = t
	return t, nil
}

// Disclosed records that the caller was told the call is recorded.
func (l *Log) Disclosed() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writeLocked(&record{Kind: "disclosure"}); err != nil {
		return err
	}
	l.t.DisclosureGiven = true
	return nil
}

// RecordingStopped records that the recording stopped at atMS because the
// caller opted out.
func (l *Log) RecordingStopped(atMS int64) error {
	if atMS < 0 {
		return fmt.Errorf("transcript: recording stopped at %d ms: negative", atMS)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writeLocked(&record{Kind: "recording_stopped", AtMS: &atMS}); err != nil {
		return err
	}
	l.t.RecordingStoppedMS = &atMS
	return nil
}

// End records the end of the call and its outcome; nothing can be
// written after it.
func (l *Log) End(at time.Time, outcome string) error {
	if err := checkOutcome(outcome); err != nil {
		return fmt.Errorf("transcript: end: %w", err)
	}
	if at.IsZero() {
		return errors.New("transcript: end: no time")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writeLocked(&record{Kind: "end", EndedAt: at, Outcome: outcome}); err != nil {
		return err
	}
	l.t.EndedAt, l.t.Outcome, l.ended = at, outcome, true
	return nil
}

// Transcript returns a copy of what the log holds so far.
func (l *Log) Transcript() *Transcript {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.t
	t.Turns = slices.Clone(l.t.Turns)
	if p := l.t.RecordingStoppedMS; p != nil {
		v := *p
		t.RecordingStoppedMS = &v
	}
	return &t
}

// Close seals the final chunk and closes the file. It is idempotent.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	if err := l.w.Close(); err != nil {
		return fmt.Errorf("transcript: close %s: %w", l.t.CallID, err)
	}
	return nil
}

// writeLocked appends rec as one line and seals it as its own chunk.
func (l *Log) writeLocked(rec *record) error {
	switch {
	case l.closed:
		return ErrClosed
	case l.err != nil:
		return l.err
	case l.ended:
		return fmt.Errorf("transcript: %s record after the end of call %s", rec.Kind, l.t.CallID)
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("transcript: encode %s record: %w", rec.Kind, err)
	}
	b = append(b, '\n')
	if _, err := l.w.Write(b); err == nil {
		err = l.w.Flush()
	}
	if err != nil {
		l.err = fmt.Errorf("transcript: write %s record of %s: %w", rec.Kind, l.t.CallID, err)
		return l.err
	}
	return nil
}
