package storetest

import (
	"context"
	"fmt"
	"strings"
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
			want := newState()
			want.Accounts = map[string]bool{"team1": true, "team2": true, "empty": true}
			want.Members = map[string]map[string]string{"team1": {"u1": "admin", "u2": "role-u2"}}
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
		{"snapshot returns IDs and roles byte for byte", func(t *testing.T) {
			st := s.open(t)
			// IDs a fast reader might split or trim wrongly: separators,
			// digits, quotes, wildcards, spaces, non-ASCII, maximum length.
			long := strings.Repeat("x", store.MaxIDLen)
			users := []string{"1,2", "3", ",1,ab", "ß", long, `q"'`, "%_*", " lead"}
			seedUsers(t, st, users...)
			accounts := []string{"a,b", "12", "1,1,ab", "ü日本", long}
			want := newState()
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				for i, a := range accounts {
					if err := tx.CreateAccount(ctx, newAccount(a, "owner")); err != nil {
						return err
					}
					want.Accounts[a] = true
					want.Members[a] = map[string]string{}
					for j, u := range users {
						role := []string{"r,1", "2", "dév", "-- ;", "x y"}[(i+j)%5]
						if err := tx.CreateMember(ctx, store.Member{AccountID: a, UserID: u, Role: role}); err != nil {
							return err
						}
						want.Members[a][u] = role
					}
				}
				return nil
			})
			got, _ := snapshotState(t, st)
			checkEqual(t, "snapshot", want, got)
		}},
		{"snapshot of thousands of memberships lists each once", func(t *testing.T) {
			st := s.open(t)
			const accounts, perAccount = 250, 10
			var users []string
			for j := range perAccount {
				users = append(users, fmt.Sprintf("user%d", j))
			}
			seedUsers(t, st, users...)
			want := newState()
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				for i := range accounts {
					a := fmt.Sprintf("team%03d", i)
					if err := tx.CreateAccount(ctx, newAccount(a, "owner")); err != nil {
						return err
					}
					want.Accounts[a] = true
					want.Members[a] = map[string]string{}
					for _, u := range users {
						if err := tx.CreateMember(ctx, store.Member{AccountID: a, UserID: u, Role: "dev"}); err != nil {
							return err
						}
						want.Members[a][u] = "dev"
					}
				}
				return nil
			})
			got, _ := snapshotState(t, st) // fails on a membership listed twice
			checkEqual(t, "snapshot", want, got)
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
