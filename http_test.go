package roster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// headerUser is the tests' authentication: the X-User header names the user.
func headerUser(r *http.Request) (string, bool) {
	u := r.Header.Get("X-User")
	return u, u != ""
}

// echo is the protected handler: it writes the user and team it finds in
// the context.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	user, uok := roster.UserFrom(r.Context())
	team, tok := roster.TeamFrom(r.Context())
	fmt.Fprintf(w, "user=%s(%v) team=%s(%v)", user, uok, team, tok)
})

// httpRoster returns a Roster on SQLite with alice's team "acme" (bob is a
// dev, carol billing) and dave, who has only his personal account.
func httpRoster(t *testing.T) (*roster.Roster, store.Account) {
	t.Helper()
	r, err := roster.Open(context.Background(), testdb.SQLitePath(t))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	acme := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev, "carol": rbac.RunpodBilling})
	rostertest.User(t, r, "dave")
	return r, acme
}

// call serves one request through h and returns the response.
func call(t *testing.T, h http.Handler, method, target string, header map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

// body reads the response body.
func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return string(b)
}

// wantProblem checks that res is a problem report with the status and a
// detail containing detail, and returns its body.
func wantProblem(t *testing.T, res *http.Response, status int, detail string) string {
	t.Helper()
	b := body(t, res)
	if res.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", res.StatusCode, status, b)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	var p roster.Problem
	if err := json.Unmarshal([]byte(b), &p); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, b)
	}
	if p.Type != "about:blank" || p.Title != http.StatusText(status) || p.Status != status || !strings.Contains(p.Detail, detail) {
		t.Errorf("problem %+v, want type about:blank, title %q, status %d, detail containing %q", p, http.StatusText(status), status, detail)
	}
	return b
}

func TestRequire(t *testing.T) {
	r, acme := httpRoster(t)
	mux := http.NewServeMux()
	opts := roster.HTTPOptions{User: headerUser, Team: roster.TeamFromPath("team")}
	mux.Handle("POST /teams/{team}/pods", r.Require(rbac.PodsManage, opts)(echo))
	mux.Handle("GET /teams/{team}/members", r.RequireMember(opts)(echo))
	pods := "/teams/" + acme.ID + "/pods"

	t.Run("a member whose role has the action passes, with user and team in the context", func(t *testing.T) {
		res := call(t, mux, "POST", pods, map[string]string{"X-User": "bob"})
		if got, want := body(t, res), "user=bob(true) team="+acme.ID+"(true)"; res.StatusCode != 200 || got != want {
			t.Errorf("got %d %q, want 200 %q", res.StatusCode, got, want)
		}
	})
	t.Run("no user is 401", func(t *testing.T) {
		wantProblem(t, call(t, mux, "POST", pods, nil), 401, "sign in")
	})
	t.Run("a malformed user ID from the host's authentication is 401", func(t *testing.T) {
		wantProblem(t, call(t, mux, "POST", pods, map[string]string{"X-User": strings.Repeat("u", store.MaxIDLen+1)}), 401, "sign in")
	})
	t.Run("no User function is 401", func(t *testing.T) {
		h := r.Require(rbac.PodsManage, roster.HTTPOptions{Team: roster.TeamFromHeader("X-Team")})(echo)
		wantProblem(t, call(t, h, "POST", "/", map[string]string{"X-User": "bob", "X-Team": acme.ID}), 401, "sign in")
	})
	t.Run("a member whose role lacks the action is 403 naming the role", func(t *testing.T) {
		wantProblem(t, call(t, mux, "POST", pods, map[string]string{"X-User": "carol"}), 403, `your role "billing" may not pods.manage`)
	})
	t.Run("a non-member gets the same 403 for a team that exists and one that does not", func(t *testing.T) {
		existing := wantProblem(t, call(t, mux, "POST", pods, map[string]string{"X-User": "dave"}), 403, "you may not pods.manage on this account")
		missing := wantProblem(t, call(t, mux, "POST", "/teams/no-such-team/pods", map[string]string{"X-User": "dave"}), 403, "you may not pods.manage on this account")
		if existing != missing {
			t.Errorf("the answers differ, so they tell whether the team exists:\n%s\n%s", existing, missing)
		}
	})
	t.Run("a malformed team ID is 400", func(t *testing.T) {
		wantProblem(t, call(t, mux, "POST", "/teams/"+strings.Repeat("t", store.MaxIDLen+1)+"/pods", map[string]string{"X-User": "bob"}), 400, "malformed")
		wantProblem(t, call(t, mux, "POST", "/teams/a%01b/pods", map[string]string{"X-User": "bob"}), 400, "malformed")
	})
	t.Run("an action the policy lacks is 500", func(t *testing.T) {
		h := r.Require("no.such_action", opts)
		m := http.NewServeMux()
		m.Handle("GET /teams/{team}", h(echo))
		wantProblem(t, call(t, m, "GET", "/teams/"+acme.ID, map[string]string{"X-User": "alice"}), 500, `no action "no.such_action"`)
	})
	t.Run("RequireMember lets any member in and keeps others out", func(t *testing.T) {
		for _, u := range []string{"alice", "bob", "carol"} {
			res := call(t, mux, "GET", "/teams/"+acme.ID+"/members", map[string]string{"X-User": u})
			if res.StatusCode != 200 {
				t.Errorf("%s: status %d: %s", u, res.StatusCode, body(t, res))
			}
		}
		wantProblem(t, call(t, mux, "GET", "/teams/"+acme.ID+"/members", map[string]string{"X-User": "dave"}), 403, "not a member")
		wantProblem(t, call(t, mux, "GET", "/teams/"+acme.ID+"/members", nil), 401, "sign in")
	})
	t.Run("a removed member is refused at once", func(t *testing.T) {
		if err := r.Teams.RemoveMember(context.Background(), "alice", acme.ID, "bob"); err != nil {
			t.Fatal(err)
		}
		wantProblem(t, call(t, mux, "POST", pods, map[string]string{"X-User": "bob"}), 403, "you may not pods.manage")
	})
}

