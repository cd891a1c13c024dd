// Package retention deletes each recording and transcript when its
// business's plan says it expires, and not before: a Scheduler keeps one
// persisted timer per file (store.Timers), sleeps until the earliest is
// due, and fires each exactly once even with several nodes sharing the
// store, by taking a per-timer lease (store.Leases) before it acts.
//
// A timer whose call is under legal hold (store.Holds: the call, its lead
// or the whole business) is not fired: it waits, and fires once the hold
// is released (Released reschedules what became due meanwhile). Every
// deletion writes an audit record (actor "system", action "expire").
//
// Timers are created when the files are (server/calldata.go), moved when a
// business changes plan (Replan), and run by hand with Sweep (the
// "frontdesk retention sweep" command).
package retention

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/frontdesk/frontdesk/recording"
	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/transcript"
)

// Deleter removes a call's files when their timers fire. It must treat a
// file that is already gone as deleted.
type Deleter interface {
	DeleteRecording(ctx context.Context, businessID, callID string) error
	DeleteTranscript(ctx context.Context, businessID, callID string) error
}

// Files is the Deleter of the files packages recording and transcript
// write: it clears the file's ID on the call's record, so that nobody is
// sent to it any more, then crypto-shreds the file (recording.Erase,
// transcript.Erase). If the shredding fails the timer fires again. A
// Files is safe for concurrent use.
type Files struct {
	Calls         store.Calls
	RecordingDir  string
	TranscriptDir string
}

var _ Deleter = Files{}

// DeleteRecording shreds call callID's recording.
func (f Files) DeleteRecording(ctx context.Context, businessID, callID string) error {
	if err := recording.ValidID(callID); err != nil {
		return fmt.Errorf("retention: delete recording: %w", err)
	}
	if err := f.clear(ctx, businessID, callID, func(c *store.Call) { c.RecordingID = "" }); err != nil {
		return err
	}
	if err := recording.Erase(f.RecordingDir, callID); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("retention: delete recording of %s: %w", callID, err)
	}
	return nil
}

// DeleteTranscript shreds call callID's transcript.
func (f Files) DeleteTranscript(ctx context.Context, businessID, callID string) error {
	if err := recording.ValidID(callID); err != nil {
		return fmt.Errorf("retention: delete transcript: %w", err)
	}
	if err := f.clear(ctx, businessID, callID, func(c *store.Call) { c.TranscriptID = "" }); err != nil {
		return err
	}
	if err := transcript.Erase(f.TranscriptDir, callID); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("retention: delete transcript of %s: %w", callID, err)
	}
	return nil
}

func (f Files) clear(ctx context.Context, businessID, callID string, change func(*store.Call)) error {
	_, err := f.Calls.Update(ctx, businessID, callID, func(c *store.Call) error { change(c); return nil })
	if err != nil && !errors.Is(err, scheduling.ErrNotFound) { // no record left: nothing to clear
		return fmt.Errorf("retention: update call %s: %w", callID, err)
	}
	return nil
}

// Options configure a Scheduler. Zero values take the defaults.
type Options struct {
	// Node names this process as the holder of timer leases. Default:
	// host name, process ID and a random suffix.
	Node string
	// LeaseTTL bounds how long a node that died while firing a timer
	// keeps others from firing it. Default 1 minute.
	LeaseTTL time.Duration
	// MaxSleep is the longest Run sleeps without looking at the store, so
	// that timers scheduled or released on other nodes are seen. Default
	// 1 minute.
	MaxSleep time.Duration
	// HoldRecheck is how long a timer found under legal hold waits before
	// it is checked again, in case the release was missed (Released
	// reschedules at once). Default 24 hours.
	HoldRecheck time.Duration
	// RetryAfter is how long a timer whose deletion failed waits before
	// the next attempt. Default 1 minute.
	RetryAfter time.Duration
	// Batch is how many due timers are read at a time. Default 100.
	Batch int
	// Log receives Run's reports. Default slog.Default().
	Log *slog.Logger
}

// Scheduler fires retention timers. Run runs it; Schedule, Cancel, Replan,
// Released and Sweep may be called from any goroutine, while Run runs or
// not. A Scheduler is safe for concurrent use.
type Scheduler struct {
	// immutable
	st   store.Store
	del  Deleter
	opts Options
	log  *slog.Logger

	wake chan struct{} // capacity 1: a pending wake-up for Run
	seq  atomic.Int64  // numbers lease holders: Run and Sweep may race on one node
}

