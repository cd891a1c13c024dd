package server

import (
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestCallsOpenAPI documents every call route exactly once, not public,
// with responses, every $ref resolved.
func TestCallsOpenAPI(t *testing.T) {
	data := openAPI
	var doc openAPIDoc
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	var paths struct {
		Paths map[string]map[string]yaml.Node `yaml:"paths"`
	}
	if err := yaml.Unmarshal(data, &paths); err != nil {
		t.Fatalf("openapi.yaml paths: %v", err)
	}
	calls := map[string]bool{}
	for _, rt := range callRoutes() {
		calls[rt.method+" "+rt.pattern] = true
	}
	documented := map[string]bool{}
	for path, item := range paths.Paths {
		for method, node := range item {
			name := strings.ToUpper(method) + " " + path
			if method == "parameters" || !calls[name] {
				continue // the other routes are TestOpenAPI's
			}
			documented[name] = true
			var op openAPIOp
			if err := node.Decode(&op); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if op.Security != nil || len(op.Responses) == 0 {
				t.Errorf("%s: security %v, %d responses; want the default (a key) and responses", name, op.Security, len(op.Responses))
			}
		}
	}
	for _, rt := range callRoutes() {
		name := rt.method + " " + rt.pattern
		if !documented[name] {
			t.Errorf("route %s is not documented", name)
		}
		if rt.access != accessBusiness {
			t.Errorf("route %s is not for business keys", name)
		}
	}
	for _, m := range regexp.MustCompile(`\$ref: "#/components/([a-zA-Z]+)/([a-zA-Z]+)"`).FindAllStringSubmatch(string(data), -1) {
		if _, ok := doc.Comps[m[1]][m[2]]; !ok {
			t.Errorf("dangling $ref %s", m[0])
		}
	}
}
