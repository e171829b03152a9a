package roster_test

import (
	"context"
	"testing"

	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// TestTeamRoles holds what the in-memory index does with team roles when a
// Roster loads the store; the team roles' rules are tested in package
// teams.
func TestTeamRoles(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		t.Run("a Roster whose store lists memberships before team roles honours them", func(t *testing.T) {
			r, s := rostertest.Open(t, b, rbac.Runpod())
			acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodBasic})
			if _, err := r.Teams.DefineRole(ctx, "alice", acct.ID, "pod-operator", []rbac.Action{rbac.PodsManage}); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Teams.ChangeRole(ctx, "alice", acct.ID, "bob", "pod-operator"); err != nil {
				t.Fatal(err)
			}
			second := rostertest.New(t, membersFirst{s}, rbac.Runpod())
			if !second.Can(ctx, "bob", acct.ID, rbac.PodsManage) {
				t.Error("a Roster opened on the store denies the holder of a team role")
			}
			if err := second.CheckStrict(ctx, "bob", acct.ID, rbac.PodsManage); err != nil {
				t.Errorf("CheckStrict = %v, want nil", err)
			}
			if d := second.Explain(ctx, "bob", acct.ID, rbac.PodsConnect); d.Role != "pod-operator" {
				t.Errorf("Explain names role %q, want pod-operator", d.Role)
			}
		})
	})
}

// membersFirst is a Store whose Snapshot lists every membership before the
// accounts and team roles, an order the Store contract allows.
type membersFirst struct{ store.Store }

func (s membersFirst) Snapshot(ctx context.Context, fn func(store.SnapshotItem) error) (store.Revision, error) {
	var rest []store.SnapshotItem
	rev, err := s.Store.Snapshot(ctx, func(it store.SnapshotItem) error {
		if it.UserID == "" {
			rest = append(rest, it)
			return nil
		}
		return fn(it)
	})
	if err != nil {
		return 0, err
	}
	for _, it := range rest {
		if err := fn(it); err != nil {
			return 0, err
		}
	}
	return rev, nil
}
