package roster_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

func TestFallbackCheck(t *testing.T) {
	ctx := context.Background()
	p := rostertest.FallbackPolicy(t)
	r, _ := rostertest.Open(t, testdb.Backends()[0], p)
	acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": "dev", "carol": "viewer"})
	rostertest.User(t, r, "dave")
	for _, tc := range []struct {
		name          string
		user, account string
		action        rbac.Action
		want          error // nil: allowed
	}{
		{"an action named only by a pattern is allowed", "bob", acct.ID, "pods.gpu.create", nil},
		{"a listed action is allowed", "carol", acct.ID, "pods.read", nil},
		{"the top role holds what * matches", "alice", acct.ID, "anything.at.all", nil},
		{"an action no rule matches is denied, not unknown", "carol", acct.ID, "pods.gpu.create", rbac.ErrDenied},
		{"a user who is not a member is told so", "dave", acct.ID, "pods.read", rbac.ErrNotMember},
		{"an unknown account is not found", "bob", "acc_nothere", "pods.read", store.ErrNotFound},
		{"an empty action is invalid", "bob", acct.ID, "", store.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assertCheck(t, r, tc.user, tc.account, tc.action, tc.want)
		})
	}
	t.Run("explain names the role", func(t *testing.T) {
		if d := r.Explain(ctx, "bob", acct.ID, "pods.gpu.create"); d.Role != "dev" {
			t.Errorf("Explain role = %q, want dev", d.Role)
		}
	})
}

func TestFallbackFollowsOtherRosters(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		p := rostertest.FallbackPolicy(t)
		r1, s := rostertest.Open(t, b, p)
		acct := rostertest.Team(t, r1, "alice", map[string]rbac.Role{"bob": "dev", "carol": "viewer"})
		stale := instance(t, s, p, roster.WithFollow(0))

		tctx, w := roster.TrackWrites(ctx)
		if err := r1.Teams.RemoveMember(tctx, "alice", acct.ID, "bob"); err != nil {
			t.Fatal(err)
		}
		if _, err := r1.Teams.ChangeRole(tctx, "alice", acct.ID, "carol", "dev"); err != nil {
			t.Fatal(err)
		}
		if !stale.Can(ctx, "bob", acct.ID, "pods.gpu.create") || stale.Can(ctx, "carol", acct.ID, "pods.gpu.create") {
			t.Fatal("a roster that does not follow saw the changes: the test cannot tell CheckStrict and CanAt from Can")
		}
		if err := stale.CheckStrict(ctx, "bob", acct.ID, "pods.gpu.create"); !errors.Is(err, rbac.ErrNotMember) {
			t.Errorf("CheckStrict of the removed member = %v, want ErrNotMember", err)
		}
		if stale.CanAt(ctx, w.Revision(), "bob", acct.ID, "pods.gpu.create") {
			t.Error("CanAt at the removal's revision allows the removed member")
		}
		if err := stale.CheckStrict(ctx, "carol", acct.ID, "pods.gpu.create"); err != nil {
			t.Errorf("CheckStrict of the promoted member = %v, want allowed", err)
		}
		if !stale.Can(ctx, "carol", acct.ID, "pods.gpu.create") {
			t.Error("after catching up, Can denies the promoted member")
		}
	})
}

// TestFallbackUsersAreNotRoles checks that under a policy Casbin decides, a
// user is never taken for a role: neither a user whose ID is a role name,
// nor the holders of a role named like a user given another role.
func TestFallbackUsersAreNotRoles(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		p := rostertest.FallbackPolicy(t)
		r, _ := rostertest.Open(t, b, p)
		// User "admin" is a viewer; user "viewer" is made an admin, which in
		// a Casbin holding users as subjects would make every viewer one.
		acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"admin": "viewer", "bob": "viewer", "viewer": "dev"})
		if _, err := r.Teams.ChangeRole(ctx, "alice", acct.ID, "viewer", "admin"); err != nil {
			t.Fatal(err)
		}
		for _, u := range []string{"admin", "bob"} {
			for _, a := range []rbac.Action{rbac.MembersManage, rbac.AuditRead, "pods.gpu.create"} {
				if r.Can(ctx, u, acct.ID, a) {
					t.Errorf("Can(%s, %s) = true for a viewer", u, a)
				}
				if err := r.CheckStrict(ctx, u, acct.ID, a); !errors.Is(err, rbac.ErrDenied) {
					t.Errorf("CheckStrict(%s, %s) = %v, want ErrDenied", u, a, err)
				}
			}
			if err := r.Teams.RemoveMember(ctx, u, acct.ID, "alice"); !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("a viewer named %q removing the owner: %v, want ErrDenied", u, err)
			}
		}
		if !r.Can(ctx, "viewer", acct.ID, rbac.MembersManage) {
			t.Error("the user named viewer lost the admin role he was given")
		}
	})
}

