package redistest

import (
	"bufio"
	"fmt"
	"net"
	"testing"
	"time"
)

func TestStartAnswersPing(t *testing.T) {
	addr := Start(t)
	if err := ping(addr); err != nil {
		t.Fatalf("ping %s: %v", addr, err)
	}
	other := Start(t)
	if other == addr {
		t.Fatalf("two servers on one address %s", addr)
	}
}

func TestCleanupStopsServer(t *testing.T) {
	var addr string
	t.Run("inner", func(t *testing.T) { addr = Start(t) })
	if err := ping(addr); err == nil {
		t.Fatalf("redis-server on %s still answers after its test ended", addr)
	}
}

func TestRestartKeepsPortAndData(t *testing.T) {
	s := StartServer(t)
	if err := do(s.Addr, "SET k v\r\n", "+OK\r\n"); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	if err := ping(s.Addr); err == nil {
		t.Fatalf("stopped server on %s still answers", s.Addr)
	}
	s.Restart()
	if err := do(s.Addr, "GET k\r\n", "$1\r\n"); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}

// do sends one inline command and checks the first line of the reply.
func do(addr, cmd, want string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte(cmd)); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != want {
		return fmt.Errorf("%q answered %q, want %q", cmd, line, want)
	}
	return nil
}
