// Package teams manages users, their personal and team accounts, the members
// of each team with their roles, and the account's owner. Every change is
// one store transaction that locks the account, authorizes its actor with
// the decision Can makes, checks the invariants, applies the change and
// writes its audit event; all of it commits or none of it does.
//
// # The account owner
//
// An account has one owner (store.Account.Owner): the user whose personal
// account it is or was, until they hand it over with TransferOwnership and
// the new owner accepts. Only the owner converts the account to a team and
// deletes the team (it then stays theirs); nobody removes or demotes the
// owner, and the owner does not leave without handing the account over. The
// owner holds the policy's top role, which other members may hold too
// (several admins on Runpod, several owners on DigitalOcean); the account
// owner is one of them, named on the account. No other member can take an
// account over, whatever their role.
package teams

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/teamroster/roster/internal/check"
	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/notify"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// Errors returned by the Service besides those of the store and rbac
// packages (store.ErrNotTeam among them). Each wraps one of the kinds of
// package store.
var (
	// ErrAlreadyTeam means the account to convert is already a team
	// account. It wraps store.ErrPrecondition.
	ErrAlreadyTeam = store.Kinded(store.ErrPrecondition, "teams: already a team account")
	// ErrLastOwner means the change would take the account from its owner:
	// the account owner cannot be removed or demoted, and cannot leave
	// without handing the account over (TransferOwnership). It wraps
	// store.ErrPrecondition.
	ErrLastOwner = store.Kinded(store.ErrPrecondition, "teams: the account owner cannot be removed, demoted or leave; transfer ownership first")
	// ErrNotOwner means only the account's owner may do this (delete the
	// team, convert the account, hand it over). It wraps rbac.ErrDenied,
	// and so store.ErrDenied.
	ErrNotOwner = store.Kinded(rbac.ErrDenied, "teams: only the account owner may do this")
	// ErrInsecureActor means a member who signs in insecurely tried to
	// make their team require secure sign-in, which would lock them out:
	// they enable a secure sign-in method first. It wraps
	// store.ErrPrecondition.
	ErrInsecureActor = store.Kinded(store.ErrPrecondition, "teams: enable a secure sign-in method yourself before requiring one")
	// ErrTransferClosed means the ownership transfer is done, cancelled, or
	// not at the step asked for (a link used twice, or accepted before it
	// was confirmed). It wraps store.ErrPrecondition rather than
	// store.ErrGone: accepting before the confirmation works once the
	// transfer is confirmed, so the refusal is not always for good.
	ErrTransferClosed = store.Kinded(store.ErrPrecondition, "teams: ownership transfer is not open for this step")
	// ErrTransferExpired means the ownership transfer outlived its TTL. It
	// wraps store.ErrGone.
	ErrTransferExpired = store.Kinded(store.ErrGone, "teams: ownership transfer expired")
	// ErrRoleInUse means a team role cannot be deleted while members hold
	// it. It wraps store.ErrPrecondition.
	ErrRoleInUse = store.Kinded(store.ErrPrecondition, "teams: role is held by members")
	// ErrRoleTooBroad means a team role would hold every action of the
	// policy, which only the top role does. It wraps store.ErrInvalid.
	ErrRoleTooBroad = store.Kinded(store.ErrInvalid, "teams: a team role cannot hold every action")
	// ErrTooManyRoles means the account already has MaxTeamRoles team
	// roles. It wraps store.ErrPrecondition.
	ErrTooManyRoles = store.Kinded(store.ErrPrecondition, fmt.Sprintf("teams: an account has at most %d team roles", MaxTeamRoles))
	// ErrTeamRolesUnsupported means the policy is not compiled (see
	// rbac.Policy.Compiled): its model, which Casbin evaluates for every
	// question, says what a role may do, so an account cannot define roles
	// of its own. It wraps store.ErrPrecondition.
	ErrTeamRolesUnsupported = store.Kinded(store.ErrPrecondition, "teams: team roles need a compiled policy")
	// ErrNotify wraps a Notifier's failure; the change it reported on has
	// been committed. It wraps store.ErrBackend: the server failed to send,
	// not the request.
	ErrNotify = store.Kinded(store.ErrBackend, "teams: notification failed")
	// ErrOwnsTeams means the user to delete owns teams that have other
	// members: they hand each over (TransferOwnership) or delete it
	// (DeleteTeam) first. DeleteUser returns it inside an *OwnedTeamsError
	// that names the teams. It wraps store.ErrPrecondition.
	ErrOwnsTeams = store.Kinded(store.ErrPrecondition, "teams: the user owns teams with other members; hand them over or delete them first")
	// ErrInvalidToken means a link's token is malformed or does not match.
	// It wraps store.ErrDenied: the token is the caller's credential.
	ErrInvalidToken = store.Kinded(store.ErrDenied, "teams: invalid or mismatched token")
)