// New returns a Scheduler of the timers in st that deletes through del. It
// starts nothing.
func New(st store.Store, del Deleter, opts Options) *Scheduler {
	if opts.Node == "" {
		host, _ := os.Hostname()
		var b [4]byte
		_, _ = rand.Read(b[:])
		opts.Node = host + "-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b[:])
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = time.Minute
	}
	if opts.MaxSleep <= 0 {
		opts.MaxSleep = time.Minute
	}
	if opts.HoldRecheck <= 0 {
		opts.HoldRecheck = 24 * time.Hour
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = time.Minute
	}
	if opts.Batch <= 0 || opts.Batch > store.MaxLimit {
		opts.Batch = 100
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Scheduler{st: st, del: del, opts: opts, log: opts.Log, wake: make(chan struct{}, 1)}
}

// Wake makes Run look at the store again now: a timer may have been
// scheduled earlier than the one it sleeps for.
func (s *Scheduler) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Schedule persists t and wakes Run.
func (s *Scheduler) Schedule(ctx context.Context, t store.Timer) error {
	if err := s.st.Timers().Schedule(ctx, t); err != nil {
		return err
	}
	s.Wake()
	return nil
}

// Cancel removes timer id (a file deleted by other means).
func (s *Scheduler) Cancel(ctx context.Context, id string) error {
	return s.st.Timers().Cancel(ctx, id)
}

// Expiry returns when a file of kind of a call started at startedAt
// expires under plan; ok is false when the plan keeps no such file.
func Expiry(plan recording.Plan, kind store.TimerKind, startedAt time.Time) (time.Time, bool) {
	if kind == store.TimerRecording {
		return plan.RecordingExpiry(startedAt)
	}
	return plan.TranscriptExpiry(startedAt)
}

// Run fires timers as they fall due until ctx ends. It sleeps until the
// earliest timer, or until Wake, or at most MaxSleep; store errors are
// logged and retried. It returns nil when ctx ends.
func (s *Scheduler) Run(ctx context.Context) error {
	s.log.Info("retention scheduler started", "node", s.opts.Node)
	for {
		res, err := s.Sweep(ctx, time.Now())
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			s.log.Error("retention sweep", "err", err, "fired", res.Fired, "failed", res.Failed)
		} else if res.Fired+res.Held > 0 {
			s.log.Info("retention sweep", "fired", res.Fired, "held", res.Held, "skipped", res.Skipped)
		}
		wait := s.opts.MaxSleep
		next, nerr := s.st.Timers().Due(ctx, store.MaxTime, 1)
		switch {
		case nerr != nil:
			if ctx.Err() != nil {
				return nil
			}
			s.log.Error("retention: read the next timer", "err", nerr)
			wait = min(wait, time.Second)
		case len(next) == 1:
			d := time.Until(next[0].Due)
			if d <= 0 {
				// Still due after the sweep: another node is firing it
				// (or the store rounds times): look again shortly.
				d = time.Millisecond
				if res.Skipped > 0 || err != nil {
					d = time.Second
				}
			}
			wait = min(wait, d)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		case <-s.wake:
			t.Stop()
		}
	}
}

// Result counts what a Sweep did.
type Result struct {
	Fired   int // files deleted, timers gone
	Held    int // timers under legal hold, postponed
	Skipped int // timers another node was firing, or that moved meanwhile
	Failed  int // deletions that failed; retried after RetryAfter
}

// Sweep fires every timer due at now, once. Timers under hold are
// postponed by HoldRecheck, failed ones by RetryAfter. err joins the
// failures.
func (s *Scheduler) Sweep(ctx context.Context, now time.Time) (Result, error) {
	var res Result
	var errs []error
	seen := map[string]bool{}
	for {
		due, err := s.st.Timers().Due(ctx, now, min(len(seen)+s.opts.Batch, store.MaxLimit))
		if err != nil {
			return res, errors.Join(append(errs, fmt.Errorf("retention: read due timers: %w", err))...)
		}
		fresh := 0
		for _, t := range due {
			if seen[t.ID] {
				continue
			}
			seen[t.ID] = true
			fresh++
			outcome, err := s.fire(ctx, t, now)
			switch outcome {
			case fired:
				res.Fired++
			case held:
				res.Held++
			case skipped:
				res.Skipped++
			case failed:
				res.Failed++
				errs = append(errs, err)
			}
			if ctx.Err() != nil {
				return res, errors.Join(errs...)
			}
		}
		if fresh == 0 {
			return res, errors.Join(errs...)
		}
	}
}

type outcome int

const (
	fired outcome = iota
	held
	skipped
	failed
)

// leaseName is the lease of timer id: hashed, as leases names are at most
// 200 bytes and timer IDs may be longer.
func leaseName(id string) string {
	h := sha256.Sum256([]byte(id))
	return "retention:" + hex.EncodeToString(h[:16])
}

