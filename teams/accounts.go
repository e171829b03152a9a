package teams

import (
	"context"
	"fmt"

	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// ConvertToTeam turns the personal account into a team account named name.
// The account keeps its ID, so everything the host application attached to
// it stays attached, and the converting user keeps the top role. Only a
// member allowed rbac.SettingsManage (the personal account's owner) may
// convert. It returns the converted account, or an error wrapping
// store.ErrInvalid, store.ErrNotFound, rbac.ErrNotMember, rbac.ErrDenied, or
// ErrAlreadyTeam (the account is a team already: converting twice changes
// nothing).
func (s *Service) ConvertToTeam(ctx context.Context, actor, accountID, name string) (store.Account, error) {
	var out store.Account
	err := store.ValidateIDs("actor", actor, "account ID", accountID)
	if err == nil {
		err = store.ValidateName("team name", name)
	}
	if err == nil {
		err = s.update(ctx, actor, accountID, rbac.SettingsManage, "account.converted", func(c *change) error {
			tx, acct := c.tx, c.acct
			if acct.Kind == store.Team {
				return ErrAlreadyTeam
			}
			before := acct
			acct.Kind, acct.Name, acct.UpdatedAt = store.Team, name, s.now()
			if err := tx.UpdateAccount(ctx, acct); err != nil {
				return err
			}
			out = acct
			return s.record(ctx, tx, store.Event{
				AccountID: acct.ID, Actor: actor, Action: "account.converted",
				ResourceType: "account", ResourceID: acct.ID,
				Before: store.EventValue(map[string]string{"kind": string(before.Kind)}),
				After:  store.EventValue(map[string]string{"kind": string(acct.Kind), "name": name}),
			})
		})
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("teams: convert %q to team by %q: %w", accountID, actor, err)
	}
	return out, nil
}

// Rename changes a team's name. The actor needs rbac.SettingsManage. It
// returns the renamed account, or an error wrapping store.ErrInvalid,
// store.ErrNotFound, rbac.ErrNotMember, rbac.ErrDenied or ErrNotTeam.
func (s *Service) Rename(ctx context.Context, actor, accountID, name string) (store.Account, error) {
	var out store.Account
	err := store.ValidateIDs("actor", actor, "account ID", accountID)
	if err == nil {
		err = store.ValidateName("team name", name)
	}
	if err == nil {
		err = s.update(ctx, actor, accountID, rbac.SettingsManage, "account.renamed", func(c *change) error {
			tx, acct := c.tx, c.acct
			if acct.Kind != store.Team {
				return ErrNotTeam
			}
			old := acct.Name
			acct.Name, acct.UpdatedAt = name, s.now()
			if err := tx.UpdateAccount(ctx, acct); err != nil {
				return err
			}
			out = acct
			return s.record(ctx, tx, store.Event{
				AccountID: acct.ID, Actor: actor, Action: "account.renamed",
				ResourceType: "account", ResourceID: acct.ID,
				Before: store.EventValue(map[string]string{"name": old}),
				After:  store.EventValue(map[string]string{"name": name}),
			})
		})
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("teams: rename %q by %q: %w", accountID, actor, err)
	}
	return out, nil
}

// DeleteTeam reverts a team account to a personal account of the member who
// deletes it (the actor, who needs rbac.SettingsManage): every other member
// is removed, pending invites are revoked and open ownership transfers are
// cancelled, each with its audit event. The account keeps its ID and its
// resources. This holds whoever converted the team: if the converter has
// left, the deleting member becomes the owner, so a user may own more than
// one personal account. It returns the reverted account, or an error
// wrapping store.ErrInvalid, store.ErrNotFound, rbac.ErrNotMember,
// rbac.ErrDenied or ErrNotTeam.
func (s *Service) DeleteTeam(ctx context.Context, actor, accountID string) (store.Account, error) {
	var out store.Account
	err := store.ValidateIDs("actor", actor, "account ID", accountID)
	if err == nil {
		err = s.update(ctx, actor, accountID, rbac.SettingsManage, "account.team_deleted", func(c *change) error {
			tx, acct, me := c.tx, c.acct, c.me
			if acct.Kind != store.Team {
				return ErrNotTeam
			}
			if top := string(s.policy.Top()); me.Role != top {
				me.Role = top
				if err := tx.UpdateMember(ctx, me); err != nil {
					return err
				}
				c.me = me
			}
			if err := s.removeOthers(ctx, c); err != nil {
				return err
			}
			if err := s.closePending(ctx, c); err != nil {
				return err
			}
			before := acct
			acct.Kind, acct.Name, acct.Owner, acct.UpdatedAt = store.Personal, "", actor, s.now()
			if err := tx.UpdateAccount(ctx, acct); err != nil {
				return err
			}
			out = acct
			return s.record(ctx, tx, store.Event{
				AccountID: acct.ID, Actor: actor, Action: "account.team_deleted",
				ResourceType: "account", ResourceID: acct.ID,
				Before: store.EventValue(map[string]string{"kind": string(before.Kind), "name": before.Name, "owner": before.Owner}),
				After:  store.EventValue(map[string]string{"kind": string(acct.Kind), "owner": actor, "role": string(s.policy.Top())}),
			})
		})
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("teams: delete team %q by %q: %w", accountID, actor, err)
	}
	return out, nil
}

// removeOthers removes every member of the account but the actor.
func (s *Service) removeOthers(ctx context.Context, c *change) error {
	members, err := c.tx.Members(ctx, c.acct.ID)
	if err != nil {
		return err
	}
	for _, m := range members {
		if m.UserID != c.me.UserID {
			if err := s.remove(ctx, c, m, "member.removed", "team deleted"); err != nil {
				return err
			}
		}
	}
	return nil
}

// closePending revokes the account's pending invites and cancels its open
// ownership transfers.
func (s *Service) closePending(ctx context.Context, c *change) error {
	if err := s.revokeInvites(ctx, c, func(store.Invite) bool { return true }, "team deleted"); err != nil {
		return err
	}
	ts, err := c.tx.Transfers(ctx, c.acct.ID)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if open(t) {
			if err := s.cancel(ctx, c, t, "team deleted"); err != nil {
				return err
			}
		}
	}
	return nil
}

// revokeInvites revokes the account's pending invites that match, recording
// why.
func (s *Service) revokeInvites(ctx context.Context, c *change, match func(store.Invite) bool, reason string) error {
	invites, err := c.tx.Invites(ctx, c.acct.ID)
	if err != nil {
		return err
	}
	for _, inv := range invites {
		if inv.Status != store.InvitePending || !match(inv) {
			continue
		}
		inv.Status, inv.UpdatedAt = store.InviteRevoked, s.now()
		if err := c.tx.UpdateInvite(ctx, inv); err != nil {
			return err
		}
		if err := s.record(ctx, c.tx, store.Event{
			AccountID: c.acct.ID, Actor: c.me.UserID, Action: "invite.revoked",
			ResourceType: "invite", ResourceID: inv.ID, Reason: reason,
		}); err != nil {
			return err
		}
	}
	return nil
}
