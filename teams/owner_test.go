package teams_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/apikeys"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teams"
)

// TestOwner checks the account owner's rules (see the package
// documentation) on both presets: nobody but the owner deletes or hands
// over the team, nobody removes or demotes the owner, the owner does not
// leave, and no role short of the owner takes the account over.
func TestOwner(t *testing.T) {
	ctx := context.Background()
	for _, p := range []*rbac.Policy{rbac.Runpod(), rbac.DigitalOcean()} {
		top := p.Top()
		t.Run(p.Name(), func(t *testing.T) {
			rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
				// alice owns the team; bob holds the top role as well.
				setup := func(t *testing.T) (*roster.Roster, store.Store, *rostertest.Inbox, store.Account) {
					in := &rostertest.Inbox{}
					r, s := rostertest.Open(t, b, p, roster.WithNotifier(in), roster.WithBaseURL("https://app.example.com"))
					acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"carol": lowest(p)})
					rostertest.User(t, r, "bob")
					if _, err := r.Teams.AddMember(ctx, "alice", acct.ID, "bob", lowest(p)); err != nil {
						t.Fatal(err)
					}
					in.MakeTop(t, r, "alice", acct.ID, "bob")
					return r, s, in, acct
				}

				t.Run("another holder of the top role cannot delete the team", func(t *testing.T) {
					r, s, _, acct := setup(t)
					_, err := r.Teams.DeleteTeam(ctx, "bob", acct.ID)
					if !errors.Is(err, teams.ErrNotOwner) || !errors.Is(err, rbac.ErrDenied) {
						t.Fatalf("DeleteTeam by bob: %v, want ErrNotOwner (a denial)", err)
					}
					got, err := r.Teams.Account(ctx, "alice", acct.ID)
					if err != nil || got.Kind != store.Team || got.Owner != "alice" {
						t.Errorf("account after the refusal = %+v (%v), want alice's team", got, err)
					}
					if _, err := r.Teams.Account(ctx, "carol", acct.ID); err != nil {
						t.Errorf("carol lost her membership: %v", err)
					}
					if e := rostertest.Events(t, s, acct.ID)[0]; e.Action != store.EventAccountTeamDeleted || e.Result != store.Denied || e.Actor != "bob" {
						t.Errorf("newest event = %s %s by %s, want bob's denied %s", e.Action, e.Result, e.Actor, store.EventAccountTeamDeleted)
					}
				})
				t.Run("nobody removes the owner", func(t *testing.T) {
					r, _, _, acct := setup(t)
					if err := r.Teams.RemoveMember(ctx, "bob", acct.ID, "alice"); !errors.Is(err, teams.ErrLastOwner) {
						t.Fatalf("RemoveMember(alice) by bob: %v, want ErrLastOwner", err)
					}
					if err := r.Teams.RemoveMember(ctx, "alice", acct.ID, "alice"); !errors.Is(err, teams.ErrLastOwner) {
						t.Fatalf("RemoveMember(alice) by alice: %v, want ErrLastOwner", err)
					}
					if !r.Can(ctx, "alice", acct.ID, rbac.MembersManage) {
						t.Error("alice lost access")
					}
				})
				t.Run("nobody demotes the owner", func(t *testing.T) {
					r, _, _, acct := setup(t)
					for _, actor := range []string{"bob", "alice"} {
						if _, err := r.Teams.ChangeRole(ctx, actor, acct.ID, "alice", lowest(p)); !errors.Is(err, teams.ErrLastOwner) {
							t.Errorf("ChangeRole(alice) by %s: %v, want ErrLastOwner", actor, err)
						}
					}
					if !p.TopByTransfer() {
						if m, err := r.Teams.ChangeRole(ctx, "bob", acct.ID, "alice", top); err != nil || m.Role != string(top) {
							t.Errorf("ChangeRole(alice) to the role she holds: %+v, %v; want no change", m, err)
						}
					}
				})
				t.Run("the owner does not leave, other holders of the top role do", func(t *testing.T) {
					r, _, _, acct := setup(t)
					if err := r.Teams.Leave(ctx, "alice", acct.ID); !errors.Is(err, teams.ErrLastOwner) {
						t.Fatalf("Leave by alice: %v, want ErrLastOwner", err)
					}
					if err := r.Teams.Leave(ctx, "bob", acct.ID); err != nil {
						t.Fatalf("Leave by bob: %v", err)
					}
				})
				t.Run("only the owner hands the account over", func(t *testing.T) {
					r, _, _, acct := setup(t)
					if _, err := r.Teams.TransferOwnership(ctx, "bob", acct.ID, "carol"); !errors.Is(err, teams.ErrNotOwner) {
						t.Fatalf("TransferOwnership by bob: %v, want ErrNotOwner", err)
					}
				})
				t.Run("a confirmed and accepted handover moves the account and its rules", func(t *testing.T) {
					r, s, in, acct := setup(t)
					tr, err := r.Teams.TransferOwnership(ctx, "alice", acct.ID, "carol")
					if err != nil {
						t.Fatal(err)
					}
					if tr.Kind != store.TransferAccount {
						t.Errorf("transfer kind = %q, want %q", tr.Kind, store.TransferAccount)
					}
					if got, _ := r.Teams.Account(ctx, "alice", acct.ID); got.Owner != "alice" {
						t.Fatalf("owner before acceptance = %q, want alice", got.Owner)
					}
					in.Transfer(t, r, tr)
					got, err := r.Teams.Account(ctx, "carol", acct.ID)
					if err != nil || got.Owner != "carol" {
						t.Fatalf("owner after acceptance = %q (%v), want carol", got.Owner, err)
					}
					if !r.Can(ctx, "carol", acct.ID, rbac.SettingsManage) {
						t.Error("the new owner lacks the top role's rights")
					}
					if !r.Can(ctx, "alice", acct.ID, rbac.SettingsManage) {
						t.Error("the previous owner lost their role")
					}
					if es := rostertest.Events(t, s, acct.ID); !hasEvent(es, store.EventAccountOwnerChanged, "carol") {
						t.Error("no account.owner_changed event")
					}
					// The rules follow the owner.
					if _, err := r.Teams.DeleteTeam(ctx, "alice", acct.ID); !errors.Is(err, teams.ErrNotOwner) {
						t.Errorf("DeleteTeam by the previous owner: %v, want ErrNotOwner", err)
					}
					if err := r.Teams.Leave(ctx, "carol", acct.ID); !errors.Is(err, teams.ErrLastOwner) {
						t.Errorf("Leave by the new owner: %v, want ErrLastOwner", err)
					}
					if err := r.Teams.RemoveMember(ctx, "carol", acct.ID, "alice"); err != nil {
						t.Errorf("the new owner removing the previous one: %v", err)
					}
					deleted, err := r.Teams.DeleteTeam(ctx, "carol", acct.ID)
					if err != nil || deleted.Kind != store.Personal || deleted.Owner != "carol" {
						t.Errorf("DeleteTeam by the new owner = %+v, %v; want carol's personal account", deleted, err)
					}
				})
				t.Run("the owner deletes the team and keeps the account", func(t *testing.T) {
					r, s, _, acct := setup(t)
					keys := map[string]string{} // whose -> key ID
					for _, whose := range []string{"alice", "bob", "service"} {
						var k apikeys.Created
						var err error
						if whose == "service" {
							k, err = r.Keys.CreateService(ctx, "alice", acct.ID, apikeys.Spec{Name: "ci", Role: lowest(p)})
						} else {
							k, err = r.Keys.Create(ctx, whose, acct.ID, apikeys.Spec{Name: whose})
						}
						if err != nil {
							t.Fatal(err)
						}
						keys[whose] = k.Key.ID
					}
					for range 2 {
						if _, err := r.Invites.CreateLink(ctx, "alice", acct.ID, lowest(p)); err != nil {
							t.Fatal(err)
						}
					}
					if _, err := r.Teams.TransferOwnership(ctx, "alice", acct.ID, "carol"); err != nil {
						t.Fatal(err)
					}
					if _, err := r.Teams.GrantTopRole(ctx, "alice", acct.ID, "carol"); err != nil {
						t.Fatal(err)
					}
					got, err := r.Teams.DeleteTeam(ctx, "alice", acct.ID)
					if err != nil || got.Kind != store.Personal || got.Owner != "alice" || got.ID != acct.ID {
						t.Fatalf("DeleteTeam = %+v, %v; want alice's personal account %s", got, err, acct.ID)
					}
					for _, u := range []string{"bob", "carol"} {
						if _, err := r.Teams.Account(ctx, u, acct.ID); !errors.Is(err, rbac.ErrNotMember) {
							t.Errorf("%s after the deletion: %v, want ErrNotMember", u, err)
						}
					}
					// Every pending invite is revoked, every open transfer cancelled.
					revoked, cancelled := 0, 0
					for _, e := range rostertest.Events(t, s, acct.ID) {
						switch {
						case e.Action == store.EventInviteRevoked && e.Reason == "team deleted":
							revoked++
						case e.Action == store.EventTransferCancelled && e.Reason == "team deleted":
							cancelled++
						}
					}
					if revoked != 2 || cancelled != 2 {
						t.Errorf("invites revoked, transfers cancelled by the deletion: %d, %d; want 2, 2", revoked, cancelled)
					}
					if inv, _, err := r.Invites.Pending(ctx, "alice", acct.ID, store.Page{}); err != nil || len(inv) != 0 {
						t.Errorf("pending invites after the deletion: %d, %v", len(inv), err)
					}
					// The other members' keys go with them, the service
					// accounts are revoked, and the owner's own keys stay.
					act := p.RoleActions(lowest(p))[0] // which every key here held
					for whose, want := range map[string]bool{"alice": true, "bob": false, "service": false} {
						if r.Can(ctx, keys[whose], acct.ID, act) != want {
							t.Errorf("%s's key may act after the deletion: %v, want %v", whose, !want, want)
						}
					}
				})
			})
		})
	}
}

