// Package storetest is the conformance suite for store.Store implementations.
// A backend passes it by calling Run from one of its tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s, err := mystore.Open(...)
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// The suite uses only the store package's API, so it checks any Store: each
// Store and Tx method, the sentinel errors their documentation promises,
// round-trips of every record, the ordering rules, transaction rollback, the
// revision and change-feed rules, Snapshot, behaviour under concurrent
// writers, and the announcements of a Store that implements store.Watcher
// (skipped for one that does not, since announcing is optional). It has no
// other opt-outs.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/teamroster/roster/store"
)

// Run runs the conformance suite. It calls newStore in every subtest for a
// fresh, empty Store; newStore registers the Store's cleanup (Close, removing
// files) with t.Cleanup and calls t.Fatal if it cannot make one. Subtests are
// grouped by area (users, accounts, members, invites, transfers, api keys,
// seats, suspension and expiry (seat limits, memberships' end times,
// fallback roles and suspensions, ExpiredMembers and Seats), domains (the
// email domains teams claim, one verified per name), ranges (the
// lists read a range at a time, and UsersByID and AccountsByID), team roles,
// events, event queries, chain heads, event stream, transactions, changes, snapshot,
// concurrency, watch) and named after the behaviour they check, so one can be run
// with -run.
//
// Beyond the letter of the documentation, the suite expects what the Store
// and Tx documentation implies for callers: writers that lock the same
// account with LockAccount succeed one after the other without ErrConflict,
// and so do writers calling SetActiveAccount on the same user, and writers
// calling TouchAPIKeys on the same keys; a user's deletion and the creation
// of a key for them in concurrent transactions never both succeed;
// a zero time round-trips as zero; IDs order by their bytes (as Go compares
// strings) where an ordering falls back on them. Subtests do not run in
// parallel.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := suite{newStore: newStore}
	for _, area := range []struct {
		name  string
		tests []test
	}{
		{"users", s.users()},
		{"accounts", s.accounts()},
		{"members", s.members()},
		{"invites", s.invites()},
		{"transfers", s.transfers()},
		{"api keys", s.apiKeys()},
		{"seats, suspension and expiry", s.seats()},
		{"domains", s.domains()},
		{"ranges", s.ranges()},
		{"team roles", s.teamRoles()},
		{"events", s.events()},
		{"event queries", s.eventQueries()},
		{"chain heads", s.chainHeads()},
		{"event stream", s.stream()},
		{"transactions", s.transactions()},
		{"changes", s.changes()},
		{"snapshot", s.snapshot()},
		{"account snapshots", s.partial()},
		{"concurrency", s.concurrency()},
		{"watch", s.watch()},
	} {
		t.Run(area.name, func(t *testing.T) {
			for _, tc := range area.tests {
				t.Run(tc.name, tc.run)
			}
		})
	}
}

type suite struct {
	newStore func(t *testing.T) store.Store
}

// test is one subtest of an area.
type test struct {
	name string
	run  func(t *testing.T)
}

// open returns a fresh Store for the test.
func (s suite) open(t *testing.T) store.Store {
	t.Helper()
	st := s.newStore(t)
	if st == nil {
		t.Fatal("newStore returned a nil Store")
	}
	return st
}

// t0 is the base time of the fixtures. It has digits below the microsecond
// on purpose: a Store may drop them.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)

// at returns t0 plus the given number of minutes.
func at(minutes int) time.Time {
	return t0.Add(time.Duration(minutes) * time.Minute)
}

// timeEqual is the comparer for times in records: equal to the microsecond
// (a Store may truncate) and in the same location, so a time that should be
// UTC must come back in time.UTC.
var timeEqual = cmp.Comparer(func(a, b time.Time) bool {
	return a.Location() == b.Location() && a.Truncate(time.Microsecond).Equal(b.Truncate(time.Microsecond))
})

// diff compares want and got the way the suite compares records.
func diff(want, got any) string {
	return cmp.Diff(want, got, timeEqual)
}

// checkEqual fails the test if got differs from want.
func checkEqual(t testing.TB, what string, want, got any) {
	t.Helper()
	if d := diff(want, got); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

// checkErr fails the test unless err wraps target.
func checkErr(t testing.TB, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want one wrapping %v", what, err, target)
	}
}

// update runs fn in s.Update and fails the test on error.
func update(t testing.TB, s store.Store, fn func(ctx context.Context, tx store.Tx) error) store.Commit {
	t.Helper()
	ctx := t.Context()
	c, err := s.Update(ctx, func(tx store.Tx) error { return fn(ctx, tx) })
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	return c
}

// tryUpdate runs fn in s.Update and returns its error.
func tryUpdate(t testing.TB, s store.Store, fn func(ctx context.Context, tx store.Tx) error) error {
	t.Helper()
	ctx := t.Context()
	_, err := s.Update(ctx, func(tx store.Tx) error { return fn(ctx, tx) })
	return err
}

