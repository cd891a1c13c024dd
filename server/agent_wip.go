//go:build !frontdesk_wip

package server

import (
	"context"
	"errors"
	"sync"

	"github.com/frontdesk/frontdesk/configs"
)

// Placeholder until the embedded VAD lands; agent.go holds the real wiring.
type agentState struct {
	background sync.WaitGroup
	speech     struct{}
}

func (s *Server) prewarm(*configs.Business) {}

func (c *call) receptionist(context.Context) error {
	return errors.New("voice agent not built yet")
}

func (a *agentState) close() {}