// TestNarrowRoleCannotTakeOver gives a member a team role holding only
// account.access and settings.manage, and tries every way to the account.
func TestNarrowRoleCannotTakeOver(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		r, s := rostertest.Open(t, b, rbac.Runpod())
		acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodAdmin})
		if _, err := r.Teams.DefineRole(ctx, "alice", acct.ID, "settings", []rbac.Action{rbac.AccountAccess, rbac.SettingsManage}); err != nil {
			t.Fatal(err)
		}
		rostertest.User(t, r, "mallory")
		if _, err := r.Teams.AddMember(ctx, "alice", acct.ID, "mallory", "settings"); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Teams.DeleteTeam(ctx, "mallory", acct.ID); !errors.Is(err, teams.ErrNotOwner) {
			t.Errorf("DeleteTeam: %v, want ErrNotOwner", err)
		}
		if _, err := r.Teams.TransferOwnership(ctx, "mallory", acct.ID, "mallory"); !errors.Is(err, rbac.ErrDenied) {
			t.Errorf("TransferOwnership: %v, want a denial", err)
		}
		if _, err := r.Teams.GrantTopRole(ctx, "mallory", acct.ID, "bob"); !errors.Is(err, rbac.ErrDenied) {
			t.Errorf("GrantTopRole: %v, want a denial", err)
		}
		if _, err := r.Audit.Prune(ctx, "mallory", acct.ID, time.Now()); !errors.Is(err, rbac.ErrDenied) {
			t.Errorf("Prune: %v, want a denial", err)
		}
		if _, err := r.Teams.Rename(ctx, "mallory", acct.ID, "Renamed"); err != nil {
			t.Errorf("Rename, which settings.manage allows: %v", err)
		}
		got, err := r.Teams.Account(ctx, "alice", acct.ID)
		if err != nil || got.Kind != store.Team || got.Owner != "alice" {
			t.Fatalf("account = %+v (%v), want alice's team", got, err)
		}
		for _, u := range []string{"alice", "bob"} {
			if !r.Can(ctx, u, acct.ID, rbac.MembersManage) {
				t.Errorf("%s lost the admin's rights", u)
			}
		}
		if r.Can(ctx, "mallory", acct.ID, rbac.AuditRead) {
			t.Error("mallory can read the audit log")
		}
		if es := rostertest.Events(t, s, acct.ID); !hasDenied(es, store.EventAccountTeamDeleted, "mallory") {
			t.Error("the refused DeleteTeam is not in the log")
		}
	})
}

