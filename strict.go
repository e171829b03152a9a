package roster

import (
	"context"
	"errors"
	"fmt"

	"github.com/teamroster/roster/internal/authz"
	"github.com/teamroster/roster/internal/index"
	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// CheckStrict is Check answered from the database instead of memory: it
// reads the account, the user's membership and, for a team role, the role's
// actions in one read-only transaction and decides with the same rules as
// Can (internal/authz; Casbin for the account, for a policy that is not
// compiled), so its answer reflects every change committed before it
// began, on any instance. For an API key (see Authenticate) it reads the
// key and its owner's membership the same way. Use it for the few actions that cannot tolerate
// the moments another instance's change takes to reach this one (deleting a
// team, moving money); it costs a database round trip, where Can costs none.
//
// It returns nil if the user may perform the action, Check's errors if not
// (store.ErrInvalid, rbac.ErrUnknownAction, store.ErrNotFound,
// rbac.ErrNotMember, rbac.ErrDenied), and the Store's errors (such as
// store.ErrBackend) if it could not read; any error means "do not allow".
// It is safe for concurrent use.
func (r *Roster) CheckStrict(ctx context.Context, user, account string, action rbac.Action) error {
	d, err := r.question(user, account, action)
	if err != nil {
		r.obs.decisions.count(false)
		return d.deny(err).Err
	}
	if store.IsAPIKeyID(user) {
		// The one write path decides for a key as it does for its writes.
		err := r.door.View(ctx, txn.Call{Actor: user, Account: account, Need: txn.Permission,
			Action: action, KeyActor: true}, func(*txn.Change) error { return nil })
		r.obs.decisions.count(err == nil)
		if err != nil {
			return fmt.Errorf("strict check %q may %q on %q: %w", user, action, account, err)
		}
		return nil
	}
	var a index.Answer
	err = r.store.View(ctx, func(tx store.Tx) error {
		acct, err := tx.Account(ctx, account)
		if err != nil {
			return ignoreNotFound(err)
		}
		a.AccountKnown = true
		m, err := tx.Member(ctx, account, user)
		if err != nil {
			return ignoreNotFound(err)
		}
		a.Member = true
		rights, err := authz.Resolve(ctx, tx, r.policy, account, rbac.Role(m.Role))
		if errors.Is(err, rbac.ErrUnknownRole) {
			return nil // a stored role that is neither the policy's nor a team role
		} else if err != nil {
			return err
		}
		a.RoleKnown, a.Role, a.Allowed = true, rbac.Role(m.Role), rights.Allows(action)
		if acct.RequireSecureSignIn {
			u, err := tx.User(ctx, user)
			if err != nil {
				return err
			}
			a.InsecureSignIn = !r.policy.SignIns().Secure(u.SignIn)
		}
		return nil
	})
	if err != nil {
		r.obs.decisions.count(false)
		return fmt.Errorf("strict check %q may %q on %q: %w", user, action, account, err)
	}
	d = r.decide(d, a)
	r.obs.decisions.count(d.Allowed)
	return d.Err
}

// ignoreNotFound returns nil for store.ErrNotFound and err otherwise.
func ignoreNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}