// view runs fn in s.View and fails the test on error.
func view(t testing.TB, s store.Store, fn func(ctx context.Context, tx store.Tx) error) {
	t.Helper()
	ctx := t.Context()
	if err := s.View(ctx, func(tx store.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// newUser returns a valid user fixture.
func newUser(id string) store.User {
	return store.User{
		ID:        id,
		Email:     id + "@example.com",
		Name:      "User " + id,
		SignIn:    store.SignInEmail,
		CreatedAt: at(0),
	}
}

// newAccount returns a team account fixture.
func newAccount(id, owner string) store.Account {
	return store.Account{
		ID:        id,
		Kind:      store.Team,
		Name:      "Team " + id,
		Owner:     owner,
		CreatedAt: at(0),
		UpdatedAt: at(1),
	}
}

// newInvite returns a pending link invite fixture for account.
func newInvite(id, account string, created time.Time) store.Invite {
	return store.Invite{
		ID:        id,
		AccountID: account,
		Kind:      store.InviteLink,
		Role:      "member",
		TokenHash: []byte("hash of " + id),
		Status:    store.InvitePending,
		MaxUses:   1,
		CreatedBy: "owner",
		CreatedAt: created,
		UpdatedAt: created,
	}
}

// newTransfer returns a transfer fixture for account.
func newTransfer(id, account string, created time.Time) store.Transfer {
	return store.Transfer{
		ID:          id,
		AccountID:   account,
		Kind:        store.TransferRole,
		From:        "owner",
		To:          "heir",
		Status:      store.TransferAwaitingConfirm,
		ConfirmHash: []byte("confirm " + id),
		AcceptHash:  []byte("accept " + id),
		CreatedAt:   created,
		ExpiresAt:   created.Add(24 * time.Hour),
		UpdatedAt:   created,
	}
}

// seedUsers creates users with the given IDs.
func seedUsers(t testing.TB, s store.Store, ids ...string) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, id := range ids {
			if err := tx.CreateUser(ctx, newUser(id)); err != nil {
				return err
			}
		}
		return nil
	})
}

// seedAccounts creates team accounts with the given IDs, owned by "owner".
func seedAccounts(t testing.TB, s store.Store, ids ...string) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, id := range ids {
			if err := tx.CreateAccount(ctx, newAccount(id, "owner")); err != nil {
				return err
			}
		}
		return nil
	})
}

// seedMember creates a membership and returns it.
func seedMember(t testing.TB, s store.Store, account, user, role string, joined time.Time) store.Member {
	t.Helper()
	m := store.Member{AccountID: account, UserID: user, Role: role, JoinedAt: joined}
	update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateMember(ctx, m) })
	return m
}

// state is the membership data that Snapshot and Changes describe.
type state struct {
	Accounts map[string]bool
	Members  map[string]map[string]string   // account -> user -> role
	Roles    map[string]map[string][]string // account -> team role -> actions
	// Secure holds the accounts that require secure sign-in, and SignIns
	// their members' sign-in methods (see normalize).
	Secure  map[string]bool
	SignIns map[string]map[string]store.SignIn // account -> user -> method
	// Keys are the live API keys by ID, as Snapshot delivers them.
	Keys map[string]store.SnapshotItem
	// Terms hold the terms of the memberships that have any (see terms).
	Terms map[string]map[string]terms // account -> user -> terms
}

// terms are what a membership's snapshot item and MemberSet change say
// beside its role: its end time (Member.Until), the role it then falls
// back to, and whether the member is suspended.
type terms struct {
	Until        time.Time
	FallbackRole string
	Suspended    bool
}

// termsOf returns the terms of m.
func termsOf(m store.Member) terms {
	return terms{Until: m.Until, FallbackRole: m.FallbackRole, Suspended: m.Suspended()}
}

func newState() *state {
	return &state{Accounts: map[string]bool{}, Members: map[string]map[string]string{}, Roles: map[string]map[string][]string{},
		Secure: map[string]bool{}, SignIns: map[string]map[string]store.SignIn{}, Keys: map[string]store.SnapshotItem{},
		Terms: map[string]map[string]terms{}}
}

// setTerms records a membership's terms, or that it has none.
func (st *state) setTerms(account, user string, tm terms) {
	if tm == (terms{}) {
		delete(st.Terms[account], user)
		if len(st.Terms[account]) == 0 {
			delete(st.Terms, account)
		}
		return
	}
	if st.Terms[account] == nil {
		st.Terms[account] = map[string]terms{}
	}
	st.Terms[account][user] = tm
}

// setSignIn records a member's sign-in method.
func (st *state) setSignIn(account, user string, method store.SignIn) {
	if st.SignIns[account] == nil {
		st.SignIns[account] = map[string]store.SignIn{}
	}
	st.SignIns[account][user] = method
}