// Service manages users, accounts and members. Get one from roster.Open or
// roster.New; teams.New is for wiring a Store by hand. A Service is safe for
// concurrent use.
type Service struct {
	door        *txn.Door
	policy      *rbac.Policy
	now         func() time.Time
	notifier    notify.Notifier // nil sends nothing
	baseURL     string
	transferTTL time.Duration
	onRemoved   func(context.Context, Removal)
}

// DefaultTransferTTL is how long an ownership transfer stays open unless
// WithTransferTTL says otherwise.
const DefaultTransferTTL = 7 * 24 * time.Hour

// Option configures a Service.
type Option func(*Service)

// WithNotifier sets who sends the emails of the ownership transfer flow
// (n.TransferConfirm and n.TransferAccept). Without one, or with nil,
// nothing is sent and the links are lost, so production code sets one.
func WithNotifier(n notify.Notifier) Option { return func(s *Service) { s.notifier = n } }

// WithBaseURL sets the base URL of the host application that the links of
// the ownership transfer flow are built from, such as
// "https://app.example.com/team": a transfer's link is the base URL +
// "/transfers/" + its ID + "?token=" + the token (a trailing slash of the
// base URL is dropped). Links are never built from a request's Host header.
// It means the same as invites.WithBaseURL and roster.WithBaseURL, which
// gives it to both services and refuses one that is not an absolute http or
// https URL without user info, query or fragment; New, which returns no
// error, does not check it. Without it links are paths ("/transfers/...").
func WithBaseURL(baseURL string) Option {
	return func(s *Service) { s.baseURL = strings.TrimRight(baseURL, "/") }
}

// WithTransferTTL sets how long an ownership transfer stays open; zero or
// less keeps DefaultTransferTTL.
func WithTransferTTL(d time.Duration) Option {
	return func(s *Service) {
		if d > 0 {
			s.transferTTL = d
		}
	}
}

// WithClock sets the Service's clock, for tests: it stamps records and
// events and decides expiry. The times it returns are stored in UTC.
func WithClock(now func() time.Time) Option {
	return func(s *Service) { s.now = now }
}

// WithRemovalHook sets a function called after every committed removal of a
// member (RemoveMember, Leave, DeleteTeam), so that the host application can
// end the user's sessions for that account (roster's own API keys are
// revoked with the removal). It is called
// once per removed member, after the change is visible to Can (or failed to
// become visible: it is called even then, since the removal stands), from
// the goroutine that made the change.
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
		policy:      p,
		transferTTL: DefaultTransferTTL,
	}
	for _, o := range opts {
		o(svc)
	}
	svc.door = txn.New(s, p, svc.now)
	return svc
}

// CreateUser registers a user of the host application (u.ID is the host's
// own user ID) together with their personal account, which they own and in
// which they hold the policy's top role, and makes that account the user's
// active one. It returns the personal account, or an error wrapping
// store.ErrInvalid (a field of u is malformed, or its sign-in method is
// not one the policy accepts: rbac.Policy.SignIns) or store.ErrExists (the
// user ID is taken). UpsertUser creates or updates, for sign-in callbacks.
func (s *Service) CreateUser(ctx context.Context, u store.User) (store.Account, error) {
	var acct store.Account
	err := s.validUser(u)
	if err == nil {
		_, err = s.door.Update(ctx, txn.Call{Actor: u.ID, Need: txn.Anyone}, func(c *txn.Change) (err error) {
			acct, err = s.createUser(ctx, c, u)
			return err
		})
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("create user %q: %w", u.ID, err)
	}
	return acct, nil
}

// validUser checks u's fields as store.User.Validate does, and that the
// policy accepts its sign-in method.
func (s *Service) validUser(u store.User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	if !s.policy.SignIns().Known(u.SignIn) {
		return fmt.Errorf("%w: sign-in method %q is not one the policy accepts", store.ErrInvalid, u.SignIn)
	}
	return nil
}

// createUser creates the valid user u with their personal account, active,
// and records it, in the call's transaction.
func (s *Service) createUser(ctx context.Context, c *txn.Change, u store.User) (store.Account, error) {
	now := c.Now()
	acct := store.Account{ID: txn.NewID("acc"), Kind: store.Personal, Owner: u.ID, CreatedAt: now, UpdatedAt: now}
	u.ActiveAccount, u.CreatedAt = acct.ID, now
	if err := c.Tx.CreateUser(ctx, u); err != nil {
		return store.Account{}, err
	}
	return acct, s.createAccount(ctx, c, acct, map[string]string{"email": u.Email, "name": u.Name})
}

// createAccount creates acct with its owner as its one member, holding the
// top role, and records it with the fields of after.
func (s *Service) createAccount(ctx context.Context, c *txn.Change, acct store.Account, after map[string]string) error {
	if err := c.Tx.CreateAccount(ctx, acct); err != nil {
		return err
	}
	top := string(s.policy.Top())
	if err := c.Tx.CreateMember(ctx, store.Member{AccountID: acct.ID, UserID: acct.Owner, Role: top, JoinedAt: acct.CreatedAt}); err != nil {
		return err
	}
	after["kind"], after["owner"], after["role"] = string(acct.Kind), acct.Owner, top
	if acct.Name != "" {
		after["name"] = acct.Name
	}
	_, err := c.Record(store.Event{
		AccountID: acct.ID, Action: store.EventAccountCreated,
		ResourceType: "account", ResourceID: acct.ID, After: txn.EventValue(after),
	})
	return err
}

