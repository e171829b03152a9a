package teamapi_test

import (
	"slices"
	"testing"

	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/teamapi"
)

// TestRoles reads the roles of a team through the API: every member sees
// the policy's roles in its order, each with the actions the policy gives
// it, the top role marked, then the team's own roles; a stranger does not.
func TestRoles(t *testing.T) {
	for _, p := range []*rbac.Policy{rbac.Runpod(), rbac.DigitalOcean()} {
		t.Run(p.Name(), func(t *testing.T) {
			s := servePolicy(t, testdb.Backends()[0], p, teamapi.Options{})
			low := p.Roles()[len(p.Roles())-1]
			acme := rostertest.Team(t, s.r, "alice", map[string]rbac.Role{"bob": low})
			rostertest.User(t, s.r, "mallory")
			var got teamapi.Roles
			s.do(t, "bob", "GET", "/api/teams/"+acme.ID+"/roles", nil, 200, &got)
			if got.Policy != p.Name() || got.Top != p.Top() || got.TopByTransfer != p.TopByTransfer() || !slices.Equal(got.Actions, p.Actions()) {
				t.Errorf("roles %+v, want the policy %s, its top role %s and actions", got, p.Name(), p.Top())
			}
			if len(got.Roles) != len(p.Roles()) {
				t.Fatalf("%d roles, want the policy's %d", len(got.Roles), len(p.Roles()))
			}
			for i, r := range got.Roles {
				if r.Name != p.Roles()[i] || !slices.Equal(r.Actions, p.RoleActions(r.Name)) || r.Top != (r.Name == p.Top()) || r.Team {
					t.Errorf("role %d: %+v, want %s with %q", i, r, p.Roles()[i], p.RoleActions(p.Roles()[i]))
				}
			}
			s.do(t, "mallory", "GET", "/api/teams/"+acme.ID+"/roles", nil, 403, nil)

			actions := []rbac.Action{rbac.AuditRead, p.RoleActions(low)[0]}
			if _, err := s.r.Teams.DefineRole(t.Context(), "alice", acme.ID, "auditor", actions); err != nil {
				t.Fatal(err)
			}
			s.do(t, "bob", "GET", "/api/teams/"+acme.ID+"/roles", nil, 200, &got)
			last := got.Roles[len(got.Roles)-1]
			want := slices.DeleteFunc(p.Actions(), func(a rbac.Action) bool { return !slices.Contains(actions, a) })
			if len(got.Roles) != len(p.Roles())+1 || last.Name != "auditor" || !last.Team || last.Top || !slices.Equal(last.Actions, want) {
				t.Errorf("the team's role %+v, want auditor with %q in the policy's order", last, want)
			}
		})
	}
}

// TestRolePreview previews role changes through the API: the actions a
// member would gain and lose, [] for none, without changing their role; only
// those who manage members may ask, and an unknown role or member is
// refused.
func TestRolePreview(t *testing.T) {
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		s := serve(t, b, teamapi.Options{})
		acme := rostertest.Team(t, s.r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev, "carol": rbac.RunpodBasic})
		preview := "/api/teams/" + acme.ID + "/members/bob/role-preview?role="

		var got teamapi.RolePreview
		s.do(t, "alice", "GET", preview+"billing", nil, 200, &got)
		p := rbac.Runpod()
		gained := []rbac.Action{rbac.BillingRead, rbac.BillingManage}
		var lost []rbac.Action
		for _, a := range p.RoleActions(rbac.RunpodDev) {
			if !p.Allows(rbac.RunpodBilling, a) {
				lost = append(lost, a)
			}
		}
		if got.From != rbac.RunpodDev || got.To != rbac.RunpodBilling || !slices.Equal(got.Gained, gained) || !slices.Equal(got.Lost, lost) {
			t.Errorf("preview %+v, want dev to billing gaining %q, losing %q", got, gained, lost)
		}
		rep := s.do(t, "alice", "GET", preview+"dev", nil, 200, nil)
		if string(rep.body) != `{"from":"dev","to":"dev","gained":[],"lost":[]}`+"\n" {
			t.Errorf("the preview of the same role: %s, want nothing gained or lost", rep.body)
		}
		if r := s.row(t, "alice", acme.ID, "bob"); r.Role != rbac.RunpodDev {
			t.Errorf("a preview changed bob's role to %s", r.Role)
		}
		s.do(t, "carol", "GET", preview+"basic", nil, 403, nil)
		s.do(t, "alice", "GET", preview+"emperor", nil, 400, nil)
		s.do(t, "alice", "GET", "/api/teams/"+acme.ID+"/members/bob/role-preview", nil, 400, nil)
		s.do(t, "alice", "GET", "/api/teams/"+acme.ID+"/members/nobody/role-preview?role=basic", nil, 404, nil)
	})
}
