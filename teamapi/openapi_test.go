package teamapi_test

import (
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/teamapi"
)

// openAPI is the part of the OpenAPI document the route table is compared
// with.
type openAPI struct {
	OpenAPI    string                          `json:"openapi"`
	Paths      map[string]map[string]operation `json:"paths"`
	Components struct {
		Schemas    map[string]json.RawMessage `json:"schemas"`
		Parameters map[string]parameter       `json:"parameters"`
		Responses  map[string]json.RawMessage `json:"responses"`
	} `json:"components"`
}

type operation struct {
	OperationID string      `json:"operationId"`
	Access      string      `json:"x-roster-access"`
	Parameters  []parameter `json:"parameters"`
	RequestBody *struct {
		Required bool                       `json:"required"`
		Content  map[string]json.RawMessage `json:"content"`
	} `json:"requestBody"`
	Responses map[string]json.RawMessage `json:"responses"`
}

type parameter struct {
	Ref      string `json:"$ref"`
	Name     string `json:"name"`
	In       string `json:"in"`
	Required bool   `json:"required"`
}

var wildcard = regexp.MustCompile(`\{([^}]*)\}`)

// TestOpenAPIDocument holds the OpenAPI document and the route table
// equal: the same routes, each with the same path and query parameters,
// body, status of success and access; and every schema it holds compiles.
func TestOpenAPIDocument(t *testing.T) {
	var doc openAPI
	if err := json.Unmarshal(embedded(t), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if doc.OpenAPI != "3.1.1" {
		t.Errorf("openapi %q, want 3.1.1", doc.OpenAPI)
	}
	// resolve follows a parameter's reference into components.
	resolve := func(p parameter) parameter {
		if name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/"); ok {
			c, found := doc.Components.Parameters[name]
			if !found {
				t.Errorf("the parameter reference %s resolves to nothing", p.Ref)
			}
			return c
		}
		return p
	}
	routes := teamapi.Routes()
	served := map[string]bool{}

	for _, rt := range routes {
		key := rt.Method + " " + rt.Path
		served[key] = true
		t.Run(key+" is in the document as it is served", func(t *testing.T) {
			op, ok := doc.Paths[rt.Path][strings.ToLower(rt.Method)]
			if !ok {
				t.Fatalf("the document has no %s", key)
			}
			var inPath, inQuery []string
			for _, p := range op.Parameters {
				p = resolve(p)
				switch p.In {
				case "path":
					inPath = append(inPath, p.Name)
					if !p.Required {
						t.Errorf("the path parameter %s is not required", p.Name)
					}
				case "query":
					inQuery = append(inQuery, p.Name)
				default:
					t.Errorf("parameter %s in %q", p.Name, p.In)
				}
			}
			var wild []string
			for _, m := range wildcard.FindAllStringSubmatch(rt.Path, -1) {
				wild = append(wild, m[1])
			}
			if slices.Sort(inPath); !slices.Equal(inPath, slices.Sorted(slices.Values(wild))) {
				t.Errorf("path parameters %q, want the wildcards %q", inPath, wild)
			}
			if slices.Sort(inQuery); !slices.Equal(inQuery, slices.Sorted(slices.Values(rt.Query))) {
				t.Errorf("query parameters %q, want %q", inQuery, rt.Query)
			}
			hasBody := op.RequestBody != nil && op.RequestBody.Required && op.RequestBody.Content["application/json"] != nil
			if hasBody != rt.Body || (op.RequestBody != nil && !hasBody) {
				t.Errorf("the document's request body %+v; the route takes a body: %v", op.RequestBody, rt.Body)
			}
			if op.Access != rt.Access {
				t.Errorf("x-roster-access %q, want %q", op.Access, rt.Access)
			}
			var success []string
			for code := range op.Responses {
				if strings.HasPrefix(code, "2") {
					success = append(success, code)
				}
			}
			if want := []string{strconv.Itoa(rt.Status)}; !slices.Equal(success, want) {
				t.Errorf("statuses of success %q, want %q", success, want)
			}
			if rt.Access != "public" {
				for _, code := range []string{"400", "401", "5XX"} {
					if op.Responses[code] == nil {
						t.Errorf("no response %s, which every route behind the middleware may give", code)
					}
				}
			}
			if rt.Method != "GET" {
				for _, code := range []string{"403", "413", "415"} {
					if op.Responses[code] == nil {
						t.Errorf("no response %s, which every route that changes state may give", code)
					}
				}
			}
		})
	}

	t.Run("every operation of the document is served", func(t *testing.T) {
		ids := map[string]string{}
		for path, item := range doc.Paths {
			for method, op := range item {
				key := strings.ToUpper(method) + " " + path
				if !served[key] {
					t.Errorf("the document has %s, which no route serves", key)
				}
				if op.OperationID == "" || ids[op.OperationID] != "" {
					t.Errorf("%s: operationId %q is empty or also %s's", key, op.OperationID, ids[op.OperationID])
				}
				ids[op.OperationID] = key
			}
		}
		if len(served) != len(routes) {
			t.Errorf("the route table has %d routes, %d of them distinct", len(routes), len(served))
		}
	})

	t.Run("every schema and response of the document compiles", func(t *testing.T) {
		d := loadDocument(t, prefix)
		for _, name := range slices.Sorted(maps.Keys(doc.Components.Schemas)) {
			d.schema(t, "/components/schemas/"+name)
		}
		for _, name := range slices.Sorted(maps.Keys(doc.Components.Responses)) {
			d.schema(t, "/components/responses/"+name+"/content/application~1problem+json/schema")
		}
		for path, item := range doc.Paths {
			for method, op := range item {
				for code, raw := range op.Responses {
					var r struct {
						Content map[string]json.RawMessage `json:"content"`
					}
					if err := json.Unmarshal(raw, &r); err != nil {
						t.Fatal(err)
					}
					for mt := range r.Content {
						d.schema(t, "/paths/"+escape(path)+"/"+method+"/responses/"+code+"/content/"+escape(mt)+"/schema")
					}
				}
			}
		}
	})
}

