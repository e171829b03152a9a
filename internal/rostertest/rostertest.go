// Package rostertest is the harness the tests of every roster package share:
// the backends to run on, a Roster on a fresh store, users, teams with
// members, the audit log as stored, an inbox that keeps the emails roster
// asks to send, a clock the tests move, a driver of random operations with
// the invariants they must keep, and the table-driven feeding of hostile
// input to every exported method.
//
// Its helpers fail the test they are given (tb.Fatal) instead of returning
// errors, unless their documentation says otherwise.
package rostertest

import (
	"context"
	"strings"
	"testing"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// ForEachBackend runs fn as a subtest on SQLite and on PostgreSQL (skipped
// without the PostgreSQL DSN, see testdb.EnvPostgres). The subtests run one
// after the other.
func ForEachBackend(t *testing.T, fn func(t *testing.T, b testdb.Backend)) {
	t.Helper()
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Skip(t)
			fn(t, b)
		})
	}
}

// New returns a Roster with policy p on s, closed (its follower stopped)
// when tb ends. It fails tb if roster.New or Close returns an error.
func New(tb testing.TB, s store.Store, p *rbac.Policy, opts ...roster.Option) *roster.Roster {
	tb.Helper()
	r, err := roster.New(context.Background(), s, p, opts...)
	if err != nil {
		tb.Fatalf("roster.New: %v", err)
	}
	tb.Cleanup(func() {
		if err := r.Close(); err != nil {
			tb.Error(err)
		}
	})
	return r
}

// Open returns a Roster with policy p on a fresh store of backend b, and
// the store under it; both are closed when tb ends.
func Open(tb testing.TB, b testdb.Backend, p *rbac.Policy, opts ...roster.Option) (*roster.Roster, store.Store) {
	tb.Helper()
	s := b.Store(tb)
	return New(tb, s, p, opts...), s
}

// User creates a user with a personal account (email id@example.com, name
// id, signing in with email) and returns the account. It fails tb if the
// user cannot be created, for example because it exists.
func User(tb testing.TB, r *roster.Roster, id string) store.Account {
	tb.Helper()
	acct, err := r.Teams.CreateUser(context.Background(), store.User{ID: id, Email: id + "@example.com", Name: id, SignIn: store.SignInEmail})
	if err != nil {
		tb.Fatalf("create user %s: %v", id, err)
	}
	return acct
}

// Team creates the owner, who must not exist yet, and a team they converted
// from their personal account (named "<owner>'s team"), then adds each
// member (creating them if needed) with their role, and returns the team.
// It fails tb if any step fails.
func Team(tb testing.TB, r *roster.Roster, owner string, members map[string]rbac.Role) store.Account {
	tb.Helper()
	ctx := context.Background()
	acct, err := r.Teams.ConvertToTeam(ctx, owner, User(tb, r, owner).ID, owner+"'s team")
	if err != nil {
		tb.Fatalf("convert %s's account: %v", owner, err)
	}
	for id, role := range members {
		if _, err := r.Teams.User(ctx, id); err != nil {
			User(tb, r, id)
		}
		if _, err := r.Teams.AddMember(ctx, owner, acct.ID, id, role); err != nil {
			tb.Fatalf("add %s as %s: %v", id, role, err)
		}
	}
	return acct
}

// Events returns every event of the account, newest first, read from the
// store directly.
func Events(tb testing.TB, s store.Store, accountID string) []store.Event {
	tb.Helper()
	return EventsWhere(tb, s, store.EventFilter{AccountID: accountID})
}

// EventsWhere returns the events the filter selects, read from the store
// directly.
func EventsWhere(tb testing.TB, s store.Store, f store.EventFilter) []store.Event {
	tb.Helper()
	var es []store.Event
	err := s.View(context.Background(), func(tx store.Tx) (err error) {
		es, err = tx.Events(context.Background(), f)
		return err
	})
	if err != nil {
		tb.Fatalf("read events: %v", err)
	}
	return es
}

// Newest returns the actions of the account's n newest events, newest
// first, separated by spaces. It fails tb if the account has fewer.
func Newest(tb testing.TB, s store.Store, accountID string, n int) string {
	tb.Helper()
	es := Events(tb, s, accountID)
	if len(es) < n {
		tb.Fatalf("the account has %d events, want at least %d", len(es), n)
	}
	actions := make([]string, n)
	for i, e := range es[:n] {
		actions[i] = string(e.Action)
	}
	return strings.Join(actions, " ")
}

// Writes returns the store's revision and its newest event ID: both stay
// the same across a call that wrote nothing.
func Writes(tb testing.TB, s store.Store) (store.Revision, int64) {
	tb.Helper()
	var last int64
	err := s.View(context.Background(), func(tx store.Tx) error {
		es, err := tx.Events(context.Background(), store.EventFilter{Limit: 1})
		if len(es) == 1 {
			last = es[0].ID
		}
		return err
	})
	if err != nil {
		tb.Fatalf("read events: %v", err)
	}
	rev, err := s.Snapshot(context.Background(), func(store.SnapshotItem) error { return nil })
	if err != nil {
		tb.Fatalf("snapshot: %v", err)
	}
	return rev, last
}

// Walk reads every page of a paged list (a service call with its other
// arguments bound) with pages of size rows, following the next cursors, and
// returns the rows in order. It fails tb if a call fails, a page holds more
// than size rows, a page with a next cursor is empty, or the pages go on
// past 10,000 rows.
func Walk[T any](tb testing.TB, size int, list func(store.Page) ([]T, string, error)) []T {
	tb.Helper()
	var all []T
	p := store.Page{Size: size}
	for len(all) <= 10_000 {
		rows, next, err := list(p)
		if err != nil {
			tb.Fatalf("page of %d after %q: %v", size, p.Cursor, err)
		}
		if len(rows) > size {
			tb.Fatalf("page of %d holds %d rows", size, len(rows))
		}
		all = append(all, rows...)
		if next == "" {
			return all
		}
		if len(rows) == 0 {
			tb.Fatalf("page of %d after %q is empty but has a next cursor", size, p.Cursor)
		}
		p.Cursor = next
	}
	tb.Fatalf("pages of %d do not end", size)
	return nil
}

// FallbackPolicy returns a policy roster cannot compile, so that Casbin
// decides: the Runpod model with keyMatch on actions, where admin holds
// every action, dev every pods.* action and viewer pods.read. It fails tb
// if the policy compiles after all.
func FallbackPolicy(tb testing.TB) *rbac.Policy {
	tb.Helper()
	model := strings.Replace(rbac.Runpod().ModelText(), "r.act == p.act", "keyMatch(r.act, p.act)", 1)
	p, err := rbac.Parse("pods", []byte(model), []byte("p, admin, *\np, dev, pods.*\np, viewer, pods.read\n"))
	if err != nil {
		tb.Fatal(err)
	}
	if p.Compiled() {
		tb.Fatal("the policy is compiled: the test would not exercise the fallback")
	}
	return p
}
