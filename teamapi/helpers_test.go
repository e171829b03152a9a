package teamapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/invites"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teamapi"
)

// prefix is where the tests mount the API.
const prefix = "/api"

// server is the API served on a fresh Roster for one test.
type server struct {
	base string // the server's URL, without the prefix
	r    *roster.Roster
	s    store.Store
	in   *rostertest.Inbox
	logs *rostertest.Logs
	doc  *document
}

// byHeader is the tests' authentication: the X-User header names the user.
func byHeader(req *http.Request) (string, bool) {
	u := req.Header.Get("X-User")
	return u, u != ""
}

// linkSecret makes invite links that can be shown again.
func linkSecret(t testing.TB) invites.Secret {
	t.Helper()
	s, err := invites.NewSecret("k1", bytes.Repeat([]byte{7}, invites.MinSecretLen))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// serve serves the API under prefix, with o (User and Prefix filled in when
// unset), on a fresh Roster of backend b with the Runpod policy, a link
// secret, the server's inbox and its logs, until the test ends.
func serve(t *testing.T, b testdb.Backend, o teamapi.Options, opts ...roster.Option) *server {
	t.Helper()
	return servePolicy(t, b, rbac.Runpod(), o, opts...)
}

// servePolicy is serve with the policy p.
func servePolicy(t *testing.T, b testdb.Backend, p *rbac.Policy, o teamapi.Options, opts ...roster.Option) *server {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	s := &server{base: "http://" + srv.Listener.Addr().String(), in: &rostertest.Inbox{}, logs: &rostertest.Logs{}}
	opts = append([]roster.Option{roster.WithBaseURL(s.base), roster.WithNotifier(s.in), roster.WithLinkSecrets(linkSecret(t)),
		roster.WithLogger(s.logs.Logger())}, opts...)
	s.r, s.s = rostertest.Open(t, b, p, opts...)
	if o.User == nil {
		o.User = byHeader
	}
	if o.Prefix == "" {
		o.Prefix = prefix
	}
	h, err := teamapi.New(s.r, o)
	if err != nil {
		t.Fatalf("teamapi.New: %v", err)
	}
	srv.Config.Handler = h
	srv.Start()
	t.Cleanup(srv.Close)
	s.doc = loadDocument(t, o.Prefix)
	return s
}

// user creates a user who signs in with method, and returns their personal
// account's ID.
func (s *server) user(t *testing.T, id string, method store.SignIn) string {
	t.Helper()
	acct, err := s.r.Teams.CreateUser(context.Background(), store.User{ID: id, Name: id, Email: id + "@example.com", SignIn: method})
	if err != nil {
		t.Fatalf("create user %s: %v", id, err)
	}
	return acct.ID
}

// reply is a response the API gave.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// problem decodes the reply's problem report.
func (r reply) problem(t *testing.T) roster.Problem {
	t.Helper()
	var p roster.Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("decode the problem report %s: %v", r.body, err)
	}
	return p
}

// request is one request to the API, as user (none if empty) through the
// X-User header. body is sent as is when a string or []byte, else encoded as
// JSON; a body is sent as application/json unless header says otherwise.
type request struct {
	user, method, path string
	body               any
	header             map[string]string
}

// send sends the request and checks the reply against the OpenAPI
// document (see document.check).
func (s *server) send(t *testing.T, rq request) reply {
	t.Helper()
	var rd io.Reader
	switch b := rq.body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(rq.method, s.base+rq.path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if rq.user != "" {
		req.Header.Set("X-User", rq.user)
	}
	for k, v := range rq.header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read the reply: %v", rq.method, rq.path, err)
	}
	rep := reply{status: res.StatusCode, header: res.Header, body: raw}
	s.doc.check(t, req, rep)
	return rep
}

