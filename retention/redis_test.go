package retention_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/frontdesk/frontdesk/recording"
	"github.com/frontdesk/frontdesk/retention"
	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/store/redis"
	"github.com/frontdesk/frontdesk/store/redis/redistest"
)

// counting counts deletions per file, to catch a timer fired twice (the
// file deleter itself is idempotent, so the disk would not tell).
type counting struct {
	inner retention.Deleter
	mu    sync.Mutex
	n     map[string]int // guarded by mu
}

func (c *counting) add(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[key]++
}

func (c *counting) DeleteRecording(ctx context.Context, b, id string) error {
	c.add("recording:" + id)
	return c.inner.DeleteRecording(ctx, b, id)
}

func (c *counting) DeleteTranscript(ctx context.Context, b, id string) error {
	c.add("transcript:" + id)
	return c.inner.DeleteTranscript(ctx, b, id)
}

// TestOnceAcrossNodes: two schedulers, each with its own connection to
// one real Redis and sharing the file directory, run and also sweep
// concurrently; every timer fires exactly once, within a second of its
// time, and every file is gone.
func TestOnceAcrossNodes(t *testing.T) {
	addr := redistest.Start(t)
	dir, kr := t.TempDir(), keyring(t)
	node := func(name string, del *counting) (store.Store, *retention.Scheduler) {
		c := goredis.NewClient(&goredis.Options{Addr: addr})
		t.Cleanup(func() { c.Close() })
		st := redis.New(c, redis.Options{Prefix: "once:"})
		return st, retention.New(st, del, retention.Options{Node: name, MaxSleep: 200 * time.Millisecond})
	}
	del := &counting{n: map[string]int{}}
	stA, a := node("node-a", del)
	_, b := node("node-b", del)
	w := newWorld(t, stA, dir, kr, retention.Options{})
	del.inner = retention.Files{Calls: stA.Calls(), RecordingDir: w.recDir, TranscriptDir: w.trDir}

	const calls = 30
	short := recording.Plan{Recordings: 1500 * time.Millisecond, Transcripts: 1700 * time.Millisecond}
	var due []store.Call
	for i := range calls {
		due = append(due, w.record(t, fmt.Sprintf("call_%02d", i), "", time.Now(), short))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, s := range []*retention.Scheduler{a, b} {
		wg.Go(func() { _ = s.Run(ctx) })
		wg.Go(func() { // racing the other node's Run and Sweep
			for ctx.Err() == nil {
				if _, err := s.Sweep(ctx, time.Now()); err != nil && ctx.Err() == nil {
					t.Errorf("Sweep: %v", err)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	for {
		left, err := stA.Timers().Due(ctx, store.MaxTime, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(left) == 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("timers left after 20s: %v", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	wg.Wait()

	ex := w.expiries(t)
	if len(ex) != 2*calls {
		t.Errorf("%d expiry records, want %d", len(ex), 2*calls)
	}
	for _, c := range due {
		for kind, at := range map[string]time.Time{"recording": c.RecordingExpires, "transcript": c.TranscriptExpires} {
			key := kind + ":" + c.ID
			if n := del.n[key]; n != 1 {
				t.Errorf("%s deleted %d times, want once", key, n)
			}
			if d := ex[key].At.Sub(at); d < 0 || d > time.Second {
				t.Errorf("%s fired %v after its expiry", key, d)
			}
		}
		if w.hasRecording(t, c.ID) || w.hasTranscript(t, c.ID) {
			t.Errorf("%s: files left", c.ID)
		}
	}
}
