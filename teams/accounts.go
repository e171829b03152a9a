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
	err := validIDs("actor", actor, "account ID", accountID)
	if err == nil {
		err = store.ValidateName("team name", name)
	}
	if err == nil {
		err = s.update(ctx, actor, accountID, rbac.SettingsManage, func(tx store.Tx, acct store.Account, _ store.Member) error {
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
				Before: jsonOf(map[string]string{"kind": string(before.Kind)}),
				After:  jsonOf(map[string]string{"kind": string(acct.Kind), "name": name}),
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
	err := validIDs("actor", actor, "account ID", accountID)
	if err == nil {
		err = store.ValidateName("team name", name)
	}
	if err == nil {
		err = s.update(ctx, actor, accountID, rbac.SettingsManage, func(tx store.Tx, acct store.Account, _ store.Member) error {
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
				Before: jsonOf(map[string]string{"name": old}),
				After:  jsonOf(map[string]string{"name": name}),
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
	err := validIDs("actor", actor, "account ID", accountID)
	if err == nil {
		err = s.update(ctx, actor, accountID, rbac.SettingsManage, func(tx store.Tx, acct store.Account, me store.Member) error {
			if acct.Kind != store.Team {
				return ErrNotTeam
			}
			if err := s.removeOthers(ctx, tx, actor, accountID); err != nil {
				return err
			}
			if err := s.closePending(ctx, tx, actor, accountID); err != nil {
				return err
			}
			if top := string(s.policy.Top()); me.Role != top {
				me.Role = top
				if err := tx.UpdateMember(ctx, me); err != nil {
					return err
				}
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
				Before: jsonOf(map[string]string{"kind": string(before.Kind), "name": before.Name, "owner": before.Owner}),
				After:  jsonOf(map[string]string{"kind": string(acct.Kind), "owner": actor, "role": string(s.policy.Top())}),
			})
		})
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("teams: delete team %q by %q: %w", accountID, actor, err)
	}
	return out, nil
}

// removeOthers removes every member of the account but keep.
func (s *Service) removeOthers(ctx context.Context, tx store.Tx, keep, accountID string) error {
	members, err := tx.Members(ctx, accountID)
	if err != nil {
		return err
	}
	for _, m := range members {
		if m.UserID == keep {
			continue
		}
		if err := tx.DeleteMember(ctx, accountID, m.UserID); err != nil {
			return err
		}
		if err := s.record(ctx, tx, store.Event{
			AccountID: accountID, Actor: keep, Action: "member.removed",
			ResourceType: "member", ResourceID: m.UserID, Reason: "team deleted",
			Before: jsonOf(map[string]string{"role": m.Role}),
		}); err != nil {
			return err
		}
	}
	return nil
}

// closePending revokes the account's pending invites and cancels its open
// ownership transfers.
func (s *Service) closePending(ctx context.Context, tx store.Tx, actor, accountID string) error {
	invites, err := tx.Invites(ctx, accountID)
	if err != nil {
		return err
	}
	for _, inv := range invites {
		if inv.Status != store.InvitePending {
			continue
		}
		inv.Status, inv.UpdatedAt = store.InviteRevoked, s.now()
		if err := tx.UpdateInvite(ctx, inv); err != nil {
			return err
		}
		if err := s.record(ctx, tx, store.Event{
			AccountID: accountID, Actor: actor, Action: "invite.revoked",
			ResourceType: "invite", ResourceID: inv.ID, Reason: "team deleted",
		}); err != nil {
			return err
		}
	}
	transfers, err := tx.Transfers(ctx, accountID)
	if err != nil {
		return err
	}
	for _, t := range transfers {
		if t.Status != store.TransferAwaitingConfirm && t.Status != store.TransferAwaitingAccept {
			continue
		}
		t.Status, t.UpdatedAt = store.TransferCancelled, s.now()
		if err := tx.UpdateTransfer(ctx, t); err != nil {
			return err
		}
		if err := s.record(ctx, tx, store.Event{
			AccountID: accountID, Actor: actor, Action: "transfer.cancelled",
			ResourceType: "transfer", ResourceID: t.ID, Reason: "team deleted",
		}); err != nil {
			return err
		}
	}
	return nil
}
