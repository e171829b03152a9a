package teamapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teamapi"
)

// keyIDs returns the IDs of the keys.
func keyIDs(keys []teamapi.APIKey) []string {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	return ids
}

// TestAPIKeys walks the API keys of a team through the API, on each
// backend: a member creates keys of their own (narrowed, expiring), the
// owner a service account; each member lists their own, the owner and
// admins every key; keys are revoked; bad input is refused and changes
// nothing. Every reply is checked against the OpenAPI document.
func TestAPIKeys(t *testing.T) {
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		s := serve(t, b, teamapi.Options{})
		acme := rostertest.Team(t, s.r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev, "carol": rbac.RunpodBilling})
		keys := "/api/teams/" + acme.ID + "/keys"
		list := func(t *testing.T, user, query string) []teamapi.APIKey {
			t.Helper()
			var p teamapi.Page[teamapi.APIKey]
			s.do(t, user, "GET", keys+query, nil, 200, &p)
			for _, k := range p.Items {
				if k.Token != "" {
					t.Errorf("the list shows the token of %+v", k)
				}
			}
			return p.Items
		}

		var ci, narrow teamapi.APIKey
		t.Run("a member creates a key with their own role and sees its token once", func(t *testing.T) {
			rep := s.do(t, "bob", "POST", keys, map[string]string{"name": "CI"}, 201, &ci)
			if !strings.HasPrefix(ci.Token, "rsk_") || !strings.HasPrefix(ci.ID, store.APIKeyIDPrefix) || ci.Role != rbac.RunpodDev ||
				ci.UserID != "bob" || ci.CreatedBy != "bob" || ci.Service || ci.AccountID != acme.ID || ci.CreatedAt.IsZero() ||
				!ci.ExpiresAt.IsZero() || ci.Actions != nil {
				t.Fatalf("created %+v, want bob's dev key with its token, never expiring", ci)
			}
			if strings.Contains(strings.ToLower(string(rep.body)), "hash") {
				t.Errorf("the answer shows a hash: %s", rep.body)
			}
			p, err := s.r.Authenticate(t.Context(), ci.Token)
			if err != nil || p.Key != ci.ID || p.User != "bob" || p.Account != acme.ID {
				t.Errorf("Authenticate(token) = %+v, %v; want bob's key %s", p, err, ci.ID)
			}
			got := list(t, "bob", "")
			if len(got) != 1 || got[0].ID != ci.ID || got[0].Name != "CI" {
				t.Errorf("bob's keys %+v, want the one he made", got)
			}
		})

		t.Run("a key narrowed to actions, expiring", func(t *testing.T) {
			expires := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
			s.do(t, "bob", "POST", keys, map[string]any{"name": "connect only", "actions": []string{"pods.connect"},
				"expires_at": expires.Format(time.RFC3339)}, 201, &narrow)
			if !slices.Equal(narrow.Actions, []rbac.Action{rbac.PodsConnect}) || !narrow.ExpiresAt.Equal(expires) || narrow.Role != rbac.RunpodDev {
				t.Errorf("created %+v, want a dev key for pods.connect only, expiring at %s", narrow, expires)
			}
			if !s.r.Can(t.Context(), narrow.ID, acme.ID, rbac.PodsConnect) || s.r.Can(t.Context(), narrow.ID, acme.ID, rbac.PodsManage) {
				t.Errorf("the narrowed key may not connect, or may manage pods")
			}
			if got := keyIDs(list(t, "bob", "")); !slices.Equal(got, []string{narrow.ID, ci.ID}) {
				t.Errorf("bob's keys %q, want the newest first", got)
			}
		})

		t.Run("bad input is refused and changes nothing", func(t *testing.T) {
			rev, last := rostertest.Writes(t, s.s)
			for name, body := range map[string]map[string]any{
				"no name":                        {"role": "dev"},
				"an expiry that is not RFC 3339": {"name": "k", "expires_at": "tomorrow"},
				"an expiry as a date":            {"name": "k", "expires_at": time.Now().AddDate(0, 0, 2).Format(time.DateOnly)},
				"an expiry in the past":          {"name": "k", "expires_at": time.Now().Add(-time.Hour).Format(time.RFC3339)},
				"an expiry beyond five years":    {"name": "k", "expires_at": time.Now().AddDate(6, 0, 0).Format(time.RFC3339)},
				"no action":                      {"name": "k", "actions": []string{}},
				"an action the policy lacks":     {"name": "k", "actions": []string{"pods.fly"}},
				"an action the role lacks":       {"name": "k", "actions": []string{"billing.read"}},
				"a role the policy lacks":        {"name": "k", "role": "emperor"},
				"a service account of no role":   {"name": "k", "service": true},
			} {
				t.Run(name, func(t *testing.T) {
					user := "bob"
					if body["service"] == true {
						user = "alice"
					}
					s.do(t, user, "POST", keys, body, 400, nil)
				})
			}
			s.do(t, "alice", "GET", keys+"?all=yes", nil, 400, nil)
			s.do(t, "alice", "GET", keys+"?limit=x", nil, 400, nil)
			s.do(t, "alice", "GET", keys+"?cursor=forged", nil, 400, nil)
			s.do(t, "alice", "DELETE", keys+"/key_nosuch", nil, 404, nil)
			if r, l := rostertest.Writes(t, s.s); r != rev || l != last {
				t.Errorf("refused requests changed the state: revision %d, newest event %d; want %d and %d", r, l, rev, last)
			}
		})

		t.Run("a key broader than its creator is refused and the refusal recorded", func(t *testing.T) {
			s.do(t, "bob", "POST", keys, map[string]string{"name": "admin", "role": "admin"}, 403, nil)
			s.do(t, "carol", "POST", keys, map[string]any{"name": "pods", "actions": []string{"pods.connect"}}, 400, nil) // not a billing action
			var denied teamapi.Page[teamapi.Event]
			s.do(t, "alice", "GET", "/api/teams/"+acme.ID+"/audit?action=api_key.created&result=denied", nil, 200, &denied)
			if len(denied.Items) != 1 || denied.Items[0].Actor != "bob" {
				t.Errorf("denied key creations %+v, want bob's", denied.Items)
			}
		})

		var svc teamapi.APIKey
		t.Run("service accounts are made by those who manage members", func(t *testing.T) {
			s.do(t, "bob", "POST", keys, map[string]any{"name": "deployer", "role": "dev", "service": true}, 403, nil)
			s.do(t, "alice", "POST", keys, map[string]any{"name": "deployer", "role": "dev", "service": true}, 201, &svc)
			if !svc.Service || svc.UserID != "" || svc.Role != rbac.RunpodDev || svc.CreatedBy != "alice" || svc.Token == "" {
				t.Errorf("service account %+v, want the team's dev key made by alice", svc)
			}
			if got := list(t, "alice", ""); len(got) != 0 {
				t.Errorf("alice's own keys %+v, want none: the service account is the team's", got)
			}
		})

		t.Run("all=true lists every key of the team, to the owner and admins only", func(t *testing.T) {
			all := list(t, "alice", "?all=true")
			if got := keyIDs(all); !slices.Equal(got, []string{svc.ID, narrow.ID, ci.ID}) {
				t.Errorf("every key: %q, want the service account and bob's two, newest first", got)
			}
			var walked []teamapi.APIKey
			target := keys + "?all=true&limit=1"
			for range len(all) + 1 {
				var page teamapi.Page[teamapi.APIKey]
				s.do(t, "alice", "GET", target, nil, 200, &page)
				walked = append(walked, page.Items...)
				if page.Next == "" {
					break
				}
				target = keys + "?all=true&limit=1&cursor=" + url.QueryEscape(page.Next)
			}
			if !slices.EqualFunc(walked, all, func(a, b teamapi.APIKey) bool { return a.ID == b.ID }) {
				t.Errorf("pages of one: %q, want %q", keyIDs(walked), keyIDs(all))
			}
			s.do(t, "bob", "GET", keys+"?all=true", nil, 403, nil)
			if got := list(t, "bob", "?all=false"); len(got) != 2 {
				t.Errorf("bob's keys with all=false: %+v, want his two", got)
			}
			s.do(t, "dave", "GET", keys, nil, 403, nil) // not a member
			s.do(t, "", "GET", keys, nil, 401, nil)
		})

		t.Run("keys are revoked by their owner, or by an admin whose role covers them", func(t *testing.T) {
			s.do(t, "carol", "DELETE", keys+"/"+ci.ID, nil, 403, nil)
			s.do(t, "bob", "DELETE", keys+"/"+svc.ID, nil, 403, nil)
			s.do(t, "bob", "DELETE", keys+"/"+ci.ID, nil, 204, nil)
			s.do(t, "bob", "DELETE", keys+"/"+ci.ID, nil, 410, nil)
			if _, err := s.r.Authenticate(t.Context(), ci.Token); err == nil {
				t.Error("the revoked key still authenticates")
			}
			s.do(t, "alice", "DELETE", keys+"/"+narrow.ID, nil, 204, nil)
			s.do(t, "alice", "DELETE", keys+"/"+svc.ID, nil, 204, nil)
			for _, k := range list(t, "alice", "?all=true") {
				want := map[string]string{ci.ID: "bob", narrow.ID: "alice", svc.ID: "alice"}[k.ID]
				if k.RevokedAt.IsZero() || k.RevokedBy != want {
					t.Errorf("key %+v, want it revoked by %s", k, want)
				}
			}
			var revoked teamapi.Page[teamapi.Event]
			s.do(t, "alice", "GET", "/api/teams/"+acme.ID+"/audit?action=api_key.revoked&result=allowed", nil, 200, &revoked)
			if len(revoked.Items) != 3 {
				t.Errorf("%d api_key.revoked events, want 3", len(revoked.Items))
			}
		})
	})
}

