package txn

import (
	"errors"
	"fmt"
	"slices"

	"github.com/teamroster/roster/internal/authz"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// API keys follow the access of whoever they belong to. Can never lets a
// personal key do more than its owner may at that moment (see
// internal/index); the rules below make the stored keys say the same, so
// that a key does not come back to life when its owner does, and so that
// each loss is an audit event: a member who loses their membership loses
// their keys (DropKeys), a member whose role shrinks has their keys
// narrowed to what the new role holds (FitKeys), and a team role that is
// deleted takes the keys holding it.

// KeyRights returns the rights of the API key k in the call's account: its
// role's, narrowed to its Actions when it has them. A key whose role is
// neither the policy's nor one of the account's team roles has no rights
// (and the error wraps rbac.ErrUnknownRole). It returns the store's
// errors.
func (c *Change) KeyRights(k store.APIKey) (authz.Rights, error) {
	r, err := c.RightsOf(rbac.Role(k.Role))
	if err != nil {
		return r, err
	}
	return r.Only(actionsOf(k.Actions)), nil
}

// actionsOf converts stored action names, keeping nil as nil.
func actionsOf(names []string) []rbac.Action {
	if names == nil {
		return nil
	}
	out := make([]rbac.Action, len(names))
	for i, n := range names {
		out[i] = rbac.Action(n)
	}
	return out
}

// DropKeys revokes the live API keys of the call's account that which
// selects (every one when which is nil) among those of userID, or of the
// whole account, service accounts included, when userID is empty, and
// records each as an api_key.revoked event with the reason. It returns the
// store's errors.
func (c *Change) DropKeys(userID, reason string, which func(store.APIKey) bool) error {
	return c.eachLiveKey(userID, func(k store.APIKey) error {
		if which != nil && !which(k) {
			return nil
		}
		return c.RevokeKey(k, "", reason)
	})
}

// FitKeys narrows every live API key of userID in the call's account to
// what rights to allow (the rights of the member's new role): a key whose
// rights to covers is left as it is; another keeps only the actions both
// allow, recorded as an api_key.narrowed event, or is revoked, recorded as
// api_key.revoked, when none is left. It returns the store's errors.
func (c *Change) FitKeys(userID string, to authz.Rights) error {
	return c.eachLiveKey(userID, func(k store.APIKey) error {
		has, err := c.KeyRights(k)
		if err != nil && !errors.Is(err, rbac.ErrUnknownRole) {
			return err
		}
		if to.Covers(has) {
			return nil
		}
		var keep []string
		for _, a := range has.Actions() {
			if to.Allows(a) {
				keep = append(keep, string(a))
			}
		}
		if len(keep) == 0 {
			return c.RevokeKey(k, "", "its owner's role no longer allows any of its actions")
		}
		before := has.Actions()
		k.Actions = keep
		if err := c.Tx.UpdateAPIKey(c.ctx, k); err != nil {
			return err
		}
		_, err = c.Record(store.Event{
			Action: store.EventAPIKeyNarrowed, ResourceType: "api_key", ResourceID: k.ID,
			Reason: "its owner's role no longer allows some of its actions",
			Before: EventValue(map[string][]string{"actions": names(before)}),
			After:  EventValue(map[string][]string{"actions": keep}),
		})
		return err
	})
}

func names(actions []rbac.Action) []string {
	out := make([]string, len(actions))
	for i, a := range actions {
		out[i] = string(a)
	}
	return out
}

// RevokeKey revokes the live API key k of the call's account, as by (empty
// when it goes with its owner's access), with the reason (empty when its
// owner or an admin revoked it), and records an api_key.revoked event. It
// returns the store's errors.
func (c *Change) RevokeKey(k store.APIKey, by, reason string) error {
	k.RevokedAt, k.RevokedBy = c.Now(), by
	if err := c.Tx.UpdateAPIKey(c.ctx, k); err != nil {
		return err
	}
	_, err := c.Record(store.Event{
		Action: store.EventAPIKeyRevoked, ResourceType: "api_key", ResourceID: k.ID, Reason: reason,
		Before: EventValue(map[string]string{"owner": k.UserID, "role": k.Role}),
	})
	return err
}

// eachLiveKey calls fn for every key of userID (every key of the account
// when userID is empty) in the call's account that is not revoked, a page
// at a time. fn may revoke or change the key it is given.
func (c *Change) eachLiveKey(userID string, fn func(store.APIKey) error) error {
	const page = 200
	var after store.Key
	for {
		keys, err := c.Tx.APIKeys(c.ctx, c.Account.ID, userID, store.Range{After: after, Limit: page})
		if err != nil {
			return err
		}
		for _, k := range keys {
			if !k.RevokedAt.IsZero() {
				continue
			}
			if err := fn(k); err != nil {
				return err
			}
		}
		if len(keys) < page {
			return nil
		}
		after = keys[len(keys)-1].Key()
	}
}

// enterAsKey authorizes an API key as the actor of a call that lets keys
// act (Call.KeyActor): it must be live, on the account, and, for a
// personal key, belong to a member the account does not shut out for their
// sign-in method. The key then stands in c.Actor as a member holding its
// role, with its rights (see KeyRights) narrowed to its owner's.
func (d *Door) enterAsKey(c *Change, call Call, account string) error {
	notMember := fmt.Errorf("%s is not a live API key of %s: %w", call.Actor, account, rbac.ErrNotMember)
	if !call.KeyActor {
		return fmt.Errorf("%s is an API key, which acts only through Can and recorded events: %w", call.Actor, rbac.ErrDenied)
	}
	k, err := c.Tx.APIKey(c.ctx, call.Actor)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notMember
	case err != nil:
		return err
	case k.AccountID != account || !k.Live(d.Now()):
		return notMember
	}
	rights, err := c.KeyRights(k)
	if err != nil && !errors.Is(err, rbac.ErrUnknownRole) {
		return err
	}
	if k.UserID != "" {
		owner, err := c.Tx.Member(c.ctx, account, k.UserID)
		if err == nil {
			owner, err = d.current(owner)
		}
		switch {
		case errors.Is(err, store.ErrNotFound):
			return notMember
		case err != nil:
			return err
		case owner.Suspended():
			return fmt.Errorf("the owner of %s: %w", call.Actor, rbac.ErrSuspended)
		}
		if c.Account.RequireSecureSignIn {
			u, err := c.Tx.User(c.ctx, k.UserID)
			if err != nil {
				return err
			}
			if !d.policy.SignIns().Secure(u.SignIn) {
				return fmt.Errorf("the owner of %s signs in with %q: %w", call.Actor, u.SignIn, rbac.ErrSecureSignIn)
			}
		}
		ownerRights, err := c.RightsOf(rbac.Role(owner.Role))
		if err != nil && !errors.Is(err, rbac.ErrUnknownRole) {
			return err
		}
		rights = rights.Only(slices.DeleteFunc(rights.Actions(), func(a rbac.Action) bool { return !ownerRights.Allows(a) }))
	}
	c.Actor = store.Member{AccountID: account, UserID: call.Actor, Role: k.Role}
	c.Rights = rights
	if call.Need == Permission && !c.Rights.Allows(call.Action) {
		return fmt.Errorf("API key %s lacks %q: %w", call.Actor, call.Action, rbac.ErrDenied)
	}
	return nil
}
