package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/teamroster/roster/store"
)

// partialWorld writes accounts whose snapshot items are of every kind:
// team1 requires secure sign-in and has team roles (one with no actions), a
// member with an end time and a fallback role and a personal API key; team2
// has a suspended member, a service account's key that expires and a
// revoked key; empty has no members. team1's key is narrowed to two
// actions. The users sign in three ways.
func partialWorld(t testing.TB, s store.Store) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, u := range []struct {
			id     string
			signIn store.SignIn
		}{{"u1", store.SignInEmail}, {"u2", store.SignInGoogle}, {"u3", store.SignInEmail2FA}} {
			user := newUser(u.id)
			user.SignIn = u.signIn
			if err := tx.CreateUser(ctx, user); err != nil {
				return err
			}
		}
		secure := newAccount("team1", "u1")
		secure.RequireSecureSignIn = true
		for _, a := range []store.Account{secure, newAccount("team2", "u3"), newAccount("empty", "u3")} {
			if err := tx.CreateAccount(ctx, a); err != nil {
				return err
			}
		}
		for _, r := range []store.TeamRole{newTeamRole("team1", "ops", "a", "b"), newTeamRole("team1", "none"), newTeamRole("team2", "ops", "c")} {
			if err := tx.PutTeamRole(ctx, r); err != nil {
				return err
			}
		}
		for _, m := range []store.Member{
			{AccountID: "team1", UserID: "u1", Role: "admin"},
			{AccountID: "team1", UserID: "u2", Role: "ops", Until: at(60), FallbackRole: "none"},
			{AccountID: "team2", UserID: "u1", Role: "dev", SuspendedAt: at(3), SuspendedBy: "u3"},
			{AccountID: "team2", UserID: "u3", Role: "owner"},
		} {
			if err := tx.CreateMember(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	narrowed := newAPIKey(store.APIKeyIDPrefix+"1", "team1", "u1", at(4))
	narrowed.Actions = []string{"a", "b"}
	expiring := newAPIKey(store.APIKeyIDPrefix+"2", "team2", "", at(4))
	expiring.ExpiresAt = at(90)
	seedKeys(t, s, narrowed, expiring, revokedKey(newAPIKey(store.APIKeyIDPrefix+"3", "team2", "u3", at(4)), at(5)))
}

// only returns the part of st that belongs to the accounts.
func (st *state) only(accounts ...string) *state {
	part := newState()
	for _, a := range accounts {
		if st.Accounts[a] {
			part.Accounts[a] = true
		}
		if st.Secure[a] {
			part.Secure[a] = true
		}
		if m, ok := st.Members[a]; ok {
			part.Members[a] = m
		}
		if r, ok := st.Roles[a]; ok {
			part.Roles[a] = r
		}
		if s, ok := st.SignIns[a]; ok {
			part.SignIns[a] = s
		}
		if tm, ok := st.Terms[a]; ok {
			part.Terms[a] = tm
		}
		for id, k := range st.Keys {
			if k.AccountID == a {
				part.Keys[id] = k
			}
		}
	}
	return part
}

// snapshotAccounts reads the accounts with SnapshotAccounts and returns
// them as a state, before normalize drops the sign-in methods a Snapshot
// need not give, and the revision.
func snapshotAccounts(t testing.TB, r store.AccountReader, accounts ...string) (*state, store.Revision) {
	t.Helper()
	st := newState()
	rev, err := r.SnapshotAccounts(t.Context(), accounts, st.add)
	if err != nil {
		t.Fatalf("SnapshotAccounts of %d accounts: %v", len(accounts), err)
	}
	return st, rev
}

func (s suite) partial() []test {
	// reader opens a store and skips the test if it reads no part of a
	// snapshot.
	reader := func(t *testing.T) (store.Store, store.AccountReader) {
		st := s.open(t)
		r, ok := st.(store.AccountReader)
		if !ok {
			t.Skip("the Store is not a store.AccountReader")
		}
		return st, r
	}
	signIns := map[string]store.SignIn{"u1": store.SignInEmail, "u2": store.SignInGoogle, "u3": store.SignInEmail2FA}
	return []test{
		{"an account's part equals the snapshot's, with the sign-in methods of the members of an account that requires secure sign-in", func(t *testing.T) {
			st, r := reader(t)
			partialWorld(t, st)
			whole, rev := snapshotState(t, st)
			for _, accounts := range [][]string{{"team1"}, {"team2"}, {"empty"}, {"team1", "team2", "empty"}, {"empty", "team2"}} {
				got, gotRev := snapshotAccounts(t, r, accounts...)
				if gotRev != rev {
					t.Errorf("SnapshotAccounts(%q) revision %d, want the snapshot's %d", accounts, gotRev, rev)
				}
				for a, users := range got.Members {
					for u := range users {
						if got.Secure[a] && got.SignIns[a][u] != signIns[u] {
							t.Errorf("SnapshotAccounts(%q): %s in %s signs in with %q, want %q", accounts, u, a, got.SignIns[a][u], signIns[u])
						}
					}
				}
				checkEqual(t, fmt.Sprintf("SnapshotAccounts(%q)", accounts), whole.only(accounts...), got.normalize())
			}
		}},
		{"no accounts, unknown ones and repeated ones", func(t *testing.T) {
			st, r := reader(t)
			partialWorld(t, st)
			_, rev := snapshotState(t, st)
			got, gotRev := snapshotAccounts(t, r)
			checkEqual(t, "SnapshotAccounts of no accounts", newState(), got)
			if gotRev != rev {
				t.Errorf("SnapshotAccounts of no accounts: revision %d, want %d", gotRev, rev)
			}
			got, _ = snapshotAccounts(t, r, "nobody", "team1'--", "")
			checkEqual(t, "SnapshotAccounts of unknown accounts", newState(), got)
			// A membership delivered twice fails state.add.
			got, _ = snapshotAccounts(t, r, "team2", "team2", "nobody", "team2")
			whole, _ := snapshotState(t, st)
			checkEqual(t, "SnapshotAccounts of a repeated account", whole.only("team2"), got.normalize())
		}},
		{"more accounts than one query takes, read at one revision", func(t *testing.T) {
			st, r := reader(t)
			const n = 1200
			seedUsers(t, st, "u1")
			var accounts []string
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				for i := range n {
					a := fmt.Sprintf("team%04d", i)
					accounts = append(accounts, a)
					if err := tx.CreateAccount(ctx, newAccount(a, "u1")); err != nil {
						return err
					}
					if err := tx.CreateMember(ctx, store.Member{AccountID: a, UserID: "u1", Role: "dev"}); err != nil {
						return err
					}
				}
				return nil
			})
			got, _ := snapshotAccounts(t, r, accounts...)
			whole, _ := snapshotState(t, st)
			checkEqual(t, "SnapshotAccounts of 1200 accounts", whole, got.normalize())
		}},
		{"the part at its revision plus later changes equals the part now", func(t *testing.T) {
			st, r := reader(t)
			partialWorld(t, st)
			part, rev := snapshotAccounts(t, r, "team1", "team2")
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				if err := tx.DeleteMember(ctx, "team2", "u1"); err != nil {
					return err
				}
				return tx.UpdateMember(ctx, store.Member{AccountID: "team1", UserID: "u1", Role: "ops"})
			})
			part.normalize().apply(changesAfter(t, st, rev))
			now, _ := snapshotAccounts(t, r, "team1", "team2")
			checkEqual(t, "part plus changes", now.normalize(), part)
		}},
		{"an error from fn stops it and is returned unchanged", func(t *testing.T) {
			st, r := reader(t)
			partialWorld(t, st)
			calls := 0
			_, err := r.SnapshotAccounts(t.Context(), []string{"team1"}, func(store.SnapshotItem) error {
				calls++
				return errFromFn
			})
			if err != errFromFn {
				t.Errorf("SnapshotAccounts returned %v, want fn's error unchanged", err)
			}
			if calls != 1 {
				t.Errorf("fn called %d times after returning an error, want 1", calls)
			}
		}},
		{"closed", func(t *testing.T) {
			st, r := reader(t)
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			_, err := r.SnapshotAccounts(t.Context(), []string{"team1"}, func(store.SnapshotItem) error { return nil })
			checkErr(t, "SnapshotAccounts after Close", err, store.ErrClosed)
		}},
	}
}
