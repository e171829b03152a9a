package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/teamroster/roster/store"
)

// commitMembers creates account (when create is set) and the given members
// in one Update and returns its Commit.
func commitMembers(t testing.TB, s store.Store, account string, create bool, users ...string) store.Commit {
	t.Helper()
	return update(t, s, func(ctx context.Context, tx store.Tx) error {
		if create {
			if err := tx.CreateAccount(ctx, newAccount(account, "owner")); err != nil {
				return err
			}
		}
		for _, u := range users {
			if err := tx.CreateMember(ctx, store.Member{AccountID: account, UserID: u, Role: "role-" + u, JoinedAt: at(0)}); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s suite) changes() []test {
	return []test{
		{"create account records AccountCreated", func(t *testing.T) {
			st := s.open(t)
			c := update(t, st, func(ctx context.Context, tx store.Tx) error {
				return tx.CreateAccount(ctx, newAccount("team1", "owner"))
			})
			want := store.Commit{Revision: 1, Changes: []store.Change{{Revision: 1, Op: store.AccountCreated, AccountID: "team1"}}}
			checkEqual(t, "commit", want, c)
			checkEqual(t, "Changes(0)", want.Changes, changesAfter(t, st, 0))
		}},
		{"member writes record MemberSet and MemberDeleted in order", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1", "u2")
			seedAccounts(t, st, "team1")
			rev := currentRevision(t, st)
			c := update(t, st, func(ctx context.Context, tx store.Tx) error {
				if err := tx.CreateMember(ctx, store.Member{AccountID: "team1", UserID: "u1", Role: "admin"}); err != nil {
					return err
				}
				if err := tx.CreateMember(ctx, store.Member{AccountID: "team1", UserID: "u2", Role: "dev"}); err != nil {
					return err
				}
				if err := tx.UpdateMember(ctx, store.Member{AccountID: "team1", UserID: "u2", Role: "billing"}); err != nil {
					return err
				}
				return tx.DeleteMember(ctx, "team1", "u1")
			})
			r := rev + 1
			want := store.Commit{Revision: r, Changes: []store.Change{
				{Revision: r, Op: store.MemberSet, AccountID: "team1", UserID: "u1", Role: "admin", SignIn: store.SignInEmail},
				{Revision: r, Op: store.MemberSet, AccountID: "team1", UserID: "u2", Role: "dev", SignIn: store.SignInEmail},
				{Revision: r, Op: store.MemberSet, AccountID: "team1", UserID: "u2", Role: "billing", SignIn: store.SignInEmail},
				{Revision: r, Op: store.MemberDeleted, AccountID: "team1", UserID: "u1"},
			}}
			checkEqual(t, "commit", want, c)
			checkEqual(t, "Changes after the previous revision", want.Changes, changesAfter(t, st, rev))
		}},
		{"commit without account or membership changes has no revision", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			rev := currentRevision(t, st)
			c := update(t, st, func(ctx context.Context, tx store.Tx) error {
				if err := tx.CreateUser(ctx, newUser("u1")); err != nil {
					return err
				}
				if err := tx.UpdateUser(ctx, newUser("u1")); err != nil {
					return err
				}
				if _, err := tx.SetActiveAccount(ctx, "u1", "", "team1"); err != nil {
					return err
				}
				if _, err := tx.LockAccount(ctx, "team1"); err != nil {
					return err
				}
				if err := tx.CreateInvite(ctx, newInvite("inv1", "team1", at(0))); err != nil {
					return err
				}
				if err := tx.UpdateInvite(ctx, newInvite("inv1", "team1", at(0))); err != nil {
					return err
				}
				if err := tx.CreateTransfer(ctx, newTransfer("tr1", "team1", at(0))); err != nil {
					return err
				}
				if err := tx.UpdateTransfer(ctx, newTransfer("tr1", "team1", at(0))); err != nil {
					return err
				}
				_, err := tx.AppendEvent(ctx, store.Event{AccountID: "team1", Action: "x"})
				return err
			})
			checkEqual(t, "commit", store.Commit{}, c)
			c = update(t, st, func(context.Context, store.Tx) error { return nil })
			checkEqual(t, "commit of an empty Update", store.Commit{}, c)
			if got := currentRevision(t, st); got != rev {
				t.Errorf("revision = %d, want %d unchanged", got, rev)
			}
			if changes := changesAfter(t, st, rev); len(changes) != 0 {
				t.Errorf("Changes after %d = %+v, want none", rev, changes)
			}
		}},
		{"update account records AccountUpdated", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			seedAccounts(t, st, "team1")
			before, rev := snapshotState(t, st)
			c := update(t, st, func(ctx context.Context, tx store.Tx) error {
				renamed := newAccount("team1", "owner")
				renamed.Name = "Renamed"
				return tx.UpdateAccount(ctx, renamed)
			})
			r := rev + 1
			want := store.Commit{Revision: r, Changes: []store.Change{{Revision: r, Op: store.AccountUpdated, AccountID: "team1"}}}
			checkEqual(t, "commit", want, c)
			c2 := update(t, st, func(ctx context.Context, tx store.Tx) error {
				if err := tx.CreateMember(ctx, store.Member{AccountID: "team1", UserID: "u1", Role: "admin"}); err != nil {
					return err
				}
				return tx.UpdateAccount(ctx, newAccount("team1", "u1"))
			})
			r2 := r + 1
			want2 := store.Commit{Revision: r2, Changes: []store.Change{
				{Revision: r2, Op: store.MemberSet, AccountID: "team1", UserID: "u1", Role: "admin", SignIn: store.SignInEmail},
				{Revision: r2, Op: store.AccountUpdated, AccountID: "team1"},
			}}
			checkEqual(t, "commit of a membership and an account update", want2, c2)
			checkEqual(t, "Changes after the previous revision", append(want.Changes, want2.Changes...), changesAfter(t, st, rev))
			before.apply(changesAfter(t, st, rev))
			now, nowRev := snapshotState(t, st)
			if nowRev != r2 {
				t.Errorf("Snapshot revision = %d, want %d", nowRev, r2)
			}
			checkEqual(t, "snapshot plus changes", now, before)
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error {
				return tx.UpdateAccount(ctx, newAccount("nope", "owner"))
			})
			checkErr(t, "UpdateAccount(nope)", err, store.ErrNotFound)
			if got := currentRevision(t, st); got != r2 {
				t.Errorf("revision after a refused UpdateAccount = %d, want %d", got, r2)
			}
		}},
		{"UpdateUser records UserUpdated when the sign-in method changes", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			rev := currentRevision(t, st)
			u := newUser("u1")
			u.Name, u.Email = "Renamed", "renamed@example.com"
			c := update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateUser(ctx, u) })
			checkEqual(t, "commit of a name and email change", store.Commit{}, c)
			u.SignIn = store.SignInGoogle
			c = update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateUser(ctx, u) })
			r := rev + 1
			want := store.Commit{Revision: r, Changes: []store.Change{{Revision: r, Op: store.UserUpdated, UserID: "u1", SignIn: store.SignInGoogle}}}
			checkEqual(t, "commit of a sign-in change", want, c)
			checkEqual(t, "Changes after the previous revision", want.Changes, changesAfter(t, st, rev))
		}},
		{"secure sign-in reaches Snapshot and Changes", func(t *testing.T) {
			st := s.open(t)
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				for id, method := range map[string]store.SignIn{"u1": store.SignInEmail, "u2": store.SignInGoogle, "u3": store.SignInEmail} {
					u := newUser(id)
					u.SignIn = method
					if err := tx.CreateUser(ctx, u); err != nil {
						return err
					}
				}
				secure := newAccount("strict", "u2")
				secure.RequireSecureSignIn = true
				for _, a := range []store.Account{newAccount("team1", "u1"), secure} {
					if err := tx.CreateAccount(ctx, a); err != nil {
						return err
					}
				}
				for _, m := range []store.Member{
					{AccountID: "team1", UserID: "u1", Role: "admin"}, {AccountID: "team1", UserID: "u2", Role: "dev"},
					{AccountID: "strict", UserID: "u2", Role: "admin"}, {AccountID: "strict", UserID: "u3", Role: "dev"},
				} {
					if err := tx.CreateMember(ctx, m); err != nil {
						return err
					}
				}
				return nil
			})
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				a, err := tx.Account(ctx, "strict")
				if err == nil && !a.RequireSecureSignIn {
					t.Errorf("Account(strict) = %+v, want RequireSecureSignIn", a)
				}
				return err
			})
			snap, rev := snapshotState(t, st)
			want := newState()
			want.Accounts = map[string]bool{"team1": true, "strict": true}
			want.Members = map[string]map[string]string{"team1": {"u1": "admin", "u2": "dev"}, "strict": {"u2": "admin", "u3": "dev"}}
			want.Secure = map[string]bool{"strict": true}
			want.SignIns = map[string]map[string]store.SignIn{"strict": {"u2": store.SignInGoogle, "u3": store.SignInEmail}}
			checkEqual(t, "snapshot", want, snap)

			// team1 starts requiring it: its members' methods follow the
			// AccountUpdated change.
			c := update(t, st, func(ctx context.Context, tx store.Tx) error {
				a, err := tx.Account(ctx, "team1")
				if err != nil {
					return err
				}
				a.RequireSecureSignIn = true
				return tx.UpdateAccount(ctx, a)
			})
			r := rev + 1
			checkEqual(t, "commit turning secure sign-in on", store.Commit{Revision: r, Changes: []store.Change{
				{Revision: r, Op: store.AccountUpdated, AccountID: "team1", RequireSecure: true},
				{Revision: r, Op: store.MemberSet, AccountID: "team1", UserID: "u1", Role: "admin", SignIn: store.SignInEmail},
				{Revision: r, Op: store.MemberSet, AccountID: "team1", UserID: "u2", Role: "dev", SignIn: store.SignInGoogle},
			}}, c)
			// A sign-in change and strict turning it off.
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				u := newUser("u1")
				u.SignIn = store.SignInEmail2FA
				if err := tx.UpdateUser(ctx, u); err != nil {
					return err
				}
				a, err := tx.Account(ctx, "strict")
				if err != nil {
					return err
				}
				a.RequireSecureSignIn = false
				return tx.UpdateAccount(ctx, a)
			})
			snap.apply(changesAfter(t, st, rev))
			now, _ := snapshotState(t, st)
			checkEqual(t, "snapshot plus changes", now, snap)
			want.Secure = map[string]bool{"team1": true}
			want.SignIns = map[string]map[string]store.SignIn{"team1": {"u1": store.SignInEmail2FA, "u2": store.SignInGoogle}}
			checkEqual(t, "snapshot after the changes", want, now)
		}},
		{"revisions are gap-free and one per changing commit", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1", "u2", "u3")
			var commits []store.Commit
			commits = append(commits, commitMembers(t, st, "team1", true, "u1", "u2"))
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.CreateUser(ctx, newUser("u4")) })
			commits = append(commits, commitMembers(t, st, "team2", true))
			commits = append(commits, commitMembers(t, st, "team1", false, "u3"))
			if err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error {
				if err := tx.CreateMember(ctx, store.Member{AccountID: "team2", UserID: "u1", Role: "x"}); err != nil {
					return err
				}
				return errFromFn
			}); err != errFromFn {
				t.Fatalf("rolled-back Update returned %v", err)
			}
			commits = append(commits, commitMembers(t, st, "team2", false, "u4"))
			for i, c := range commits {
				if want := store.Revision(i + 1); c.Revision != want {
					t.Errorf("commit %d has revision %d, want %d", i, c.Revision, want)
				}
			}
			if got := currentRevision(t, st); got != store.Revision(len(commits)) {
				t.Errorf("Snapshot revision = %d, want %d", got, len(commits))
			}
			for i, c := range commits {
				all := changesAfter(t, st, c.Revision-1)
				var first []store.Change
				for _, ch := range all {
					if ch.Revision == c.Revision {
						first = append(first, ch)
					}
				}
				checkEqual(t, fmt.Sprintf("Changes of commit %d", i), c.Changes, first)
				if len(all) > 0 && all[0].Revision != c.Revision {
					t.Errorf("Changes after %d start at revision %d", c.Revision-1, all[0].Revision)
				}
			}
		}},
		{"changes after the current revision are empty", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			c := commitMembers(t, st, "team1", true, "u1")
			for _, rev := range []store.Revision{c.Revision, c.Revision + 1, 1 << 40} {
				if got := changesAfter(t, st, rev); len(got) != 0 {
					t.Errorf("Changes after %d = %+v, want none", rev, got)
				}
			}
		}},
		{"changes limit never splits a commit", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1", "u2", "u3", "u4")
			c1 := commitMembers(t, st, "team1", true, "u1", "u2") // 3 changes
			c2 := commitMembers(t, st, "team2", true, "u3")       // 2 changes
			c3 := commitMembers(t, st, "team1", false, "u4")      // 1 change
			all := append(append(append([]store.Change{}, c1.Changes...), c2.Changes...), c3.Changes...)
			checkEqual(t, "Changes(0, 0)", all, changesAfter(t, st, 0))
			for _, tc := range []struct {
				after store.Revision
				limit int
				want  []store.Change
			}{
				{0, 1, c1.Changes},
				{0, 3, c1.Changes},
				{0, 4, append(append([]store.Change{}, c1.Changes...), c2.Changes...)},
				{0, 6, all},
				{0, 100, all},
				{0, -1, all},
				{1, 1, c2.Changes},
				{2, 1, c3.Changes},
				{3, 1, nil},
			} {
				got, err := st.Changes(t.Context(), tc.after, tc.limit)
				if err != nil {
					t.Fatalf("Changes(%d, %d): %v", tc.after, tc.limit, err)
				}
				if len(got) == 0 && len(tc.want) == 0 {
					continue
				}
				checkEqual(t, fmt.Sprintf("Changes(%d, %d)", tc.after, tc.limit), tc.want, got)
			}
		}},
		{"reading changes page by page yields every commit once", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1", "u2", "u3")
			var want []store.Change
			for i := range 5 {
				c := commitMembers(t, st, fmt.Sprintf("team%d", i), true, "u1", "u2", "u3")
				want = append(want, c.Changes...)
			}
			var got []store.Change
			var rev store.Revision
			for range 10 {
				page, err := st.Changes(t.Context(), rev, 3)
				if err != nil {
					t.Fatalf("Changes(%d, 3): %v", rev, err)
				}
				if len(page) == 0 {
					break
				}
				got = append(got, page...)
				rev = page[len(page)-1].Revision
			}
			checkEqual(t, "paged changes", want, got)
		}},
	}
}
