package teams

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/teamroster/roster/internal/check"
	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// Limits of team roles.
const (
	// MaxTeamRoleName is the longest team role name accepted, in bytes.
	MaxTeamRoleName = 64
	// MaxTeamRoles is how many team roles one account may define.
	MaxTeamRoles = 100
)

// DefineRole defines (or redefines) a team role of the account: a custom
// role holding the given actions of the policy, usable like a policy role in
// AddMember, ChangeRole and invitations, and honoured by Can as soon as the
// call returns. The actor needs rbac.MembersManage ("Manage team
// permissions") and may define a role only from actions their own role
// holds; redefining an existing role also needs a role that holds every
// action it holds now (as changing or deleting it does). The name may not be
// one of the policy's roles, a team role may not hold every action (that is
// the top role), and an account has at most MaxTeamRoles. It returns the
// role, or an error wrapping store.ErrInvalid (bad name, no actions),
// store.ErrNotFound, store.ErrExists (the name is a policy role),
// rbac.ErrNotMember, rbac.ErrDenied, rbac.ErrUnknownAction, store.ErrNotTeam,
// ErrRoleTooBroad or ErrTooManyRoles, and ErrTeamRolesUnsupported for a
// policy that is not compiled.
func (s *Service) DefineRole(ctx context.Context, actor, accountID, name string, actions []rbac.Action) (store.TeamRole, error) {
	var out store.TeamRole
	err := s.validRole(actor, accountID, name, actions)
	if err == nil {
		err = s.permitted(ctx, actor, accountID, rbac.MembersManage, store.EventRoleDefined, txn.Resource{Type: "role", ID: name}, func(c *txn.Change) error {
			if c.Account.Kind != store.Team {
				return store.ErrNotTeam
			}
			old, err := c.Tx.TeamRole(ctx, accountID, name)
			switch {
			case err == nil:
				if err := c.Covers(rbac.Role(name)); err != nil {
					return err
				}
			case !errors.Is(err, store.ErrNotFound):
				return err
			default:
				roles, err := c.Tx.TeamRoles(ctx, accountID)
				if err != nil {
					return err
				}
				if len(roles) >= MaxTeamRoles {
					return ErrTooManyRoles
				}
			}
			var names []string
			for _, a := range actions {
				if !c.Rights.Allows(a) {
					return fmt.Errorf("role %q lacks %q: %w", c.Actor.Role, a, rbac.ErrDenied)
				}
				if !slices.Contains(names, string(a)) {
					names = append(names, string(a))
				}
			}
			if len(names) == len(s.policy.Actions()) {
				return ErrRoleTooBroad
			}
			slices.Sort(names)
			now := c.Now()
			out = store.TeamRole{AccountID: accountID, Name: name, Actions: names, CreatedBy: actor, CreatedAt: now, UpdatedAt: now}
			if old.Name != "" {
				out.CreatedBy, out.CreatedAt = old.CreatedBy, old.CreatedAt
			}
			if err := c.Tx.PutTeamRole(ctx, out); err != nil {
				return err
			}
			_, err = c.Record(store.Event{
				Action: store.EventRoleDefined, ResourceType: "role", ResourceID: name,
				After: txn.EventValue(map[string][]string{"actions": names}),
			})
			return err
		})
	}
	if err != nil {
		return store.TeamRole{}, fmt.Errorf("define role %q in %q by %q: %w", name, accountID, actor, err)
	}
	return out, nil
}

// DeleteRole deletes a team role that no member holds; pending invitations
// granting it and API keys holding it are revoked with it. The actor needs rbac.MembersManage and a
// role holding every action of the deleted one. It returns an error wrapping
// store.ErrInvalid, store.ErrNotFound (no such account or role),
// rbac.ErrNotMember, rbac.ErrDenied or ErrRoleInUse.
func (s *Service) DeleteRole(ctx context.Context, actor, accountID, name string) error {
	err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID), check.ID("role", name))
	if err == nil {
		err = s.permitted(ctx, actor, accountID, rbac.MembersManage, store.EventRoleDeleted, txn.Resource{Type: "role", ID: name}, func(c *txn.Change) error {
			r, err := c.Tx.TeamRole(ctx, accountID, name)
			if err != nil {
				return err
			}
			if err := c.Covers(rbac.Role(name)); err != nil {
				return err
			}
			members, err := c.Tx.Members(ctx, accountID, store.Range{})
			if err != nil {
				return err
			}
			for _, m := range members {
				if m.Role == name {
					return fmt.Errorf("%s holds it: %w", m.UserID, ErrRoleInUse)
				}
			}
			if err := s.revokeInvites(ctx, c, func(inv store.Invite) bool { return inv.Role == name }, "role deleted"); err != nil {
				return err
			}
			if err := c.DropKeys("", "role deleted", func(k store.APIKey) bool { return k.Role == name }); err != nil {
				return err
			}
			if err := c.Tx.DeleteTeamRole(ctx, accountID, name); err != nil {
				return err
			}
			_, err = c.Record(store.Event{
				Action: store.EventRoleDeleted, ResourceType: "role", ResourceID: name,
				Before: txn.EventValue(map[string][]string{"actions": r.Actions}),
			})
			return err
		})
	}
	if err != nil {
		return fmt.Errorf("delete role %q in %q by %q: %w", name, accountID, actor, err)
	}
	return nil
}

// Roles returns the account's team roles, by name, to any member. It
// returns an error wrapping store.ErrInvalid, store.ErrNotFound or
// rbac.ErrNotMember.
func (s *Service) Roles(ctx context.Context, actor, accountID string) ([]store.TeamRole, error) {
	var out []store.TeamRole
	err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID))
	if err == nil {
		err = s.door.View(ctx, txn.Call{Actor: actor, Account: accountID, Need: txn.Membership}, func(c *txn.Change) error {
			var err error
			out, err = c.Tx.TeamRoles(ctx, accountID)
			return err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("roles of %q for %q: %w", accountID, actor, err)
	}
	return out, nil
}

// validRole checks DefineRole's arguments.
func (s *Service) validRole(actor, accountID, name string, actions []rbac.Action) error {
	if err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID), check.ID("role name", name)); err != nil {
		return err
	}
	switch {
	case !s.policy.Compiled():
		return fmt.Errorf("policy %s: %w", s.policy.Name(), ErrTeamRolesUnsupported)
	case len(name) > MaxTeamRoleName:
		return fmt.Errorf("%w: role name is longer than %d bytes", store.ErrInvalid, MaxTeamRoleName)
	case s.policy.HasRole(rbac.Role(name)):
		return fmt.Errorf("policy %s has a role %q: %w", s.policy.Name(), name, store.ErrExists)
	case len(actions) == 0:
		return fmt.Errorf("%w: a role needs at least one action", store.ErrInvalid)
	case len(actions) > len(s.policy.Actions()):
		return fmt.Errorf("%w: %d actions, the policy has %d", store.ErrInvalid, len(actions), len(s.policy.Actions()))
	}
	for _, a := range actions {
		if !s.policy.HasAction(a) {
			return fmt.Errorf("policy %s has no action %q: %w", s.policy.Name(), a, rbac.ErrUnknownAction)
		}
	}
	return nil
}
