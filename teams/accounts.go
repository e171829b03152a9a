package teams

import (
	"context"
	"fmt"

	"github.com/teamroster/roster/internal/check"
	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// CreateTeam creates a team account named name, owned by actor, who holds
// the policy's top role in it; the actor's other accounts, their personal
// account among them, are unchanged, and so is the account they work in
// (Switch moves them to the new team). A user may own and belong to any
// number of teams. ConvertToTeam turns a personal account into a team
// instead, keeping its ID and resources. It returns the team, or an error
// wrapping store.ErrInvalid or store.ErrNotFound (no such user).
func (s *Service) CreateTeam(ctx context.Context, actor, name string) (store.Account, error) {
	var out store.Account
	err := check.IDs(check.ID("actor", actor))
	if err == nil {
		err = store.ValidateName("team name", name)
	}
	if err == nil {
		_, err = s.door.Update(ctx, txn.Call{Actor: actor, Need: txn.Anyone}, func(c *txn.Change) error {
			if _, err := c.Tx.User(ctx, actor); err != nil {
				return err
			}
			now := c.Now()
			out = store.Account{ID: txn.NewID("acc"), Kind: store.Team, Name: name, Owner: actor, CreatedAt: now, UpdatedAt: now}
			return s.createAccount(ctx, c, out, map[string]string{})
		})
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("create team %q by %q: %w", name, actor, err)
	}
	return out, nil
}

// ConvertToTeam turns the personal account into a team account named name.
// The account keeps its ID, so everything the host application attached to
// it stays attached, and its owner stays its owner, with the top role. Only
// the owner may convert, and they need rbac.SettingsManage (which the top
// role holds). It returns the converted account, or an error wrapping
// store.ErrInvalid, store.ErrNotFound, rbac.ErrNotMember, rbac.ErrDenied
// (ErrNotOwner among them), or ErrAlreadyTeam (the account is a team
// already: converting twice changes nothing).
func (s *Service) ConvertToTeam(ctx context.Context, actor, accountID, name string) (store.Account, error) {
	var out store.Account
	err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID))
	if err == nil {
		err = store.ValidateName("team name", name)
	}
	if err == nil {
		err = s.permitted(ctx, actor, accountID, rbac.SettingsManage, store.EventAccountConverted, txn.Resource{Type: "account", ID: accountID}, func(c *txn.Change) error {
			acct := c.Account
			if acct.Kind == store.Team {
				return ErrAlreadyTeam
			}
			if err := s.mustOwn(ctx, c); err != nil {
				return err
			}
			before := acct
			acct.Kind, acct.Name, acct.UpdatedAt = store.Team, name, c.Now()
			if err := c.Tx.UpdateAccount(ctx, acct); err != nil {
				return err
			}
			out = acct
			_, err := c.Record(store.Event{
				Action: store.EventAccountConverted, ResourceType: "account", ResourceID: acct.ID,
				Before: txn.EventValue(map[string]string{"kind": string(before.Kind)}),
				After:  txn.EventValue(map[string]string{"kind": string(acct.Kind), "name": name}),
			})
			return err
		})
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("convert %q to team by %q: %w", accountID, actor, err)
	}
	return out, nil
}

// Rename changes a team's name. The actor needs rbac.SettingsManage. It
// returns the renamed account, or an error wrapping store.ErrInvalid,
// store.ErrNotFound, rbac.ErrNotMember, rbac.ErrDenied or store.ErrNotTeam.
func (s *Service) Rename(ctx context.Context, actor, accountID, name string) (store.Account, error) {
	var out store.Account
	err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID))
	if err == nil {
		err = store.ValidateName("team name", name)
	}
	if err == nil {
		err = s.permitted(ctx, actor, accountID, rbac.SettingsManage, store.EventAccountRenamed, txn.Resource{Type: "account", ID: accountID}, func(c *txn.Change) error {
			acct := c.Account
			if acct.Kind != store.Team {
				return store.ErrNotTeam
			}
			old := acct.Name
			acct.Name, acct.UpdatedAt = name, c.Now()
			if err := c.Tx.UpdateAccount(ctx, acct); err != nil {
				return err
			}
			out = acct
			_, err := c.Record(store.Event{
				Action: store.EventAccountRenamed, ResourceType: "account", ResourceID: acct.ID,
				Before: txn.EventValue(map[string]string{"name": old}),
				After:  txn.EventValue(map[string]string{"name": name}),
			})
			return err
		})
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("rename %q by %q: %w", accountID, actor, err)
	}
	return out, nil
}

