package invites_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/invites"
	"github.com/teamroster/roster/notify"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/store/sqlstore"
)

// baseURL is the base URL of the links in the invite tests.
const baseURL = "https://app.example.com/team"

// outbox is a notify.Notifier that keeps the invitations, and fails for
// the addresses in fail. The invite tests start no transfers; it ignores
// their emails.
type outbox struct {
	mu   sync.Mutex
	sent []notify.Invite
	fail map[string]bool
}

var errMailbox = errors.New("smtp: 550 mailbox unavailable")

func (o *outbox) SendInvite(ctx context.Context, m notify.Invite) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail[m.To] {
		return errMailbox
	}
	o.sent = append(o.sent, m)
	return nil
}

func (o *outbox) TransferConfirm(context.Context, notify.Transfer) error { return nil }
func (o *outbox) TransferAccept(context.Context, notify.Transfer) error  { return nil }

// messages returns the messages sent so far.
func (o *outbox) messages() []notify.Invite {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.sent)
}

// inviteEnv is a Roster with invites configured: links on baseURL, a clock
// the test moves, and an outbox.
type inviteEnv struct {
	r     *roster.Roster
	s     store.Store
	clock *rostertest.Clock
	out   *outbox
}

// newInviteEnv returns an inviteEnv with policy p on a fresh store of
// backend b; opts come after the environment's own invite options.
func newInviteEnv(t *testing.T, b testdb.Backend, p *rbac.Policy, opts ...invites.Option) *inviteEnv {
	t.Helper()
	return newInviteEnvOn(t, b.Store(t), p, opts...)
}

// newInviteEnvOn is newInviteEnv on a given store.
func newInviteEnvOn(t *testing.T, s store.Store, p *rbac.Policy, opts ...invites.Option) *inviteEnv {
	t.Helper()
	e := &inviteEnv{s: s, clock: rostertest.NewClock(), out: &outbox{fail: map[string]bool{}}}
	base := []invites.Option{invites.WithBaseURL(baseURL), invites.WithClock(e.clock.Now), invites.WithNotifier(e.out)}
	e.r = rostertest.New(t, s, p, roster.WithInvites(append(base, opts...)...))
	return e
}

// limitedStore opens a store of backend b whose PostgreSQL pool holds at
// most 20 connections, so that tests starting many goroutines stay well
// below the server's connection limit while other packages' tests run.
func limitedStore(t *testing.T, b testdb.Backend) store.Store {
	t.Helper()
	if b.Name != "postgres" {
		return b.Store(t)
	}
	db, err := gorm.Open(postgres.Open(b.DSN(t)), &gorm.Config{Logger: logger.Default.LogMode(logger.Silent)})
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatalf("DB: %v", err)
	}
	sqlDB.SetMaxOpenConns(20)
	t.Cleanup(func() {
		if err := sqlDB.Close(); err != nil {
			t.Errorf("close postgres pool: %v", err)
		}
	})
	s, err := sqlstore.New(db)
	if err != nil {
		t.Fatalf("sqlstore.New: %v", err)
	}
	return s
}

// userWith creates a user with the given email and sign-in method.
func userWith(t *testing.T, r *roster.Roster, id, email string, signIn store.SignIn) store.Account {
	t.Helper()
	acct, err := r.Teams.CreateUser(context.Background(), store.User{ID: id, Email: email, Name: id, SignIn: signIn})
	if err != nil {
		t.Fatalf("create user %s <%s>: %v", id, email, err)
	}
	return acct
}

// link creates a link invite and fails the test on error.
func link(t *testing.T, r *roster.Roster, actor, accountID string, role rbac.Role, opts ...invites.InviteOption) invites.Invitation {
	t.Helper()
	inv, err := r.Invites.CreateLink(context.Background(), actor, accountID, role, opts...)
	if err != nil {
		t.Fatalf("%s creates a %s link: %v", actor, role, err)
	}
	return inv
}

// emailInvite creates one email invite and fails the test on error.
func emailInvite(t *testing.T, r *roster.Roster, actor, accountID string, role rbac.Role, email string, opts ...invites.InviteOption) invites.Invitation {
	t.Helper()
	invs, err := r.Invites.CreateEmail(context.Background(), actor, accountID, role, []string{email}, opts...)
	if err != nil {
		t.Fatalf("%s invites %s as %s: %v", actor, email, role, err)
	}
	if len(invs) != 1 {
		t.Fatalf("CreateEmail returned %d invites, want 1", len(invs))
	}
	return invs[0]
}

// accept accepts an invite and fails the test on error.
func accept(t *testing.T, r *roster.Roster, userID, token string) store.Member {
	t.Helper()
	m, err := r.Invites.Accept(context.Background(), userID, token)
	if err != nil {
		t.Fatalf("%s accepts: %v", userID, err)
	}
	return m
}

// listed returns the invite with the given ID as List shows it to actor.
func listed(t *testing.T, r *roster.Roster, actor, accountID, inviteID string) invites.Invitation {
	t.Helper()
	all, _, err := r.Invites.List(context.Background(), actor, accountID, store.Page{})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	for _, inv := range all {
		if inv.ID == inviteID {
			return inv
		}
	}
	t.Fatalf("invite %s is not listed in %+v", inviteID, all)
	return invites.Invitation{}
}

// countEvents counts the account's events with the action and result.
func countEvents(t *testing.T, s store.Store, accountID, action string, result store.Result) int {
	t.Helper()
	n := 0
	for _, e := range rostertest.Events(t, s, accountID) {
		if string(e.Action) == action && e.Result == result {
			n++
		}
	}
	return n
}

// assertRole fails the test unless userID's membership of the account has
// role, or, for role "", unless there is none.
func assertRole(t *testing.T, s store.Store, accountID, userID string, role rbac.Role) {
	t.Helper()
	var got string
	err := s.View(context.Background(), func(tx store.Tx) error {
		m, err := tx.Member(context.Background(), accountID, userID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		got = m.Role
		return err
	})
	if err != nil {
		t.Fatalf("read membership: %v", err)
	}
	if got != string(role) {
		t.Errorf("%s's role in %s = %q, want %q", userID, accountID, got, role)
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
