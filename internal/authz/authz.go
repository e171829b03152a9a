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
	if !p.Allows(rbac.Role(m.Role), action) {
		return acct, m, fmt.Errorf("role %q lacks %q: %w", m.Role, action, rbac.ErrDenied)
	}
	return acct, m, nil
}
