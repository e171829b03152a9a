// Package teams manages users, their personal and team accounts, and the
// members of each team with their roles. Every change is one store
// transaction that authorizes its actor with the policy, checks the
// invariants, applies the change and writes its audit event; all of it
// commits or none of it does.
package teams

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/teamroster/roster/internal/authz"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// Errors returned by the Service besides those of the store and rbac
// packages.
var (
	// ErrNotTeam means the operation needs a team account and the account is personal.
	ErrNotTeam = errors.New("teams: not a team account")
	// ErrAlreadyTeam means the account to convert is already a team account.
	ErrAlreadyTeam = errors.New("teams: already a team account")
	// ErrLastOwner means the change would leave the account without a member
	// holding the policy's top role (admin for Runpod, owner for DigitalOcean).
	ErrLastOwner = errors.New("teams: the last member with the top role cannot be removed, demoted or leave")
	// ErrTransferRequired means the policy grants the top role only through
	// an ownership transfer (TransferOwnership), as on DigitalOcean. It is
	// rbac.ErrTopByTransfer, which invitations return too.
	ErrTransferRequired = rbac.ErrTopByTransfer
	// ErrTransferClosed means the ownership transfer is done, cancelled, or
	// not at the step asked for (a link used twice).
	ErrTransferClosed = errors.New("teams: ownership transfer is not open for this step")
	// ErrTransferExpired means the ownership transfer outlived its TTL.
	ErrTransferExpired = errors.New("teams: ownership transfer expired")
	// ErrRoleInUse means a team role cannot be deleted while members hold it.
	ErrRoleInUse = errors.New("teams: role is held by members")
	// ErrRoleTooBroad means a team role would hold every action of the
	// policy, which only the top role does.
	ErrRoleTooBroad = errors.New("teams: a team role cannot hold every action")
	// ErrTeamRolesUnsupported means the policy is not compiled (see
	// rbac.Policy.Compiled): its model, which Casbin evaluates for every
	// question, says what a role may do, so an account cannot define roles
	// of its own.
	ErrTeamRolesUnsupported = errors.New("teams: team roles need a compiled policy")
	// ErrNotify wraps a Notifier's failure; the change it reported on has
	// been committed.
	ErrNotify = errors.New("teams: notification failed")
	// ErrInvalidToken means a link's token is malformed or does not match.
	ErrInvalidToken = errors.New("teams: invalid or mismatched token")
)

// Service manages users, accounts and members. Get one from roster.Open or
// roster.New; teams.New is for wiring a Store by hand. A Service is safe for
// concurrent use.
type Service struct {
	store       store.Store
	policy      *rbac.Policy
	now         func() time.Time
	notifier    Notifier
	linkBase    string
	transferTTL time.Duration
	onRemoved   func(context.Context, Removal)
}

// DefaultTransferTTL is how long an ownership transfer stays open unless
// WithTransferTTL says otherwise.
const DefaultTransferTTL = 7 * 24 * time.Hour

// Option configures a Service.
type Option func(*Service)

// WithNotifier sets who sends the emails of the ownership transfer flow. The
// default sends nothing (the links are lost), so production code sets one.
func WithNotifier(n Notifier) Option { return func(s *Service) { s.notifier = n } }

// WithLinkBase sets the base URL of the links in notifications, such as
// "https://app.example.com/teams/transfers". Links are built from it alone,
// never from an incoming request's Host header.
func WithLinkBase(url string) Option { return func(s *Service) { s.linkBase = url } }

// WithTransferTTL sets how long an ownership transfer stays open; zero or
// less keeps DefaultTransferTTL.
func WithTransferTTL(d time.Duration) Option {
	return func(s *Service) {
		if d > 0 {
			s.transferTTL = d
		}
	}
}

// WithClock sets the Service's clock, for tests. The times it returns are
// stored in UTC.
func WithClock(now func() time.Time) Option {
	return func(s *Service) { s.now = func() time.Time { return now().UTC() } }
}

// WithRemovalHook sets a function called after every committed removal of a
// member (RemoveMember, Leave, DeleteTeam), so that the host application can
// revoke the user's sessions and API keys for that account. It is called
// once per removed member, after the change is visible to Can, from the
// goroutine that made the change.
func WithRemovalHook(fn func(ctx context.Context, r Removal)) Option {
	return func(s *Service) { s.onRemoved = fn }
}

// Removal tells the removal hook who lost access to which account, and why:
// "removed", "left" or "team deleted".
type Removal struct {
	AccountID string
	UserID    string
	By        string // the actor
	Reason    string
}

// New returns a Service that keeps its data in s and authorizes with p.
func New(s store.Store, p *rbac.Policy, opts ...Option) *Service {
	svc := &Service{
		store:       s,
		policy:      p,
		now:         func() time.Time { return time.Now().UTC() },
		notifier:    discard{},
		transferTTL: DefaultTransferTTL,
	}
	for _, o := range opts {
		o(svc)
	}
	return svc
}

