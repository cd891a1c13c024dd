package redistest

import "testing"

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
