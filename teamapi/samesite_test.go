package teamapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teamapi"
)

// sessionCookie is the tests' session cookie: it holds the user ID, as a
// browser would send a real session with every request to the host.
const sessionCookie = "session"

// byHeaderOrCookie is byHeader, else the session cookie.
func byHeaderOrCookie(req *http.Request) (string, bool) {
	if u, ok := byHeader(req); ok {
		return u, true
	}
	if c, err := req.Cookie(sessionCookie); err == nil && c.Value != "" {
		return c.Value, true
	}
	return "", false
}

// fixture is the API with the team Acme of alice (its owner, admin), bob
// as a dev, a pending link invite, an open ownership transfer to bob, an
// API key of alice and her claim of the email domain acme.example.
type fixture struct {
	*server
	team string
	// invite and token are the pending link invite's ID and token.
	invite, token string
	// transfer is the open transfer's ID; confirm the token of the email
	// asking alice to confirm it.
	transfer, confirm string
	// key and keyToken are alice's API key's ID and token.
	key, keyToken string
	// domain is the email domain alice claims for the team.
	domain string
}

func setup(t *testing.T, b testdb.Backend, o teamapi.Options) fixture {
	t.Helper()
	if o.User == nil {
		o.User = byHeaderOrCookie
	}
	f := fixture{server: serve(t, b, o)}
	f.team = f.user(t, "alice", store.SignInGoogle)
	f.user(t, "bob", store.SignInGoogle)
	f.do(t, "alice", "POST", "/api/accounts/"+f.team+"/convert", map[string]string{"name": "Acme"}, 200, nil)
	team := "/api/teams/" + f.team

	var links []teamapi.Invitation
	f.do(t, "alice", "POST", team+"/invites", map[string]string{"role": "dev"}, 201, &links)
	f.do(t, "bob", "POST", "/api/invites/"+links[0].Token+"/accept", nil, 201, nil)
	f.do(t, "alice", "POST", team+"/invites", map[string]string{"role": "dev"}, 201, &links)
	f.invite, f.token = links[0].ID, links[0].Token

	var tr teamapi.Transfer
	f.do(t, "alice", "POST", team+"/transfers", map[string]string{"to": "bob"}, 201, &tr)
	f.transfer, f.confirm = tr.ID, f.in.Token(tr.ID)

	var key teamapi.APIKey
	f.do(t, "alice", "POST", team+"/keys", map[string]string{"name": "deploys"}, 201, &key)
	f.key, f.keyToken = key.ID, key.Token

	f.domain = "acme.example"
	f.do(t, "alice", "POST", team+"/domains", map[string]string{"name": f.domain, "mode": "auto_join", "role": "dev"}, 201, nil)
	return f
}

