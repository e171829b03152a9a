package roster_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// keyMatchPolicy returns a policy that is not compiled: roster's model with
// keyMatch on actions, where dev holds every pods.* action and viewer
// pods.read.
func keyMatchPolicy(t *testing.T) *rbac.Policy {
	t.Helper()
	model := strings.Replace(rbac.Runpod().ModelText(), "r.act == p.act", "keyMatch(r.act, p.act)", 1)
	p, err := rbac.Parse("pods", []byte(model), []byte("p, admin, *\np, dev, pods.*\np, viewer, pods.read\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Compiled() {
		t.Fatal("the policy is compiled: the test would not exercise the fallback")
	}
	return p
}

func TestFallbackCheck(t *testing.T) {
	ctx := context.Background()
	p := keyMatchPolicy(t)
	r, _ := newRoster(t, testdb.Backends()[0], p)
	acct := team(t, r, "alice", map[string]rbac.Role{"bob": "dev", "carol": "viewer"})
	user(t, r, "dave")
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
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		p := keyMatchPolicy(t)
		r1, s := newRoster(t, b, p)
		acct := team(t, r1, "alice", map[string]rbac.Role{"bob": "dev", "carol": "viewer"})
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
