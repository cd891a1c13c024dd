// Package redistest runs a throwaway redis-server for tests: a real server
// (the Debian package redis-server), on a free loopback port, without
// persistence, stopped when the test ends; StartServer gives one that
// persists and can be restarted on the same port (Redis restarting under
// a cluster). Tests that need Redis fail with a clear message when it is
// not installed; they do not skip.
package redistest

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Start starts redis-server for the test and returns its address
// ("127.0.0.1:port"). The server is stopped in tb.Cleanup.
func Start(tb testing.TB) string {
	tb.Helper()
	return start(tb, false).Addr
}

// Server is a redis-server that a test can stop and start again on the
// same port, keeping its data: it persists to an append-only file (fsync
// on every write), as a production Redis would, so that a restart loses
// nothing. Its methods are for the test's goroutine.
type Server struct {
	Addr string // "127.0.0.1:port", the same across restarts

	tb      testing.TB
	bin     string
	dir     string
	persist bool
	cmd     *exec.Cmd
	exited  chan error
	out     *syncBuffer
}

// StartServer starts a restartable, persistent redis-server for the test.
// It is stopped in tb.Cleanup.
func StartServer(tb testing.TB) *Server {
	tb.Helper()
	return start(tb, true)
}

func start(tb testing.TB, persist bool) *Server {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Fatalf("redistest: redis-server not found in PATH (install the Debian package redis-server): %v", err)
	}
	var lastErr error
	for range 5 { // the free port we picked can be taken before redis binds it
		port, err := freePort()
		if err != nil {
			lastErr = err
			continue
		}
		s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), tb: tb, bin: bin, dir: tb.TempDir(), persist: persist}
		if err := s.run(); err == nil {
			tb.Cleanup(s.Stop)
			return s
		} else {
			lastErr = err
		}
	}
	tb.Fatalf("redistest: %v", lastErr)
	return nil
}

// Stop shuts the server down (SIGTERM, as an operator would; KILL after
// 10 s). Stopping a stopped server does nothing.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

// Restart starts a stopped server again on the same port and data. The
// port may have been taken meanwhile; then the test fails.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Stop()
	if err := s.run(); err != nil {
		s.tb.Fatalf("redistest: restart: %v", err)
	}
}

// run starts redis-server and waits until it answers PING.
func (s *Server) run() error {
	_, port, _ := net.SplitHostPort(s.Addr)
	args := []string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--dir", s.dir, "--daemonize", "no"}
	if s.persist {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--appendonly", "no")
	}
	s.out = &syncBuffer{}
	cmd := exec.Command(s.bin, args...)
	cmd.Stdout, cmd.Stderr = s.out, s.out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	s.exited = make(chan error, 1)
	go func(exited chan<- error) { exited <- cmd.Wait() }(s.exited)
	s.cmd = cmd
	deadline := time.Now().Add(15 * time.Second)
	for {
		if ping(s.Addr) == nil {
			return nil
		}
		select {
		case err := <-s.exited:
			s.cmd = nil
			return fmt.Errorf("redis-server on %s exited (%v):\n%s", s.Addr, err, s.out.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return fmt.Errorf("redis-server on %s did not answer PING within 15s:\n%s", s.Addr, s.out.String())
		}
	}
}

// syncBuffer collects the server's output for error messages.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer // guarded by mu
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ping speaks just enough RESP to tell that the server is up.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}
