package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/frontdesk/frontdesk/configs"
)

// Reload installs cfg, a newly loaded and validated config file. Its
// businesses, plans and operator key take effect at once for new calls
// and API requests; live calls keep the business they started with.
// Other settings (listen address, public URL, Twilio, agent, store) are
// read once at start: when they differ, Reload logs that they need a
// restart and keeps using the old ones.
func (s *Server) Reload(ctx context.Context, cfg *configs.Config) error {
	if cfg == nil {
		return errors.New("server: reload: no config")
	}
	old := s.api.reg.config()
	var restart []string
	o, n := old.Server, cfg.Server
	o.OperatorKey, n.OperatorKey = "", ""
	if o != n {
		restart = append(restart, "server")
	}
	if old.Twilio != cfg.Twilio {
		restart = append(restart, "twilio")
	}
	if old.Agent != cfg.Agent {
		restart = append(restart, "agent")
	}
	if old.Store != cfg.Store {
		restart = append(restart, "store")
	}
	if err := s.api.reg.setConfig(ctx, cfg); err != nil {
		// The file is installed; API businesses are re-read on the next
		// lookup.
		s.log.Warn("config reload: reading API businesses failed", "err", err)
	}
	if len(restart) > 0 {
		s.log.Warn("config reload: these sections changed and need a restart to take effect", "sections", restart)
	}
	s.log.Info("config reloaded", "businesses", len(cfg.Businesses))
	return nil
}

// ReloadFile loads the config file at path and Reloads it. A file that
// does not load changes nothing: the error says why.
func (s *Server) ReloadFile(ctx context.Context, path string) error {
	cfg, err := configs.Load(path)
	if err != nil {
		return fmt.Errorf("server: reload: %w", err)
	}
	return s.Reload(ctx, cfg)
}

// WatchConfig reloads the config file at path on every value received
// from hup (SIGHUP) and whenever the file's modification time or size
// changes, checked every interval, until ctx ends. A file that does not
// load is logged and the running config kept. It returns nil when ctx
// ends.
func (s *Server) WatchConfig(ctx context.Context, path string, interval time.Duration, hup <-chan os.Signal) error {
	stamp := func() (time.Time, int64) {
		fi, err := os.Stat(path)
		if err != nil {
			return time.Time{}, -1
		}
		return fi.ModTime(), fi.Size()
	}
	mtime, size := stamp()
	s.log.Info("watching config file", "path", path, "interval", interval)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		why := ""
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
			why = "signal"
		case <-tick.C:
			m, sz := stamp()
			if sz < 0 || (m.Equal(mtime) && sz == size) {
				continue
			}
			why = "file changed"
		}
		mtime, size = stamp()
		if err := s.ReloadFile(ctx, path); err != nil {
			s.log.Error("config reload failed; keeping the running config", "trigger", why, "path", path, "err", err)
		}
	}
}
