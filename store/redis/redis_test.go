package redis_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/store/redis"
	"github.com/frontdesk/frontdesk/store/redis/redistest"
	"github.com/frontdesk/frontdesk/store/storetest"
)

func client(t testing.TB, addr string) *goredis.Client {
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	t.Cleanup(func() { c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("ping redis at %s: %v", addr, err)
	}
	return c
}

func TestConformance(t *testing.T) {
	c := client(t, redistest.Start(t))
	var n atomic.Int64
	storetest.Run(t, func(t testing.TB, now func() time.Time) store.Store {
		// One server for the suite; a prefix per subtest keeps them apart.
		return redis.New(c, redis.Options{Prefix: fmt.Sprintf("t%d:", n.Add(1)), Now: now})
	})
}

// TestPrefixesIsolate checks that two stores on one server with different
// prefixes do not see each other, which the suite relies on.
func TestPrefixesIsolate(t *testing.T) {
	c := client(t, redistest.Start(t))
	ctx := context.Background()
	a := redis.New(c, redis.Options{Prefix: "a:"})
	b := redis.New(c, redis.Options{Prefix: "b:"})
	if _, err := a.Businesses().Create(ctx, store.BusinessRecord{ID: "acme", Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Businesses().Get(ctx, "acme"); err == nil {
		t.Fatal("store with prefix b: sees a business created under prefix a:")
	}
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k[:2] != "a:" {
			t.Errorf("key %q lacks the prefix", k)
		}
	}
}

func BenchmarkBook(b *testing.B) {
	c := client(b, redistest.Start(b))
	storetest.BenchmarkBook(b, redis.New(c, redis.Options{}).Appointments())
}
