package retention_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/frontdesk/frontdesk/recording"
	"github.com/frontdesk/frontdesk/recording/crypt"
	"github.com/frontdesk/frontdesk/retention"
	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/store/sqlite"
	"github.com/frontdesk/frontdesk/transcript"
)

const biz = "acme"

// world is one node's view: a store, the file directories and a
// scheduler deleting real files.
type world struct {
	st            store.Store
	kr            *crypt.Keyring
	recDir, trDir string
	sched         *retention.Scheduler
}

func keyring(t testing.TB) *crypt.Keyring {
	kr := crypt.NewKeyring()
	if err := kr.Add("k1", crypt.NewKey()); err != nil {
		t.Fatal(err)
	}
	return kr
}

func newWorld(t testing.TB, st store.Store, dir string, kr *crypt.Keyring, opts retention.Options) *world {
	if opts.MaxSleep == 0 {
		// One node: no timers come from elsewhere, and in fake time each
		// poll costs a sweep, so months of polls a minute apart are slow.
		opts.MaxSleep = 1000 * 24 * time.Hour
	}
	w := &world{st: st, kr: kr, recDir: filepath.Join(dir, "recordings"), trDir: filepath.Join(dir, "transcripts")}
	for _, d := range []string{w.recDir, w.trDir} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			t.Fatal(err)
		}
	}
	w.sched = retention.New(st, retention.Files{Calls: st.Calls(), RecordingDir: w.recDir, TranscriptDir: w.trDir}, opts)
	return w
}

