package teams_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// TestManagementRules checks, role by role, who may manage a team, as the
// seeds say: on Runpod only admins invite, manage team permissions and
// modify settings ("Invite team members", "Manage team permissions",
// "Modify team account settings": admin only); on DigitalOcean only owners
// "invite new people to a team, ... change roles, and remove existing team
// members", and only they have full access to team settings.
func TestManagementRules(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		policy  *rbac.Policy
		manager rbac.Role   // the one role that may manage
		others  []rbac.Role // every other role
		plain   rbac.Role   // a role to change others to
	}{
		{rbac.Runpod(), rbac.RunpodAdmin, []rbac.Role{rbac.RunpodBasic, rbac.RunpodBilling, rbac.RunpodDev}, rbac.RunpodBasic},
		{rbac.DigitalOcean(), rbac.DigitalOceanOwner, []rbac.Role{rbac.DigitalOceanBiller, rbac.DigitalOceanBillingViewer,
			rbac.DigitalOceanMember, rbac.DigitalOceanModifier, rbac.DigitalOceanResourceViewer}, rbac.DigitalOceanResourceViewer},
	} {
		rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
			for _, role := range append([]rbac.Role{tc.manager}, tc.others...) {
				t.Run(fmt.Sprintf("%s %s", tc.policy.Name(), role), func(t *testing.T) {
					in := &rostertest.Inbox{}
					r, _ := rostertest.Open(t, b, tc.policy, roster.WithNotifier(in))
					acct := rostertest.Team(t, r, "owner", map[string]rbac.Role{"target": tc.plain})
					actor := "owner"
					if role != tc.manager {
						actor = "actor"
						rostertest.User(t, r, actor)
						if _, err := r.Teams.AddMember(ctx, "owner", acct.ID, actor, role); err != nil {
							t.Fatal(err)
						}
					}
					rostertest.User(t, r, "newcomer")
					may := role == tc.manager
					attempts := map[string]error{}
					_, attempts["add a member"] = r.Teams.AddMember(ctx, actor, acct.ID, "newcomer", tc.plain)
					_, attempts["change a role"] = r.Teams.ChangeRole(ctx, actor, acct.ID, "target", tc.others[0])
					_, attempts["rename the team"] = r.Teams.Rename(ctx, actor, acct.ID, "Renamed")
					attempts["remove a member"] = r.Teams.RemoveMember(ctx, actor, acct.ID, "target")
					_, attempts["transfer ownership"] = r.Teams.TransferOwnership(ctx, actor, acct.ID, "newcomer")
					_, attempts["delete the team"] = r.Teams.DeleteTeam(ctx, actor, acct.ID)
					for what, err := range attempts {
						switch {
						case may && err != nil:
							t.Errorf("%s may %s, but: %v", role, what, err)
						case !may && !errors.Is(err, rbac.ErrDenied):
							t.Errorf("%s may not %s: error = %v, want ErrDenied", role, what, err)
						}
					}
					if !may {
						for _, a := range []rbac.Action{rbac.MembersInvite, rbac.MembersManage, rbac.SettingsManage, rbac.AuditRead} {
							if r.Can(ctx, actor, acct.ID, a) {
								t.Errorf("Can(%s, %s) = true", role, a)
							}
						}
						if _, _, err := r.Teams.Members(ctx, actor, acct.ID, store.Page{}); err != nil {
							t.Errorf("%s may not see the members table: %v", role, err)
						}
						if err := r.Teams.Leave(ctx, actor, acct.ID); err != nil {
							t.Errorf("%s may not leave: %v", role, err)
						}
					}
				})
			}
		})
	}
}