func TestRequireTeamSources(t *testing.T) {
	r, acme := httpRoster(t)
	ctx := context.Background()

	t.Run("a router that is not ServeMux sets the path value", func(t *testing.T) {
		protected := r.Require(rbac.PodsConnect, roster.HTTPOptions{User: headerUser, Team: roster.TeamFromPath("team")})(echo)
		// A hand-written router: /t/{team}/... by splitting the path.
		router := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			rest, ok := strings.CutPrefix(req.URL.Path, "/t/")
			if !ok {
				http.NotFound(w, req)
				return
			}
			team, _, _ := strings.Cut(rest, "/")
			req.SetPathValue("team", team)
			protected.ServeHTTP(w, req)
		})
		res := call(t, router, "GET", "/t/"+acme.ID+"/pods", map[string]string{"X-User": "bob"})
		if got := body(t, res); res.StatusCode != 200 || !strings.Contains(got, "team="+acme.ID+"(true)") {
			t.Errorf("got %d %q", res.StatusCode, got)
		}
		wantProblem(t, call(t, router, "GET", "/t/"+acme.ID+"/pods", map[string]string{"X-User": "carol"}), 403, "billing")
	})

	header := r.Require(rbac.PodsConnect, roster.HTTPOptions{User: headerUser, Team: roster.TeamFromHeader("X-Team")})(echo)
	t.Run("a header names the team", func(t *testing.T) {
		res := call(t, header, "GET", "/pods", map[string]string{"X-User": "bob", "X-Team": acme.ID})
		if got := body(t, res); res.StatusCode != 200 || !strings.Contains(got, "team="+acme.ID+"(true)") {
			t.Errorf("got %d %q", res.StatusCode, got)
		}
	})
	t.Run("a source that finds no team fails closed: 400, never the active account", func(t *testing.T) {
		// The header is absent, or a router left the path value empty
		// (chi's top-level Use runs before routing; echo and gin never set
		// it): no fallback to the user's active account.
		if err := r.Teams.Switch(ctx, "bob", acme.ID); err != nil {
			t.Fatal(err)
		}
		wantProblem(t, call(t, header, "GET", "/pods", map[string]string{"X-User": "bob"}), 400, "names no team")
		path := r.Require(rbac.PodsConnect, roster.HTTPOptions{User: headerUser, Team: roster.TeamFromPath("team")})(echo)
		wantProblem(t, call(t, path, "GET", "/pods", map[string]string{"X-User": "bob"}), 400, "names no team")
		member := r.RequireMember(roster.HTTPOptions{User: headerUser, Team: roster.TeamFromPath("team")})(echo)
		wantProblem(t, call(t, member, "GET", "/members", map[string]string{"X-User": "bob"}), 400, "names no team")
	})
	t.Run("a nil Team uses the user's active account", func(t *testing.T) {
		h := r.Require(rbac.PodsConnect, roster.HTTPOptions{User: headerUser})(echo)
		personal, _, err := r.Teams.Accounts(ctx, "carol", store.Page{})
		if err != nil || personal[0].Account.Kind != store.Personal || !personal[0].Active {
			t.Fatalf("carol's active account: %+v, %v; want her personal account", personal, err)
		}
		res := call(t, h, "GET", "/pods", map[string]string{"X-User": "carol", "X-Team": acme.ID})
		if got := body(t, res); res.StatusCode != 200 || !strings.Contains(got, "team="+personal[0].Account.ID+"(true)") {
			t.Errorf("before switching: got %d %q, want carol's personal account %s", res.StatusCode, got, personal[0].Account.ID)
		}
		res = call(t, h, "GET", "/pods", map[string]string{"X-User": "alice", "X-Team": "ignored"})
		if got := body(t, res); res.StatusCode != 200 || !strings.Contains(got, "team="+acme.ID+"(true)") {
			t.Errorf("got %d %q, want alice's team, her active account", res.StatusCode, got)
		}
	})
	t.Run("with a nil Team a user roster does not know has no active account: 403", func(t *testing.T) {
		h := r.Require(rbac.PodsConnect, roster.HTTPOptions{User: headerUser})(echo)
		wantProblem(t, call(t, h, "GET", "/pods", map[string]string{"X-User": "stranger"}), 403, "no active account")
	})
	t.Run("an active account that cannot be read once the store is closed is 503", func(t *testing.T) {
		closed, _ := httpRoster(t)
		if err := closed.Close(); err != nil {
			t.Fatal(err)
		}
		h := closed.Require(rbac.PodsConnect, roster.HTTPOptions{User: headerUser})(echo)
		wantProblem(t, call(t, h, "GET", "/pods", map[string]string{"X-User": "bob"}), 503, "could not be read")
	})
	t.Run("RequireUser needs only a user and sets no team", func(t *testing.T) {
		h := r.RequireUser(roster.HTTPOptions{User: headerUser, Team: roster.TeamFromHeader("X-Team")})(echo)
		res := call(t, h, "GET", "/me", map[string]string{"X-User": "stranger", "X-Team": acme.ID})
		if got, want := body(t, res), "user=stranger(true) team=(false)"; res.StatusCode != 200 || got != want {
			t.Errorf("got %d %q, want 200 %q", res.StatusCode, got, want)
		}
		wantProblem(t, call(t, h, "GET", "/me", nil), 401, "sign in")
	})
}

