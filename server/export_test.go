package server

import "github.com/frontdesk/frontdesk/agent/tools"

// ToolBackend exposes the agent's backend of a business to tests.
func (s *Server) ToolBackend(businessID string) tools.Backend {
	s.agent.backends.mu.Lock()
	defer s.agent.backends.mu.Unlock()
	return s.agent.backends.m[businessID]
}
