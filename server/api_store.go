package server

import (
	"context"
	"fmt"
	"os"

	goredis "github.com/redis/go-redis/v9"

	"github.com/frontdesk/frontdesk/configs"
	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/store/redis"
	"github.com/frontdesk/frontdesk/store/sqlite"
)

// OpenStore opens the store cfg.Store names: SQLite in server.data_dir
// (created if missing), or Redis at store.redis_url, checked with a PING.
// Close it after the server has stopped.
func OpenStore(ctx context.Context, cfg *configs.Config) (store.Store, error) {
	switch cfg.Store.Backend {
	case configs.StoreRedis:
		opts, err := goredis.ParseURL(cfg.Store.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("server: open store: redis_url: %w", err)
		}
		c := goredis.NewClient(opts)
		if err := c.Ping(ctx).Err(); err != nil {
			c.Close()
			return nil, fmt.Errorf("server: open store: redis at %s: %w", opts.Addr, err)
		}
		return &redisStore{Store: redis.New(c, redis.Options{Prefix: cfg.Store.RedisPrefix}), c: c}, nil
	case configs.StoreSQLite, "":
		if err := os.MkdirAll(cfg.Server.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("server: open store: %w", err)
		}
		st, err := sqlite.Open(ctx, cfg.Server.DataDir, sqlite.Options{})
		if err != nil {
			return nil, fmt.Errorf("server: open store: %w", err)
		}
		return st, nil
	}
	return nil, fmt.Errorf("server: open store: unknown backend %q", cfg.Store.Backend)
}

// redisStore closes the client it was opened with.
type redisStore struct {
	*redis.Store
	c *goredis.Client
}

func (s *redisStore) Close() error { return s.c.Close() }