// fire deletes timer t's file unless another node is at it, the timer has
// moved or gone, or a hold covers the call.
func (s *Scheduler) fire(ctx context.Context, t store.Timer, now time.Time) (outcome, error) {
	fail := func(err error) (outcome, error) {
		err = fmt.Errorf("retention: timer %s: %w", t.ID, err)
		if rerr := s.st.Timers().Reschedule(ctx, t.ID, now.Add(s.opts.RetryAfter)); rerr != nil && !errors.Is(rerr, scheduling.ErrNotFound) {
			err = errors.Join(err, rerr)
		}
		return failed, err
	}
	lease := leaseName(t.ID)
	// A holder per attempt: with the node's name alone, two goroutines of
	// one node would both hold the lease (Acquire renews one's own).
	holder := s.opts.Node + "#" + strconv.FormatInt(s.seq.Add(1), 10)
	ok, err := s.st.Leases().Acquire(ctx, lease, holder, s.opts.LeaseTTL)
	if err != nil {
		return failed, fmt.Errorf("retention: timer %s: %w", t.ID, err)
	}
	if !ok {
		return skipped, nil
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = s.st.Leases().Release(rctx, lease, holder) // it expires anyway
	}()
	// Under the lease, read the timer again: another node may have fired
	// it (it is gone) or it may have moved since it was listed.
	cur, err := s.st.Timers().Get(ctx, t.ID)
	switch {
	case errors.Is(err, scheduling.ErrNotFound):
		return skipped, nil
	case err != nil:
		return failed, fmt.Errorf("retention: timer %s: %w", t.ID, err)
	case cur.Due.After(now):
		return skipped, nil
	}
	leadID := ""
	c, err := s.st.Calls().Get(ctx, t.BusinessID, t.Target)
	switch {
	case err == nil:
		leadID = c.LeadID
	case !errors.Is(err, scheduling.ErrNotFound): // a call without a record still has its files deleted
		return fail(err)
	}
	if _, on, err := store.HeldBy(ctx, s.st.Holds(), t.BusinessID, t.Target, leadID); err != nil {
		return fail(err)
	} else if on {
		if err := s.st.Timers().Reschedule(ctx, t.ID, now.Add(s.opts.HoldRecheck)); err != nil {
			return failed, fmt.Errorf("retention: postpone held timer %s: %w", t.ID, err)
		}
		return held, nil
	}
	if t.Kind == store.TimerRecording {
		err = s.del.DeleteRecording(ctx, t.BusinessID, t.Target)
	} else {
		err = s.del.DeleteTranscript(ctx, t.BusinessID, t.Target)
	}
	if err != nil {
		return fail(err)
	}
	if _, err := s.st.Audit().Append(ctx, store.AuditRecord{BusinessID: t.BusinessID, Actor: store.ActorSystem,
		Action: store.AuditExpire, Target: string(t.Kind) + ":" + t.Target,
		Reason: "retention plan: due " + cur.Due.UTC().Format(time.RFC3339)}); err != nil {
		return fail(err) // deleting again is harmless; the record must be written
	}
	if err := s.st.Timers().Cancel(ctx, t.ID); err != nil {
		return failed, fmt.Errorf("retention: timer %s: %w", t.ID, err)
	}
	return fired, nil
}

// Replan recomputes the expiry of every file of businessID under plan,
// from each call's start: the timers move (earlier or later) and the call
// records show the new times. A plan that keeps no such file any more
// makes it due at once. Timers of calls without a record are left alone.
// It returns how many timers moved.
func (s *Scheduler) Replan(ctx context.Context, businessID string, plan recording.Plan) (int, error) {
	now := time.Now()
	moved := 0
	err := s.eachTimer(ctx, businessID, func(t store.Timer) error {
		c, err := s.st.Calls().Get(ctx, businessID, t.Target)
		if errors.Is(err, scheduling.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		due, ok := Expiry(plan, t.Kind, c.StartedAt)
		if !ok {
			due = now
		}
		if err := s.st.Timers().Reschedule(ctx, t.ID, due); err != nil && !errors.Is(err, scheduling.ErrNotFound) {
			return err
		}
		moved++
		_, err = s.st.Calls().Update(ctx, businessID, t.Target, func(c *store.Call) error {
			if t.Kind == store.TimerRecording {
				c.RecordingExpires = due
			} else {
				c.TranscriptExpires = due
			}
			return nil
		})
		if errors.Is(err, scheduling.ErrNotFound) {
			err = nil
		}
		return err
	})
	s.Wake()
	if err != nil {
		return moved, fmt.Errorf("retention: replan %s: %w", businessID, err)
	}
	return moved, nil
}

// Released makes the timers of businessID that fell due while a hold kept
// them (their call's expiry has passed) due now, and wakes Run. Call it
// after releasing a hold; timers still covered by another hold are
// postponed again when they fire.
func (s *Scheduler) Released(ctx context.Context, businessID string) error {
	now := time.Now()
	err := s.eachTimer(ctx, businessID, func(t store.Timer) error {
		if !t.Due.After(now) {
			return nil
		}
		c, err := s.st.Calls().Get(ctx, businessID, t.Target)
		if errors.Is(err, scheduling.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		exp := c.RecordingExpires
		if t.Kind == store.TimerTranscript {
			exp = c.TranscriptExpires
		}
		if exp.IsZero() || exp.After(now) {
			return nil
		}
		if err := s.st.Timers().Reschedule(ctx, t.ID, now); err != nil && !errors.Is(err, scheduling.ErrNotFound) {
			return err
		}
		return nil
	})
	s.Wake()
	if err != nil {
		return fmt.Errorf("retention: after release in %s: %w", businessID, err)
	}
	return nil
}

// eachTimer calls fn for every timer of businessID.
func (s *Scheduler) eachTimer(ctx context.Context, businessID string, fn func(store.Timer) error) error {
	p := store.Page{Limit: store.MaxLimit}
	for {
		ts, next, err := s.st.Timers().List(ctx, businessID, p)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if err := fn(t); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		p.Cursor = next
	}
}