func openSQLite(t testing.TB, dir string) *sqlite.Store {
	st, err := sqlite.Open(context.Background(), dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// record writes call id's recording and transcript, stores its record and
// schedules its timers under plan, as a call does.
func (w *world) record(t testing.TB, id, leadID string, started time.Time, plan recording.Plan) store.Call {
	t.Helper()
	ctx := context.Background()
	rec, err := recording.Create(w.recDir, id, recording.Options{Rate: 8000, Keyring: w.kr})
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, 8000)
	for i := range pcm {
		pcm[i] = int16(i % 2000)
	}
	if err := rec.WriteCaller(pcm); err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	log, err := transcript.Create(w.trDir, transcript.Meta{CallID: id, BusinessID: biz, StartedAt: started}, transcript.Options{Keyring: w.kr})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := log.Append(transcript.Turn{Speaker: transcript.Caller, Text: "hello", EndMS: 900, Confidence: 1}); err != nil {
		t.Fatal(err)
	}
	if err := log.End(started.Add(time.Second), "completed"); err != nil {
		t.Fatal(err)
	}
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	c := store.Call{ID: id, Transport: store.TransportTwilio, LeadID: leadID, StartedAt: started, RecordingID: id, TranscriptID: id,
		Outcome: store.OutcomeCompleted, EndedAt: started.Add(time.Second)}
	c.RecordingExpires, _ = plan.RecordingExpiry(started)
	c.TranscriptExpires, _ = plan.TranscriptExpiry(started)
	c, err = w.st.Calls().Create(ctx, biz, c)
	if err != nil {
		t.Fatal(err)
	}
	for kind, due := range map[store.TimerKind]time.Time{store.TimerRecording: c.RecordingExpires, store.TimerTranscript: c.TranscriptExpires} {
		if err := w.sched.Schedule(ctx, store.NewTimer(biz, kind, id, due)); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func exists(t testing.TB, path string) bool {
	t.Helper()
	_, err := os.Stat(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

func (w *world) hasRecording(t testing.TB, id string) bool {
	p, err := recording.Path(w.recDir, id)
	if err != nil {
		t.Fatal(err)
	}
	return exists(t, p)
}

func (w *world) hasTranscript(t testing.TB, id string) bool {
	p, err := transcript.Path(w.trDir, id)
	if err != nil {
		t.Fatal(err)
	}
	return exists(t, p)
}

// expiries returns the audit records of expiries, by target.
func (w *world) expiries(t testing.TB) map[string]store.AuditRecord {
	t.Helper()
	out := map[string]store.AuditRecord{}
	p := store.Page{Limit: store.MaxLimit}
	for {
		items, next, err := w.st.Audit().List(context.Background(), biz, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range items {
			if r.Action != store.AuditExpire || r.Actor != store.ActorSystem {
				t.Errorf("unexpected audit record %+v", r)
				continue
			}
			if _, dup := out[r.Target]; dup {
				t.Errorf("%s expired twice", r.Target)
			}
			out[r.Target] = r
		}
		if next == "" {
			return out
		}
		p.Cursor = next
	}
}

// run starts the scheduler; the returned stop cancels it and waits.
func (w *world) run(t testing.TB) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := w.sched.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return func() { cancel(); wg.Wait() }
}

var plan = recording.Plan{Recordings: 180 * 24 * time.Hour, Transcripts: 365 * 24 * time.Hour}

// TestExpiryFiresOnTime: each file goes when its timer is due (within a
// second, in fake time: to the nanosecond), not before, and its bytes
// are gone from disk; the call record forgets the file.
func TestExpiryFiresOnTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		st := openSQLite(t, dir)
		defer st.Close()
		w := newWorld(t, st, dir, keyring(t), retention.Options{})
		stop := w.run(t)
		defer stop()
		t0 := time.Now()
		a := w.record(t, "call_a", "", t0, plan)
		time.Sleep(time.Hour)
		b := w.record(t, "call_b", "", time.Now(), plan) // due an hour after a's
		synctest.Wait()

		time.Sleep(a.RecordingExpires.Sub(time.Now()) - time.Millisecond)
		synctest.Wait()
		if !w.hasRecording(t, "call_a") {
			t.Fatal("recording deleted before its expiry")
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if w.hasRecording(t, "call_a") {
			t.Fatal("recording still on disk at its expiry")
		}
		if !w.hasTranscript(t, "call_a") || !w.hasRecording(t, "call_b") {
			t.Fatal("a file not yet due was deleted")
		}
		got := w.expiries(t)["recording:call_a"]
		if d := got.At.Sub(a.RecordingExpires); d < 0 || d > time.Second {
			t.Errorf("recording expired at %v, %v after its expiry; want within a second", got.At, d)
		}
		c, err := st.Calls().Get(context.Background(), biz, "call_a")
		if err != nil || c.RecordingID != "" || c.TranscriptID != "call_a" {
			t.Errorf("call after expiry = %+v, %v; want no recording, the transcript kept", c, err)
		}

		time.Sleep(b.TranscriptExpires.Sub(time.Now()) + time.Second)
		synctest.Wait()
		for _, id := range []string{"call_a", "call_b"} {
			if w.hasRecording(t, id) || w.hasTranscript(t, id) {
				t.Errorf("%s: files left after every expiry", id)
			}
		}
		ex := w.expiries(t)
		if len(ex) != 4 {
			t.Errorf("%d expiry records, want 4: %v", len(ex), ex)
		}
		for target, due := range map[string]time.Time{"transcript:call_a": a.TranscriptExpires, "recording:call_b": b.RecordingExpires, "transcript:call_b": b.TranscriptExpires} {
			if d := ex[target].At.Sub(due); d < 0 || d > time.Second {
				t.Errorf("%s fired %v after its expiry", target, d)
			}
		}
		if left, _ := st.Timers().Due(context.Background(), store.MaxTime, 10); len(left) != 0 {
			t.Errorf("timers left: %v", left)
		}
		entries, _ := os.ReadDir(w.recDir)
		if len(entries) != 0 {
			t.Errorf("recording directory not empty: %v", entries)
		}
	})
}

// TestRestart: timers live in the store, so a new scheduler over the same
// SQLite file fires them: one that fell due while the node was down at
// once, the other on time.
func TestRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir, kr := t.TempDir(), keyring(t)
		short := recording.Plan{Recordings: time.Hour, Transcripts: 48 * time.Hour}
		st1 := openSQLite(t, dir)
		w1 := newWorld(t, st1, dir, kr, retention.Options{})
		stop := w1.run(t)
		c := w1.record(t, "call_r", "", time.Now(), short)
		time.Sleep(time.Minute)
		stop()
		if err := st1.Close(); err != nil {
			t.Fatal(err)
		}

		time.Sleep(2 * time.Hour) // down past the recording's expiry
		st2 := openSQLite(t, dir)
		defer st2.Close()
		w2 := newWorld(t, st2, dir, kr, retention.Options{})
		if !w2.hasRecording(t, "call_r") {
			t.Fatal("recording gone while no scheduler ran")
		}
		stop = w2.run(t)
		defer stop()
		synctest.Wait()
		if w2.hasRecording(t, "call_r") {
			t.Error("overdue recording not deleted at start-up")
		}
		time.Sleep(c.TranscriptExpires.Sub(time.Now()) - time.Second)
		synctest.Wait()
		if !w2.hasTranscript(t, "call_r") {
			t.Fatal("transcript deleted early")
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if w2.hasTranscript(t, "call_r") {
			t.Error("transcript not deleted after a restart")
		}
		if d := w2.expiries(t)["transcript:call_r"].At.Sub(c.TranscriptExpires); d < 0 || d > time.Second {
			t.Errorf("transcript fired %v after its expiry", d)
		}
	})
}

// TestHold: a file under legal hold (on the call, its lead or the whole
// business) outlives its expiry, and goes within a second of the
// release.
func TestHold(t *testing.T) {
	for _, scope := range []store.HoldScope{store.HoldCall, store.HoldLead, store.HoldBusiness} {
		t.Run(string(scope), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				dir := t.TempDir()
				st := openSQLite(t, dir)
				defer st.Close()
				w := newWorld(t, st, dir, keyring(t), retention.Options{})
				ctx := context.Background()
				stop := w.run(t)
				defer stop()
				short := recording.Plan{Recordings: time.Hour, Transcripts: time.Hour}
				w.record(t, "call_h", "lead_1", time.Now(), short)
				w.record(t, "call_free", "lead_2", time.Now(), short)
				h := store.Hold{BusinessID: biz, Scope: scope, By: "key1", Reason: "litigation"}
				switch scope {
				case store.HoldCall:
					h.Target = "call_h"
				case store.HoldLead:
					h.Target = "lead_1"
				}
				if _, _, err := st.Holds().Place(ctx, h); err != nil {
					t.Fatal(err)
				}
				time.Sleep(30 * 24 * time.Hour) // a month past expiry
				synctest.Wait()
				if !w.hasRecording(t, "call_h") || !w.hasTranscript(t, "call_h") {
					t.Fatal("held files deleted")
				}
				if scope != store.HoldBusiness && w.hasRecording(t, "call_free") {
					t.Error("a file the hold does not cover was kept")
				}
				if _, err := st.Holds().Release(ctx, biz, scope, h.Target); err != nil {
					t.Fatal(err)
				}
				released := time.Now()
				if err := w.sched.Released(ctx, biz); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Second)
				synctest.Wait()
				if w.hasRecording(t, "call_h") || w.hasTranscript(t, "call_h") {
					t.Fatal("files kept after the hold was released")
				}
				ex := w.expiries(t)
				if d := ex["recording:call_h"].At.Sub(released); d < 0 || d > time.Second {
					t.Errorf("fired %v after the release", d)
				}
				if len(ex) != 4 {
					t.Errorf("%d expiry records, want 4", len(ex))
				}
			})
		})
	}
}

