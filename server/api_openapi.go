package server

import (
	_ "embed"
	"net/http"
)

// openAPI is the OpenAPI 3 description of the /v1 API. TestOpenAPI keeps
// its paths and methods equal to routeTable's.
//
//go:embed openapi.yaml
var openAPI []byte

func (s *Server) apiOpenAPI(w http.ResponseWriter, r *http.Request, _ *caller) error {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(openAPI)
	return nil
}
