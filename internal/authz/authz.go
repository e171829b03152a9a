// Package authz authorizes the actor of a change inside the change's own
// transaction, with the same policy that answers Can. It is shared by the
// teams, invites and audit services.
package authz

import (
	"context"
	"errors"
	"fmt"

	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// Authorize returns the actor's membership of the account if their role
// allows action. It locks the account for the rest of the transaction, so
// that checks made after it see no concurrent change to the account's
// members. It returns an error wrapping store.ErrNotFound (no such account),
// rbac.ErrNotMember, rbac.ErrDenied, rbac.ErrUnknownAction (the policy lacks
// the action), or the store's errors.
func Authorize(ctx context.Context, tx store.Tx, p *rbac.Policy, actor, accountID string, action rbac.Action) (store.Account, store.Member, error) {
	return authorize(ctx, tx.LockAccount, tx, p, actor, accountID, action)
}

// AuthorizeView is Authorize for read-only transactions: it does not lock
// the account.
func AuthorizeView(ctx context.Context, tx store.Tx, p *rbac.Policy, actor, accountID string, action rbac.Action) (store.Account, store.Member, error) {
	return authorize(ctx, tx.Account, tx, p, actor, accountID, action)
}

func authorize(ctx context.Context, account func(context.Context, string) (store.Account, error), tx store.Tx, p *rbac.Policy, actor, accountID string, action rbac.Action) (store.Account, store.Member, error) {
	if !p.HasAction(action) {
		return store.Account{}, store.Member{}, fmt.Errorf("policy %s has no action %q: %w", p.Name(), action, rbac.ErrUnknownAction)
	}
	acct, err := account(ctx, accountID)
	if err != nil {
		return store.Account{}, store.Member{}, err
	}
	m, err := tx.Member(ctx, accountID, actor)
	if errors.Is(err, store.ErrNotFound) {
		return acct, store.Member{}, fmt.Errorf("%s is not a member of %s: %w", actor, accountID, rbac.ErrNotMember)
	}
	if err != nil {
		return acct, store.Member{}, err
	}
	held, err := Actions(ctx, tx, p, accountID, rbac.Role(m.Role))
	if err != nil && !errors.Is(err, rbac.ErrUnknownRole) {
		return acct, m, err
	}
	if !held.Has(p, action) {
		return acct, m, fmt.Errorf("role %q lacks %q: %w", m.Role, action, rbac.ErrDenied)
	}
	return acct, m, nil
}

// ActionSet is the set of a policy's actions a role holds, indexed by
// rbac.ActionID.
type ActionSet []bool

// Has reports whether the set holds action a of policy p.
func (s ActionSet) Has(p *rbac.Policy, a rbac.Action) bool {
	id, ok := p.ActionID(a)
	return ok && int(id) < len(s) && s[id]
}

// Covers reports whether s holds every action o holds.
func (s ActionSet) Covers(o ActionSet) bool {
	for i, has := range o {
		if has && (i >= len(s) || !s[i]) {
			return false
		}
	}
	return true
}

// All reports whether s holds every action of the policy.
func (s ActionSet) All() bool {
	for _, has := range s {
		if !has {
			return false
		}
	}
	return len(s) > 0
}

// Actions resolves a role of an account to the actions it holds: a role of
// the policy, or else one of the account's team roles (whose actions the
// policy no longer knows grant nothing). It returns an error wrapping
// rbac.ErrUnknownRole if the role is neither, with an empty set, or the
// store's errors.
func Actions(ctx context.Context, tx store.Tx, p *rbac.Policy, accountID string, role rbac.Role) (ActionSet, error) {
	set := make(ActionSet, len(p.Actions()))
	if p.HasRole(role) {
		for _, a := range p.RoleActions(role) {
			id, _ := p.ActionID(a)
			set[id] = true
		}
		return set, nil
	}
	r, err := tx.TeamRole(ctx, accountID, string(role))
	if errors.Is(err, store.ErrNotFound) {
		return set, fmt.Errorf("no role %q in policy %s or account %s: %w", role, p.Name(), accountID, rbac.ErrUnknownRole)
	}
	if err != nil {
		return set, err
	}
	for _, a := range r.Actions {
		if id, ok := p.ActionID(rbac.Action(a)); ok {
			set[id] = true
		}
	}
	return set, nil
}

// Covers returns nil if role a of the account holds every action role b
// holds (so a holder of a may grant, change or remove b), an error wrapping
// rbac.ErrDenied if not, and one wrapping rbac.ErrUnknownRole if b is
// neither a policy role nor one of the account's team roles. An unknown a
// holds nothing.
func Covers(ctx context.Context, tx store.Tx, p *rbac.Policy, accountID string, a, b rbac.Role) error {
	theirs, err := Actions(ctx, tx, p, accountID, b)
	if err != nil {
		return err
	}
	mine, err := Actions(ctx, tx, p, accountID, a)
	if err != nil && !errors.Is(err, rbac.ErrUnknownRole) {
		return err
	}
	if !mine.Covers(theirs) {
		return fmt.Errorf("role %q lacks some actions of role %q: %w", a, b, rbac.ErrDenied)
	}
	return nil
}

// MayGrant returns nil if a member with role granter may give role to
// someone, by a role change or an invitation: Covers, and not the top role
// of a policy that grants it only by an ownership transfer (then an error
// wrapping rbac.ErrTopByTransfer).
func MayGrant(ctx context.Context, tx store.Tx, p *rbac.Policy, accountID string, granter, role rbac.Role) error {
	if err := Covers(ctx, tx, p, accountID, granter, role); err != nil {
		return err
	}
	if p.TopByTransfer() && p.IsTop(role) {
		return fmt.Errorf("role %q: %w", role, rbac.ErrTopByTransfer)
	}
	return nil
}