// do sends the request as user, with body as in request, and checks its
// status; with out set, it decodes the reply into it. It returns the reply.
func (s *server) do(t *testing.T, user, method, path string, body any, want int, out any) reply {
	t.Helper()
	rep := s.send(t, request{user: user, method: method, path: path, body: body})
	if rep.status != want {
		t.Fatalf("%s %s as %q: status %d, want %d: %s", method, path, user, rep.status, want, rep.body)
	}
	if out != nil {
		if err := json.Unmarshal(rep.body, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, rep.body, err)
		}
	}
	return rep
}

// docURL is the URL the tests load the OpenAPI document at, for the
// references into it.
const docURL = "https://roster.test/openapi.json"

// document is the OpenAPI document as the API serves it, for checking
// replies against it.
type document struct {
	raw      map[string]any
	prefix   string
	ops      *http.ServeMux // a route per operation, to find a request's
	compiler *jsonschema.Compiler
	mu       sync.Mutex
	schemas  map[string]*jsonschema.Schema // compiled, by location
}

// embedded reads the document the package embeds.
func embedded(t testing.TB) []byte {
	t.Helper()
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

var (
	docsMu sync.Mutex
	docs   = map[string]*document{}
)

// loadDocument returns the document with the API under prefix, loaded once
// per prefix: an operation for each of its paths and methods, and a schema
// compiler over it (JSON Schema 2020-12, formats asserted).
func loadDocument(t testing.TB, prefix string) *document {
	t.Helper()
	docsMu.Lock()
	defer docsMu.Unlock()
	if d := docs[prefix]; d != nil {
		return d
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(embedded(t)))
	if err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	d := &document{raw: v.(map[string]any), prefix: prefix, ops: http.NewServeMux(), schemas: map[string]*jsonschema.Schema{}}
	d.compiler = jsonschema.NewCompiler()
	d.compiler.DefaultDraft(jsonschema.Draft2020)
	d.compiler.AssertFormat()
	if err := d.compiler.AddResource(docURL, v); err != nil {
		t.Fatalf("openapi.json as a schema resource: %v", err)
	}
	for path, item := range d.raw["paths"].(map[string]any) {
		for method := range item.(map[string]any) {
			d.ops.Handle(strings.ToUpper(method)+" "+prefix+path, http.NotFoundHandler())
		}
	}
	docs[prefix] = d
	return d
}

// operation returns the path and method of the document's operation the
// request is for, and the values of its path parameters; ok is false if
// it matches none.
func (d *document) operation(req *http.Request) (path, method string, values []string, ok bool) {
	_, pattern := d.ops.Handler(req)
	if pattern == "" {
		return "", "", nil, false
	}
	m, p, _ := strings.Cut(pattern, " ")
	path = strings.TrimPrefix(p, d.prefix)
	// The path values: the request's segments where the pattern has a
	// wildcard.
	segs := strings.Split(strings.TrimPrefix(req.URL.EscapedPath(), d.prefix), "/")
	for i, w := range strings.Split(path, "/") {
		if strings.HasPrefix(w, "{") && i < len(segs) {
			v, err := url.PathUnescape(segs[i])
			if err == nil {
				values = append(values, v)
			}
		}
	}
	return path, strings.ToLower(m), values, true
}

// escape escapes a JSON pointer token.
func escape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// schema returns the compiled schema at the pointer into the document.
func (d *document) schema(t testing.TB, pointer string) *jsonschema.Schema {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if sch, ok := d.schemas[pointer]; ok {
		return sch
	}
	sch, err := d.compiler.Compile(docURL + "#" + pointer)
	if err != nil {
		t.Fatalf("compile the schema at %s: %v", pointer, err)
	}
	d.schemas[pointer] = sch
	return sch
}

// response returns the document's response of the operation for status,
// with the JSON pointer to it: the status itself, else its range (4XX,
// 5XX), else default; a reference to components/responses is followed.
func (d *document) response(path, method string, status int) (map[string]any, string, bool) {
	op := d.raw["paths"].(map[string]any)[path].(map[string]any)[method].(map[string]any)
	responses := op["responses"].(map[string]any)
	for _, key := range []string{fmt.Sprint(status), fmt.Sprintf("%dXX", status/100), "default"} {
		r, ok := responses[key].(map[string]any)
		if !ok {
			continue
		}
		pointer := "/paths/" + escape(path) + "/" + method + "/responses/" + key
		if ref, ok := r["$ref"].(string); ok {
			pointer = strings.TrimPrefix(ref, "#")
			name := pointer[strings.LastIndex(pointer, "/")+1:]
			r = d.raw["components"].(map[string]any)["responses"].(map[string]any)[name].(map[string]any)
		}
		return r, pointer, true
	}
	return nil, "", false
}

// check checks a reply of the API against the document: the request is
// one of its operations (or the reply is a 404 or 405 problem report), the
// status is one the operation documents, and the body is of the media type
// the document gives for it and valid against its schema: a JSON body as a
// whole, a JSON Lines body line by line. A problem report's detail never
// holds a path value of the request (an ID or a token).
func (d *document) check(t *testing.T, req *http.Request, rep reply) {
	t.Helper()
	ctype, _, _ := mime.ParseMediaType(rep.header.Get("Content-Type"))
	if rep.status >= 400 {
		if ctype != "application/problem+json" {
			t.Errorf("%s %s: status %d of type %q, want application/problem+json", req.Method, req.URL.Path, rep.status, ctype)
		}
	}
	path, method, values, ok := d.operation(req)
	if !ok || (req.Method == http.MethodHead && method == "get") {
		if rep.status != http.StatusNotFound && rep.status != http.StatusMethodNotAllowed && req.Method != http.MethodHead {
			t.Errorf("%s %s is no operation of the document, yet answered %d", req.Method, req.URL.Path, rep.status)
		}
		if !ok && req.Method != http.MethodHead {
			d.validate(t, req, "/components/schemas/Problem", rep.body)
		}
		return
	}
	r, pointer, ok := d.response(path, method, rep.status)
	if !ok {
		t.Errorf("%s %s: status %d is not documented for %s %s: %s", req.Method, req.URL.Path, rep.status, strings.ToUpper(method), path, rep.body)
		return
	}
	content, _ := r["content"].(map[string]any)
	if content == nil {
		if len(rep.body) != 0 {
			t.Errorf("%s %s: status %d has a body, which the document does not give: %s", req.Method, req.URL.Path, rep.status, rep.body)
		}
		return
	}
	if _, ok := content[ctype]; !ok {
		t.Errorf("%s %s: status %d is of type %q; the document gives %v", req.Method, req.URL.Path, rep.status, ctype, keys(content))
		return
	}
	schema := pointer + "/content/" + escape(ctype) + "/schema"
	switch {
	case ctype == "application/jsonl":
		sc := bufio.NewScanner(bytes.NewReader(rep.body))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			d.validate(t, req, schema, sc.Bytes())
		}
	case strings.HasSuffix(ctype, "json"):
		d.validate(t, req, schema, rep.body)
	}
	if rep.status >= 400 {
		var p roster.Problem
		if err := json.Unmarshal(rep.body, &p); err == nil {
			for _, v := range values {
				if len(v) >= 3 && strings.Contains(p.Detail, v) {
					t.Errorf("%s %s: the problem's detail %q holds the path value %q", req.Method, req.URL.Path, p.Detail, v)
				}
			}
		}
	}
}

// validate validates the JSON body against the schema at the pointer.
func (d *document) validate(t *testing.T, req *http.Request, pointer string, body []byte) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Errorf("%s %s: the reply is not JSON: %v: %s", req.Method, req.URL.Path, err, body)
		return
	}
	if err := d.schema(t, pointer).Validate(v); err != nil {
		t.Errorf("%s %s: the reply does not match the document's schema %s: %v\n%s", req.Method, req.URL.Path, pointer, err, body)
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