// TestFallbackGrantsCountPatterns checks that a member cannot grant a role
// whose rights come from a pattern they do not hold, though it names no
// action they lack.
func TestFallbackGrantsCountPatterns(t *testing.T) {
	ctx := context.Background()
	model := strings.Replace(rbac.Runpod().ModelText(), "r.act == p.act", "keyMatch(r.act, p.act)", 1)
	p, err := rbac.Parse("lead", []byte(model), []byte(
		"p, admin, *\np, lead, members.manage\np, lead, members.invite\np, lead, pods.create\np, dev, pods.*\np, helper, pods.create\n"))
	if err != nil {
		t.Fatal(err)
	}
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		r, _ := rostertest.Open(t, b, p, roster.WithBaseURL("https://app.example.com"))
		acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"lee": "lead", "bob": "helper"})
		rostertest.User(t, r, "newcomer")
		if _, err := r.Teams.AddMember(ctx, "lee", acct.ID, "newcomer", "dev"); !errors.Is(err, rbac.ErrDenied) {
			t.Errorf("a lead adding a dev (pods.*): %v, want ErrDenied", err)
		}
		if _, err := r.Teams.ChangeRole(ctx, "lee", acct.ID, "bob", "dev"); !errors.Is(err, rbac.ErrDenied) {
			t.Errorf("a lead making a helper a dev: %v, want ErrDenied", err)
		}
		if _, err := r.Invites.CreateLink(ctx, "lee", acct.ID, "dev"); !errors.Is(err, rbac.ErrDenied) {
			t.Errorf("a lead inviting a dev: %v, want ErrDenied", err)
		}
		if _, err := r.Teams.AddMember(ctx, "lee", acct.ID, "newcomer", "helper"); err != nil {
			t.Errorf("a lead adding a helper, whose rights are his own: %v", err)
		}
	})
}

// TestFallbackDomainModel loads Casbin's canonical domain model, whose rules
// name the teams, and checks that reads and writes follow each team's rules.
func TestFallbackDomainModel(t *testing.T) {
	ctx := context.Background()
	model := strings.NewReplacer(
		"p = sub, act", "p = sub, dom, act",
		"m = g(r.sub, p.sub, r.dom) && r.act == p.act", "m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && r.act == p.act",
	).Replace(rbac.Runpod().ModelText())
	var rules strings.Builder
	for _, a := range []rbac.Action{rbac.MembersInvite, rbac.MembersManage, rbac.SettingsManage, rbac.AuditRead, "pods.read"} {
		rules.WriteString("p, admin, team1, " + string(a) + "\n")
	}
	rules.WriteString("p, viewer, team1, pods.read\np, admin, team2, pods.read\n")
	p, err := rbac.Parse("domains", []byte(model), []byte(rules.String()))
	if err != nil {
		t.Fatalf("the canonical domain model does not load: %v", err)
	}
	if p.Compiled() || p.Top() != "admin" {
		t.Fatalf("Compiled() = %v, Top() = %q; want a fallback policy whose top role is admin", p.Compiled(), p.Top())
	}
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		s := b.Store(t)
		_, err := s.Update(ctx, func(tx store.Tx) error {
			for _, u := range []string{"alice", "bob", "newcomer"} {
				if err := tx.CreateUser(ctx, store.User{ID: u, Email: u + "@example.com", Name: u, SignIn: store.SignInEmail}); err != nil {
					return err
				}
			}
			for _, team := range []string{"team1", "team2"} {
				if err := tx.CreateAccount(ctx, store.Account{ID: team, Kind: store.Team, Name: team, Owner: "alice"}); err != nil {
					return err
				}
				if err := tx.CreateMember(ctx, store.Member{AccountID: team, UserID: "alice", Role: "admin"}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		r := instance(t, s, p)
		if !r.Can(ctx, "alice", "team1", rbac.MembersManage) || r.Can(ctx, "alice", "team2", rbac.MembersManage) {
			t.Error("Can does not follow the rules of each team")
		}
		if _, err := r.Teams.AddMember(ctx, "alice", "team1", "bob", "viewer"); err != nil {
			t.Errorf("adding a member where the rules allow it: %v", err)
		}
		if _, err := r.Teams.AddMember(ctx, "alice", "team2", "newcomer", "viewer"); !errors.Is(err, rbac.ErrDenied) {
			t.Errorf("adding a member where no rule allows it: %v, want ErrDenied", err)
		}
		if !r.Can(ctx, "bob", "team1", "pods.read") || r.Can(ctx, "bob", "team1", rbac.MembersManage) {
			t.Error("the added viewer's rights are not the rules'")
		}
	})
}