// TestOrphanedTeamAdoptsOwner stores a team whose recorded owner is no
// longer a member, as earlier versions allowed, and checks that it adopts
// its earliest-joined holder of the top role as owner, once.
func TestOrphanedTeamAdoptsOwner(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		r, s := rostertest.Open(t, b, rbac.Runpod())
		acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"carol": rbac.RunpodAdmin})
		rostertest.User(t, r, "bob")
		if _, err := r.Teams.AddMember(ctx, "alice", acct.ID, "bob", rbac.RunpodAdmin); err != nil {
			t.Fatal(err)
		}
		// The converter left, as earlier versions let them.
		if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.DeleteMember(ctx, acct.ID, "alice") }); err != nil {
			t.Fatal(err)
		}
		if err := r.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Teams.DeleteTeam(ctx, "bob", acct.ID); !errors.Is(err, teams.ErrNotOwner) {
			t.Fatalf("DeleteTeam by bob, who joined after carol: %v, want ErrNotOwner", err)
		}
		got, err := r.Teams.DeleteTeam(ctx, "carol", acct.ID)
		if err != nil || got.Owner != "carol" || got.Kind != store.Personal {
			t.Fatalf("DeleteTeam by carol = %+v, %v; want carol's personal account", got, err)
		}
		if es := rostertest.Events(t, s, acct.ID); !hasEvent(es, store.EventAccountOwnerChanged, "carol") {
			t.Error("the adoption is not in the log")
		}
	})
}

