package roster_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/invites"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teams"
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
func newRoster(t *testing.T, b testdb.Backend, p *rbac.Policy, opts ...roster.Option) (*roster.Roster, store.Store) {
	t.Helper()
	s := b.Store(t)
	r, err := roster.New(context.Background(), s, p, opts...)
	if err != nil {
		t.Fatalf("roster.New: %v", err)
	}
	closeAtEnd(t, r)
	return r, s
}

// closeAtEnd closes r when t ends, stopping its follower.
func closeAtEnd(t *testing.T, r *roster.Roster) {
	t.Helper()
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	})
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

// newestActions returns the actions of the account's n newest events,
// newest first, separated by spaces.
func newestActions(t *testing.T, s store.Store, accountID string, n int) string {
	t.Helper()
	es := events(t, s, accountID)
	if len(es) < n {
		t.Fatalf("the account has %d events, want at least %d", len(es), n)
	}
	actions := make([]string, n)
	for i, e := range es[:n] {
		actions[i] = string(e.Action)
	}
	return strings.Join(actions, " ")
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

// inbox is a Notifier that keeps every notice, for tests to follow links.
type inbox struct {
	mu      sync.Mutex
	notices []teams.TransferNotice
}

func (in *inbox) TransferConfirm(_ context.Context, n teams.TransferNotice) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.notices = append(in.notices, n)
	return nil
}

func (in *inbox) TransferAccept(ctx context.Context, n teams.TransferNotice) error {
	return in.TransferConfirm(ctx, n)
}

func (in *inbox) SendInvite(context.Context, invites.Message) error { return nil }

// last returns the newest notice sent to user.
func (in *inbox) last(t *testing.T, user string) teams.TransferNotice {
	t.Helper()
	in.mu.Lock()
	defer in.mu.Unlock()
	for i := len(in.notices) - 1; i >= 0; i-- {
		if n := in.notices[i]; n.Email == user+"@example.com" {
			return n
		}
	}
	t.Fatalf("no notice for %s", user)
	return teams.TransferNotice{}
}

// makeTop gives member the top role: by a role change, or where the policy
// wants it, by a confirmed and accepted grant (the roster must have been
// made with in as its notifier).
func makeTop(t *testing.T, r *roster.Roster, in *inbox, owner, accountID, member string) {
	t.Helper()
	ctx := context.Background()
	if !r.Policy().TopByTransfer() {
		if _, err := r.Teams.ChangeRole(ctx, owner, accountID, member, r.Policy().Top()); err != nil {
			t.Fatal(err)
		}
		return
	}
	tr, err := r.Teams.GrantTopRole(ctx, owner, accountID, member)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Teams.ConfirmTransfer(ctx, owner, tr.ID, in.last(t, owner).Token); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Teams.AcceptTransfer(ctx, member, tr.ID, in.last(t, member).Token); err != nil {
		t.Fatal(err)
	}
}

// promote sets a member's role straight in the store, for a test's setup
// that needs, say, a second owner without going through a transfer, and
// brings the roster's view up to date.
func promote(t *testing.T, r *roster.Roster, s store.Store, accountID, userID string, role rbac.Role) {
	t.Helper()
	ctx := context.Background()
	_, err := s.Update(ctx, func(tx store.Tx) error {
		return tx.UpdateMember(ctx, store.Member{AccountID: accountID, UserID: userID, Role: string(role)})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Sync(ctx); err != nil {
		t.Fatal(err)
	}
}
