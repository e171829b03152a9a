package storetest

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/teamroster/roster/store"
)

// memberSet returns the MemberSet change that writing m, whose user signs
// in by email as newUser's do, records at revision rev.
func memberSet(rev store.Revision, m store.Member) store.Change {
	return store.Change{Revision: rev, Op: store.MemberSet, AccountID: m.AccountID, UserID: m.UserID, Role: m.Role,
		SignIn: store.SignInEmail, ExpiresAt: m.Until, FallbackRole: m.FallbackRole, Suspended: m.Suspended()}
}

// seedMembers creates the memberships in one Update.
func seedMembers(t testing.TB, s store.Store, ms ...store.Member) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, m := range ms {
			if err := tx.CreateMember(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
}

// readMember returns the membership of user in account and fails the test
// if there is none.
func readMember(t testing.TB, s store.Store, account, user string) store.Member {
	t.Helper()
	var m store.Member
	view(t, s, func(ctx context.Context, tx store.Tx) (err error) {
		m, err = tx.Member(ctx, account, user)
		return err
	})
	return m
}

// readAccount returns the account with the given ID and fails the test if
// there is none.
func readAccount(t testing.TB, s store.Store, id string) store.Account {
	t.Helper()
	var a store.Account
	view(t, s, func(ctx context.Context, tx store.Tx) (err error) {
		a, err = tx.Account(ctx, id)
		return err
	})
	return a
}

// expiredMembers returns ExpiredMembers(now, limit) and fails the test on
// error.
func expiredMembers(t testing.TB, s store.Store, now time.Time, limit int) []store.Member {
	t.Helper()
	var ms []store.Member
	view(t, s, func(ctx context.Context, tx store.Tx) (err error) {
		ms, err = tx.ExpiredMembers(ctx, now, limit)
		return err
	})
	return ms
}

// checkSeats fails the test unless Seats(account, now) counts members and
// pending.
func checkSeats(t testing.TB, s store.Store, account string, now time.Time, members, pending int) {
	t.Helper()
	view(t, s, func(ctx context.Context, tx store.Tx) error {
		m, p, err := tx.Seats(ctx, account, now)
		if err != nil {
			return err
		}
		if m != members || p != pending {
			t.Errorf("Seats(%s, %v) = %d members, %d pending; want %d, %d", account, now, m, p, members, pending)
		}
		return nil
	})
}

// checkMembers fails the test unless got, a list of memberships, equals
// want; two empty lists are equal, nil or not.
func checkMembers(t testing.TB, what string, want, got []store.Member) {
	t.Helper()
	if len(want) == 0 && len(got) == 0 {
		return
	}
	checkEqual(t, what, want, got)
}

func (s suite) seats() []test {
	return []test{
		{"a seat limit reads back from every read of the account", func(t *testing.T) {
			st := s.open(t)
			small, huge, unlimited := newAccount("team1", "owner"), newAccount("team2", "owner"), newAccount("team3", "owner")
			small.SeatLimit, huge.SeatLimit = 5, math.MaxInt
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				for _, a := range []store.Account{small, huge, unlimited} {
					if err := tx.CreateAccount(ctx, a); err != nil {
						return err
					}
				}
				got, err := tx.LockAccount(ctx, "team1")
				checkEqual(t, "LockAccount(team1)", small, got)
				return err
			})
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				for _, want := range []store.Account{small, huge, unlimited} {
					got, err := tx.Account(ctx, want.ID)
					if err != nil {
						return err
					}
					checkEqual(t, "Account("+want.ID+")", want, got)
				}
				got, err := tx.AccountsByID(ctx, []string{"team3", "team1", "team2"})
				checkEqual(t, "AccountsByID", []store.Account{small, huge, unlimited}, got)
				return err
			})
			// Raised from no limit, and lowered to none.
			small.SeatLimit, unlimited.SeatLimit = 0, 2
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				if err := tx.UpdateAccount(ctx, small); err != nil {
					return err
				}
				return tx.UpdateAccount(ctx, unlimited)
			})
			checkEqual(t, "team1 after UpdateAccount", small, readAccount(t, st, "team1"))
			checkEqual(t, "team3 after UpdateAccount", unlimited, readAccount(t, st, "team3"))
		}},
		{"a negative seat limit returns ErrInvalid and writes nothing", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			rev := currentRevision(t, st)
			c := update(t, st, func(ctx context.Context, tx store.Tx) error {
				created := newAccount("team2", "owner")
				created.SeatLimit = -1
				checkErr(t, "CreateAccount with a negative seat limit", tx.CreateAccount(ctx, created), store.ErrInvalid)
				updated := newAccount("team1", "owner")
				updated.Name, updated.SeatLimit = "Renamed", -3
				checkErr(t, "UpdateAccount with a negative seat limit", tx.UpdateAccount(ctx, updated), store.ErrInvalid)
				return nil
			})
			checkEqual(t, "commit of refused writes", store.Commit{}, c)
			checkEqual(t, "team1", newAccount("team1", "owner"), readAccount(t, st, "team1"))
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				_, err := tx.Account(ctx, "team2")
				checkErr(t, "Account(team2)", err, store.ErrNotFound)
				return nil
			})
			if got := currentRevision(t, st); got != rev {
				t.Errorf("revision = %d after refused writes, want %d", got, rev)
			}
		}},
		{"a membership's end time, fallback role and suspension read back from every read", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1", "u2", "u3")
			seedAccounts(t, st, "team1", "team2")
			cet := time.FixedZone("CET", 3600)
			granted := store.Member{AccountID: "team1", UserID: "u1", Role: "admin", JoinedAt: at(1),
				Until: time.Date(2025, 4, 1, 12, 0, 0, 123456000, cet), FallbackRole: "dev"}
			ending := store.Member{AccountID: "team1", UserID: "u2", Role: "dev", JoinedAt: at(2), Until: at(60)}
			suspended := store.Member{AccountID: "team1", UserID: "u3", Role: "dev", JoinedAt: at(3),
				SuspendedAt: time.Date(2025, 3, 14, 12, 0, 0, 0, cet), SuspendedBy: "u1"}
			both := store.Member{AccountID: "team2", UserID: "u1", Role: "billing", JoinedAt: at(4), Until: at(90),
				SuspendedAt: at(5), SuspendedBy: "owner"}
			plain := store.Member{AccountID: "team2", UserID: "u2", Role: "dev", JoinedAt: at(5)}
			seedMembers(t, st, granted, ending, suspended, both, plain)
			granted.Until, suspended.SuspendedAt = granted.Until.UTC(), suspended.SuspendedAt.UTC() // a Store returns UTC
			for _, want := range []store.Member{granted, ending, suspended, both, plain} {
				checkEqual(t, "Member("+want.AccountID+", "+want.UserID+")", want, readMember(t, st, want.AccountID, want.UserID))
			}
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				ms, err := tx.Members(ctx, "team1", store.Range{})
				if err != nil {
					return err
				}
				checkEqual(t, "Members(team1)", []store.Member{granted, ending, suspended}, ms)
				ms, err = tx.Memberships(ctx, "u1", store.Range{})
				checkEqual(t, "Memberships(u1)", []store.Member{granted, both}, ms)
				return err
			})
			checkEqual(t, "ExpiredMembers in 2100", []store.Member{ending, both, granted},
				expiredMembers(t, st, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), 0))
		}},
		{"update member replaces the role and terms and keeps JoinedAt", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			seedAccounts(t, st, "team1")
			m := seedMember(t, st, "team1", "u1", "dev", at(3))
			changed := store.Member{AccountID: "team1", UserID: "u1", Role: "admin", JoinedAt: at(99),
				Until: at(30), FallbackRole: "dev", SuspendedAt: at(10), SuspendedBy: "owner"}
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateMember(ctx, changed) })
			want := changed
			want.JoinedAt = m.JoinedAt
			checkEqual(t, "member with terms", want, readMember(t, st, "team1", "u1"))
			// Reinstated, and the grant made permanent.
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				return tx.UpdateMember(ctx, store.Member{AccountID: "team1", UserID: "u1", Role: "admin"})
			})
			checkEqual(t, "member without terms", store.Member{AccountID: "team1", UserID: "u1", Role: "admin", JoinedAt: at(3)},
				readMember(t, st, "team1", "u1"))
			checkMembers(t, "ExpiredMembers after the end time was cleared", nil, expiredMembers(t, st, at(100), 0))
		}},
		{"a fallback role without an end time returns ErrInvalid and writes nothing", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1", "u2")
			seedAccounts(t, st, "team1")
			m := seedMember(t, st, "team1", "u1", "dev", at(1))
			rev := currentRevision(t, st)
			ok := store.Member{AccountID: "team1", UserID: "u2", Role: "admin", JoinedAt: at(2), Until: at(9), FallbackRole: "dev"}
			c := update(t, st, func(ctx context.Context, tx store.Tx) error {
				bad := store.Member{AccountID: "team1", UserID: "u2", Role: "admin", JoinedAt: at(2), FallbackRole: "dev"}
				checkErr(t, "CreateMember with a fallback role and no end time", tx.CreateMember(ctx, bad), store.ErrInvalid)
				bad.UserID = "u1"
				checkErr(t, "UpdateMember with a fallback role and no end time", tx.UpdateMember(ctx, bad), store.ErrInvalid)
				// The transaction goes on.
				return tx.CreateMember(ctx, ok)
			})
			checkEqual(t, "commit", store.Commit{Revision: rev + 1, Changes: []store.Change{memberSet(rev+1, ok)}}, c)
			checkEqual(t, "the member updated with a bad record", m, readMember(t, st, "team1", "u1"))
		}},
		{"member writes record MemberSet with the end time, fallback role and suspension", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1", "u2")
			seedAccounts(t, st, "team1")
			rev := currentRevision(t, st)
			granted := store.Member{AccountID: "team1", UserID: "u1", Role: "admin", JoinedAt: at(1),
				Until: time.Date(2025, 4, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600)), FallbackRole: "dev"}
			suspended := store.Member{AccountID: "team1", UserID: "u2", Role: "dev", JoinedAt: at(2), SuspendedAt: at(3), SuspendedBy: "u1"}
			cleared := store.Member{AccountID: "team1", UserID: "u1", Role: "dev"}
			c := update(t, st, func(ctx context.Context, tx store.Tx) error {
				for _, m := range []store.Member{granted, suspended} {
					if err := tx.CreateMember(ctx, m); err != nil {
						return err
					}
				}
				return tx.UpdateMember(ctx, cleared)
			})
			r := rev + 1
			granted.Until = granted.Until.UTC() // a Store returns UTC
			want := store.Commit{Revision: r, Changes: []store.Change{memberSet(r, granted), memberSet(r, suspended), memberSet(r, cleared)}}
			checkEqual(t, "commit", want, c)
			checkEqual(t, "Changes after the previous revision", want.Changes, changesAfter(t, st, rev))
		}},
		{"turning secure sign-in on records every member's MemberSet with their terms", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1", "u2", "u3")
			seedAccounts(t, st, "team1")
			granted := store.Member{AccountID: "team1", UserID: "u1", Role: "admin", JoinedAt: at(1), Until: at(30), FallbackRole: "dev"}
			suspended := store.Member{AccountID: "team1", UserID: "u2", Role: "dev", JoinedAt: at(2), SuspendedAt: at(3), SuspendedBy: "u1"}
			plain := store.Member{AccountID: "team1", UserID: "u3", Role: "dev", JoinedAt: at(3)}
			seedMembers(t, st, granted, suspended, plain)
			rev := currentRevision(t, st)
			a := newAccount("team1", "owner")
			a.RequireSecureSignIn = true
			c := update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateAccount(ctx, a) })
			r := rev + 1
			checkEqual(t, "commit turning secure sign-in on", store.Commit{Revision: r, Changes: []store.Change{
				{Revision: r, Op: store.AccountUpdated, AccountID: "team1", RequireSecure: true},
				memberSet(r, granted), memberSet(r, suspended), memberSet(r, plain),
			}}, c)
		}},
		{"snapshot delivers memberships with their terms, and plus later changes equals the current state", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1", "u2", "u3")
			strict := newAccount("strict", "owner")
			strict.RequireSecureSignIn = true
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				if err := tx.CreateAccount(ctx, newAccount("team1", "owner")); err != nil {
					return err
				}
				return tx.CreateAccount(ctx, strict)
			})
			granted := store.Member{AccountID: "team1", UserID: "u1", Role: "admin", JoinedAt: at(1), Until: at(30), FallbackRole: "dev"}
			suspended := store.Member{AccountID: "team1", UserID: "u2", Role: "dev", JoinedAt: at(2), SuspendedAt: at(3), SuspendedBy: "u1"}
			plain := store.Member{AccountID: "team1", UserID: "u3", Role: "dev", JoinedAt: at(3)}
			ending := store.Member{AccountID: "strict", UserID: "u1", Role: "dev", JoinedAt: at(4), Until: at(40),
				SuspendedAt: at(5), SuspendedBy: "owner"}
			strictPlain := store.Member{AccountID: "strict", UserID: "u2", Role: "admin", JoinedAt: at(5)}
			seedMembers(t, st, granted, suspended, plain, ending, strictPlain)
			snap, rev := snapshotState(t, st)
			want := newState()
			want.Accounts = map[string]bool{"team1": true, "strict": true}
			want.Secure = map[string]bool{"strict": true}
			want.Members = map[string]map[string]string{"team1": {"u1": "admin", "u2": "dev", "u3": "dev"}, "strict": {"u1": "dev", "u2": "admin"}}
			want.SignIns = map[string]map[string]store.SignIn{"strict": {"u1": store.SignInEmail, "u2": store.SignInEmail}}
			want.Terms = map[string]map[string]terms{
				"team1":  {"u1": termsOf(granted), "u2": termsOf(suspended)},
				"strict": {"u1": termsOf(ending)},
			}
			checkEqual(t, "snapshot", want, snap)

			update(t, st, func(ctx context.Context, tx store.Tx) error {
				// The grant made permanent, a member suspended, and one
				// with terms removed.
				if err := tx.UpdateMember(ctx, store.Member{AccountID: "team1", UserID: "u1", Role: "admin"}); err != nil {
					return err
				}
				if err := tx.UpdateMember(ctx, store.Member{AccountID: "strict", UserID: "u2", Role: "admin",
					Until: at(50), SuspendedAt: at(6), SuspendedBy: "owner"}); err != nil {
					return err
				}
				return tx.DeleteMember(ctx, "strict", "u1")
			})
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				a := newAccount("team1", "owner")
				a.RequireSecureSignIn = true
				return tx.UpdateAccount(ctx, a)
			})
			snap.apply(changesAfter(t, st, rev))
			now, _ := snapshotState(t, st)
			checkEqual(t, "snapshot plus changes", now, snap)
			checkEqual(t, "terms after the changes", map[string]map[string]terms{
				"team1":  {"u2": termsOf(suspended)},
				"strict": {"u2": {Until: at(50), Suspended: true}},
			}, now.Terms)
		}},
		{"expired members come soonest end first, then by account and user, up to the limit", func(t *testing.T) {
			st := s.open(t)
			// Byte order: "Zed" < "amy" < "bob" < "cy".
			seedUsers(t, st, "amy", "bob", "Zed", "cy")
			seedAccounts(t, st, "a", "b")
			now := at(10)
			atNow := store.Member{AccountID: "a", UserID: "amy", Role: "dev", JoinedAt: at(0), Until: now} // the boundary counts
			bAmy := store.Member{AccountID: "b", UserID: "amy", Role: "dev", JoinedAt: at(0), Until: at(5)}
			aZed := store.Member{AccountID: "a", UserID: "Zed", Role: "dev", JoinedAt: at(0), Until: at(5)}
			aBob := store.Member{AccountID: "a", UserID: "bob", Role: "admin", JoinedAt: at(0), Until: at(5), FallbackRole: "dev"}
			later := store.Member{AccountID: "b", UserID: "bob", Role: "dev", JoinedAt: at(0), Until: now.Add(time.Microsecond)}
			suspended := store.Member{AccountID: "b", UserID: "Zed", Role: "dev", JoinedAt: at(0), SuspendedAt: at(1), SuspendedBy: "amy"}
			plain := store.Member{AccountID: "a", UserID: "cy", Role: "dev", JoinedAt: at(0)}
			seedMembers(t, st, atNow, bAmy, aZed, aBob, later, suspended, plain)
			expired := []store.Member{aZed, aBob, bAmy, atNow}
			checkEqual(t, "ExpiredMembers(now, 0)", expired, expiredMembers(t, st, now, 0))
			for _, limit := range []int{1, 2, 3, 4, 5} {
				checkEqual(t, fmt.Sprintf("ExpiredMembers(now, %d)", limit), expired[:min(limit, len(expired))], expiredMembers(t, st, now, limit))
			}
			checkEqual(t, "ExpiredMembers(now, -1)", expired, expiredMembers(t, st, now, -1))
			checkEqual(t, "ExpiredMembers a microsecond later", append(expired, later), expiredMembers(t, st, now.Add(time.Microsecond), 0))
			checkMembers(t, "ExpiredMembers before the first end", nil, expiredMembers(t, st, at(5).Add(-time.Microsecond), 0))
		}},
		{"expired members without a limit are a default page", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			n := store.DefaultPageSize + 2
			var users []string
			var ms []store.Member
			for i := range n {
				u := fmt.Sprintf("u%03d", i)
				users = append(users, u)
				ms = append(ms, store.Member{AccountID: "team1", UserID: u, Role: "dev", JoinedAt: at(0), Until: at(1)})
			}
			seedUsers(t, st, users...)
			seedMembers(t, st, ms...)
			for _, limit := range []int{0, -1} {
				checkEqual(t, fmt.Sprintf("ExpiredMembers(limit %d)", limit), ms[:store.DefaultPageSize], expiredMembers(t, st, at(2), limit))
			}
			checkEqual(t, fmt.Sprintf("ExpiredMembers(limit %d)", n), ms, expiredMembers(t, st, at(2), n))
		}},
		{"seats count members and the pending invites not expired at now, a reusable link once", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1", "u2", "u3")
			seedAccounts(t, st, "team1", "team2")
			now := at(100)
			seedMembers(t, st,
				store.Member{AccountID: "team1", UserID: "u1", Role: "admin", JoinedAt: at(0)},
				// A suspended member keeps their seat, and so does one
				// whose end time has passed until the expiry is swept.
				store.Member{AccountID: "team1", UserID: "u2", Role: "dev", JoinedAt: at(0), SuspendedAt: at(1), SuspendedBy: "u1"},
				store.Member{AccountID: "team1", UserID: "u3", Role: "dev", JoinedAt: at(0), Until: at(50)},
				store.Member{AccountID: "team2", UserID: "u1", Role: "admin", JoinedAt: at(0)},
			)
			invite := func(id, account string, change func(inv *store.Invite)) store.Invite {
				inv := newInvite(id, account, at(0))
				if change != nil {
					change(&inv)
				}
				return inv
			}
			invites := []store.Invite{
				invite("open", "team1", nil), // pending, never expires
				invite("link", "team1", func(inv *store.Invite) { inv.MaxUses, inv.Uses = 5, 2 }),
				invite("soon", "team1", func(inv *store.Invite) {
					inv.Kind, inv.Email, inv.ExpiresAt = store.InviteEmail, "a@example.com", now.Add(time.Microsecond)
				}),
				invite("now", "team1", func(inv *store.Invite) { inv.ExpiresAt = now }), // expired at now
				invite("past", "team1", func(inv *store.Invite) { inv.ExpiresAt = at(50) }),
				invite("accepted", "team1", func(inv *store.Invite) { inv.Status, inv.Uses = store.InviteAccepted, 1 }),
				invite("revoked", "team1", func(inv *store.Invite) { inv.Status = store.InviteRevoked }),
				invite("old", "team1", func(inv *store.Invite) { inv.Status, inv.SupersededBy = store.InviteSuperseded, "open" }),
				invite("other", "team2", nil),
			}
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				for _, inv := range invites {
					if err := tx.CreateInvite(ctx, inv); err != nil {
						return err
					}
				}
				return nil
			})
			checkSeats(t, st, "team1", now, 3, 3)
			checkSeats(t, st, "team1", at(49), 3, 5)
			checkSeats(t, st, "team2", now, 1, 1)
			checkSeats(t, st, "nope", now, 0, 0)
			// Members come and go.
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.DeleteMember(ctx, "team1", "u3") })
			checkSeats(t, st, "team1", now, 2, 3)
		}},
		{"a transaction rolled back leaves no seat limit, terms or seat behind", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1", "u2")
			seedAccounts(t, st, "team1")
			m := seedMember(t, st, "team1", "u1", "dev", at(0))
			before, rev := snapshotState(t, st)
			_, err := st.Update(t.Context(), func(tx store.Tx) error {
				ctx := t.Context()
				a := newAccount("team1", "owner")
				a.SeatLimit = 3
				if err := tx.UpdateAccount(ctx, a); err != nil {
					return err
				}
				if err := tx.UpdateMember(ctx, store.Member{AccountID: "team1", UserID: "u1", Role: "admin",
					Until: at(5), FallbackRole: "dev", SuspendedAt: at(1), SuspendedBy: "owner"}); err != nil {
					return err
				}
				if err := tx.CreateMember(ctx, store.Member{AccountID: "team1", UserID: "u2", Role: "dev", Until: at(6)}); err != nil {
					return err
				}
				if err := tx.CreateInvite(ctx, newInvite("inv1", "team1", at(0))); err != nil {
					return err
				}
				// The transaction sees its own writes.
				if members, pending, err := tx.Seats(ctx, "team1", at(0)); err != nil || members != 2 || pending != 1 {
					t.Errorf("Seats inside the transaction = %d, %d, %v; want 2, 1", members, pending, err)
				}
				if ms, err := tx.ExpiredMembers(ctx, at(10), 0); err != nil || len(ms) != 2 {
					t.Errorf("ExpiredMembers inside the transaction = %+v, %v; want two", ms, err)
				}
				return errFromFn
			})
			if err != errFromFn {
				t.Fatalf("Update returned %v, want fn's error unchanged", err)
			}
			checkEqual(t, "team1", newAccount("team1", "owner"), readAccount(t, st, "team1"))
			checkEqual(t, "member u1", m, readMember(t, st, "team1", "u1"))
			checkMembers(t, "ExpiredMembers", nil, expiredMembers(t, st, at(10), 0))
			checkSeats(t, st, "team1", at(0), 1, 0)
			after, afterRev := snapshotState(t, st)
			if afterRev != rev {
				t.Errorf("revision = %d after a rollback, want %d", afterRev, rev)
			}
			checkEqual(t, "snapshot after a rollback", before, after)
		}},
	}
}
