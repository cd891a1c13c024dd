// Package chromium drives a real headless Chromium from Go tests over the
// DevTools protocol: start the browser on a URL, attach to its page,
// evaluate JavaScript, wait for conditions and collect the page's console
// errors. It is a test helper (its functions take a testing.TB) and needs
// the Debian package chromium.
package chromium

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Options describe one browser.
type Options struct {
	// URL is the page the browser opens.
	URL string
	// FakeMic, if set, is a WAV file that the fake microphone plays (in a
	// loop); without it the fake device plays a beep.
	FakeMic string
	// Flags are added to the command line.
	Flags []string
}

// Browser is a running headless Chromium. It is stopped (its whole
// process group) when the test ends.
type Browser struct {
	devtools string // http://127.0.0.1:PORT
}

var devtoolsRE = regexp.MustCompile(`DevTools listening on (ws://[^/\s]+)/`)

// Start starts headless Chromium on o.URL with fake media devices and
// autoplay allowed, and stops it when the test ends; on failure the test
// log gets the tail of the browser's stderr.
func Start(ctx context.Context, t testing.TB, o Options) *Browser {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium not found (Debian package chromium, `make test-deps`): %v", err)
	}
	args := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--disable-extensions", "--disable-dev-shm-usage",
		"--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
		"--autoplay-policy=no-user-gesture-required",
		// ICE on loopback only, with plain addresses: no mDNS names, no
		// traffic off this machine.
		"--allow-loopback-in-peer-connection",
		"--disable-features=WebRtcHideLocalIpsWithMdns",
		"--user-data-dir=" + t.TempDir(),
		"--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
	}
	if o.FakeMic != "" {
		args = append(args, "--use-file-for-fake-audio-capture="+o.FakeMic)
	}
	args = append(args, o.Flags...)
	args = append(args, o.URL)
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	logs := make(chan string, 1)
	found := make(chan string, 1)
	go func() {
		var all strings.Builder
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			all.WriteString(sc.Text() + "\n")
			if m := devtoolsRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- strings.Replace(m[1], "ws://", "http://", 1):
				default:
				}
			}
		}
		logs <- all.String()
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		l := <-logs
		if t.Failed() {
			t.Logf("chromium stderr:\n%s", tail(l, 3000))
		}
	})
	select {
	case d := <-found:
		return &Browser{devtools: d}
	case <-time.After(20 * time.Second):
		t.Fatal("chromium did not open its DevTools port in 20s")
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
	return nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// Message is an error or warning the page logged: an uncaught exception,
// a console.error/console.warn call, or a browser log entry (a failed
// request, a Content-Security-Policy violation).
type Message struct {
	Source string // "exception", "console", or the log entry's source: "network", "security", …
	Level  string // "error" or "warning"
	Text   string
}

func (m Message) String() string { return m.Source + " " + m.Level + ": " + m.Text }

// Page is a DevTools connection to one page target. Its methods are safe
// for concurrent use.
type Page struct {
	conn *websocket.Conn
	done chan struct{} // closed when readLoop returns

	// Debug, if set, is a JavaScript expression whose value WaitJS prints
	// when it times out (the page's state).
	Debug string

	mu      sync.Mutex
	id      int
	pending map[int]chan reply // guarded by mu
	msgs    []Message          // guarded by mu
	readErr error              // guarded by mu; set when readLoop ends
}

type reply struct {
	result json.RawMessage
	err    error
}

// Page attaches to the first page target whose URL contains urlPart,
// waiting up to 10 s for it, and enables the Runtime and Log domains so
// that Messages collects the page's errors from its start on.
func (b *Browser) Page(ctx context.Context, t testing.TB, urlPart string) *Page {
	t.Helper()
	var targets []struct {
		Type, URL            string
		WebSocketDebuggerURL string `json:"webSocketDebuggerUrl"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(b.devtools + "/json/list")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&targets)
			resp.Body.Close()
		}
		for _, tg := range targets {
			if tg.Type == "page" && strings.Contains(tg.URL, urlPart) {
				conn, _, err := websocket.DefaultDialer.DialContext(ctx, tg.WebSocketDebuggerURL, nil)
				if err != nil {
					t.Fatalf("devtools: %v", err)
				}
				conn.SetReadLimit(16 << 20)
				p := &Page{conn: conn, done: make(chan struct{}), pending: map[int]chan reply{}}
				go p.readLoop()
				t.Cleanup(func() {
					conn.Close()
					<-p.done
				})
				for _, domain := range []string{"Runtime.enable", "Log.enable"} {
					if _, err := p.Call(ctx, domain, nil); err != nil {
						t.Fatalf("devtools %s: %v", domain, err)
					}
				}
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no page target with %q in its URL in chromium (err %v, targets %+v)", urlPart, err, targets)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// readLoop hands replies to their callers and keeps the error messages
// among the events, until the connection closes.
func (p *Page) readLoop() {
	defer close(p.done)
	for {
		var msg struct {
			ID     int             `json:"id"`
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := p.conn.ReadJSON(&msg); err != nil {
			p.mu.Lock()
			p.readErr = err
			for id, ch := range p.pending {
				ch <- reply{err: err}
				delete(p.pending, id)
			}
			p.mu.Unlock()
			return
		}
		if msg.ID == 0 {
			if m, ok := message(msg.Method, msg.Params); ok {
				p.mu.Lock()
				p.msgs = append(p.msgs, m)
				p.mu.Unlock()
			}
			continue
		}
		p.mu.Lock()
		ch := p.pending[msg.ID]
		delete(p.pending, msg.ID)
		p.mu.Unlock()
		if ch == nil {
			continue
		}
		if msg.Error != nil {
			ch <- reply{err: errors.New(msg.Error.Message)}
		} else {
			ch <- reply{result: msg.Result}
		}
	}
}

// message picks the errors and warnings out of an event.
func message(method string, params json.RawMessage) (Message, bool) {
	switch method {
	case "Runtime.exceptionThrown":
		var e struct {
			ExceptionDetails struct {
				Text      string `json:"text"`
				Exception struct {
					Description string `json:"description"`
				} `json:"exception"`
			} `json:"exceptionDetails"`
		}
		_ = json.Unmarshal(params, &e)
		d := e.ExceptionDetails
		return Message{Source: "exception", Level: "error", Text: strings.TrimSpace(d.Text + " " + d.Exception.Description)}, true
	case "Runtime.consoleAPICalled":
		var e struct {
			Type string `json:"type"`
			Args []struct {
				Value       any    `json:"value"`
				Description string `json:"description"`
			} `json:"args"`
		}
		_ = json.Unmarshal(params, &e)
		if e.Type != "error" && e.Type != "warning" && e.Type != "assert" {
			return Message{}, false
		}
		var parts []string
		for _, a := range e.Args {
			if a.Value != nil {
				parts = append(parts, fmt.Sprint(a.Value))
			} else {
				parts = append(parts, a.Description)
			}
		}
		level := e.Type
		if level == "assert" {
			level = "error"
		}
		return Message{Source: "console", Level: level, Text: strings.Join(parts, " ")}, true
	case "Log.entryAdded":
		var e struct {
			Entry struct {
				Source string `json:"source"`
				Level  string `json:"level"`
				Text   string `json:"text"`
				URL    string `json:"url"`
			} `json:"entry"`
		}
		_ = json.Unmarshal(params, &e)
		if e.Entry.Level != "error" && e.Entry.Level != "warning" {
			return Message{}, false
		}
		text := e.Entry.Text
		if e.Entry.URL != "" {
			text += " (" + e.Entry.URL + ")"
		}
		return Message{Source: e.Entry.Source, Level: e.Entry.Level, Text: text}, true
	}
	return Message{}, false
}

// Messages returns the errors and warnings the page logged so far.
func (p *Page) Messages() []Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Message(nil), p.msgs...)
}

// Call sends one DevTools command and returns its result.
func (p *Page) Call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	if params == nil {
		params = struct{}{}
	}
	ch := make(chan reply, 1)
	p.mu.Lock()
	if p.readErr != nil {
		err := p.readErr
		p.mu.Unlock()
		return nil, fmt.Errorf("devtools %s: %w", method, err)
	}
	p.id++
	id := p.id
	p.pending[id] = ch
	// Writes are serialised by mu too (one writer at a time on a
	// websocket.Conn).
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(30 * time.Second)
	}
	_ = p.conn.SetWriteDeadline(dl)
	err := p.conn.WriteJSON(map[string]any{"id": id, "method": method, "params": params})
	if err != nil {
		delete(p.pending, id)
	}
	p.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("devtools %s: %w", method, err)
	}
	select {
	case r := <-ch:
		return r.result, r.err
	case <-ctx.Done():
		p.mu.Lock()
		delete(p.pending, id)
		p.mu.Unlock()
		return nil, fmt.Errorf("devtools %s: %w", method, ctx.Err())
	}
}

// EvalJS evaluates expr in the page as if the user had acted (a click
// counts as a user gesture), awaiting a promise, and returns its value as
// JSON.
func (p *Page) EvalJS(ctx context.Context, expr string) (json.RawMessage, error) {
	res, err := p.Call(ctx, "Runtime.evaluate", map[string]any{
		"expression": expr, "returnByValue": true, "awaitPromise": true, "userGesture": true,
	})
	if err != nil {
		return nil, err
	}
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return nil, err
	}
	if e := r.ExceptionDetails; e != nil {
		return nil, fmt.Errorf("%s %s", e.Text, e.Exception.Description)
	}
	return r.Result.Value, nil
}

// Eval is EvalJS that fails the test on an error.
func (p *Page) Eval(ctx context.Context, t testing.TB, expr string) json.RawMessage {
	t.Helper()
	v, err := p.EvalJS(ctx, expr)
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// EvalString evaluates an expression whose value is a string.
func (p *Page) EvalString(ctx context.Context, t testing.TB, expr string) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(p.Eval(ctx, t, expr), &s); err != nil {
		t.Fatalf("evaluate %s: not a string: %v", expr, err)
	}
	return s
}

// EvalInto evaluates expr and decodes its value into v.
func (p *Page) EvalInto(ctx context.Context, t testing.TB, expr string, v any) {
	t.Helper()
	if err := json.Unmarshal(p.Eval(ctx, t, expr), v); err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
}

// WaitJS polls a boolean expression every 100 ms until it holds; on
// timeout it fails the test with the value of Debug.
func (p *Page) WaitJS(ctx context.Context, t testing.TB, expr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		v, err := p.EvalJS(ctx, expr)
		if err == nil && string(v) == "true" {
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			var state json.RawMessage
			if p.Debug != "" {
				dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				state, _ = p.EvalJS(dctx, p.Debug)
				cancel()
			}
			t.Fatalf("waited %v for %s (last %s, err %v); page: %s", timeout, expr, v, err, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
