package teams

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/teamroster/roster/internal/check"
	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// AddMember makes an existing user a member of a team with role, without an
// invitation (for host applications that provision members themselves, such
// as from a directory). The actor needs rbac.MembersManage and may grant only
// a role whose rights in the team are all their own; where the policy grants
// the top role only by transfer (rbac.Policy.TopByTransfer), it cannot be
// given here. Adding does not change the user's active account. It returns
// the membership, or an error wrapping store.ErrInvalid, store.ErrNotFound
// (no such account or user), rbac.ErrNotMember, rbac.ErrDenied,
// rbac.ErrUnknownRole, store.ErrNotTeam, rbac.ErrTopByTransfer, store.ErrExists
// (already a member; nothing changes) or store.ErrNoSeats (in a
// *store.SeatLimitError: the team's seat limit is filled).
func (s *Service) AddMember(ctx context.Context, actor, accountID, userID string, role rbac.Role) (store.Member, error) {
	var out store.Member
	err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID), check.ID("user ID", userID), check.ID("role", string(role)))
	if err == nil {
		err = s.permitted(ctx, actor, accountID, rbac.MembersManage, store.EventMemberAdded, txn.Resource{Type: "member", ID: userID}, func(c *txn.Change) error {
			if c.Account.Kind != store.Team {
				return store.ErrNotTeam
			}
			if err := c.MayGrant(role); err != nil {
				return err
			}
			if _, err := c.Tx.User(ctx, userID); err != nil {
				return err
			}
			if err := c.Seats(1, 0); err != nil {
				return err
			}
			out = store.Member{AccountID: accountID, UserID: userID, Role: string(role), JoinedAt: c.Now()}
			if err := c.Tx.CreateMember(ctx, out); err != nil {
				return err
			}
			_, err := c.Record(store.Event{
				Action: store.EventMemberAdded, ResourceType: "member", ResourceID: userID,
				After: txn.EventValue(map[string]string{"role": string(role)}),
			})
			return err
		})
	}
	if err != nil {
		return store.Member{}, fmt.Errorf("add %q to %q by %q: %w", userID, accountID, actor, err)
	}
	return out, nil
}

// ChangeRole gives a member another role. The actor needs
// rbac.MembersManage, and both the member's current role and the new one
// must have no right in the team the actor's role lacks. Where the policy
// grants the top role only by transfer, making someone top needs
// GrantTopRole. The account owner's role cannot be changed. It returns the
// updated membership, or an error wrapping store.ErrInvalid,
// store.ErrNotFound (no such account, or userID is not a member),
// rbac.ErrNotMember (the actor is not), rbac.ErrDenied, rbac.ErrUnknownRole,
// rbac.ErrTopByTransfer, or ErrLastOwner (the member is the account owner).
func (s *Service) ChangeRole(ctx context.Context, actor, accountID, userID string, role rbac.Role) (store.Member, error) {
	var out store.Member
	err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID), check.ID("user ID", userID), check.ID("role", string(role)))
	if err == nil {
		err = s.permitted(ctx, actor, accountID, rbac.MembersManage, store.EventMemberRoleChanged, txn.Resource{Type: "member", ID: userID}, func(c *txn.Change) error {
			target, err := c.Tx.Member(ctx, accountID, userID)
			if err == nil {
				target, err = c.Current(target)
			}
			if err != nil {
				return err
			}
			if err := c.MayActOn(target); err != nil {
				return err
			}
			if err := c.MayGrant(role); err != nil {
				return err
			}
			if target.Role == string(role) && target.FallbackRole == "" {
				out = target
				return nil
			}
			if userID == c.Account.Owner {
				return ErrLastOwner
			}
			out, err = s.setRole(ctx, c, target, role, c.Actor.UserID)
			return err
		})
	}
	if err != nil {
		return store.Member{}, fmt.Errorf("change role of %q in %q by %q: %w", userID, accountID, actor, err)
	}
	return out, nil
}

// setRole changes the member's role and records the change as by's. The
// member's API keys keep only what the new role allows (see
// txn.Change.FitKeys). A member who loses the top role can no longer stand behind the transfers
// they started: those still open are cancelled.
func (s *Service) setRole(ctx context.Context, c *txn.Change, m store.Member, role rbac.Role, by string) (store.Member, error) {
	old := m.Role
	m.Role = string(role)
	if m.FallbackRole != "" {
		// A role given for good ends the one granted for a while.
		m.Until, m.FallbackRole = time.Time{}, ""
	}
	if err := c.Tx.UpdateMember(ctx, m); err != nil {
		return store.Member{}, err
	}
	if _, err := c.Record(store.Event{
		Actor: by, Action: store.EventMemberRoleChanged, ResourceType: "member", ResourceID: m.UserID,
		Before: txn.EventValue(map[string]string{"role": old}),
		After:  txn.EventValue(map[string]string{"role": string(role)}),
	}); err != nil {
		return store.Member{}, err
	}
	was, err := c.RightsOf(rbac.Role(old))
	if err != nil && !errors.Is(err, rbac.ErrUnknownRole) {
		return store.Member{}, err
	}
	now, err := c.RightsOf(role)
	if err != nil && !errors.Is(err, rbac.ErrUnknownRole) {
		return store.Member{}, err
	}
	if err := c.FitKeys(m.UserID, now); err != nil {
		return store.Member{}, err
	}
	if was.Top() && !now.Top() {
		sent := func(t store.Transfer) bool { return t.From == m.UserID }
		if err := s.cancelTransfers(ctx, c, sent, "its sender no longer holds the top role"); err != nil {
			return store.Member{}, err
		}
	}
	return m, nil
}

