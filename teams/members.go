package teams

import (
	"context"
	"errors"
	"fmt"

	"github.com/teamroster/roster/internal/authz"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// AddMember makes an existing user a member of a team with role, without an
// invitation (for host applications that provision members themselves, such
// as from a directory). The actor needs rbac.MembersManage and may grant only
// a role whose permissions are all their own; where the policy grants the
// top role only by transfer (rbac.Policy.TopByTransfer), it cannot be given
// here. Adding does not change the user's active account. It returns the
// membership, or an error wrapping store.ErrInvalid, store.ErrNotFound (no
// such account or user), rbac.ErrNotMember, rbac.ErrDenied,
// rbac.ErrUnknownRole, ErrNotTeam, ErrTransferRequired or store.ErrExists
// (already a member; nothing changes).
func (s *Service) AddMember(ctx context.Context, actor, accountID, userID string, role rbac.Role) (store.Member, error) {
	var out store.Member
	err := store.ValidateIDs("actor", actor, "account ID", accountID, "user ID", userID, "role", string(role))
	if err == nil {
		err = s.update(ctx, actor, accountID, rbac.MembersManage, "member.added", func(c *change) error {
			if c.acct.Kind != store.Team {
				return ErrNotTeam
			}
			if err := s.mayGrant(ctx, c, role); err != nil {
				return err
			}
			if _, err := c.tx.User(ctx, userID); err != nil {
				return err
			}
			out = store.Member{AccountID: accountID, UserID: userID, Role: string(role), JoinedAt: s.now()}
			if err := c.tx.CreateMember(ctx, out); err != nil {
				return err
			}
			return s.record(ctx, c.tx, store.Event{
				AccountID: accountID, Actor: actor, Action: "member.added",
				ResourceType: "member", ResourceID: userID,
				After: store.EventValue(map[string]string{"role": string(role)}),
			})
		})
	}
	if err != nil {
		return store.Member{}, fmt.Errorf("teams: add %q to %q by %q: %w", userID, accountID, actor, err)
	}
	return out, nil
}

// ChangeRole gives a member another role. The actor needs
// rbac.MembersManage, and both the member's current role and the new one
// must grant nothing the actor's role lacks. Where the policy grants the top
// role only by transfer, making someone top needs TransferOwnership. It
// returns the updated membership, or an error wrapping store.ErrInvalid,
// store.ErrNotFound (no such account, or userID is not a member),
// rbac.ErrNotMember (the actor is not), rbac.ErrDenied, rbac.ErrUnknownRole,
// ErrTransferRequired, or ErrLastOwner (the member is the last with the top
// role).
func (s *Service) ChangeRole(ctx context.Context, actor, accountID, userID string, role rbac.Role) (store.Member, error) {
	var out store.Member
	err := store.ValidateIDs("actor", actor, "account ID", accountID, "user ID", userID, "role", string(role))
	if err == nil {
		err = s.update(ctx, actor, accountID, rbac.MembersManage, "member.role_changed", func(c *change) error {
			target, err := s.actOn(ctx, c, userID)
			if err != nil {
				return err
			}
			if err := s.mayGrant(ctx, c, role); err != nil {
				return err
			}
			if target.Role == string(role) {
				out = target
				return nil
			}
			out, err = s.setRole(ctx, c, target, role)
			return err
		})
	}
	if err != nil {
		return store.Member{}, fmt.Errorf("teams: change role of %q in %q by %q: %w", userID, accountID, actor, err)
	}
	return out, nil
}

// setRole changes the member's role, keeping a top-role member, and records
// the change.
func (s *Service) setRole(ctx context.Context, c *change, m store.Member, role rbac.Role) (store.Member, error) {
	if !s.policy.IsTop(role) {
		if err := s.keepsTop(ctx, c.tx, m); err != nil {
			return store.Member{}, err
		}
	}
	old := m.Role
	m.Role = string(role)
	if err := c.tx.UpdateMember(ctx, m); err != nil {
		return store.Member{}, err
	}
	return m, s.record(ctx, c.tx, store.Event{
		AccountID: m.AccountID, Actor: c.me.UserID, Action: "member.role_changed",
		ResourceType: "member", ResourceID: m.UserID,
		Before: store.EventValue(map[string]string{"role": old}),
		After:  store.EventValue(map[string]string{"role": string(role)}),
	})
}

// RolePreview is what a role change would do to a member's permissions.
type RolePreview struct {
	From, To rbac.Role
	Gained   []rbac.Action // actions To holds and From lacks
	Lost     []rbac.Action // actions From holds and To lacks
}

// PreviewRoleChange says which actions the member would gain and lose if the
// actor changed their role to role, without changing anything. The actor
// needs rbac.MembersManage. It returns an error wrapping store.ErrInvalid,
// store.ErrNotFound, rbac.ErrNotMember or rbac.ErrUnknownRole.
func (s *Service) PreviewRoleChange(ctx context.Context, actor, accountID, userID string, role rbac.Role) (RolePreview, error) {
	var out RolePreview
	err := store.ValidateIDs("actor", actor, "account ID", accountID, "user ID", userID, "role", string(role))
	if err == nil {
		err = s.view(ctx, actor, accountID, rbac.MembersManage, func(tx store.Tx, _ store.Account, _ store.Member) error {
			m, err := tx.Member(ctx, accountID, userID)
			if err != nil {
				return err
			}
			out.From, out.To = rbac.Role(m.Role), role
			from, err := authz.Actions(ctx, tx, s.policy, accountID, out.From)
			if err != nil && !errors.Is(err, rbac.ErrUnknownRole) {
				return err
			}
			to, err := authz.Actions(ctx, tx, s.policy, accountID, out.To)
			if err != nil {
				return err
			}
			for i, a := range s.policy.Actions() {
				switch {
				case to[i] && !from[i]:
					out.Gained = append(out.Gained, a)
				case from[i] && !to[i]:
					out.Lost = append(out.Lost, a)
				}
			}
			return nil
		})
	}
	if err != nil {
		return RolePreview{}, fmt.Errorf("teams: preview role of %q in %q for %q: %w", userID, accountID, actor, err)
	}
	return out, nil
}

// RemoveMember removes a member from a team. The actor needs
// rbac.MembersManage and a role that grants everything the member's does.
// Once it returns, Can answers false for that user on this account, the
// removal hook has run, and ownership transfers to or from the member are
// cancelled. It returns an error wrapping store.ErrInvalid,
// store.ErrNotFound (no such account, or userID is not a member),
// rbac.ErrNotMember (the actor is not), rbac.ErrDenied, or ErrLastOwner.
func (s *Service) RemoveMember(ctx context.Context, actor, accountID, userID string) error {
	err := store.ValidateIDs("actor", actor, "account ID", accountID, "user ID", userID)
	if err == nil {
		err = s.update(ctx, actor, accountID, rbac.MembersManage, "member.removed", func(c *change) error {
			target, err := s.actOn(ctx, c, userID)
			if err != nil {
				return err
			}
			return s.remove(ctx, c, target, "member.removed", "removed")
		})
	}
	if err != nil {
		return fmt.Errorf("teams: remove %q from %q by %q: %w", userID, accountID, actor, err)
	}
	return nil
}

// Leave removes the user from a team of their own accord. No permission is
// needed, but the last member with the top role cannot leave, and nobody
// leaves their personal account. It returns an error wrapping
// store.ErrInvalid, store.ErrNotFound (no such account), rbac.ErrNotMember,
// ErrNotTeam or ErrLastOwner.
func (s *Service) Leave(ctx context.Context, userID, accountID string) error {
	err := store.ValidateIDs("user ID", userID, "account ID", accountID)
	var removed []Removal
	if err == nil {
		_, err = s.store.Update(ctx, func(tx store.Tx) error {
			acct, err := tx.LockAccount(ctx, accountID)
			if err != nil {
				return err
			}
			if acct.Kind != store.Team {
				return ErrNotTeam
			}
			me, err := tx.Member(ctx, accountID, userID)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("%s is not a member: %w", userID, rbac.ErrNotMember)
			} else if err != nil {
				return err
			}
			c := &change{tx: tx, acct: acct, me: me}
			if err := s.remove(ctx, c, me, "member.left", "left"); err != nil {
				return err
			}
			removed = c.removed
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("teams: %q leave %q: %w", userID, accountID, err)
	}
	s.afterRemovals(ctx, removed)
	return nil
}

// remove deletes the membership unless it holds the account's last top role,
// cancels the ownership transfers it is part of, moves the user's active
// account off this one, records the event and notes the removal for the hook.
func (s *Service) remove(ctx context.Context, c *change, m store.Member, action, reason string) error {
	if err := s.keepsTop(ctx, c.tx, m); err != nil {
		return err
	}
	if err := c.tx.DeleteMember(ctx, m.AccountID, m.UserID); err != nil {
		return err
	}
	if err := s.cancelTransfersOf(ctx, c, m.UserID, "member "+reason); err != nil {
		return err
	}
	u, err := c.tx.User(ctx, m.UserID)
	if err != nil {
		return err
	}
	if u.ActiveAccount == m.AccountID {
		u.ActiveAccount = ""
		if err := c.tx.UpdateUser(ctx, u); err != nil {
			return err
		}
	}
	c.removed = append(c.removed, Removal{AccountID: m.AccountID, UserID: m.UserID, By: c.me.UserID, Reason: reason})
	return s.record(ctx, c.tx, store.Event{
		AccountID: m.AccountID, Actor: c.me.UserID, Action: store.EventAction(action),
		ResourceType: "member", ResourceID: m.UserID, Reason: reason,
		Before: store.EventValue(map[string]string{"role": m.Role}),
	})
}

// actOn returns the membership of userID that the actor is about to change:
// it must exist and grant nothing the actor's role lacks.
func (s *Service) actOn(ctx context.Context, c *change, userID string) (store.Member, error) {
	target, err := c.tx.Member(ctx, c.acct.ID, userID)
	if err != nil {
		return store.Member{}, err
	}
	if err := s.covers(ctx, c, rbac.Role(target.Role)); err != nil {
		return store.Member{}, fmt.Errorf("may not act on a member with role %q: %w", target.Role, err)
	}
	return target, nil
}

// mayGrant checks that role exists (in the policy or as a team role),
// grants nothing the actor's role lacks, and is not a top role the policy
// grants only by transfer.
func (s *Service) mayGrant(ctx context.Context, c *change, role rbac.Role) error {
	if err := authz.MayGrant(ctx, c.tx, s.policy, c.acct.ID, rbac.Role(c.me.Role), role); err != nil {
		return fmt.Errorf("may not grant role %q: %w", role, err)
	}
	return nil
}

// covers returns nil if the actor's role holds every action of role, as
// authz.Covers.
func (s *Service) covers(ctx context.Context, c *change, role rbac.Role) error {
	return authz.Covers(ctx, c.tx, s.policy, c.acct.ID, rbac.Role(c.me.Role), role)
}

// keepsTop returns ErrLastOwner if m is the account's only member with a
// top role. The caller has locked the account.
func (s *Service) keepsTop(ctx context.Context, tx store.Tx, m store.Member) error {
	if !s.policy.IsTop(rbac.Role(m.Role)) {
		return nil
	}
	members, err := tx.Members(ctx, m.AccountID)
	if err != nil {
		return err
	}
	for _, o := range members {
		if o.UserID != m.UserID && s.policy.IsTop(rbac.Role(o.Role)) {
			return nil
		}
	}
	return ErrLastOwner
}
