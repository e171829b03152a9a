package teamapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/teamapi"
)

// badBody is a request body every route refuses, and the status it gets.
type badBody struct {
	name   string
	body   func(valid string) string // from the route's valid body
	header map[string]string
	want   int
	// bodyRoutes: only for routes that take a body.
	bodyRoutes bool
}

// padded returns the valid body with a field "pad" of n bytes added.
func padded(valid string, n int) string {
	return strings.TrimSuffix(valid, "}") + map[bool]string{true: "", false: ","}[valid == "{}"] + `"pad":"` + strings.Repeat("x", n) + `"}`
}

var badBodies = []badBody{
	{name: "malformed JSON", body: func(string) string { return `{"role":` }, want: 400},
	{name: "JSON with a syntax error", body: func(string) string { return `{"role" "dev"}` }, want: 400},
	{name: "an unknown field", body: func(v string) string { return padded(v, 1) }, want: 400},
	{name: "a field named in another case", body: func(v string) string {
		return strings.Replace(v, `{"`, `{"X`, 1)
	}, want: 400, bodyRoutes: true},
	{name: "a field of the wrong type", body: func(v string) string {
		var m map[string]any
		if err := json.Unmarshal([]byte(v), &m); err != nil {
			panic(err)
		}
		for k := range m {
			m[k] = [][]int{{1}}
		}
		b, _ := json.Marshal(m)
		return string(b)
	}, want: 400, bodyRoutes: true},
	{name: "two JSON values", body: func(v string) string { return v + " {}" }, want: 400},
	{name: "a JSON value after the object", body: func(v string) string { return v + "1" }, want: 400},
	{name: "an array", body: func(string) string { return `[]` }, want: 400},
	{name: "null", body: func(string) string { return `null` }, want: 400},
	{name: "a string", body: func(string) string { return `"dev"` }, want: 400},
	{name: "no body", body: func(string) string { return "" }, want: 400, bodyRoutes: true},
	{name: "a body over the limit", body: func(v string) string { return padded(v, teamapi.DefaultMaxBodyBytes) }, want: 413},
	{name: "a body over the limit, of unknown length", body: func(v string) string { return padded(v, teamapi.DefaultMaxBodyBytes) },
		header: map[string]string{"Transfer-Encoding": "chunked"}, want: 413},
	{name: "a JSON body sent as text/plain", body: func(v string) string { return v }, header: map[string]string{"Content-Type": "text/plain"}, want: 415},
}

// badQueries are query strings every route refuses with 400.
var badQueries = []struct{ name, query string }{
	{"an unknown query parameter", "?colour=red"},
	{"a malformed query string", "?limit=%zz"},
	{"a repeated query parameter", "?cursor=a&cursor=b"},
}

// send sends the request with the raw body (none if empty) as alice, chunked
// when the header says so, and returns the reply, checked against the
// document.
func (f fixture) sendRaw(t *testing.T, method, target, body string, header map[string]string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.base+target, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-User", "alice")
	for k, v := range header {
		if k == "Transfer-Encoding" {
			req.ContentLength, req.Body = -1, io.NopCloser(io.MultiReader(strings.NewReader(body)))
			continue
		}
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	rep := reply{status: res.StatusCode, header: res.Header, body: raw}
	f.doc.check(t, req, rep)
	return rep
}

// TestBadInput sends every route, as alice, who may call each, a request
// it cannot read: a malformed, unknown, ill-typed, repeated, missing or
// oversized body, one that is not JSON, a query parameter it does not
// take. Each is refused with a problem report of 400, 413 or 415, and
// nothing changes.
func TestBadInput(t *testing.T) {
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		f := setup(t, b, teamapi.Options{})
		rev, last := rostertest.Writes(t, f.s)
		for _, rt := range teamapi.Routes() {
			target := f.target(t, rt.Path)
			if rt.Method != "GET" {
				for _, c := range badBodies {
					if c.bodyRoutes && !rt.Body {
						continue
					}
					t.Run(rt.Method+" "+rt.Path+"/"+c.name, func(t *testing.T) {
						rep := f.sendRaw(t, rt.Method, target, c.body(f.body(rt)), c.header)
						if rep.status != c.want {
							t.Fatalf("status %d, want %d: %s", rep.status, c.want, rep.body)
						}
						if p := rep.problem(t); p.Detail == "" {
							t.Errorf("the problem %+v says nothing of what is wrong", p)
						}
					})
				}
			}
			for _, c := range badQueries {
				if rt.Access == "public" {
					continue
				}
				t.Run(rt.Method+" "+rt.Path+"/"+c.name, func(t *testing.T) {
					body := ""
					if rt.Method != "GET" {
						body = f.body(rt)
					}
					rep := f.sendRaw(t, rt.Method, target+c.query, body, nil)
					if rep.status != http.StatusBadRequest {
						t.Fatalf("status %d, want 400: %s", rep.status, rep.body)
					}
				})
			}
		}
		if r, l := rostertest.Writes(t, f.s); r != rev || l != last {
			t.Errorf("refused requests changed the state: revision %d, newest event %d; want %d and %d", r, l, rev, last)
		}
	})
}

// TestBodyLimit checks Options.MaxBodyBytes: a body of the limit is read,
// one byte more is refused with 413, which names the limit; and a route
// that takes no body takes {} as none.
func TestBodyLimit(t *testing.T) {
	f := setup(t, testdb.Backends()[0], teamapi.Options{MaxBodyBytes: 64})
	target := prefix + "/teams/" + f.team + "/members/bob"
	n := 64 - len(padded(`{"role":"basic"}`, 0))
	body := padded(`{"role":"basic"}`, n) // 64 bytes, refused for its unknown field once read
	if len(body) != 64 {
		t.Fatalf("the body is %d bytes", len(body))
	}
	if rep := f.sendRaw(t, "PATCH", target, body, nil); rep.status != 400 || !strings.Contains(rep.problem(t).Detail, `unknown field "pad"`) {
		t.Errorf("a body of the limit: %d %s, want it read, and refused for its field", rep.status, rep.body)
	}
	over := padded(`{"role":"basic"}`, n+1)
	if rep := f.sendRaw(t, "PATCH", target, over, nil); rep.status != 413 || !strings.Contains(rep.problem(t).Detail, fmt.Sprint(64)) {
		t.Errorf("a body of 65 bytes: %d %s, want 413 naming the limit", rep.status, rep.body)
	}
	f.do(t, "alice", "PATCH", target, `{"role":"basic"}`, 200, nil)
	f.do(t, "bob", "POST", prefix+"/teams/"+f.team+"/leave", `{}`, 204, nil)
}