// normalize drops the sign-in methods of members of accounts that do not
// require secure sign-in, which a Store need not report, and of users who
// are no longer members, and returns st.
func (st *state) normalize() *state {
	for account, users := range st.SignIns {
		for user := range users {
			if _, member := st.Members[account][user]; !member {
				delete(users, user)
			}
		}
		if !st.Secure[account] || len(users) == 0 {
			delete(st.SignIns, account)
		}
	}
	return st
}

// setRole records a team role's actions.
func (st *state) setRole(account, name string, actions []string) {
	if st.Roles[account] == nil {
		st.Roles[account] = map[string][]string{}
	}
	st.Roles[account][name] = append([]string{}, actions...) // nil and empty alike
}

// add applies one snapshot item.
func (st *state) add(item store.SnapshotItem) error {
	if item.AccountID == "" {
		return fmt.Errorf("snapshot item %+v has no AccountID", item)
	}
	if item.Key != "" {
		if _, dup := st.Keys[item.Key]; dup {
			return fmt.Errorf("snapshot delivered API key %s twice", item.Key)
		}
		st.Keys[item.Key] = item
		return nil
	}
	if item.UserID == "" && item.Role != "" {
		if _, dup := st.Roles[item.AccountID][item.Role]; dup {
			return fmt.Errorf("snapshot delivered team role %s/%s twice", item.AccountID, item.Role)
		}
		st.setRole(item.AccountID, item.Role, item.Actions)
		return nil
	}
	if item.UserID == "" {
		st.Accounts[item.AccountID] = true
		if item.RequireSecure {
			st.Secure[item.AccountID] = true
		}
		return nil
	}
	if item.SignIn != "" {
		st.setSignIn(item.AccountID, item.UserID, item.SignIn)
	}
	st.setTerms(item.AccountID, item.UserID, terms{Until: item.ExpiresAt, FallbackRole: item.FallbackRole, Suspended: item.Suspended})
	if st.Members[item.AccountID] == nil {
		st.Members[item.AccountID] = map[string]string{}
	}
	if _, dup := st.Members[item.AccountID][item.UserID]; dup {
		return fmt.Errorf("snapshot delivered membership %s/%s twice", item.AccountID, item.UserID)
	}
	st.Members[item.AccountID][item.UserID] = item.Role
	return nil
}

// apply applies changes in order.
func (st *state) apply(changes []store.Change) {
	for _, c := range changes {
		switch c.Op {
		case store.AccountCreated, store.AccountUpdated:
			st.Accounts[c.AccountID] = true
			if c.RequireSecure {
				st.Secure[c.AccountID] = true
			} else {
				delete(st.Secure, c.AccountID)
			}
		case store.UserUpdated:
			for _, users := range st.SignIns {
				if _, ok := users[c.UserID]; ok {
					users[c.UserID] = c.SignIn
				}
			}
		case store.MemberSet:
			if st.Members[c.AccountID] == nil {
				st.Members[c.AccountID] = map[string]string{}
			}
			st.Members[c.AccountID][c.UserID] = c.Role
			st.setSignIn(c.AccountID, c.UserID, c.SignIn)
			st.setTerms(c.AccountID, c.UserID, terms{Until: c.ExpiresAt, FallbackRole: c.FallbackRole, Suspended: c.Suspended})
		case store.MemberDeleted:
			delete(st.Members[c.AccountID], c.UserID)
			st.setTerms(c.AccountID, c.UserID, terms{})
			if len(st.Members[c.AccountID]) == 0 {
				delete(st.Members, c.AccountID)
			}
		case store.RoleSet:
			st.setRole(c.AccountID, c.Role, c.Actions)
		case store.RoleDeleted:
			delete(st.Roles[c.AccountID], c.Role)
			if len(st.Roles[c.AccountID]) == 0 {
				delete(st.Roles, c.AccountID)
			}
		case store.APIKeySet:
			st.Keys[c.Key] = keyItem(c)
		case store.APIKeyRevoked:
			delete(st.Keys, c.Key)
		}
	}
	st.normalize()
}

// snapshotState takes a Snapshot of s and returns it as a state.
func snapshotState(t testing.TB, s store.Store) (*state, store.Revision) {
	t.Helper()
	st := newState()
	rev, err := s.Snapshot(t.Context(), st.add)
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	return st.normalize(), rev
}

// changesAfter returns all changes after rev and fails the test on error.
func changesAfter(t testing.TB, s store.Store, rev store.Revision) []store.Change {
	t.Helper()
	changes, err := s.Changes(t.Context(), rev, 0)
	if err != nil {
		t.Fatalf("Changes(%d, 0): %v", rev, err)
	}
	return changes
}

// currentRevision returns the revision of a fresh Snapshot.
func currentRevision(t testing.TB, s store.Store) store.Revision {
	t.Helper()
	_, rev := snapshotState(t, s)
	return rev
}

// sortedKeys returns the keys of m in order, for messages.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
