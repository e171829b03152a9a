// Package authz holds roster's decision about what a member may do in an
// account, and the grant rules built on it. The in-memory index behind Can
// compiles the same rules (the policy's decision table and the account's
// team roles, or Casbin for that account when the policy is not compiled);
// internal/txn authorizes every write and permissioned read with them, and
// CheckStrict answers from the database with them.
package authz

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// Rights is what one role may do in one account: Can's decision for a
// member holding that role there. The zero Rights (not a member) allows
// nothing.
type Rights struct {
	policy *rbac.Policy
	team   string
	role   rbac.Role
	known  bool
	// actions holds, by rbac.ActionID, the actions of a role of a compiled
	// policy; nil for a role of a policy that is not compiled, which
	// Casbin decides for the account (rbac.Policy.AllowsIn).
	actions []bool
	// narrowed says Only narrowed the rights; only holds the actions they
	// were narrowed to for a policy that is not compiled.
	narrowed bool
	only     []rbac.Action
}

// None returns the rights of someone who is not a member of the account:
// none.
func None(p *rbac.Policy, accountID string) Rights { return Rights{policy: p, team: accountID} }

// Resolve returns the rights of role in the account: a role of the policy,
// or else one of the account's team roles (whose actions the policy no
// longer has grant nothing; a policy that is not compiled has no team
// roles). It returns an error wrapping rbac.ErrUnknownRole, with Rights
// that allow nothing, if the role is neither, and the store's errors.
func Resolve(ctx context.Context, tx store.Tx, p *rbac.Policy, accountID string, role rbac.Role) (Rights, error) {
	r := Rights{policy: p, team: accountID, role: role}
	if p.HasRole(role) {
		r.known = true
		if p.Compiled() {
			r.actions = make([]bool, len(p.Actions()))
			for _, a := range p.RoleActions(role) {
				id, _ := p.ActionID(a)
				r.actions[id] = true
			}
		}
		return r, nil
	}
	if !p.Compiled() {
		return r, fmt.Errorf("no role %q in policy %s: %w", role, p.Name(), rbac.ErrUnknownRole)
	}
	tr, err := tx.TeamRole(ctx, accountID, string(role))
	if errors.Is(err, store.ErrNotFound) {
		return r, fmt.Errorf("no role %q in policy %s or account %s: %w", role, p.Name(), accountID, rbac.ErrUnknownRole)
	}
	if err != nil {
		return r, err
	}
	r.known = true
	r.actions = make([]bool, len(p.Actions()))
	for _, a := range tr.Actions {
		if id, ok := p.ActionID(rbac.Action(a)); ok {
			r.actions[id] = true
		}
	}
	return r, nil
}

// Only returns r narrowed to those of actions that r allows: the rights of
// an API key that holds the role but may do only actions. Rights narrowed
// so are never Top. nil actions leave r as it is; actions the policy lacks
// are ignored.
func (r Rights) Only(actions []rbac.Action) Rights {
	if actions == nil {
		return r
	}
	r.narrowed = true
	if r.actions == nil {
		r.only = slices.Clone(actions)
		return r
	}
	n := make([]bool, len(r.actions))
	for _, a := range actions {
		if id, ok := r.policy.ActionID(a); ok && r.actions[id] {
			n[id] = true
		}
	}
	r.actions = n
	return r
}

// Role returns the role the rights are of.
func (r Rights) Role() rbac.Role { return r.role }

// Known reports whether the role is the policy's or one of the account's
// team roles.
func (r Rights) Known() bool { return r.known }

// Allows reports whether the role may perform action in the account.
func (r Rights) Allows(action rbac.Action) bool {
	switch {
	case !r.known:
		return false
	case r.actions == nil:
		return (!r.narrowed || slices.Contains(r.only, action)) && r.policy.AllowsIn(r.team, r.role, action)
	}
	id, ok := r.policy.ActionID(action)
	return ok && r.actions[id]
}

// Covers reports whether r holds every right o holds in the account, so
// that a holder of r may grant, change or remove o. Unknown rights cover
// nothing but rights that hold nothing.
func (r Rights) Covers(o Rights) bool {
	if !o.known {
		return true
	}
	if !r.known {
		return o.holdsNothing()
	}
	if r.actions == nil || o.actions == nil {
		switch {
		case r.actions != nil || o.actions != nil:
			return false
		case o.narrowed:
			// Casbin's actions may be patterns; o's are listed.
			for _, a := range o.only {
				if o.Allows(a) && !r.Allows(a) {
					return false
				}
			}
			return true
		}
		return !r.narrowed && r.policy.CoversIn(r.team, r.role, o.role)
	}
	for i, has := range o.actions {
		if has && !r.actions[i] {
			return false
		}
	}
	return true
}

// holdsNothing reports whether the rights allow no action of the policy.
func (r Rights) holdsNothing() bool {
	if r.policy == nil {
		return true
	}
	for _, a := range r.policy.Actions() {
		if r.Allows(a) {
			return false
		}
	}
	return true
}

// Top reports whether the role is a role of the policy holding every
// action of the policy in the account (for a policy that is not compiled,
// as Casbin decides for that account). A team role is never top.
func (r Rights) Top() bool {
	return r.known && !r.narrowed && r.policy.HasRole(r.role) && r.policy.IsTopIn(r.team, r.role)
}

// Actions returns the policy's actions the role may perform in the
// account, in the policy's order.
func (r Rights) Actions() []rbac.Action {
	if r.policy == nil {
		return nil
	}
	var out []rbac.Action
	for _, a := range r.policy.Actions() {
		if r.Allows(a) {
			out = append(out, a)
		}
	}
	return out
}

// SeesInvitees reports whether a member with these rights sees the email
// addresses of pending invitations, in the members table and in the list of
// invites: those who may invite.
func (r Rights) SeesInvitees() bool { return r.Allows(rbac.MembersInvite) }

// SeesSignIns reports whether a member with these rights sees how the other
// members sign in: those who may manage members (DigitalOcean's owners).
func (r Rights) SeesSignIns() bool { return r.Allows(rbac.MembersManage) }

// MayAct returns nil if a member with rights r may act on (change the role
// of, remove) a member whose rights are target: r covers target. It
// returns an error wrapping rbac.ErrDenied otherwise.
func MayAct(r, target Rights) error {
	if !r.Covers(target) {
		return fmt.Errorf("role %q lacks some rights of role %q: %w", r.role, target.role, rbac.ErrDenied)
	}
	return nil
}

// MayGrant returns nil if a member with rights r may give role, whose
// rights in the account are role, to someone by a role change or an
// invitation: the role exists, r covers it, and it is not a top role of a
// policy that grants the top role only by a transfer. It returns an error
// wrapping rbac.ErrUnknownRole, rbac.ErrDenied or rbac.ErrTopByTransfer.
func MayGrant(r, role Rights) error {
	switch {
	case !role.known:
		return fmt.Errorf("no role %q in policy %s or account %s: %w", role.role, role.policy.Name(), role.team, rbac.ErrUnknownRole)
	case !r.Covers(role):
		return fmt.Errorf("role %q may not grant role %q, which has rights it lacks: %w", r.role, role.role, rbac.ErrDenied)
	case role.policy.TopByTransfer() && role.Top():
		return fmt.Errorf("role %q: %w", role.role, rbac.ErrTopByTransfer)
	}
	return nil
}
