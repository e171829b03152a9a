package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teamapi"
)

// fixture is a served API with the team Acme of alice (its owner, admin),
// bob as a dev, a pending link invite, an open ownership transfer to bob, an
// API key of alice and her pending claim of the email domain acme.example.
type fixture struct {
	base   string
	routes []string
	team   string
	// invite and token are the pending link invite's ID and token.
	invite, token string
	// transfer is the open transfer's ID; confirm the token of the email
	// asking alice to confirm it.
	transfer, confirm string
	// key is alice's API key's ID.
	key string
	// domain is the email domain alice claims for the team.
	domain string
}

// serveAPI serves the example's handler on a database in the test's
// temporary directory until the test ends, and returns its base URL and
// the pattern of every route: the demo's, and the team API's as its
// OpenAPI document lists them.
func serveAPI(t *testing.T) (base string, patterns []string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base = "http://" + srv.Listener.Addr().String()
	out := newOutbox(io.Discard)
	r, err := roster.Open(context.Background(), filepath.Join(t.TempDir(), "roster.db"), roster.WithBaseURL(base), roster.WithNotifier(out))
	if err != nil {
		t.Fatal(err)
	}
	s := &server{r: r, outbox: out}
	if srv.Config.Handler, err = s.handler(); err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		if err := r.Close(); err != nil {
			t.Errorf("close roster: %v", err)
		}
	})
	for _, rt := range s.demoRoutes() {
		patterns = append(patterns, rt.pattern)
	}
	var doc struct {
		Paths map[string]map[string]any
	}
	call(t, base, "", "GET", "/api/openapi.json", nil, 200, &doc)
	for path, ops := range doc.Paths {
		for method := range ops {
			patterns = append(patterns, strings.ToUpper(method)+" /api"+path)
		}
	}
	slices.Sort(patterns)
	return base, patterns
}

// call sends a JSON request (body nil: none) as user by the X-User header,
// like a non-browser client, checks the status and decodes the response
// into out when out is not nil.
func call(t *testing.T, base, user, method, target string, body any, want int, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, base+target, rd)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.Header.Set("X-User", user)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
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
	if res.StatusCode != want {
		t.Fatalf("%s %s as %s: status %d, want %d: %s", method, target, user, res.StatusCode, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, target, raw, err)
		}
	}
}

func setup(t *testing.T) fixture {
	t.Helper()
	base, routes := serveAPI(t)
	f := fixture{base: base, routes: routes}
	for _, u := range []string{"alice", "bob"} {
		call(t, base, u, "POST", "/api/demo/signin", map[string]string{"id": u, "name": u, "email": u + "@example.com"}, 201, nil)
	}
	var me teamapi.Me
	call(t, base, "alice", "GET", "/api/me", nil, 200, &me)
	f.team = me.Accounts[0].Account.ID
	call(t, base, "alice", "POST", "/api/accounts/"+f.team+"/convert", map[string]string{"name": "Acme"}, 200, nil)
	teamURL := "/api/teams/" + f.team

	var links []teamapi.Invitation
	call(t, base, "alice", "POST", teamURL+"/invites", map[string]string{"role": "dev"}, 201, &links)
	call(t, base, "bob", "POST", "/api/invites/"+links[0].Token+"/accept", nil, 201, nil)
	call(t, base, "alice", "POST", teamURL+"/invites", map[string]string{"role": "dev"}, 201, &links)
	f.invite, f.token = links[0].ID, links[0].Token

	var tr teamapi.Transfer
	call(t, base, "alice", "POST", teamURL+"/transfers", map[string]string{"to": "bob"}, 201, &tr)
	f.transfer = tr.ID
	var mail []struct{ Kind, Token string }
	call(t, base, "alice", "GET", "/api/demo/outbox", nil, 200, &mail)
	if len(mail) == 0 || mail[0].Kind != "transfer.confirm" {
		t.Fatalf("alice's mail: %+v, want the transfer confirmation first", mail)
	}
	f.confirm = mail[0].Token

	var key teamapi.APIKey
	call(t, base, "alice", "POST", teamURL+"/keys", map[string]string{"name": "deploys"}, 201, &key)
	f.key = key.ID

	f.domain = "acme.example"
	call(t, base, "alice", "POST", teamURL+"/domains", map[string]string{"name": f.domain, "mode": "auto_join", "role": "dev"}, 201, nil)
	return f
}

