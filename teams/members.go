package teams

import (
	"context"
	"errors"
	"fmt"

	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// AddMember makes an existing user a member of a team with role, without an
// invitation (for host applications that provision members themselves, such
// as from a directory). The actor needs rbac.MembersManage and may grant only
// a role whose permissions are all their own. Adding does not change the
// user's active account. It returns the membership, or an error wrapping
// store.ErrInvalid, store.ErrNotFound (no such account or user),
// rbac.ErrNotMember, rbac.ErrDenied, rbac.ErrUnknownRole, ErrNotTeam or
// store.ErrExists (already a member; nothing changes).
func (s *Service) AddMember(ctx context.Context, actor, accountID, userID string, role rbac.Role) (store.Member, error) {
	var out store.Member
	err := s.validMemberArgs(actor, accountID, userID, role)
	if err == nil {
		err = s.update(ctx, actor, accountID, rbac.MembersManage, func(tx store.Tx, acct store.Account, me store.Member) error {
			if acct.Kind != store.Team {
				return ErrNotTeam
			}
			if err := s.mayGrant(me, role); err != nil {
				return err
			}
			if _, err := tx.User(ctx, userID); err != nil {
				return err
			}
			out = store.Member{AccountID: accountID, UserID: userID, Role: string(role), JoinedAt: s.now()}
			if err := tx.CreateMember(ctx, out); err != nil {
				return err
			}
			return s.record(ctx, tx, store.Event{
				AccountID: accountID, Actor: actor, Action: "member.added",
				ResourceType: "member", ResourceID: userID,
				After: jsonOf(map[string]string{"role": string(role)}),
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
// must grant nothing the actor's role lacks. It returns the updated
// membership, or an error wrapping store.ErrInvalid, store.ErrNotFound (no
// such account, or userID is not a member), rbac.ErrNotMember (the actor is
// not), rbac.ErrDenied, rbac.ErrUnknownRole, or ErrLastOwner (the member is
// the last with the top role).
func (s *Service) ChangeRole(ctx context.Context, actor, accountID, userID string, role rbac.Role) (store.Member, error) {
	var out store.Member
	err := s.validMemberArgs(actor, accountID, userID, role)
	if err == nil {
		err = s.update(ctx, actor, accountID, rbac.MembersManage, func(tx store.Tx, acct store.Account, me store.Member) error {
			target, err := s.actOn(ctx, tx, me, userID)
			if err != nil {
				return err
			}
			if err := s.mayGrant(me, role); err != nil {
				return err
			}
			if target.Role == string(role) {
				out = target
				return nil
			}
			if !s.policy.IsTop(role) {
				if err := s.keepsTop(ctx, tx, target); err != nil {
					return err
				}
			}
			old := target.Role
			target.Role = string(role)
			if err := tx.UpdateMember(ctx, target); err != nil {
				return err
			}
			out = target
			return s.record(ctx, tx, store.Event{
				AccountID: accountID, Actor: actor, Action: "member.role_changed",
				ResourceType: "member", ResourceID: userID,
				Before: jsonOf(map[string]string{"role": old}),
				After:  jsonOf(map[string]string{"role": string(role)}),
			})
		})
	}
	if err != nil {
		return store.Member{}, fmt.Errorf("teams: change role of %q in %q by %q: %w", userID, accountID, actor, err)
	}
	return out, nil
}

// RemoveMember removes a member from a team. The actor needs
// rbac.MembersManage and a role that grants everything the member's does.
// Once it returns, Can answers false for that user on this account. It
// returns an error wrapping store.ErrInvalid, store.ErrNotFound (no such
// account, or userID is not a member), rbac.ErrNotMember (the actor is not),
// rbac.ErrDenied, or ErrLastOwner.
func (s *Service) RemoveMember(ctx context.Context, actor, accountID, userID string) error {
	err := validIDs("actor", actor, "account ID", accountID, "user ID", userID)
	if err == nil {
		err = s.update(ctx, actor, accountID, rbac.MembersManage, func(tx store.Tx, acct store.Account, me store.Member) error {
			target, err := s.actOn(ctx, tx, me, userID)
			if err != nil {
				return err
			}
			return s.remove(ctx, tx, actor, target, "member.removed")
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
	err := validIDs("user ID", userID, "account ID", accountID)
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
			return s.remove(ctx, tx, userID, me, "member.left")
		})
	}
	if err != nil {
		return fmt.Errorf("teams: %q leave %q: %w", userID, accountID, err)
	}
	return nil
}

// remove deletes the membership unless it holds the account's last top role.
func (s *Service) remove(ctx context.Context, tx store.Tx, actor string, m store.Member, action string) error {
	if err := s.keepsTop(ctx, tx, m); err != nil {
		return err
	}
	if err := tx.DeleteMember(ctx, m.AccountID, m.UserID); err != nil {
		return err
	}
	return s.record(ctx, tx, store.Event{
		AccountID: m.AccountID, Actor: actor, Action: action,
		ResourceType: "member", ResourceID: m.UserID,
		Before: jsonOf(map[string]string{"role": m.Role}),
	})
}

// actOn returns the membership of userID that the actor (membership me) is
// about to change: it must exist and grant nothing me's role lacks.
func (s *Service) actOn(ctx context.Context, tx store.Tx, me store.Member, userID string) (store.Member, error) {
	target, err := tx.Member(ctx, me.AccountID, userID)
	if err != nil {
		return store.Member{}, err
	}
	if !s.policy.Covers(rbac.Role(me.Role), rbac.Role(target.Role)) {
		return store.Member{}, fmt.Errorf("role %q may not act on a member with role %q: %w", me.Role, target.Role, rbac.ErrDenied)
	}
	return target, nil
}

// mayGrant checks that role exists and grants nothing me's role lacks.
func (s *Service) mayGrant(me store.Member, role rbac.Role) error {
	if !s.policy.HasRole(role) {
		return fmt.Errorf("policy %s has no role %q: %w", s.policy.Name(), role, rbac.ErrUnknownRole)
	}
	if !s.policy.Covers(rbac.Role(me.Role), role) {
		return fmt.Errorf("role %q may not grant role %q: %w", me.Role, role, rbac.ErrDenied)
	}
	return nil
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

func (s *Service) validMemberArgs(actor, accountID, userID string, role rbac.Role) error {
	return validIDs("actor", actor, "account ID", accountID, "user ID", userID, "role", string(role))
}
