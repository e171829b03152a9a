// Package teams manages users, their personal and team accounts, and the
// members of each team with their roles. Every change is one store
// transaction that authorizes its actor with the policy, checks the
// invariants, applies the change and writes its audit event; all of it
// commits or none of it does.
package teams

import (
	"context"
	"encoding/json"
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
)

// Service manages users, accounts and members. Get one from roster.Open or
// roster.New; teams.New is for wiring a Store by hand. A Service is safe for
// concurrent use.
type Service struct {
	store  store.Store
	policy *rbac.Policy
	now    func() time.Time
}

// New returns a Service that keeps its data in s and authorizes with p.
func New(s store.Store, p *rbac.Policy) *Service {
	return &Service{store: s, policy: p, now: func() time.Time { return time.Now().UTC() }}
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
			After: jsonOf(map[string]string{"kind": string(acct.Kind), "owner": u.ID, "email": u.Email, "name": u.Name, "role": string(s.policy.Top())}),
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
	err := validIDs("user ID", id)
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
	err := validIDs("actor", actor, "account ID", accountID)
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

// Members returns the account's members, earliest joined first, if actor is
// one of them (every member may see the members table). It returns an error
// wrapping store.ErrInvalid, store.ErrNotFound or rbac.ErrNotMember.
func (s *Service) Members(ctx context.Context, actor, accountID string) ([]store.Member, error) {
	var members []store.Member
	err := validIDs("actor", actor, "account ID", accountID)
	if err == nil {
		err = s.store.View(ctx, func(tx store.Tx) error {
			if _, err := memberView(ctx, tx, actor, accountID); err != nil {
				return err
			}
			var err error
			members, err = tx.Members(ctx, accountID)
			return err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("teams: members of %q for %q: %w", accountID, actor, err)
	}
	return members, nil
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

// update runs fn in a transaction after authorizing actor for action on the
// account; fn gets the locked account and the actor's membership.
func (s *Service) update(ctx context.Context, actor, accountID string, action rbac.Action, fn func(tx store.Tx, acct store.Account, me store.Member) error) error {
	_, err := s.store.Update(ctx, func(tx store.Tx) error {
		acct, me, err := authz.Authorize(ctx, tx, s.policy, actor, accountID, action)
		if err != nil {
			return err
		}
		return fn(tx, acct, me)
	})
	return err
}

// validIDs validates pairs of (what, value) identifiers.
func validIDs(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if err := store.ValidateID(pairs[i], pairs[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// jsonOf encodes v for an event's Before or After. JSON escapes control
// characters, so text from users cannot forge log lines.
func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("teams: encode event value: %v", err)) // only plain maps are encoded
	}
	return string(b)
}