// snapshot is what the API shows of the fixture's state: every account,
// member, invite, transfer, API key, email domain and audit event, and the
// users alice, bob and mallory (who has not signed up).
func (f fixture) snapshot(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	teamURL := "/api/teams/" + f.team
	for _, r := range []struct{ user, target string }{
		{"alice", "/api/me"}, {"bob", "/api/me"}, {"mallory", "/api/me"},
		{"alice", teamURL}, {"alice", teamURL + "/members"}, {"alice", teamURL + "/invites"},
		{"alice", teamURL + "/transfers"}, {"alice", teamURL + "/keys?all=true"}, {"alice", teamURL + "/domains"},
		{"alice", teamURL + "/audit?limit=500"},
		{"alice", "/api/demo/outbox"}, {"bob", "/api/demo/outbox"},
	} {
		req, err := http.NewRequest("GET", f.base+r.target, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-User", r.user)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "GET %s as %s: %d %s\n", r.target, r.user, res.StatusCode, raw)
	}
	return b.String()
}

var wildcard = regexp.MustCompile(`\{[^}]*\}`)

// target fills the wildcards of a route's path with the fixture's IDs:
// the team, bob, the open transfer, alice's key or the pending invite and
// its token, the claimed domain.
func (f fixture) target(t *testing.T, path string) string {
	t.Helper()
	return wildcard.ReplaceAllStringFunc(path, func(w string) string {
		switch w {
		case "{team}":
			return f.team
		case "{user}":
			return "bob"
		case "{token}":
			return f.token
		case "{name}":
			return f.domain
		case "{id}":
			switch {
			case strings.Contains(path, "/transfers/"):
				return f.transfer
			case strings.Contains(path, "/keys/"):
				return f.key
			}
			return f.invite
		}
		t.Fatalf("the route %s has the wildcard %s, which the test does not fill", path, w)
		return ""
	})
}

// body is a JSON body for the route that would change something if the
// route accepted it from alice; a route without a body gets {}.
func (f fixture) body(pattern string) string {
	switch pattern {
	case "POST /api/demo/signin":
		return `{"id":"mallory","name":"Mallory","email":"mallory@example.com"}`
	case "POST /api/transfers/{id}/confirm":
		return `{"token":"` + f.confirm + `"}`
	case "POST /api/transfers/{id}/accept":
		return `{"token":"` + f.confirm + `"}`
	case "POST /api/accounts/{team}/convert", "POST /api/teams":
		return `{"name":"Other"}`
	case "PUT /api/teams/{team}/secure-sign-in":
		return `{"require":true}`
	case "PATCH /api/teams/{team}/members/{user}":
		return `{"role":"basic"}`
	case "POST /api/teams/{team}/invites":
		return `{"role":"dev"}`
	case "POST /api/teams/{team}/transfers":
		return `{"to":"bob"}`
	case "POST /api/teams/{team}/keys":
		return `{"name":"another"}`
	case "POST /api/teams/{team}/domains":
		return `{"name":"acme.example","mode":"suggest","role":"basic"}`
	}
	return `{}`
}

// browserRequest is a request carrying alice's demo cookie, as a browser
// sends it with any request to the API's host, from whichever page.
func browserRequest(t *testing.T, method, url, contentType, body string, header map[string]string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == "" {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	req.AddCookie(&http.Cookie{Name: demoCookie, Value: "alice"})
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return req
}

// TestStateChangingRoutesRefuseCrossSiteAndNonJSON walks every route whose
// method changes state, the demo's and the team API's as mounted here, and
// sends it, with alice's cookie and a body that
// would change something, as a cross-site page could: with a body that is
// not application/json (415), or from another site (403). Nothing changes,
// and no cookie is set.
func TestStateChangingRoutesRefuseCrossSiteAndNonJSON(t *testing.T) {
	f := setup(t)
	before := f.snapshot(t)
	cases := []struct {
		name, contentType string
		header            map[string]string
		noBody            bool
		want              int
	}{
		{"a text/plain JSON body", "text/plain", nil, false, http.StatusUnsupportedMediaType},
		{"a text/plain JSON body with a charset", "text/plain; charset=utf-8", nil, false, http.StatusUnsupportedMediaType},
		{"a form body", "application/x-www-form-urlencoded", nil, false, http.StatusUnsupportedMediaType},
		{"a multipart body", "multipart/form-data; boundary=x", nil, false, http.StatusUnsupportedMediaType},
		{"a body without a Content-Type", "", nil, false, http.StatusUnsupportedMediaType},
		{"a body of an unparsable Content-Type", "application/json; =", nil, false, http.StatusUnsupportedMediaType},
		{"Sec-Fetch-Site: cross-site", "application/json", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"}, false, http.StatusForbidden},
		{"Sec-Fetch-Site: same-site", "application/json", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "http://127.0.0.1:1"}, false, http.StatusForbidden},
		{"Sec-Fetch-Site: cross-site with a same-host Origin", "application/json", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": f.base}, false, http.StatusForbidden},
		{"Origin of another host", "application/json", map[string]string{"Origin": "http://evil.example"}, false, http.StatusForbidden},
		{"Origin of another port", "application/json", map[string]string{"Origin": "http://127.0.0.1:1"}, false, http.StatusForbidden},
		{"Origin: null", "application/json", map[string]string{"Origin": "null"}, false, http.StatusForbidden},
		{"Sec-Fetch-Site: cross-site without a body", "", map[string]string{"Sec-Fetch-Site": "cross-site"}, true, http.StatusForbidden},
	}
	writes := 0
	for _, pattern := range f.routes {
		method, path, ok := strings.Cut(pattern, " ")
		if !ok {
			t.Fatalf("route %q has no method: every route names one", pattern)
		}
		switch method {
		case "GET", "HEAD", "OPTIONS":
			continue
		}
		writes++
		target := f.target(t, path)
		for _, c := range cases {
			t.Run(pattern+"/"+c.name, func(t *testing.T) {
				body := f.body(pattern)
				if c.noBody {
					body = ""
				}
				res, err := http.DefaultClient.Do(browserRequest(t, method, f.base+target, c.contentType, body, c.header))
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				var p roster.Problem
				if err := json.NewDecoder(res.Body).Decode(&p); err != nil {
					t.Fatalf("status %d: decode the problem report: %v", res.StatusCode, err)
				}
				if res.StatusCode != c.want || p.Status != c.want {
					t.Fatalf("status %d (%+v), want %d", res.StatusCode, p, c.want)
				}
				if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("Content-Type %q, want application/problem+json", ct)
				}
				if c.want == http.StatusForbidden && !strings.Contains(p.Detail, "cross-site") {
					t.Errorf("detail %q: want the refusal of a cross-site request, not another 403", p.Detail)
				}
				if cookies := res.Header.Values("Set-Cookie"); len(cookies) != 0 {
					t.Errorf("the refused request set cookies: %q", cookies)
				}
			})
		}
	}
	if writes == 0 {
		t.Fatalf("no state-changing route among %q", f.routes)
	}
	if after := f.snapshot(t); after != before {
		t.Errorf("refused requests changed the state:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestStateChangingRoutesAcceptSameOriginJSON sends state-changing requests
// as the console page does (same origin, application/json) and as a
// non-browser client does (neither Sec-Fetch-Site nor Origin), and reads
// with headers of a cross-site page: each works.
func TestStateChangingRoutesAcceptSameOriginJSON(t *testing.T) {
	f := setup(t)
	teamURL := f.base + "/api/teams/" + f.team
	role := func(t *testing.T) string {
		t.Helper()
		var rows teamapi.Page[teamapi.MemberRow]
		call(t, f.base, "alice", "GET", "/api/teams/"+f.team+"/members", nil, 200, &rows)
		for _, r := range rows.Items {
			if r.UserID == "bob" {
				return string(r.Role)
			}
		}
		t.Fatalf("bob is not a member: %+v", rows)
		return ""
	}
	for _, c := range []struct {
		name, method, url, contentType, body string
		header                               map[string]string
		want                                 int
		check                                func(t *testing.T)
	}{
		{"same origin, as the console's fetch", "PATCH", teamURL + "/members/bob", "application/json", `{"role":"basic"}`,
			map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": f.base}, 200,
			func(t *testing.T) {
				if got := role(t); got != "basic" {
					t.Errorf("bob's role %q, want basic", got)
				}
			}},
		{"a same-host Origin without Sec-Fetch-Site, JSON with a charset", "PATCH", teamURL + "/members/bob", "application/json; charset=utf-8", `{"role":"billing"}`,
			map[string]string{"Origin": f.base}, 200,
			func(t *testing.T) {
				if got := role(t); got != "billing" {
					t.Errorf("bob's role %q, want billing", got)
				}
			}},
		{"Sec-Fetch-Site: none, without a body", "POST", f.base + "/api/accounts/" + f.team + "/switch", "", "",
			map[string]string{"Sec-Fetch-Site": "none"}, 200, nil},
		{"neither header, as curl", "POST", teamURL + "/invites", "application/json", `{"role":"dev"}`, nil, 201, nil},
		{"neither header, without a body or a Content-Type", "DELETE", teamURL + "/invites/" + f.invite, "", "", nil, 204,
			func(t *testing.T) {
				var all teamapi.Page[teamapi.Invitation]
				call(t, f.base, "alice", "GET", "/api/teams/"+f.team+"/invites", nil, 200, &all)
				for _, inv := range all.Items {
					if inv.ID == f.invite && inv.Status != store.InviteRevoked {
						t.Errorf("the invite is %s, want revoked", inv.Status)
					}
				}
			}},
		{"a read from a cross-site page", "GET", teamURL + "/members", "", "",
			map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"}, 200, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := http.DefaultClient.Do(browserRequest(t, c.method, c.url, c.contentType, c.body, c.header))
			if err != nil {
				t.Fatal(err)
			}
			raw, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != c.want {
				t.Fatalf("%s %s: status %d, want %d: %s", c.method, c.url, res.StatusCode, c.want, raw)
			}
			if c.check != nil {
				c.check(t)
			}
		})
	}
}
