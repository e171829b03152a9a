package teamapi_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teamapi"
)

// TestNewRefusesBadOptions checks New's refusals: each wraps ErrOptions
// and store.ErrInvalid, and returns no handler.
func TestNewRefusesBadOptions(t *testing.T) {
	r, _ := rostertest.Open(t, testdb.Backends()[0], rbac.Runpod())
	for _, c := range []struct {
		name string
		o    teamapi.Options
		nilR bool
	}{
		{"no Roster", teamapi.Options{User: byHeader}, true},
		{"no User", teamapi.Options{}, false},
		{"a negative body limit", teamapi.Options{User: byHeader, MaxBodyBytes: -1}, false},
		{"a prefix without a leading slash", teamapi.Options{User: byHeader, Prefix: "api"}, false},
		{"a prefix with a trailing slash", teamapi.Options{User: byHeader, Prefix: "/api/"}, false},
		{"a prefix of a single slash", teamapi.Options{User: byHeader, Prefix: "/"}, false},
		{"a prefix with a wildcard", teamapi.Options{User: byHeader, Prefix: "/{tenant}"}, false},
		{"a prefix with a space", teamapi.Options{User: byHeader, Prefix: "/my api"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			rr := r
			if c.nilR {
				rr = nil
			}
			h, err := teamapi.New(rr, c.o)
			if !errors.Is(err, teamapi.ErrOptions) || !errors.Is(err, store.ErrInvalid) || h != nil {
				t.Errorf("New = %v, %v; want no handler and ErrOptions", h, err)
			}
		})
	}
}

// TestRouting checks what the API answers outside its routes, and that it
// mounts behind http.StripPrefix with an empty prefix.
func TestRouting(t *testing.T) {
	s := serve(t, testdb.Backends()[0], teamapi.Options{})
	s.user(t, "alice", store.SignInGoogle)

	t.Run("a path it does not serve is a 404 problem", func(t *testing.T) {
		for _, p := range []string{"/api/nothing", "/api/teams/", "/elsewhere", "/api", "/api/teams/x/y/z"} {
			if rep := s.send(t, request{user: "alice", method: "GET", path: p}); rep.status != 404 || rep.problem(t).Status != 404 {
				t.Errorf("GET %s: %d %s, want a 404 problem", p, rep.status, rep.body)
			}
		}
	})
	t.Run("a method a path does not take is a 405 problem that says which it takes", func(t *testing.T) {
		rep := s.send(t, request{user: "alice", method: "PUT", path: "/api/me"})
		if rep.status != 405 || rep.header.Get("Allow") != "GET, HEAD" || rep.problem(t).Status != 405 {
			t.Errorf("PUT /api/me: %d, Allow %q: %s", rep.status, rep.header.Get("Allow"), rep.body)
		}
	})
	t.Run("HEAD reads like GET, without a body", func(t *testing.T) {
		rep := s.send(t, request{user: "alice", method: "HEAD", path: "/api/me"})
		if rep.status != 200 || len(rep.body) != 0 || rep.header.Get("Content-Type") != "application/json" {
			t.Errorf("HEAD /api/me: %d %q %s", rep.status, rep.header.Get("Content-Type"), rep.body)
		}
	})
	t.Run("an empty prefix behind http.StripPrefix", func(t *testing.T) {
		h, err := teamapi.New(s.r, teamapi.Options{User: byHeader})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.Handle("/v2/", http.StripPrefix("/v2", h))
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		req, err := http.NewRequest("GET", srv.URL+"/v2/me", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-User", "alice")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("GET /v2/me: %d %s %v", res.StatusCode, raw, err)
		}
		loadDocument(t, "/v2").check(t, req, reply{status: res.StatusCode, header: res.Header, body: raw})
	})
}
