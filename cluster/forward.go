package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Request is an HTTP request handed to the node that holds a call (a
// supervisor's action on a call of another node). The receiving node runs
// it through its own handler, which authenticates it again with the same
// credential.
type Request struct {
	Method        string `json:"method"`
	Path          string `json:"path"`
	Authorization string `json:"authorization"`
	ContentType   string `json:"content_type,omitempty"`
	Body          []byte `json:"body,omitempty"`
}

// Reply is the receiving node's answer.
type Reply struct {
	Status      int    `json:"status"`
	ContentType string `json:"content_type,omitempty"`
	Body        []byte `json:"body,omitempty"`
}

type forwardMsg struct {
	Reply   string  `json:"reply"` // the channel to answer on
	Request Request `json:"request"`
}

// ErrNoNode means no node took a forwarded request (it died meanwhile).
var ErrNoNode = errors.New("cluster: the call's node does not answer")

// maxForwarded bounds a forwarded request's or reply's body.
const maxForwarded = 64 << 10

// forwardTimeout bounds the wait for a forwarded request's reply.
const forwardTimeout = 10 * time.Second

func (n *Node) rpcChannel(node string) string { return n.key("rpc", node) }

// Forward hands req to node and returns its reply.
func (n *Node) Forward(ctx context.Context, node string, req Request) (Reply, error) {
	if len(req.Body) > maxForwarded {
		return Reply{}, fmt.Errorf("cluster: forward: body of %d bytes", len(req.Body))
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	replyCh := n.key("reply", hex.EncodeToString(b[:]))
	ctx, cancel := context.WithTimeout(ctx, forwardTimeout)
	defer cancel()
	ps := n.c.Subscribe(ctx, replyCh)
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		return Reply{}, fmt.Errorf("cluster: forward: %w", err)
	}
	msg, _ := json.Marshal(forwardMsg{Reply: replyCh, Request: req})
	heard, err := n.c.Publish(ctx, n.rpcChannel(node), msg).Result()
	if err != nil {
		return Reply{}, fmt.Errorf("cluster: forward: %w", err)
	}
	if heard == 0 {
		return Reply{}, ErrNoNode
	}
	select {
	case <-ctx.Done():
		return Reply{}, fmt.Errorf("cluster: forward to %s: %w", node, ctx.Err())
	case m, ok := <-ps.Channel():
		if !ok {
			return Reply{}, ErrNoNode
		}
		var rep Reply
		if err := json.Unmarshal([]byte(m.Payload), &rep); err != nil || rep.Status < 100 || rep.Status > 599 {
			return Reply{}, fmt.Errorf("cluster: forward to %s: malformed reply", node)
		}
		return rep, nil
	}
}

// serveForwarded answers the requests other nodes forward to this one
// until ctx ends, with at most 16 at a time.
func (n *Node) serveForwarded(ctx context.Context) {
	if n.opts.Serve == nil {
		return
	}
	ps := n.c.Subscribe(ctx, n.rpcChannel(n.opts.ID))
	defer ps.Close()
	ch := ps.Channel(goredis.WithChannelSize(64))
	sem := make(chan struct{}, 16)
	defer func() {
		for range cap(sem) { // wait for the handlers
			sem <- struct{}{}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-ch:
			if !ok {
				return
			}
			var fm forwardMsg
			if err := json.Unmarshal([]byte(m.Payload), &fm); err != nil || fm.Reply == "" || len(fm.Request.Body) > maxForwarded {
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			go func() {
				defer func() { <-sem }()
				hctx, cancel := context.WithTimeout(ctx, forwardTimeout)
				defer cancel()
				rep := n.opts.Serve(hctx, fm.Request)
				if len(rep.Body) > maxForwarded {
					rep = Reply{Status: 502}
				}
				b, _ := json.Marshal(rep)
				_ = n.c.Publish(hctx, fm.Reply, b).Err()
			}()
		}
	}
}