func TestRequireRequestMetadata(t *testing.T) {
	r, acme := httpRoster(t)
	opts := roster.HTTPOptions{User: headerUser, Team: roster.TeamFromPath("team")}
	mux := http.NewServeMux()
	mux.Handle("POST /teams/{team}/pods", r.Require(rbac.PodsManage, opts)(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		user, _ := roster.UserFrom(req.Context())
		team, _ := roster.TeamFrom(req.Context())
		if _, err := r.Audit.Record(req.Context(), user, team, audit.Entry{Action: "pod.created", ResourceType: "pod", ResourceID: "pod-1"}); err != nil {
			roster.WriteProblem(w, http.StatusInternalServerError, err.Error())
			return
		}
		w.WriteHeader(http.StatusCreated)
	})))
	req := httptest.NewRequest("POST", "/teams/"+acme.ID+"/pods", nil)
	req.RemoteAddr = "203.0.113.7:4242"
	req.Header.Set("X-User", "bob")
	req.Header.Set("User-Agent", "podctl/1.0")
	req.Header.Set("X-Request-ID", "req-42")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	evs, _, err := r.Audit.Query(context.Background(), "alice", acme.ID, audit.Filter{Action: "pod.created"})
	if err != nil || len(evs) != 1 {
		t.Fatalf("query: %v, %d events", err, len(evs))
	}
	if e := evs[0]; e.Actor != "bob" || e.IP != "203.0.113.7" || e.UserAgent != "podctl/1.0" || e.RequestID != "req-42" {
		t.Errorf("event actor %q IP %q user agent %q request ID %q, want bob 203.0.113.7 podctl/1.0 req-42", e.Actor, e.IP, e.UserAgent, e.RequestID)
	}
}