// TestOpenAPIServed checks the document the API serves: the embedded one,
// with the prefix as its server URL, to anyone.
func TestOpenAPIServed(t *testing.T) {
	for _, p := range []string{"/api", "/team/v1"} {
		t.Run("under "+p, func(t *testing.T) {
			s := serve(t, testdb.Backends()[0], teamapi.Options{Prefix: p})
			var got, want map[string]any
			s.do(t, "", "GET", p+"/openapi.json", nil, 200, &got)
			if err := json.Unmarshal(embedded(t), &want); err != nil {
				t.Fatal(err)
			}
			servers, _ := got["servers"].([]any)
			if len(servers) != 1 || servers[0].(map[string]any)["url"] != p {
				t.Errorf("servers %v, want one with the URL %s", got["servers"], p)
			}
			delete(got, "servers")
			delete(want, "servers")
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			if string(g) != string(w) {
				t.Errorf("the served document differs from openapi.json beyond its server")
			}
		})
	}
}

// TestEveryOperationIsServed sends each operation of the document to the
// handler, with its path parameters filled in and no user: the handler
// routes it to that operation's route (its log record names the
// document's path), which asks for a user (401), or serves the document.
func TestEveryOperationIsServed(t *testing.T) {
	s := serve(t, testdb.Backends()[0], teamapi.Options{})
	var doc openAPI
	if err := json.Unmarshal(embedded(t), &doc); err != nil {
		t.Fatal(err)
	}
	for path, item := range doc.Paths {
		for method, op := range item {
			t.Run(strings.ToUpper(method)+" "+path, func(t *testing.T) {
				target := prefix + wildcard.ReplaceAllString(path, "x1")
				want := 401
				if op.Access == "public" {
					want = 200
				}
				before := len(s.logs.With(`msg="http request"`))
				s.do(t, "", strings.ToUpper(method), target, nil, want, nil)
				logged := s.logs.With(`msg="http request"`)[before:]
				if len(logged) != 1 || !strings.Contains(logged[0], "route="+prefix+path+" ") {
					t.Errorf("log records %q, want one naming the route %s", logged, prefix+path)
				}
			})
		}
	}
}
