package teams

import (
	"context"
	"fmt"
	"slices"

	"github.com/teamroster/roster/internal/authz"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// MaxTeamRoleName is the longest team role name accepted, in bytes.
const MaxTeamRoleName = 64

// DefineRole defines (or redefines) a team role of the account: a custom
// role holding the given actions of the policy, usable like a policy role in
// AddMember, ChangeRole and invitations, and honoured by Can as soon as the
// call returns. The actor needs rbac.MembersManage ("Manage team
// permissions") and may define a role only from actions their own role
// holds. The name may not be one of the policy's roles, and a team role may
// not hold every action (that is the top role). It returns the role, or an
// error wrapping store.ErrInvalid (bad name, no actions), store.ErrNotFound,
// store.ErrExists (the name is a policy role), rbac.ErrNotMember,
// rbac.ErrDenied, rbac.ErrUnknownAction, ErrNotTeam or ErrRoleTooBroad, and
// ErrTeamRolesUnsupported for a policy that is not compiled.
func (s *Service) DefineRole(ctx context.Context, actor, accountID, name string, actions []rbac.Action) (store.TeamRole, error) {
	var out store.TeamRole
	err := s.validRole(actor, accountID, name, actions)
	if err == nil {
		err = s.update(ctx, actor, accountID, rbac.MembersManage, "role.defined", func(c *change) error {
			if c.acct.Kind != store.Team {
				return ErrNotTeam
			}
			mine, err := authz.Actions(ctx, c.tx, s.policy, accountID, rbac.Role(c.me.Role))
			if err != nil {
				return err
			}
			set := make(authz.ActionSet, len(mine))
			names := make([]string, 0, len(actions))
			for _, a := range actions {
				id, _ := s.policy.ActionID(a)
				if !set[id] {
					set[id] = true
					names = append(names, string(a))
				}
			}
			switch {
			case !mine.Covers(set):
				return fmt.Errorf("role %q lacks some of these actions: %w", c.me.Role, rbac.ErrDenied)
			case set.All():
				return ErrRoleTooBroad
			}
			slices.Sort(names)
			now := s.now()
			out = store.TeamRole{AccountID: accountID, Name: name, Actions: names, CreatedBy: actor, CreatedAt: now, UpdatedAt: now}
			if old, err := c.tx.TeamRole(ctx, accountID, name); err == nil {
				out.CreatedBy, out.CreatedAt = old.CreatedBy, old.CreatedAt
			}
			if err := c.tx.PutTeamRole(ctx, out); err != nil {
				return err
			}
			return s.record(ctx, c.tx, store.Event{
				AccountID: accountID, Actor: actor, Action: "role.defined",
				ResourceType: "role", ResourceID: name,
				After: store.EventValue(map[string][]string{"actions": names}),
			})
		})
	}
	if err != nil {
		return store.TeamRole{}, fmt.Errorf("teams: define role %q in %q by %q: %w", name, accountID, actor, err)
	}
	return out, nil
}

// DeleteRole deletes a team role that no member holds; pending invitations
// granting it are revoked with it. The actor needs rbac.MembersManage and a
// role holding every action of the deleted one. It returns an error wrapping
// store.ErrInvalid, store.ErrNotFound (no such account or role),
// rbac.ErrNotMember, rbac.ErrDenied or ErrRoleInUse.
func (s *Service) DeleteRole(ctx context.Context, actor, accountID, name string) error {
	err := store.ValidateIDs("actor", actor, "account ID", accountID, "role", name)
	if err == nil {
		err = s.update(ctx, actor, accountID, rbac.MembersManage, "role.deleted", func(c *change) error {
			r, err := c.tx.TeamRole(ctx, accountID, name)
			if err != nil {
				return err
			}
			if err := s.covers(ctx, c, rbac.Role(name)); err != nil {
				return err
			}
			members, err := c.tx.Members(ctx, accountID)
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
			if err := c.tx.DeleteTeamRole(ctx, accountID, name); err != nil {
				return err
			}
			return s.record(ctx, c.tx, store.Event{
				AccountID: accountID, Actor: actor, Action: "role.deleted",
				ResourceType: "role", ResourceID: name,
				Before: store.EventValue(map[string][]string{"actions": r.Actions}),
			})
		})
	}
	if err != nil {
		return fmt.Errorf("teams: delete role %q in %q by %q: %w", name, accountID, actor, err)
	}
	return nil
}

// Roles returns the account's team roles, by name, to any member. It
// returns an error wrapping store.ErrInvalid, store.ErrNotFound or
// rbac.ErrNotMember.
func (s *Service) Roles(ctx context.Context, actor, accountID string) ([]store.TeamRole, error) {
	var out []store.TeamRole
	err := store.ValidateIDs("actor", actor, "account ID", accountID)
	if err == nil {
		err = s.store.View(ctx, func(tx store.Tx) error {
			if _, err := memberView(ctx, tx, actor, accountID); err != nil {
				return err
			}
			var err error
			out, err = tx.TeamRoles(ctx, accountID)
			return err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("teams: roles of %q for %q: %w", accountID, actor, err)
	}
	return out, nil
}

// validRole checks DefineRole's arguments.
func (s *Service) validRole(actor, accountID, name string, actions []rbac.Action) error {
	if err := store.ValidateIDs("actor", actor, "account ID", accountID, "role name", name); err != nil {
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
