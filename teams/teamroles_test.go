package teams_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/apikeys"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teams"
)

func TestTeamRoles(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		t.Run("a team role is granted like a policy role and Can honours it at once", func(t *testing.T) {
			r, s := rostertest.Open(t, b, rbac.Runpod())
			acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodBasic})
			role, err := r.Teams.DefineRole(ctx, "alice", acct.ID, "pod-operator", []rbac.Action{rbac.PodsManage, rbac.AccountAccess, rbac.PodsManage})
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{string(rbac.AccountAccess), string(rbac.PodsManage)}; len(role.Actions) != 2 || role.Actions[0] != want[0] || role.Actions[1] != want[1] {
				t.Errorf("role actions = %v, want %v (sorted, without repeats)", role.Actions, want)
			}
			if _, err := r.Teams.ChangeRole(ctx, "alice", acct.ID, "bob", "pod-operator"); err != nil {
				t.Fatal(err)
			}
			if !r.Can(ctx, "bob", acct.ID, rbac.PodsManage) || r.Can(ctx, "bob", acct.ID, rbac.PodsConnect) {
				t.Error("Can does not follow the team role")
			}
			if d := r.Explain(ctx, "bob", acct.ID, rbac.BillingRead); d.Role != "pod-operator" {
				t.Errorf("Explain names role %q, want pod-operator", d.Role)
			}
			// Redefining takes effect at once for its holders.
			if _, err := r.Teams.DefineRole(ctx, "alice", acct.ID, "pod-operator", []rbac.Action{rbac.PodsConnect}); err != nil {
				t.Fatal(err)
			}
			if r.Can(ctx, "bob", acct.ID, rbac.PodsManage) || !r.Can(ctx, "bob", acct.ID, rbac.PodsConnect) {
				t.Error("Can does not follow the redefined team role")
			}
			if got := rostertest.Newest(t, s, acct.ID, 1); got != "role.defined" {
				t.Errorf("newest event = %s, want role.defined", got)
			}
			roles, err := r.Teams.Roles(ctx, "bob", acct.ID)
			if err != nil || len(roles) != 1 || roles[0].Name != "pod-operator" || roles[0].CreatedBy != "alice" {
				t.Errorf("Roles = %+v, %v", roles, err)
			}
		})

		t.Run("a team role cannot be deleted while held, and its invites go with it", func(t *testing.T) {
			r, s := rostertest.Open(t, b, rbac.Runpod())
			acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodBasic})
			if _, err := r.Teams.DefineRole(ctx, "alice", acct.ID, "viewer", []rbac.Action{rbac.BillingRead}); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Teams.ChangeRole(ctx, "alice", acct.ID, "bob", "viewer"); err != nil {
				t.Fatal(err)
			}
			if err := r.Teams.DeleteRole(ctx, "alice", acct.ID, "viewer"); !errors.Is(err, teams.ErrRoleInUse) {
				t.Fatalf("deleting a held role: error = %v, want ErrRoleInUse", err)
			}
			inv := store.Invite{ID: txn.NewID("inv"), AccountID: acct.ID, Kind: store.InviteLink, Role: "viewer",
				TokenHash: []byte("0123456789abcdef0123456789abcdef"), Status: store.InvitePending, MaxUses: 1, CreatedBy: "alice"}
			if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.CreateInvite(ctx, inv) }); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Teams.ChangeRole(ctx, "alice", acct.ID, "bob", rbac.RunpodBasic); err != nil {
				t.Fatal(err)
			}
			viewerKey, err := r.Keys.CreateService(ctx, "alice", acct.ID, apikeys.Spec{Name: "dashboards", Role: "viewer"})
			if err != nil {
				t.Fatal(err)
			}
			otherKey, err := r.Keys.CreateService(ctx, "alice", acct.ID, apikeys.Spec{Name: "billing", Role: rbac.RunpodBilling})
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Teams.DeleteRole(ctx, "alice", acct.ID, "viewer"); err != nil {
				t.Fatal(err)
			}
			if e := rostertest.Events(t, s, acct.ID)[0]; e.Action != store.EventRoleDeleted || e.ResourceID != "viewer" || e.Before != `{"actions":["billing.read"]}` {
				t.Errorf("the newest event after the deletion: %+v", e)
			}
			if r.Can(ctx, viewerKey.Key.ID, acct.ID, rbac.BillingRead) || !r.Can(ctx, otherKey.Key.ID, acct.ID, rbac.BillingRead) {
				t.Error("the deletion did not revoke exactly the service accounts of the deleted role")
			}
			if _, err := r.Teams.AddMember(ctx, "alice", acct.ID, "bob", "viewer"); !errors.Is(err, rbac.ErrUnknownRole) {
				t.Errorf("granting a deleted role: error = %v, want ErrUnknownRole", err)
			}
			var got store.Invite
			if err := s.View(ctx, func(tx store.Tx) (err error) { got, err = tx.Invite(ctx, inv.ID); return err }); err != nil {
				t.Fatal(err)
			}
			if got.Status != store.InviteRevoked {
				t.Errorf("invite granting the deleted role is %s, want revoked", got.Status)
			}
			if err := r.Teams.DeleteRole(ctx, "alice", acct.ID, "viewer"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("deleting twice: error = %v, want ErrNotFound", err)
			}
		})

		t.Run("nobody defines or grants a team role beyond their own permissions", func(t *testing.T) {
			r, _ := rostertest.Open(t, b, managerPolicy(t))
			acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"mike": "manager", "dan": "dev"})
			if _, err := r.Teams.DefineRole(ctx, "mike", acct.ID, "peeker", []rbac.Action{rbac.BillingRead}); !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("manager defining a billing role: error = %v, want ErrDenied", err)
			}
			if _, err := r.Teams.DefineRole(ctx, "alice", acct.ID, "peeker", []rbac.Action{rbac.BillingRead, rbac.PodsManage}); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Teams.ChangeRole(ctx, "mike", acct.ID, "dan", "peeker"); !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("manager granting a team role with billing: error = %v, want ErrDenied", err)
			}
			if err := r.Teams.DeleteRole(ctx, "mike", acct.ID, "peeker"); !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("manager deleting a team role beyond theirs: error = %v, want ErrDenied", err)
			}
			if _, err := r.Teams.DefineRole(ctx, "dan", acct.ID, "mine", []rbac.Action{rbac.PodsManage}); !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("a dev defining a role: error = %v, want ErrDenied", err)
			}
		})

		t.Run("a team role is granted by invitation", func(t *testing.T) {
			r, _ := rostertest.Open(t, b, rbac.Runpod(), roster.WithBaseURL("https://app.example.com/team"))
			acct := rostertest.Team(t, r, "alice", nil)
			if _, err := r.Teams.DefineRole(ctx, "alice", acct.ID, "invoker", []rbac.Action{rbac.EndpointsInvoke}); err != nil {
				t.Fatal(err)
			}
			inv, err := r.Invites.CreateLink(ctx, "alice", acct.ID, "invoker")
			if err != nil {
				t.Fatal(err)
			}
			rostertest.User(t, r, "bob")
			if _, err := r.Invites.Accept(ctx, "bob", inv.Token); err != nil {
				t.Fatal(err)
			}
			if !r.Can(ctx, "bob", acct.ID, rbac.EndpointsInvoke) || r.Can(ctx, "bob", acct.ID, rbac.PodsConnect) {
				t.Error("the invited member's team role is not what Can answers")
			}
			if _, err := r.Invites.CreateLink(ctx, "alice", acct.ID, "nonesuch"); !errors.Is(err, rbac.ErrUnknownRole) {
				t.Errorf("inviting with an unknown role: error = %v, want ErrUnknownRole", err)
			}
		})

		t.Run("bad team roles are refused", func(t *testing.T) {
			r, s := rostertest.Open(t, b, rbac.Runpod())
			acct := rostertest.Team(t, r, "alice", nil)
			personal := rostertest.User(t, r, "zed")
			rev, ev := rostertest.Writes(t, s)
			for _, tc := range []struct {
				name    string
				account string
				role    string
				actions []rbac.Action
				want    error
			}{
				{"a policy role's name", acct.ID, "admin", []rbac.Action{rbac.PodsManage}, store.ErrExists},
				{"every action", acct.ID, "everything", rbac.Runpod().Actions(), teams.ErrRoleTooBroad},
				{"an unknown action", acct.ID, "odd", []rbac.Action{"pods.fly"}, rbac.ErrUnknownAction},
				{"no action", acct.ID, "empty", nil, store.ErrInvalid},
				{"an empty name", acct.ID, "", []rbac.Action{rbac.PodsManage}, store.ErrInvalid},
				{"a name with a space", acct.ID, "pod operator", []rbac.Action{rbac.PodsManage}, store.ErrInvalid},
				{"an oversized name", acct.ID, strings.Repeat("r", teams.MaxTeamRoleName+1), []rbac.Action{rbac.PodsManage}, store.ErrInvalid},
			} {
				if _, err := r.Teams.DefineRole(ctx, "alice", tc.account, tc.role, tc.actions); !errors.Is(err, tc.want) {
					t.Errorf("%s: error = %v, want %v", tc.name, err, tc.want)
				}
			}
			if _, err := r.Teams.DefineRole(ctx, "zed", personal.ID, "helper", []rbac.Action{rbac.PodsManage}); !errors.Is(err, store.ErrNotTeam) {
				t.Errorf("a role on a personal account: error = %v, want ErrNotTeam", err)
			}
			if rev2, ev2 := rostertest.Writes(t, s); rev2 != rev || ev2 != ev {
				t.Errorf("refused definitions wrote: revision %d -> %d, last event %d -> %d", rev, rev2, ev, ev2)
			}
			longest := strings.Repeat("r", teams.MaxTeamRoleName)
			if role, err := r.Teams.DefineRole(ctx, "alice", acct.ID, longest, []rbac.Action{rbac.PodsManage}); err != nil || role.Name != longest {
				t.Errorf("a name of MaxTeamRoleName bytes: %+v, %v", role, err)
			}
		})
	})
}
