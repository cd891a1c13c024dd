package server

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type openAPIDoc struct {
	OpenAPI string                          `yaml:"openapi"`
	Paths   map[string]map[string]yaml.Node `yaml:"paths"`
	Comps   map[string]map[string]yaml.Node `yaml:"components"`
}

type openAPIOp struct {
	Security  *[]map[string][]string `yaml:"security"`
	Responses map[string]any         `yaml:"responses"`
}

// TestOpenAPI keeps openapi.yaml true: the same paths and methods as the
// route table, public exactly where the table says, every $ref resolved.
func TestOpenAPI(t *testing.T) {
	var doc openAPIDoc
	if err := yaml.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi: %q, want 3.x", doc.OpenAPI)
	}
	documented := map[string]openAPIOp{}
	for path, item := range doc.Paths {
		for method, node := range item {
			switch method {
			case "get", "put", "post", "delete", "patch", "head", "options", "trace":
				var op openAPIOp
				if err := node.Decode(&op); err != nil {
					t.Fatalf("%s %s: %v", method, path, err)
				}
				documented[strings.ToUpper(method)+" "+path] = op
			case "parameters", "summary", "description":
			default:
				t.Errorf("%s: unknown key %q", path, method)
			}
		}
	}
	routes := map[string]apiRoute{}
	for _, rt := range routeTable() {
		routes[rt.method+" "+rt.pattern] = rt
	}
	for name, rt := range routes {
		op, ok := documented[name]
		if !ok {
			t.Errorf("route %s is missing from openapi.yaml", name)
			continue
		}
		public := op.Security != nil && len(*op.Security) == 0
		if want := rt.access == accessPublic || rt.access == accessFeed; public != want {
			t.Errorf("%s: openapi.yaml says public=%v, the route table %v", name, public, rt.access)
		}
		if len(op.Responses) == 0 {
			t.Errorf("%s: no responses documented", name)
		}
	}
	for name := range documented {
		if _, ok := routes[name]; !ok {
			t.Errorf("openapi.yaml documents %s, which the server does not serve", name)
		}
	}
	// Every reference points at something.
	for _, m := range regexp.MustCompile(`\$ref: "#/components/([a-zA-Z]+)/([a-zA-Z]+)"`).FindAllStringSubmatch(string(openAPI), -1) {
		if _, ok := doc.Comps[m[1]][m[2]]; !ok {
			t.Errorf("dangling $ref %s", m[0])
		}
	}
}

func TestOpenAPIServed(t *testing.T) {
	e := newAPI(t, "sqlite")
	r := e.must(200, "GET", "/v1/openapi.yaml", "", nil)
	if !bytes.Equal(r.body, openAPI) || r.header.Get("Content-Type") != "application/yaml" {
		t.Errorf("served %d bytes as %q", len(r.body), r.header.Get("Content-Type"))
	}
}