// User returns the user with the given ID. It returns an error wrapping
// store.ErrInvalid or store.ErrNotFound.
func (s *Service) User(ctx context.Context, id string) (store.User, error) {
	var u store.User
	err := check.IDs(check.ID("user ID", id))
	if err == nil {
		err = s.door.View(ctx, txn.Call{Need: txn.Anyone}, func(c *txn.Change) (err error) {
			u, err = c.Tx.User(ctx, id)
			return err
		})
	}
	if err != nil {
		return store.User{}, fmt.Errorf("user %q: %w", id, err)
	}
	return u, nil
}

// Account returns the account if actor is one of its members. It returns an
// error wrapping store.ErrInvalid, store.ErrNotFound (no such account) or
// rbac.ErrNotMember.
func (s *Service) Account(ctx context.Context, actor, accountID string) (store.Account, error) {
	var acct store.Account
	err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID))
	if err == nil {
		err = s.door.View(ctx, txn.Call{Actor: actor, Account: accountID, Need: txn.Membership}, func(c *txn.Change) error {
			acct = c.Account
			return nil
		})
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("account %q for %q: %w", accountID, actor, err)
	}
	return acct, nil
}

// owner returns the owner of the call's locked account. A team whose
// recorded owner is no longer a member (data written before owners were
// enforced, or a damaged row) adopts as its owner its earliest-joined
// member holding the top role, recorded as an account.owner_changed event;
// with no such member it has no owner (""), and calls only the owner may
// make are refused.
func (s *Service) owner(ctx context.Context, c *txn.Change) (string, error) {
	acct := c.Account
	if acct.Kind != store.Team {
		return acct.Owner, nil
	}
	if _, err := c.Tx.Member(ctx, acct.ID, acct.Owner); err == nil {
		return acct.Owner, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	members, err := c.Tx.Members(ctx, acct.ID, store.Range{})
	if err != nil {
		return "", err
	}
	for _, m := range members {
		r, err := c.RightsOf(rbac.Role(m.Role))
		if err != nil && !errors.Is(err, rbac.ErrUnknownRole) {
			return "", err
		}
		if r.Top() {
			return m.UserID, s.setOwner(ctx, c, m.UserID, "the recorded owner "+acct.Owner+" is no longer a member")
		}
	}
	return "", nil
}

// setOwner makes userID the owner of the call's account and records it.
func (s *Service) setOwner(ctx context.Context, c *txn.Change, userID, reason string) error {
	// An owner's membership never ends and the owner is never suspended:
	// what the new owner's membership had of either goes.
	var m store.Member
	var err error
	if userID != "" { // "": the account is left without an owner
		if m, err = c.Tx.Member(ctx, c.Account.ID, userID); err != nil {
			return err
		}
	}
	if !m.Until.IsZero() || m.Suspended() {
		m.Until, m.FallbackRole, m.SuspendedAt, m.SuspendedBy = time.Time{}, "", time.Time{}, ""
		if err := c.Tx.UpdateMember(ctx, m); err != nil {
			return err
		}
	}
	before := c.Account.Owner
	c.Account.Owner, c.Account.UpdatedAt = userID, c.Now()
	if err := c.Tx.UpdateAccount(ctx, c.Account); err != nil {
		return err
	}
	_, err = c.Record(store.Event{
		Action: store.EventAccountOwnerChanged, ResourceType: "account", ResourceID: c.Account.ID, Reason: reason,
		Before: txn.EventValue(map[string]string{"owner": before}),
		After:  txn.EventValue(map[string]string{"owner": userID}),
	})
	return err
}

// mustOwn returns ErrNotOwner unless the actor owns the call's account.
func (s *Service) mustOwn(ctx context.Context, c *txn.Change) error {
	owner, err := s.owner(ctx, c)
	if err != nil {
		return err
	}
	if owner == "" || owner != c.Actor.UserID {
		return ErrNotOwner
	}
	return nil
}

// permitted runs fn through the door for a call by actor on the account
// that needs action, recording a refusal by the policy as event on res.
func (s *Service) permitted(ctx context.Context, actor, accountID string, action rbac.Action, event store.EventAction, res txn.Resource, fn func(c *txn.Change) error) error {
	_, err := s.door.Update(ctx, txn.Call{
		Actor: actor, Account: accountID, Need: txn.Permission, Action: action, Event: event, Resource: res,
	}, fn)
	return err
}

// removed registers the removal hook's call for a committed removal.
func (s *Service) removed(c *txn.Change, r Removal) {
	if s.onRemoved == nil {
		return
	}
	c.After(func(ctx context.Context) error {
		s.onRemoved(ctx, r)
		return nil
	})
}
