package teamapi_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teamapi"
	"github.com/teamroster/roster/teams"
)

// TestDomains claims, lists and removes a team's email domains through the
// API, on each backend: the owner claims one and gets its challenge, those
// who manage settings list the claims, pending until the host confirms one
// (which no route of the API does), and others may not; an admin who is not
// the owner, a public mail domain, an unknown mode and a missing role are
// refused, and nothing changes.
func TestDomains(t *testing.T) {
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		s := serve(t, b, teamapi.Options{})
		acme := rostertest.Team(t, s.r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev, "carol": rbac.RunpodAdmin})
		domains := "/api/teams/" + acme.ID + "/domains"
		list := func(t *testing.T, user string) []teamapi.Domain {
			t.Helper()
			var got []teamapi.Domain
			s.do(t, user, "GET", domains, nil, 200, &got)
			return got
		}

		t.Run("the list is empty before any claim", func(t *testing.T) {
			if rep := s.do(t, "alice", "GET", domains, nil, 200, nil); string(rep.body) != "[]\n" {
				t.Errorf("the claims of a new team: %s, want []", rep.body)
			}
		})

		var claim teamapi.Domain
		t.Run("the owner claims a domain and gets its challenge", func(t *testing.T) {
			s.do(t, "alice", "POST", domains, map[string]string{"name": "Acme.Example", "mode": "auto_join", "role": "dev"}, 201, &claim)
			if claim.Name != "acme.example" || claim.Mode != store.DomainAutoJoin || claim.Role != rbac.RunpodDev ||
				!strings.HasPrefix(claim.Challenge, teams.ChallengePrefix) || !claim.VerifiedAt.IsZero() ||
				claim.CreatedBy != "alice" || claim.CreatedAt.IsZero() {
				t.Errorf("the claim %+v, want acme.example pending, auto-joining as dev, with a challenge, by alice", claim)
			}
		})

		t.Run("those who manage settings list the claims; others may not", func(t *testing.T) {
			for _, u := range []string{"alice", "carol"} {
				if got := list(t, u); len(got) != 1 || got[0] != claim {
					t.Errorf("%s lists %+v, want the claim %+v", u, got, claim)
				}
			}
			s.do(t, "bob", "GET", domains, nil, 403, nil)
			rostertest.User(t, s.r, "mallory")
			s.do(t, "mallory", "GET", domains, nil, 403, nil)
		})

		t.Run("refused claims change nothing", func(t *testing.T) {
			s.do(t, "carol", "POST", domains, map[string]string{"name": "beta.example", "mode": "suggest", "role": "basic"}, 403, nil)
			s.do(t, "bob", "POST", domains, map[string]string{"name": "beta.example", "mode": "suggest", "role": "basic"}, 403, nil)
			s.do(t, "alice", "POST", domains, map[string]string{"name": "gmail.com", "mode": "suggest", "role": "basic"}, 400, nil)
			s.do(t, "alice", "POST", domains, map[string]string{"name": "localhost", "mode": "suggest", "role": "basic"}, 400, nil)
			s.do(t, "alice", "POST", domains, map[string]string{"name": "beta.example", "mode": "always", "role": "basic"}, 400, nil)
			s.do(t, "alice", "POST", domains, map[string]string{"name": "beta.example", "mode": "suggest"}, 400, nil)
			s.do(t, "alice", "POST", domains, map[string]string{"name": "beta.example", "mode": "suggest", "role": "emperor"}, 400, nil)
			s.do(t, "carol", "DELETE", domains+"/acme.example", nil, 403, nil)
			s.do(t, "bob", "DELETE", domains+"/acme.example", nil, 403, nil)
			if got := list(t, "alice"); len(got) != 1 || got[0] != claim {
				t.Errorf("after refused claims: %+v, want only %+v", got, claim)
			}
		})

		t.Run("no route confirms a claim: the host does, after its DNS lookup", func(t *testing.T) {
			claims := []string{"GET /teams/{team}/domains", "POST /teams/{team}/domains", "DELETE /teams/{team}/domains/{name}"}
			for _, rt := range teamapi.Routes() {
				if key := rt.Method + " " + rt.Path; strings.Contains(rt.Path, "/domains") && !slices.Contains(claims, key) {
					t.Errorf("the route %s acts on domain claims beyond listing, claiming and removing them", key)
				}
			}
			s.do(t, "alice", "POST", domains+"/acme.example/confirm", nil, 404, nil)
			s.do(t, "alice", "PATCH", domains+"/acme.example", map[string]string{"verified_at": "2030-01-01T00:00:00Z"}, 405, nil)
			if got := list(t, "alice"); len(got) != 1 || !got[0].VerifiedAt.IsZero() {
				t.Errorf("after asking the API to confirm: %+v, want the claim pending", got)
			}
			if _, err := s.r.Teams.ConfirmDomain(t.Context(), acme.ID, "acme.example"); err != nil {
				t.Fatal(err)
			}
			if got := list(t, "alice"); len(got) != 1 || got[0].VerifiedAt.IsZero() || got[0].Challenge != claim.Challenge {
				t.Errorf("after the host confirmed it: %+v, want the claim verified", got)
			}
		})

		t.Run("claiming it again changes its mode and role and keeps it verified", func(t *testing.T) {
			var again teamapi.Domain
			s.do(t, "alice", "POST", domains, map[string]string{"name": "acme.example", "mode": "suggest", "role": "basic"}, 201, &again)
			if again.Mode != store.DomainSuggest || again.Role != rbac.RunpodBasic || again.VerifiedAt.IsZero() || again.Challenge != claim.Challenge {
				t.Errorf("the claim made again: %+v, want it verified, suggesting, as basic", again)
			}
		})

		t.Run("the owner removes a claim", func(t *testing.T) {
			s.do(t, "alice", "DELETE", domains+"/acme.example", nil, 204, nil)
			if got := list(t, "alice"); len(got) != 0 {
				t.Errorf("after the removal: %+v, want none", got)
			}
			s.do(t, "alice", "DELETE", domains+"/acme.example", nil, 404, nil)
			s.do(t, "alice", "DELETE", domains+"/not_a_domain", nil, 400, nil)
		})
	})
}
