package roster

import (
	"context"
	"fmt"

	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/rbac"
)

// CheckStrict is Check answered from the database instead of memory: it
// reads the account, the user's membership and, for a team role, the role's
// actions in one read-only transaction and decides with the same rules as
// Can, through the one write path (internal/txn: the policy's table or
// Casbin for the account, the team roles, secure sign-in, suspension and
// end times), so its answer reflects every change committed before it
// began, on any instance. For an API key (see Authenticate) it reads the
// key and its owner's membership the same way. Use it for the few actions that cannot tolerate
// the moments another instance's change takes to reach this one (deleting a
// team, moving money); it costs a database round trip, where Can costs none.
//
// It returns nil if the user may perform the action, Check's errors if not
// (store.ErrInvalid, rbac.ErrUnknownAction, store.ErrNotFound,
// rbac.ErrNotMember, rbac.ErrDenied and the denials that wrap it:
// rbac.ErrSecureSignIn, rbac.ErrSuspended), and the Store's errors (such as
// store.ErrBackend) if it could not read; any error means "do not allow".
// It is safe for concurrent use.
func (r *Roster) CheckStrict(ctx context.Context, user, account string, action rbac.Action) error {
	d, err := r.question(user, account, action)
	if err != nil {
		r.obs.decisions.count(false)
		return d.deny(err).Err
	}
	// The one write path decides as it does for its writes: the same rules
	// as Can, read from the database.
	err = r.door.View(ctx, txn.Call{Actor: user, Account: account, Need: txn.Permission, Action: action, KeyActor: true},
		func(*txn.Change) error { return nil })
	r.obs.decisions.count(err == nil)
	if err != nil {
		return fmt.Errorf("strict check %q may %q on %q: %w", user, action, account, err)
	}
	return nil
}