// DeleteTeam reverts a team account to a personal account of its owner, who
// alone may delete it (and needs rbac.SettingsManage, which the top role
// holds): every other member is removed (with their API keys), service
// accounts and pending invites are revoked, and open ownership transfers
// are cancelled, each with its audit event. The
// account keeps its ID, its resources and its owner. It returns the
// reverted account, or an error wrapping store.ErrInvalid,
// store.ErrNotFound, rbac.ErrNotMember, rbac.ErrDenied (ErrNotOwner among
// them) or store.ErrNotTeam.
func (s *Service) DeleteTeam(ctx context.Context, actor, accountID string) (store.Account, error) {
	var out store.Account
	err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID))
	if err == nil {
		err = s.permitted(ctx, actor, accountID, rbac.SettingsManage, store.EventAccountTeamDeleted, txn.Resource{Type: "account", ID: accountID}, func(c *txn.Change) error {
			if c.Account.Kind != store.Team {
				return store.ErrNotTeam
			}
			if err := s.mustOwn(ctx, c); err != nil {
				return err
			}
			me := c.Actor
			if top := string(s.policy.Top()); me.Role != top {
				me.Role = top
				if err := c.Tx.UpdateMember(ctx, me); err != nil {
					return err
				}
			}
			// Open transfers are cancelled first, so that each is recorded
			// as cancelled because the team was deleted, not because its
			// recipient was removed.
			if err := s.closePending(ctx, c, "team deleted"); err != nil {
				return err
			}
			if err := s.removeOthers(ctx, c); err != nil {
				return err
			}
			if err := c.DropKeys("", "team deleted", func(k store.APIKey) bool { return k.UserID == "" }); err != nil {
				return err // the service accounts: the members' keys went with them
			}
			acct := c.Account
			before := acct
			acct.Kind, acct.Name, acct.RequireSecureSignIn, acct.UpdatedAt = store.Personal, "", false, c.Now()
			if err := c.Tx.UpdateAccount(ctx, acct); err != nil {
				return err
			}
			out = acct
			_, err := c.Record(store.Event{
				Action: store.EventAccountTeamDeleted, ResourceType: "account", ResourceID: acct.ID,
				Before: txn.EventValue(map[string]string{"kind": string(before.Kind), "name": before.Name, "owner": before.Owner}),
				After:  txn.EventValue(map[string]string{"kind": string(acct.Kind), "owner": acct.Owner, "role": me.Role}),
			})
			return err
		})
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("delete team %q by %q: %w", accountID, actor, err)
	}
	return out, nil
}

// removeOthers removes every member of the account but the actor.
func (s *Service) removeOthers(ctx context.Context, c *txn.Change) error {
	members, err := c.Tx.Members(ctx, c.Account.ID, store.Range{})
	if err != nil {
		return err
	}
	for _, m := range members {
		if m.UserID != c.Actor.UserID {
			if err := s.remove(ctx, c, m, store.EventMemberRemoved, "team deleted"); err != nil {
				return err
			}
		}
	}
	return nil
}

// closePending revokes the account's pending invites and cancels its open
// ownership transfers, recording why.
func (s *Service) closePending(ctx context.Context, c *txn.Change, reason string) error {
	if err := s.revokeInvites(ctx, c, func(store.Invite) bool { return true }, reason); err != nil {
		return err
	}
	ts, err := c.Tx.Transfers(ctx, c.Account.ID, store.Range{})
	if err != nil {
		return err
	}
	for _, t := range ts {
		if open(t) {
			if err := s.cancel(ctx, c, t, reason); err != nil {
				return err
			}
		}
	}
	return nil
}

// revokeInvites revokes the account's pending invites that match, recording
// why.
func (s *Service) revokeInvites(ctx context.Context, c *txn.Change, match func(store.Invite) bool, reason string) error {
	invites, err := c.Tx.Invites(ctx, c.Account.ID, store.Range{})
	if err != nil {
		return err
	}
	for _, inv := range invites {
		if inv.Status != store.InvitePending || !match(inv) {
			continue
		}
		inv.Status, inv.UpdatedAt = store.InviteRevoked, c.Now()
		if err := c.Tx.UpdateInvite(ctx, inv); err != nil {
			return err
		}
		if _, err := c.Record(store.Event{
			Action: store.EventInviteRevoked, ResourceType: "invite", ResourceID: inv.ID, Reason: reason,
		}); err != nil {
			return err
		}
	}
	return nil
}
