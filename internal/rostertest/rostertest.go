// Package rostertest is the harness the tests of every roster package share:
// the backends to run on, a Roster on a fresh store, users, teams with
// members, the audit log as stored, and an inbox that keeps the emails
// roster asks to send.
package rostertest

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

// ForEachBackend runs fn as a subtest on SQLite and on PostgreSQL (skipped
// without the PostgreSQL DSN, see testdb.EnvPostgres).
func ForEachBackend(t *testing.T, fn func(t *testing.T, b testdb.Backend)) {
	t.Helper()
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Skip(t)
			fn(t, b)
		})
	}
}

// New returns a Roster with policy p on s, closed when tb ends.
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
// the store under it.
func Open(tb testing.TB, b testdb.Backend, p *rbac.Policy, opts ...roster.Option) (*roster.Roster, store.Store) {
	tb.Helper()
	s := b.Store(tb)
	return New(tb, s, p, opts...), s
}

// User creates a user with a personal account (email id@example.com, signing
// in with email) and returns the account.
func User(tb testing.TB, r *roster.Roster, id string) store.Account {
	tb.Helper()
	acct, err := r.Teams.CreateUser(context.Background(), store.User{ID: id, Email: id + "@example.com", Name: id, SignIn: store.SignInEmail})
	if err != nil {
		tb.Fatalf("create user %s: %v", id, err)
	}
	return acct
}

// Team creates the owner, who must not exist yet, and a team they converted
// from their personal account, then adds each member (creating them if
// needed) with their role.
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
	var es []store.Event
	err := s.View(context.Background(), func(tx store.Tx) (err error) {
		es, err = tx.Events(context.Background(), store.EventFilter{AccountID: accountID})
		return err
	})
	if err != nil {
		tb.Fatalf("read events: %v", err)
	}
	return es
}

// Newest returns the actions of the account's n newest events, newest
// first, separated by spaces.
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

// Inbox is a Notifier (for teams and invites) that keeps every notice, for
// tests to follow the links. It is safe for concurrent use.
type Inbox struct {
	mu       sync.Mutex
	notices  []teams.TransferNotice
	messages []invites.Message
}

// TransferConfirm keeps n.
func (in *Inbox) TransferConfirm(_ context.Context, n teams.TransferNotice) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.notices = append(in.notices, n)
	return nil
}

// TransferAccept keeps n.
func (in *Inbox) TransferAccept(ctx context.Context, n teams.TransferNotice) error {
	return in.TransferConfirm(ctx, n)
}

// SendInvite keeps m.
func (in *Inbox) SendInvite(_ context.Context, m invites.Message) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.messages = append(in.messages, m)
	return nil
}

// Last returns the newest transfer notice sent to user (at
// user@example.com), failing tb if there is none.
func (in *Inbox) Last(tb testing.TB, user string) teams.TransferNotice {
	tb.Helper()
	in.mu.Lock()
	defer in.mu.Unlock()
	for i := len(in.notices) - 1; i >= 0; i-- {
		if n := in.notices[i]; n.Email == user+"@example.com" {
			return n
		}
	}
	tb.Fatalf("no notice for %s", user)
	return teams.TransferNotice{}
}

// Transfer completes a transfer that from started (TransferOwnership or
// GrantTopRole) with the links in the inbox: from confirms, to accepts.
func (in *Inbox) Transfer(tb testing.TB, r *roster.Roster, tr store.Transfer) {
	tb.Helper()
	ctx := context.Background()
	if _, err := r.Teams.ConfirmTransfer(ctx, tr.From, tr.ID, in.Last(tb, tr.From).Token); err != nil {
		tb.Fatalf("confirm transfer: %v", err)
	}
	if _, err := r.Teams.AcceptTransfer(ctx, tr.To, tr.ID, in.Last(tb, tr.To).Token); err != nil {
		tb.Fatalf("accept transfer: %v", err)
	}
}

// MakeTop gives member the top role as actor (who holds it): by a role
// change, or where the policy wants it by a confirmed and accepted grant
// (the Roster must have been made with in as its notifier).
func (in *Inbox) MakeTop(tb testing.TB, r *roster.Roster, actor, accountID, member string) {
	tb.Helper()
	ctx := context.Background()
	if !r.Policy().TopByTransfer() {
		if _, err := r.Teams.ChangeRole(ctx, actor, accountID, member, r.Policy().Top()); err != nil {
			tb.Fatalf("make %s top: %v", member, err)
		}
		return
	}
	tr, err := r.Teams.GrantTopRole(ctx, actor, accountID, member)
	if err != nil {
		tb.Fatalf("grant %s the top role: %v", member, err)
	}
	in.Transfer(tb, r, tr)
}
