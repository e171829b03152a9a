package roster_test

import (
	"context"
	"testing"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// forEachBackend runs fn as a subtest on SQLite and on PostgreSQL (skipped
// without ROSTER_TEST_POSTGRES_DSN).
func forEachBackend(t *testing.T, fn func(t *testing.T, b testdb.Backend)) {
	t.Helper()
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Skip(t)
			fn(t, b)
		})
	}
}

// newRoster returns a Roster with policy p on a fresh store of backend b,
// and the store under it.
func newRoster(t *testing.T, b testdb.Backend, p *rbac.Policy) (*roster.Roster, store.Store) {
	t.Helper()
	s := b.Store(t)
	r, err := roster.New(context.Background(), s, p)
	if err != nil {
		t.Fatalf("roster.New: %v", err)
	}
	return r, s
}

// user creates a user with a personal account and returns the account.
func user(t *testing.T, r *roster.Roster, id string) store.Account {
	t.Helper()
	acct, err := r.Teams.CreateUser(context.Background(), store.User{ID: id, Email: id + "@example.com", Name: id, SignIn: store.SignInEmail})
	if err != nil {
		t.Fatalf("create user %s: %v", id, err)
	}
	return acct
}

// team creates the owner and a team they converted, then adds each member
// with their role.
func team(t *testing.T, r *roster.Roster, owner string, members map[string]rbac.Role) store.Account {
	t.Helper()
	ctx := context.Background()
	acct, err := r.Teams.ConvertToTeam(ctx, owner, user(t, r, owner).ID, owner+"'s team")
	if err != nil {
		t.Fatalf("convert %s's account: %v", owner, err)
	}
	for id, role := range members {
		if _, err := r.Teams.User(ctx, id); err != nil {
			user(t, r, id)
		}
		if _, err := r.Teams.AddMember(ctx, owner, acct.ID, id, role); err != nil {
			t.Fatalf("add %s as %s: %v", id, role, err)
		}
	}
	return acct
}

// events returns every event of the account, newest first, read from the
// store directly.
func events(t *testing.T, s store.Store, accountID string) []store.Event {
	t.Helper()
	var es []store.Event
	err := s.View(context.Background(), func(tx store.Tx) (err error) {
		es, err = tx.Events(context.Background(), store.EventFilter{AccountID: accountID})
		return err
	})
	if err != nil {
		t.Fatalf("read events: %v", err)
	}
	return es
}

// writes returns the store's revision and its newest event ID: both stay
// the same across a call that wrote nothing.
func writes(t *testing.T, s store.Store) (store.Revision, int64) {
	t.Helper()
	var last int64
	err := s.View(context.Background(), func(tx store.Tx) error {
		es, err := tx.Events(context.Background(), store.EventFilter{Limit: 1})
		if len(es) == 1 {
			last = es[0].ID
		}
		return err
	})
	if err != nil {
		t.Fatalf("read events: %v", err)
	}
	rev, err := s.Snapshot(context.Background(), func(store.SnapshotItem) error { return nil })
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	return rev, last
}
