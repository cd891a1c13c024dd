package server

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/frontdesk/frontdesk/configs"
)

// The HTTP edge's protection against floods and slow clients:
//
//   - connLimiter caps open connections overall and per client address at
//     the listener, so it counts WebSockets after they are hijacked and
//     refuses before any request is parsed (429 or 503 with Retry-After);
//   - the http.Server times out slow headers and idle keep-alives;
//   - limitBodies caps every request body and the time to read it.

// refusalWorkers bounds the goroutines that answer refused connections: in
// a connection flood the extra ones get the answer without the courtesy of
// reading their request first.
const refusalWorkers = 512

// connLimiter wraps a listener. Safe for concurrent use.
type connLimiter struct {
	net.Listener
	// immutable
	max, perIP int
	refused    *prometheus.CounterVec // by reason
	refusals   chan struct{}          // semaphore of refusalWorkers

	mu    sync.Mutex
	open  int            // guarded by mu
	byIP  map[string]int // guarded by mu; addresses with open connections
	wg    sync.WaitGroup // refusal goroutines
	close sync.Once
}

func newConnLimiter(ln net.Listener, l configs.Limits, refused *prometheus.CounterVec) *connLimiter {
	return &connLimiter{
		Listener: ln,
		max:      l.MaxConns,
		perIP:    l.MaxConnsPerIP,
		refused:  refused,
		refusals: make(chan struct{}, refusalWorkers),
		byIP:     make(map[string]int),
	}
}

// Accept returns the next connection within the caps; connections over a
// cap are answered and closed here, never handed to the server.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := addrIP(c.RemoteAddr())
		status := l.acquire(ip)
		if status == 0 {
			return &limitedConn{Conn: c, l: l, ip: ip}, nil
		}
		reason := "conn_limit"
		if status == http.StatusTooManyRequests {
			reason = "conn_limit_ip"
		}
		l.refused.WithLabelValues(reason).Inc()
		select {
		case l.refusals <- struct{}{}:
			l.wg.Add(1)
			go func() {
				defer func() { <-l.refusals; l.wg.Done() }()
				refuse(c, status)
			}()
		default:
			_ = c.SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
			_, _ = io.WriteString(c, refusal(status))
			_ = c.Close()
		}
	}
}

// Close closes the listener and waits for the refusals in flight.
func (l *connLimiter) Close() error {
	err := l.Listener.Close()
	l.close.Do(l.wg.Wait)
	return err
}

// acquire counts a new connection from ip, or returns the status to refuse
// it with.
func (l *connLimiter) acquire(ip string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open >= l.max {
		return http.StatusServiceUnavailable
	}
	if l.perIP > 0 && l.byIP[ip] >= l.perIP {
		return http.StatusTooManyRequests
	}
	l.open++
	l.byIP[ip]++
	return 0
}

func (l *connLimiter) release(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.byIP[ip]--; l.byIP[ip] <= 0 {
		delete(l.byIP, ip)
	}
}

// counts returns the open connections and the addresses they come from.
func (l *connLimiter) counts() (open, addrs int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open, len(l.byIP)
}

// limitedConn releases its slot once, however often it is closed (the
// http.Server and a hijacking WebSocket may both close it).
type limitedConn struct {
	net.Conn
	l    *connLimiter
	ip   string
	once sync.Once
}

// SetWriteBuffer, SetReadBuffer and ReadFrom reach the TCP connection
// underneath: code that tunes a socket asserts these methods (not
// *net.TCPConn), and net/http's sendfile path uses ReadFrom.
func (c *limitedConn) SetWriteBuffer(n int) error {
	if b, ok := c.Conn.(interface{ SetWriteBuffer(int) error }); ok {
		return b.SetWriteBuffer(n)
	}
	return nil
}

func (c *limitedConn) SetReadBuffer(n int) error {
	if b, ok := c.Conn.(interface{ SetReadBuffer(int) error }); ok {
		return b.SetReadBuffer(n)
	}
	return nil
}

func (c *limitedConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.ip) })
	return err
}