// target fills the wildcards of a route's path with the fixture's IDs:
// the team, bob, the open transfer, alice's key or the pending invite and
// its token, the claimed domain.
func (f fixture) target(t *testing.T, path string) string {
	t.Helper()
	return prefix + wildcard.ReplaceAllStringFunc(path, func(w string) string {
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
			if strings.Contains(path, "/transfers/") {
				return f.transfer
			}
			if strings.Contains(path, "/keys/") {
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
func (f fixture) body(rt teamapi.Route) string {
	switch rt.Method + " " + rt.Path {
	case "POST /teams":
		return `{"name":"Other"}`
	case "POST /transfers/{id}/confirm", "POST /transfers/{id}/accept":
		return `{"token":"` + f.confirm + `"}`
	case "POST /accounts/{team}/convert":
		return `{"name":"Other"}`
	case "PUT /teams/{team}/secure-sign-in":
		return `{"require":true}`
	case "PATCH /teams/{team}/members/{user}":
		return `{"role":"basic"}`
	case "PUT /teams/{team}/members/{user}/until":
		return `{"until":"2099-01-01T00:00:00Z"}`
	case "POST /teams/{team}/invites":
		return `{"role":"dev"}`
	case "POST /teams/{team}/transfers":
		return `{"to":"bob"}`
	case "POST /teams/{team}/keys":
		return `{"name":"another"}`
	case "POST /teams/{team}/domains":
		return `{"name":"acme.example","mode":"suggest","role":"basic"}`
	}
	return `{}`
}

// writes returns the routes that change state.
func writes(t *testing.T) []teamapi.Route {
	t.Helper()
	var out []teamapi.Route
	for _, rt := range teamapi.Routes() {
		switch rt.Method {
		case "GET", "HEAD", "OPTIONS":
			continue
		}
		out = append(out, rt)
	}
	if len(out) == 0 {
		t.Fatal("no route changes state")
	}
	return out
}

// browserRequest is a request carrying alice's session cookie, as a browser
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
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: "alice"})
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return req
}

// TestStateChangingRoutesRefuseCrossSiteAndNonJSON walks every route whose
// method changes state and sends it, with alice's cookie and a body that
// would change something, as a cross-site page could: with a body that is
// not application/json (415), or from another site (403). Nothing changes.
func TestStateChangingRoutesRefuseCrossSiteAndNonJSON(t *testing.T) {
	f := setup(t, testdb.Backends()[0], teamapi.Options{})
	rev, last := rostertest.Writes(t, f.s)
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
	for _, rt := range writes(t) {
		target := f.target(t, rt.Path)
		for _, c := range cases {
			t.Run(rt.Method+" "+rt.Path+"/"+c.name, func(t *testing.T) {
				body := f.body(rt)
				if c.noBody {
					body = ""
				}
				req := browserRequest(t, rt.Method, f.base+target, c.contentType, body, c.header)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				raw, err := io.ReadAll(res.Body)
				if err != nil {
					t.Fatal(err)
				}
				f.doc.check(t, req, reply{status: res.StatusCode, header: res.Header, body: raw})
				var p roster.Problem
				if err := json.Unmarshal(raw, &p); err != nil {
					t.Fatalf("status %d: decode the problem report: %v", res.StatusCode, err)
				}
				if res.StatusCode != c.want || p.Status != c.want {
					t.Fatalf("status %d (%+v), want %d", res.StatusCode, p, c.want)
				}
				if c.want == http.StatusForbidden && !strings.Contains(p.Detail, "cross-site") {
					t.Errorf("detail %q: want the refusal of a cross-site request, not another 403", p.Detail)
				}
			})
		}
	}
	if r, l := rostertest.Writes(t, f.s); r != rev || l != last {
		t.Errorf("refused requests changed the state: revision %d, newest event %d; want %d and %d", r, l, rev, last)
	}
}

// TestStateChangingRoutesAcceptSameOriginJSON sends state-changing requests
// as a page of the host does (same origin, application/json) and as a
// non-browser client does (neither Sec-Fetch-Site nor Origin), and reads
// with headers of a cross-site page: each works.
func TestStateChangingRoutesAcceptSameOriginJSON(t *testing.T) {
	f := setup(t, testdb.Backends()[0], teamapi.Options{})
	team := f.base + prefix + "/teams/" + f.team
	role := func(t *testing.T) string {
		t.Helper()
		var rows teamapi.Page[teamapi.MemberRow]
		f.do(t, "alice", "GET", prefix+"/teams/"+f.team+"/members", nil, 200, &rows)
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
		{"same origin, as a page's fetch", "PATCH", team + "/members/bob", "application/json", `{"role":"basic"}`,
			map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": f.base}, 200,
			func(t *testing.T) {
				if got := role(t); got != "basic" {
					t.Errorf("bob's role %q, want basic", got)
				}
			}},
		{"a same-host Origin without Sec-Fetch-Site, JSON with a charset", "PATCH", team + "/members/bob", "application/json; charset=utf-8", `{"role":"billing"}`,
			map[string]string{"Origin": f.base}, 200,
			func(t *testing.T) {
				if got := role(t); got != "billing" {
					t.Errorf("bob's role %q, want billing", got)
				}
			}},
		{"Sec-Fetch-Site: none, without a body", "POST", f.base + prefix + "/accounts/" + f.team + "/switch", "", "",
			map[string]string{"Sec-Fetch-Site": "none"}, 200, nil},
		{"neither header, as curl", "POST", team + "/invites", "application/json", `{"role":"dev"}`, nil, 201, nil},
		{"neither header, without a body or a Content-Type", "DELETE", team + "/invites/" + f.invite, "", "", nil, 204,
			func(t *testing.T) {
				var all teamapi.Page[teamapi.Invitation]
				f.do(t, "alice", "GET", prefix+"/teams/"+f.team+"/invites", nil, 200, &all)
				for _, inv := range all.Items {
					if inv.ID == f.invite && inv.Status != store.InviteRevoked {
						t.Errorf("the invite is %s, want revoked", inv.Status)
					}
				}
			}},
		{"a read from a cross-site page", "GET", team + "/members", "", "",
			map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"}, 200, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := browserRequest(t, c.method, c.url, c.contentType, c.body, c.header)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			f.doc.check(t, req, reply{status: res.StatusCode, header: res.Header, body: raw})
			if res.StatusCode != c.want {
				t.Fatalf("%s %s: status %d, want %d: %s", c.method, c.url, res.StatusCode, c.want, raw)
			}
			if c.check != nil {
				c.check(t)
			}
		})
	}
}

// TestSameSiteJSON guards a host's own route, such as a sign-in that sets
// a cookie: it runs for a same-origin JSON request and not for a
// cross-site or non-JSON one.
func TestSameSiteJSON(t *testing.T) {
	var ran atomic.Int32
	srv := httptest.NewServer(teamapi.SameSiteJSON(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		ran.Add(1)
		w.WriteHeader(http.StatusNoContent)
	})))
	t.Cleanup(srv.Close)
	for _, c := range []struct {
		name, method, contentType, body string
		header                          map[string]string
		want                            int
		runs                            bool
	}{
		{"a same-origin JSON sign-in", "POST", "application/json", `{"id":"alice"}`, map[string]string{"Sec-Fetch-Site": "same-origin"}, 204, true},
		{"a cross-site sign-in", "POST", "application/json", `{"id":"mallory"}`, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, false},
		{"a form sign-in", "POST", "application/x-www-form-urlencoded", `id=mallory`, nil, 415, false},
		{"a cross-site read", "GET", "", "", map[string]string{"Sec-Fetch-Site": "cross-site"}, 204, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := ran.Load()
			res, err := http.DefaultClient.Do(browserRequest(t, c.method, srv.URL+"/signin", c.contentType, c.body, c.header))
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != c.want || (ran.Load() > before) != c.runs {
				t.Errorf("status %d, handler ran: %v; want %d, %v", res.StatusCode, ran.Load() > before, c.want, c.runs)
			}
		})
	}
}