// TestHeldSweepPostpones: Sweep (the CLI) leaves held files, and the
// timer stays; without Released the periodic recheck still fires it.
func TestHeldSweepPostpones(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		st := openSQLite(t, dir)
		defer st.Close()
		ctx := context.Background()
		w := newWorld(t, st, dir, keyring(t), retention.Options{HoldRecheck: time.Hour})
		w.record(t, "call_s", "", time.Now(), recording.Plan{Recordings: time.Minute, Transcripts: time.Minute})
		if _, _, err := st.Holds().Place(ctx, store.Hold{BusinessID: biz, Scope: store.HoldCall, Target: "call_s", By: "k"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Hour)
		res, err := w.sched.Sweep(ctx, time.Now())
		if err != nil || res.Held != 2 || res.Fired != 0 {
			t.Fatalf("Sweep under hold = %+v, %v", res, err)
		}
		if res, _ := w.sched.Sweep(ctx, time.Now()); res != (retention.Result{}) {
			t.Errorf("second Sweep = %+v; want nothing due", res)
		}
		if _, err := st.Holds().Release(ctx, biz, store.HoldCall, "call_s"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Hour)
		res, err = w.sched.Sweep(ctx, time.Now())
		if err != nil || res.Fired != 2 {
			t.Fatalf("Sweep after the recheck = %+v, %v", res, err)
		}
		if w.hasRecording(t, "call_s") || w.hasTranscript(t, "call_s") {
			t.Error("files left")
		}
	})
}