// TestRedefineRoleNeedsItsActions checks that redefining a team role needs
// every action it holds now, as changing, removing or deleting its holders
// does.
func TestRedefineRoleNeedsItsActions(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		r, _ := rostertest.Open(t, b, rbac.Runpod())
		acct := rostertest.Team(t, r, "alice", nil)
		define := func(actor, name string, actions ...rbac.Action) error {
			_, err := r.Teams.DefineRole(ctx, actor, acct.ID, name, actions)
			return err
		}
		if err := define("alice", "finance", rbac.AccountAccess, rbac.BillingRead, rbac.BillingManage); err != nil {
			t.Fatal(err)
		}
		if err := define("alice", "lead", rbac.AccountAccess, rbac.MembersManage); err != nil {
			t.Fatal(err)
		}
		rostertest.User(t, r, "lee")
		if _, err := r.Teams.AddMember(ctx, "alice", acct.ID, "lee", "lead"); err != nil {
			t.Fatal(err)
		}
		if err := define("lee", "finance", rbac.AccountAccess); !errors.Is(err, rbac.ErrDenied) {
			t.Fatalf("lee narrowing finance, whose billing actions he lacks: %v, want ErrDenied", err)
		}
		if err := define("lee", "helper", rbac.AccountAccess); err != nil {
			t.Fatalf("lee defining a role within his own: %v", err)
		}
		if err := define("lee", "helper", rbac.AccountAccess, rbac.MembersManage); err != nil {
			t.Fatalf("lee redefining a role he covers: %v", err)
		}
	})
}

