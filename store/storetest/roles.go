package storetest

import (
	"context"
	"testing"

	"github.com/teamroster/roster/store"
)

func newTeamRole(account, name string, actions ...string) store.TeamRole {
	return store.TeamRole{AccountID: account, Name: name, Actions: actions, CreatedBy: "owner", CreatedAt: at(1), UpdatedAt: at(1)}
}

func (s suite) teamRoles() []test {
	return []test{
		{"a team role reads back with its actions sorted", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				return tx.PutTeamRole(ctx, newTeamRole("team1", "reviewer", "pods.read", "billing.read"))
			})
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.TeamRole(ctx, "team1", "reviewer")
				if err != nil {
					return err
				}
				checkEqual(t, "team role", newTeamRole("team1", "reviewer", "billing.read", "pods.read"), got)
				return nil
			})
		}},
		{"redefining a team role replaces its actions and keeps its creation", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				return tx.PutTeamRole(ctx, newTeamRole("team1", "reviewer", "a", "b"))
			})
			again := newTeamRole("team1", "reviewer", "c")
			again.CreatedBy, again.CreatedAt, again.UpdatedAt = "someone", at(5), at(5)
			c := update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.PutTeamRole(ctx, again) })
			want := store.Change{Revision: c.Revision, Op: store.RoleSet, AccountID: "team1", Role: "reviewer", Actions: []string{"c"}}
			checkEqual(t, "commit", store.Commit{Revision: c.Revision, Changes: []store.Change{want}}, c)
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.TeamRole(ctx, "team1", "reviewer")
				if err != nil {
					return err
				}
				w := newTeamRole("team1", "reviewer", "c")
				w.UpdatedAt = at(5)
				checkEqual(t, "team role", w, got)
				return nil
			})
		}},
		{"team roles are listed by name, per account", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1", "team2")
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				for _, r := range []store.TeamRole{newTeamRole("team1", "zeta", "a"), newTeamRole("team1", "alpha", "b"), newTeamRole("team2", "other", "c")} {
					if err := tx.PutTeamRole(ctx, r); err != nil {
						return err
					}
				}
				return nil
			})
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.TeamRoles(ctx, "team1")
				if err != nil {
					return err
				}
				checkEqual(t, "team roles", []store.TeamRole{newTeamRole("team1", "alpha", "b"), newTeamRole("team1", "zeta", "a")}, got)
				none, err := tx.TeamRoles(ctx, "nope")
				if err != nil {
					return err
				}
				if len(none) != 0 {
					t.Errorf("TeamRoles(nope) = %v, want none", none)
				}
				return nil
			})
		}},
		{"a deleted team role is gone and its deletion is a change", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				return tx.PutTeamRole(ctx, newTeamRole("team1", "reviewer", "a"))
			})
			c := update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.DeleteTeamRole(ctx, "team1", "reviewer") })
			checkEqual(t, "commit", store.Commit{Revision: c.Revision, Changes: []store.Change{{Revision: c.Revision, Op: store.RoleDeleted, AccountID: "team1", Role: "reviewer"}}}, c)
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				_, err := tx.TeamRole(ctx, "team1", "reviewer")
				checkErr(t, "TeamRole after delete", err, store.ErrNotFound)
				return nil
			})
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error { return tx.DeleteTeamRole(ctx, "team1", "reviewer") })
			checkErr(t, "DeleteTeamRole twice", err, store.ErrNotFound)
		}},
		{"team role errors", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			for name, tc := range map[string]struct {
				r    store.TeamRole
				want error
			}{
				"unknown account":   {newTeamRole("nope", "r", "a"), store.ErrNotFound},
				"empty name":        {newTeamRole("team1", "", "a"), store.ErrInvalid},
				"repeated action":   {newTeamRole("team1", "r", "a", "a"), store.ErrInvalid},
				"empty action":      {newTeamRole("team1", "r", ""), store.ErrInvalid},
				"action with space": {newTeamRole("team1", "r", "a b"), store.ErrInvalid},
			} {
				err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error { return tx.PutTeamRole(ctx, tc.r) })
				checkErr(t, "PutTeamRole with "+name, err, tc.want)
			}
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				_, err := tx.TeamRole(ctx, "team1", "r")
				checkErr(t, "TeamRole after refused puts", err, store.ErrNotFound)
				checkErr(t, "PutTeamRole in View", tx.PutTeamRole(ctx, newTeamRole("team1", "r", "a")), store.ErrInvalid)
				return nil
			})
		}},
		{"snapshot and changes carry team roles", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				return tx.PutTeamRole(ctx, newTeamRole("team1", "keep", "a", "b"))
			})
			snap, rev := snapshotState(t, st)
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				if err := tx.PutTeamRole(ctx, newTeamRole("team1", "gone", "c")); err != nil {
					return err
				}
				return tx.PutTeamRole(ctx, newTeamRole("team1", "keep", "b"))
			})
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.DeleteTeamRole(ctx, "team1", "gone") })
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				return tx.PutTeamRole(ctx, newTeamRole("team1", "empty"))
			})
			snap.apply(changesAfter(t, st, rev))
			now, _ := snapshotState(t, st)
			checkEqual(t, "snapshot plus changes", now, snap)
			checkEqual(t, "roles", map[string]map[string][]string{"team1": {"keep": {"b"}, "empty": {}}}, now.Roles)
		}},
	}
}