// CreateUser registers a user of the host application (u.ID is the host's
// own user ID) together with their personal account, in which the user holds
// the policy's top role, and makes that account the user's active one. It
// returns the personal account, or an error wrapping store.ErrInvalid (a
// field of u is malformed) or store.ErrExists (the user ID is taken).
func (s *Service) CreateUser(ctx context.Context, u store.User) (store.Account, error) {
	fail := func(err error) (store.Account, error) {
		return store.Account{}, fmt.Errorf("teams: create user %q: %w", u.ID, err)
	}
	acct := store.Account{ID: store.NewID("acc"), Kind: store.Personal, Owner: u.ID}
	u.ActiveAccount = acct.ID
	if err := u.Validate(); err != nil {
		return fail(err)
	}
	_, err := s.store.Update(ctx, func(tx store.Tx) error {
		now := s.now()
		u.CreatedAt, acct.CreatedAt, acct.UpdatedAt = now, now, now
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.CreateAccount(ctx, acct); err != nil {
			return err
		}
		if err := tx.CreateMember(ctx, store.Member{AccountID: acct.ID, UserID: u.ID, Role: string(s.policy.Top()), JoinedAt: now}); err != nil {
			return err
		}
		return s.record(ctx, tx, store.Event{
			AccountID: acct.ID, Actor: u.ID, Action: "account.created",
			ResourceType: "account", ResourceID: acct.ID,
			After: store.EventValue(map[string]string{"kind": string(acct.Kind), "owner": u.ID, "email": u.Email, "name": u.Name, "role": string(s.policy.Top())}),
		})
	})
	if err != nil {
		return fail(err)
	}
	return acct, nil
}

// User returns the user with the given ID. It returns an error wrapping
// store.ErrInvalid or store.ErrNotFound.
func (s *Service) User(ctx context.Context, id string) (store.User, error) {
	var u store.User
	err := store.ValidateIDs("user ID", id)
	if err == nil {
		err = s.store.View(ctx, func(tx store.Tx) (err error) {
			u, err = tx.User(ctx, id)
			return err
		})
	}
	if err != nil {
		return store.User{}, fmt.Errorf("teams: user %q: %w", id, err)
	}
	return u, nil
}

// Account returns the account if actor is one of its members. It returns an
// error wrapping store.ErrInvalid, store.ErrNotFound (no such account) or
// rbac.ErrNotMember.
func (s *Service) Account(ctx context.Context, actor, accountID string) (store.Account, error) {
	var acct store.Account
	err := store.ValidateIDs("actor", actor, "account ID", accountID)
	if err == nil {
		err = s.store.View(ctx, func(tx store.Tx) error {
			var err error
			acct, err = memberView(ctx, tx, actor, accountID)
			return err
		})
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("teams: account %q for %q: %w", accountID, actor, err)
	}
	return acct, nil
}

// memberView returns the account if userID is a member of it.
func memberView(ctx context.Context, tx store.Tx, userID, accountID string) (store.Account, error) {
	acct, err := tx.Account(ctx, accountID)
	if err != nil {
		return store.Account{}, err
	}
	if _, err := tx.Member(ctx, accountID, userID); errors.Is(err, store.ErrNotFound) {
		return store.Account{}, fmt.Errorf("%s is not a member: %w", userID, rbac.ErrNotMember)
	} else if err != nil {
		return store.Account{}, err
	}
	return acct, nil
}

// record appends an allowed event stamped with the current time.
func (s *Service) record(ctx context.Context, tx store.Tx, e store.Event) error {
	e.Time = s.now()
	e.Result = store.Allowed
	_, err := tx.AppendEvent(ctx, e)
	return err
}

// change is what one call does inside its transaction and what it leaves
// for after the commit.
type change struct {
	tx      store.Tx
	acct    store.Account // locked
	me      store.Member  // the actor's membership
	removed []Removal     // for the removal hook
}

// update runs fn in a transaction after authorizing actor for action on the
// account. A refusal by the policy (rbac.ErrDenied) is recorded as a denied
// event named event, in a transaction of its own since fn's rolls back.
// After the commit it calls the removal hook for every removal fn noted.
func (s *Service) update(ctx context.Context, actor, accountID string, action rbac.Action, event string, fn func(c *change) error) error {
	var removed []Removal
	_, err := s.store.Update(ctx, func(tx store.Tx) error {
		acct, me, err := authz.Authorize(ctx, tx, s.policy, actor, accountID, action)
		if err != nil {
			return err
		}
		c := &change{tx: tx, acct: acct, me: me}
		if err := fn(c); err != nil {
			return err
		}
		removed = c.removed
		return nil
	})
	if errors.Is(err, rbac.ErrDenied) {
		return s.recordDenied(ctx, actor, accountID, event, err)
	}
	if err == nil {
		s.afterRemovals(ctx, removed)
	}
	return err
}

// view runs fn in a read-only transaction after authorizing actor for action
// on the account.
func (s *Service) view(ctx context.Context, actor, accountID string, action rbac.Action, fn func(tx store.Tx, acct store.Account, me store.Member) error) error {
	return s.store.View(ctx, func(tx store.Tx) error {
		acct, me, err := authz.AuthorizeView(ctx, tx, s.policy, actor, accountID, action)
		if err != nil {
			return err
		}
		return fn(tx, acct, me)
	})
}

// recordDenied writes a denied event for a refused attempt and returns the
// refusal, joined with any error writing it.
func (s *Service) recordDenied(ctx context.Context, actor, accountID, event string, refusal error) error {
	_, err := s.store.Update(ctx, func(tx store.Tx) error {
		e := store.Event{
			AccountID: accountID, Actor: actor, Action: store.EventAction(event), Time: s.now(),
			Result: store.Denied, Reason: refusal.Error(),
		}
		_, err := tx.AppendEvent(ctx, e)
		return err
	})
	if err != nil {
		return errors.Join(refusal, fmt.Errorf("record the refusal: %w", err))
	}
	return refusal
}

// afterRemovals tells the removal hook about committed removals.
func (s *Service) afterRemovals(ctx context.Context, removed []Removal) {
	if s.onRemoved == nil {
		return
	}
	for _, r := range removed {
		s.onRemoved(ctx, r)
	}
}