// TestTeamRoleLimit checks the per-account limit on team roles.
func TestTeamRoleLimit(t *testing.T) {
	ctx := context.Background()
	r, _ := rostertest.Open(t, testdb.Backends()[0], rbac.Runpod())
	acct := rostertest.Team(t, r, "alice", nil)
	other := rostertest.Team(t, r, "olga", nil)
	for i := range teams.MaxTeamRoles {
		if _, err := r.Teams.DefineRole(ctx, "alice", acct.ID, roleName(i), []rbac.Action{rbac.PodsConnect}); err != nil {
			t.Fatalf("role %d: %v", i, err)
		}
	}
	if _, err := r.Teams.DefineRole(ctx, "alice", acct.ID, "one-more", []rbac.Action{rbac.PodsConnect}); !errors.Is(err, teams.ErrTooManyRoles) {
		t.Fatalf("role %d: %v, want ErrTooManyRoles", teams.MaxTeamRoles+1, err)
	}
	if _, err := r.Teams.DefineRole(ctx, "alice", acct.ID, roleName(0), []rbac.Action{rbac.PodsConnect, rbac.PodsManage}); err != nil {
		t.Errorf("redefining a role at the limit: %v", err)
	}
	if _, err := r.Teams.DefineRole(ctx, "olga", other.ID, "ops", []rbac.Action{rbac.PodsConnect}); err != nil {
		t.Errorf("another team defining a role: %v", err)
	}
}

func roleName(i int) string { return "role-" + string(rune('a'+i/26)) + string(rune('a'+i%26)) }

// lowest returns the policy's first role that is not its top role.
func lowest(p *rbac.Policy) rbac.Role {
	for _, r := range p.Roles() {
		if !p.IsTop(r) {
			return r
		}
	}
	panic("every role is top")
}

// hasEvent reports whether an allowed event of action names target in its
// After value.
func hasEvent(es []store.Event, action store.EventAction, target string) bool {
	for _, e := range es {
		if e.Action == action && e.Result == store.Allowed && containsValue(e.After, target) {
			return true
		}
	}
	return false
}

// hasDenied reports whether a denied event of action by actor is in es.
func hasDenied(es []store.Event, action store.EventAction, actor string) bool {
	for _, e := range es {
		if e.Action == action && e.Result == store.Denied && e.Actor == actor {
			return true
		}
	}
	return false
}

// containsValue reports whether the JSON object text has the string value v.
func containsValue(json, v string) bool { return strings.Contains(json, `"`+v+`"`) }

// TestDeleteTeamLeavesTheOwnerTheTopRole: under a policy with two roles
// that hold every action, an owner holding the second (which a transfer
// does not change) holds the policy's top role in the personal account
// the team reverts to, as every personal account's owner does.
func TestDeleteTeamLeavesTheOwnerTheTopRole(t *testing.T) {
	ctx := context.Background()
	base := rbac.Runpod()
	var boss strings.Builder
	for line := range strings.Lines(base.PolicyText()) {
		if a, ok := strings.CutPrefix(line, "p, admin, "); ok {
			boss.WriteString("p, boss, " + a)
		}
	}
	p, err := rbac.Parse("two-tops", []byte(base.ModelText()), []byte(base.PolicyText()+"\n"+boss.String()))
	if err != nil {
		t.Fatal(err)
	}
	if p.Top() != rbac.RunpodAdmin || !p.IsTop("boss") {
		t.Fatalf("the policy's top role is %s, boss is top: %v; want admin and true", p.Top(), p.IsTop("boss"))
	}
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		in := &rostertest.Inbox{}
		r, s := rostertest.Open(t, b, p, roster.WithNotifier(in))
		acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": "boss"})
		tr, err := r.Teams.TransferOwnership(ctx, "alice", acct.ID, "bob")
		if err != nil {
			t.Fatal(err)
		}
		in.Transfer(t, r, tr)
		if got, err := r.Teams.DeleteTeam(ctx, "bob", acct.ID); err != nil || got.Kind != store.Personal {
			t.Fatalf("DeleteTeam = %+v, %v", got, err)
		}
		if r.Can(ctx, "alice", acct.ID, rbac.AccountAccess) {
			t.Error("the previous owner is still a member")
		}
		var m store.Member
		if err := s.View(ctx, func(tx store.Tx) (err error) { m, err = tx.Member(ctx, acct.ID, "bob"); return err }); err != nil {
			t.Fatal(err)
		}
		if m.Role != string(rbac.RunpodAdmin) {
			t.Errorf("the owner's role in the reverted account: %s, want %s", m.Role, rbac.RunpodAdmin)
		}
	})
}
