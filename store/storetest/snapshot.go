package storetest

import (
	"context"
	"testing"

	"github.com/teamroster/roster/store"
)

func (s suite) snapshot() []test {
	return []test{
		{"empty store has revision zero and no items", func(t *testing.T) {
			st := s.open(t)
			got, rev := snapshotState(t, st)
			if rev != 0 {
				t.Errorf("revision = %d, want 0", rev)
			}
			checkEqual(t, "snapshot", newState(), got)
		}},
		{"snapshot lists every account and membership", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1", "u2")
			commitMembers(t, st, "team1", true, "u1", "u2")
			commitMembers(t, st, "team2", true, "u2")
			c := commitMembers(t, st, "empty", true)
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				return tx.UpdateMember(ctx, store.Member{AccountID: "team1", UserID: "u1", Role: "admin"})
			})
			c2 := update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.DeleteMember(ctx, "team2", "u2") })
			got, rev := snapshotState(t, st)
			if rev != c2.Revision || rev != c.Revision+2 {
				t.Errorf("revision = %d, want %d", rev, c2.Revision)
			}
			want := &state{
				Accounts: map[string]bool{"team1": true, "team2": true, "empty": true},
				Members:  map[string]map[string]string{"team1": {"u1": "admin", "u2": "role-u2"}},
				Roles:    map[string]map[string][]string{},
			}
			checkEqual(t, "snapshot", want, got)
		}},
		{"snapshot plus later changes equals the current state", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1", "u2", "u3")
			commitMembers(t, st, "team1", true, "u1", "u2")
			snap, rev := snapshotState(t, st)
			commitMembers(t, st, "team2", true, "u3")
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				if err := tx.DeleteMember(ctx, "team1", "u1"); err != nil {
					return err
				}
				return tx.UpdateMember(ctx, store.Member{AccountID: "team1", UserID: "u2", Role: "admin"})
			})
			commitMembers(t, st, "team1", false, "u1")
			snap.apply(changesAfter(t, st, rev))
			now, _ := snapshotState(t, st)
			checkEqual(t, "snapshot plus changes", now, snap)
		}},
		{"error from fn stops snapshot and is returned unchanged", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1", "u2")
			commitMembers(t, st, "team1", true, "u1", "u2")
			calls := 0
			_, err := st.Snapshot(t.Context(), func(store.SnapshotItem) error {
				calls++
				return errFromFn
			})
			if err != errFromFn {
				t.Errorf("Snapshot returned %v, want fn's error unchanged", err)
			}
			if calls != 1 {
				t.Errorf("fn called %d times after returning an error, want 1", calls)
			}
		}},
	}
}