// TestAPIKeysDoNotManageTheTeam sends every route a request made with an
// API key, with Options.APIKeys: a working key, even the owner's with her
// admin role, is refused with 403 before any handler runs (the user's own
// routes by roster.RequireUser); a key that does not work gets 401 with
// WWW-Authenticate; nothing changes; and the document is served to anyone.
// Without Options.APIKeys a key is no user: 401.
func TestAPIKeysDoNotManageTheTeam(t *testing.T) {
	f := setup(t, testdb.Backends()[0], teamapi.Options{APIKeys: true})
	var dev teamapi.APIKey
	f.do(t, "bob", "POST", prefix+"/teams/"+f.team+"/keys", map[string]string{"name": "bob's"}, 201, &dev)
	var revoked teamapi.APIKey
	f.do(t, "alice", "POST", prefix+"/teams/"+f.team+"/keys", map[string]string{"name": "old"}, 201, &revoked)
	f.do(t, "alice", "DELETE", prefix+"/teams/"+f.team+"/keys/"+revoked.ID, nil, 204, nil)
	rev, last := rostertest.Writes(t, f.s)

	send := func(t *testing.T, rt teamapi.Route, token string) reply {
		t.Helper()
		var body any
		if rt.Method != "GET" {
			body = f.body(rt)
		}
		return f.send(t, request{method: rt.Method, path: f.target(t, rt.Path), body: body,
			header: map[string]string{"Authorization": "Bearer " + token}})
	}
	for _, rt := range teamapi.Routes() {
		name := rt.Method + " " + rt.Path
		if rt.Access == "public" {
			t.Run(name+"/is served to a key", func(t *testing.T) {
				if rep := send(t, rt, f.keyToken); rep.status != 200 {
					t.Errorf("status %d, want 200", rep.status)
				}
			})
			continue
		}
		t.Run(name+"/refuses the owner's working key with 403", func(t *testing.T) {
			rep := send(t, rt, f.keyToken)
			want := "an API key does not manage the team"
			if rt.Access == "user" {
				want = "an API key acts only on its own account"
			}
			if p := rep.problem(t); rep.status != 403 || !strings.HasPrefix(p.Detail, want) {
				t.Errorf("status %d, detail %q; want 403 saying %q", rep.status, p.Detail, want)
			}
		})
		t.Run(name+"/refuses a dev's working key with 403", func(t *testing.T) {
			if rep := send(t, rt, dev.Token); rep.status != 403 {
				t.Errorf("status %d, want 403: %s", rep.status, rep.body)
			}
		})
		for what, token := range map[string]string{"a revoked key": revoked.Token, "a mistyped key": f.keyToken[:len(f.keyToken)-1] + "x",
			"a truncated key": f.keyToken[:20]} {
			t.Run(name+"/answers "+what+" with 401", func(t *testing.T) {
				rep := send(t, rt, token)
				if rep.status != 401 || !strings.Contains(rep.header.Get("WWW-Authenticate"), "invalid_token") {
					t.Errorf("status %d, WWW-Authenticate %q; want 401 with invalid_token", rep.status, rep.header.Get("WWW-Authenticate"))
				}
			})
		}
	}
	if r, l := rostertest.Writes(t, f.s); r != rev || l != last {
		t.Errorf("requests made with keys changed the state: revision %d, newest event %d; want %d and %d", r, l, rev, last)
	}
	for _, l := range f.logs.Lines() {
		if strings.Contains(l, f.keyToken) || strings.Contains(l, dev.Token) {
			t.Errorf("the log holds a key's token: %s", l)
		}
	}

	t.Run("a signed-in user is served beside them", func(t *testing.T) {
		f.do(t, "bob", "GET", prefix+"/teams/"+f.team+"/members", nil, 200, nil)
	})
	t.Run("without Options.APIKeys a working key is no user", func(t *testing.T) {
		h, err := teamapi.New(f.r, teamapi.Options{User: byHeader, Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		for user, want := range map[string]int{"": 401, "bob": 200} {
			req, err := http.NewRequest("GET", srv.URL+prefix+"/teams/"+f.team+"/members", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+f.keyToken)
			if user != "" {
				req.Header.Set("X-User", user)
			}
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
			if res.StatusCode != want {
				t.Errorf("with the key and user %q: status %d, want %d: %s", user, res.StatusCode, want, raw)
			}
		}
	})
}