// RolePreview is what a role change would do to a member's permissions.
type RolePreview struct {
	From, To rbac.Role
	Gained   []rbac.Action // actions To holds and From lacks
	Lost     []rbac.Action // actions From holds and To lacks
}

// PreviewRoleChange says which actions the member would gain and lose in
// the team if the actor changed their role to role, without changing
// anything. The actor needs rbac.MembersManage. It returns an error wrapping
// store.ErrInvalid, store.ErrNotFound, rbac.ErrNotMember, rbac.ErrDenied or
// rbac.ErrUnknownRole.
func (s *Service) PreviewRoleChange(ctx context.Context, actor, accountID, userID string, role rbac.Role) (RolePreview, error) {
	var out RolePreview
	err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID), check.ID("user ID", userID), check.ID("role", string(role)))
	if err == nil {
		err = s.door.View(ctx, txn.Call{Actor: actor, Account: accountID, Need: txn.Permission, Action: rbac.MembersManage}, func(c *txn.Change) error {
			m, err := c.Tx.Member(ctx, accountID, userID)
			if err != nil {
				return err
			}
			out.From, out.To = rbac.Role(m.Role), role
			from, err := c.RightsOf(out.From)
			if err != nil && !errors.Is(err, rbac.ErrUnknownRole) {
				return err
			}
			to, err := c.RightsOf(out.To)
			if err != nil {
				return err
			}
			for _, a := range s.policy.Actions() {
				switch gain, lose := to.Allows(a), from.Allows(a); {
				case gain && !lose:
					out.Gained = append(out.Gained, a)
				case lose && !gain:
					out.Lost = append(out.Lost, a)
				}
			}
			return nil
		})
	}
	if err != nil {
		return RolePreview{}, fmt.Errorf("preview role of %q in %q for %q: %w", userID, accountID, actor, err)
	}
	return out, nil
}

// RemoveMember removes a member from a team. The actor needs
// rbac.MembersManage and a role that has every right the member's has in
// the team; the account owner cannot be removed. Once it returns, Can
// answers false for that user on this account, the removal hook has run, and
// ownership transfers to or from the member are cancelled. It returns an
// error wrapping store.ErrInvalid, store.ErrNotFound (no such account, or
// userID is not a member), rbac.ErrNotMember (the actor is not),
// rbac.ErrDenied, or ErrLastOwner.
func (s *Service) RemoveMember(ctx context.Context, actor, accountID, userID string) error {
	err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID), check.ID("user ID", userID))
	if err == nil {
		err = s.permitted(ctx, actor, accountID, rbac.MembersManage, store.EventMemberRemoved, txn.Resource{Type: "member", ID: userID}, func(c *txn.Change) error {
			target, err := c.Tx.Member(ctx, accountID, userID)
			if err != nil {
				return err
			}
			if err := c.MayActOn(target); err != nil {
				return err
			}
			if userID == c.Account.Owner {
				return ErrLastOwner
			}
			return s.remove(ctx, c, target, store.EventMemberRemoved, "removed")
		})
	}
	if err != nil {
		return fmt.Errorf("remove %q from %q by %q: %w", userID, accountID, actor, err)
	}
	return nil
}

// Leave removes the user from a team of their own accord. No permission is
// needed, but the account owner cannot leave (they hand the account over
// first), and nobody leaves their personal account. It returns an error
// wrapping store.ErrInvalid, store.ErrNotFound (no such account),
// rbac.ErrNotMember, store.ErrNotTeam or ErrLastOwner.
func (s *Service) Leave(ctx context.Context, userID, accountID string) error {
	err := check.IDs(check.ID("user ID", userID), check.ID("account ID", accountID))
	if err == nil {
		// A member the team refuses for an insecure sign-in method may
		// still leave it.
		_, err = s.door.Update(ctx, txn.Call{Actor: userID, Account: accountID, Need: txn.Membership, AnySignIn: true}, func(c *txn.Change) error {
			switch {
			case c.Account.Kind != store.Team:
				return store.ErrNotTeam
			case userID == c.Account.Owner:
				return ErrLastOwner
			}
			return s.remove(ctx, c, c.Actor, store.EventMemberLeft, "left")
		})
	}
	if err != nil {
		return fmt.Errorf("%q leave %q: %w", userID, accountID, err)
	}
	return nil
}

// remove deletes the membership, revokes the member's API keys for the
// account, cancels the ownership transfers it is part of, moves the user's active account off this one if it is still there,
// records the event and registers the removal hook.
func (s *Service) remove(ctx context.Context, c *txn.Change, m store.Member, action store.EventAction, reason string) error {
	if err := c.Tx.DeleteMember(ctx, m.AccountID, m.UserID); err != nil {
		return err
	}
	if err := c.DropKeys(m.UserID, "its owner lost access: "+reason, nil); err != nil {
		return err
	}
	if err := s.cancelTransfersOf(ctx, c, m.UserID, "member "+reason); err != nil {
		return err
	}
	// Only if it is this account now: a switch to another account that
	// committed meanwhile stands.
	if _, err := c.Tx.SetActiveAccount(ctx, m.UserID, m.AccountID, ""); err != nil {
		return err
	}
	s.removed(c, Removal{AccountID: m.AccountID, UserID: m.UserID, By: c.Actor.UserID, Reason: reason})
	_, err := c.Record(store.Event{
		Action: action, ResourceType: "member", ResourceID: m.UserID, Reason: reason,
		Before: txn.EventValue(map[string]string{"role": m.Role}),
	})
	return err
}