// refuse answers a connection over a cap with a complete HTTP response and
// closes it. The request is drained briefly first: closing with unread
// bytes makes the kernel reset the connection, and the client would see a
// reset instead of the status.
func refuse(c net.Conn, status int) {
	defer c.Close()
	// Read the request head first (up to 4 KiB, 500 ms), so the answer
	// comes after it as clients expect.
	_ = c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	buf := make([]byte, 4096)
	n := 0
	for n < len(buf) {
		m, err := c.Read(buf[n:])
		n += m
		if err != nil || strings.Contains(string(buf[:n]), "\r\n\r\n") {
			break
		}
	}
	_, _ = io.WriteString(c, refusal(status))
	if tc, ok := c.(interface{ CloseWrite() error }); ok {
		_ = tc.CloseWrite()
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(c, 64<<10))
}

// refusal is the HTTP response to a connection over a cap.
func refusal(status int) string {
	body := `{"error":{"code":"busy","message":"too many connections to this server"}}`
	if status == http.StatusTooManyRequests {
		body = `{"error":{"code":"rate_limited","message":"too many connections from this address"}}`
	}
	var b strings.Builder
	b.WriteString("HTTP/1.1 ")
	b.WriteString(itoa(status))
	b.WriteString(" ")
	b.WriteString(http.StatusText(status))
	b.WriteString("\r\nRetry-After: 1\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: ")
	b.WriteString(itoa(len(body)))
	b.WriteString("\r\n\r\n")
	b.WriteString(body)
	return b.String()
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var d [20]byte
	i := len(d)
	for ; n > 0; n /= 10 {
		i--
		d[i] = byte('0' + n%10)
	}
	return string(d[i:])
}

// addrIP is the IP of a connection's remote address.
func addrIP(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// limitBodies caps every request body at max bytes and the time to read it
// at timeout. Handlers may cap lower. WebSocket upgrades have no body.
func limitBodies(next http.Handler, max int64, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			if r.ContentLength > max {
				w.Header().Set("Connection", "close")
				writeJSON(w, http.StatusRequestEntityTooLarge, map[string]any{"error": map[string]string{
					"code": "too_large", "message": "request body too large"}})
				return
			}
			rc := http.NewResponseController(w)
			// The deadline is lifted once the body is read: net/http
			// keeps reading in the background to notice a client that
			// goes away, and a deadline there would cancel the request.
			if rc.SetReadDeadline(time.Now().Add(timeout)) == nil {
				r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
			}
			r.Body = http.MaxBytesReader(w, r.Body, max)
		}
		next.ServeHTTP(w, r)
	})
}

// deadlineBody lifts the connection's read deadline when the body ends.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !b.done {
		b.done = true
		if errors.Is(err, io.EOF) {
			_ = b.rc.SetReadDeadline(time.Time{})
		}
	}
	return n, err
}

// edgeLimits returns the configured limits, defaults where a field is zero
// (a Config built in code rather than parsed).
func edgeLimits(l configs.Limits) configs.Limits {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&l.MaxConns, configs.DefaultMaxConns)
	def(&l.MaxBody, configs.DefaultMaxBody)
	defDur(&l.HeaderTimeout, configs.DefaultHeaderTimeout)
	defDur(&l.BodyTimeout, configs.DefaultBodyTimeout)
	defDur(&l.IdleTimeout, configs.DefaultIdleTimeout)
	return l
}

// limitState is the Server's part of the edge limits: the limiter of the
// listener being served, for the gauges.
type limitState struct {
	mu         sync.Mutex
	conns      *connLimiter // guarded by mu; nil before Serve
	registered bool         // guarded by mu
}

// limitListener wraps ln in the configured connection caps and exports
// their counts.
func (s *Server) limitListener(ln net.Listener) net.Listener {
	l := newConnLimiter(ln, edgeLimits(s.cfg.Server.Limits), s.metrics.rejected)
	st := &s.limits
	st.mu.Lock()
	defer st.mu.Unlock()
	st.conns = l
	if st.registered {
		return l
	}
	st.registered = true
	gauge := func(name, help string, pick func(open, addrs int) int) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			st.mu.Lock()
			c := st.conns
			st.mu.Unlock()
			return float64(pick(c.counts()))
		})
	}
	s.metrics.reg.MustRegister(
		gauge("frontdesk_connections_open", "Open client connections (WebSockets included).",
			func(open, _ int) int { return open }),
		gauge("frontdesk_connection_addresses", "Client addresses with open connections.",
			func(_, addrs int) int { return addrs }),
	)
	return l
}