// TestReplan: a plan change moves expiries, earlier and later, from each
// call's start; the call records show the new times.
func TestReplan(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		st := openSQLite(t, dir)
		defer st.Close()
		ctx := context.Background()
		w := newWorld(t, st, dir, keyring(t), retention.Options{})
		stop := w.run(t)
		defer stop()
		t0 := time.Now()
		w.record(t, "call_p", "", t0, recording.Plan{Recordings: 10 * time.Hour, Transcripts: 10 * time.Hour})
		time.Sleep(time.Hour)

		pro := recording.Plan{Recordings: 2 * time.Hour, Transcripts: 20 * time.Hour}
		if n, err := w.sched.Replan(ctx, biz, pro); err != nil || n != 2 {
			t.Fatalf("Replan = %d, %v", n, err)
		}
		c, _ := st.Calls().Get(ctx, biz, "call_p")
		if !c.RecordingExpires.Equal(t0.Add(2*time.Hour)) || !c.TranscriptExpires.Equal(t0.Add(20*time.Hour)) {
			t.Errorf("call after Replan: expires %v / %v", c.RecordingExpires.Sub(t0), c.TranscriptExpires.Sub(t0))
		}
		time.Sleep(time.Hour + time.Second) // t0 + 2h: the earlier expiry
		synctest.Wait()
		if w.hasRecording(t, "call_p") {
			t.Error("recording not deleted at its earlier expiry")
		}
		time.Sleep(9 * time.Hour) // t0 + 11h: past the old transcript expiry
		synctest.Wait()
		if !w.hasTranscript(t, "call_p") {
			t.Error("transcript deleted at its old expiry")
		}
		time.Sleep(9 * time.Hour) // t0 + 20h
		synctest.Wait()
		if w.hasTranscript(t, "call_p") {
			t.Error("transcript not deleted at its new expiry")
		}

		// A plan that keeps nothing any more: due at once.
		w.record(t, "call_q", "", time.Now(), plan)
		if _, err := w.sched.Replan(ctx, biz, recording.Plan{}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if w.hasRecording(t, "call_q") || w.hasTranscript(t, "call_q") {
			t.Error("files kept under a plan that keeps none")
		}
	})
}

// TestWakeOnEarlierTimer: Run sleeping for a far timer wakes for an
// earlier one scheduled meanwhile.
func TestWakeOnEarlierTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		st := openSQLite(t, dir)
		defer st.Close()
		w := newWorld(t, st, dir, keyring(t), retention.Options{MaxSleep: 365 * 24 * time.Hour})
		stop := w.run(t)
		defer stop()
		w.record(t, "call_far", "", time.Now(), plan)
		synctest.Wait() // asleep until the far timer
		c := w.record(t, "call_near", "", time.Now(), recording.Plan{Recordings: time.Minute, Transcripts: time.Minute})
		time.Sleep(time.Minute + time.Millisecond)
		synctest.Wait()
		if w.hasRecording(t, "call_near") {
			t.Fatal("the earlier timer did not wake the scheduler")
		}
		if d := w.expiries(t)["recording:call_near"].At.Sub(c.RecordingExpires); d < 0 || d > time.Second {
			t.Errorf("fired %v late", d)
		}
	})
}

// failing deletes nothing and fails, to check retries.
type failing struct{ n int }

func (f *failing) DeleteRecording(context.Context, string, string) error {
	f.n++
	return errors.New("disk on fire")
}
func (f *failing) DeleteTranscript(context.Context, string, string) error {
	f.n++
	return errors.New("disk on fire")
}

func TestFailedDeletionRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		st := openSQLite(t, dir)
		defer st.Close()
		ctx := context.Background()
		f := &failing{}
		s := retention.New(st, f, retention.Options{RetryAfter: time.Minute})
		if err := s.Schedule(ctx, store.NewTimer(biz, store.TimerRecording, "call_x", time.Now())); err != nil {
			t.Fatal(err)
		}
		res, err := s.Sweep(ctx, time.Now())
		if err == nil || res.Failed != 1 || f.n != 1 {
			t.Fatalf("Sweep = %+v, %v", res, err)
		}
		if res, _ := s.Sweep(ctx, time.Now()); res.Failed != 0 || f.n != 1 {
			t.Errorf("a failed timer was retried at once: %+v", res)
		}
		time.Sleep(time.Minute)
		if res, _ := s.Sweep(ctx, time.Now()); res.Failed != 1 || f.n != 2 {
			t.Errorf("a failed timer was not retried after RetryAfter: %+v", res)
		}
		if ex, _, _ := st.Audit().List(ctx, biz, store.Page{}); len(ex) != 0 {
			t.Errorf("audit records for failed deletions: %v", ex)
		}
		if _, err := st.Timers().Get(ctx, store.TimerID(biz, store.TimerRecording, "call_x")); err != nil {
			t.Errorf("the failed timer is gone: %v", err)
		}
	})
}
