package invites

import (
	"context"
	"errors"
	"fmt"

	"github.com/teamroster/roster/internal/authz"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// List returns the team's invites, newest first, each with its status at
// the time of the call (pending, accepted, revoked or expired). Every member
// of the team may list them; Email is filled in only for members allowed
// rbac.MembersInvite. Tokens and links are never listed. It returns an error
// wrapping store.ErrInvalid, store.ErrNotFound (no such account) or
// rbac.ErrNotMember. It is safe for concurrent use.
func (s *Service) List(ctx context.Context, actor, accountID string) ([]Invitation, error) {
	var out []Invitation
	err := store.ValidateIDs("actor", actor, "account ID", accountID)
	if err == nil {
		err = s.store.View(ctx, func(tx store.Tx) error {
			if _, err := tx.Account(ctx, accountID); err != nil {
				return err
			}
			me, err := tx.Member(ctx, accountID, actor)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("%s is not a member of %s: %w", actor, accountID, rbac.ErrNotMember)
			} else if err != nil {
				return err
			}
			held, err := authz.Actions(ctx, tx, s.policy, accountID, rbac.Role(me.Role))
			if err != nil && !errors.Is(err, rbac.ErrUnknownRole) {
				return err
			}
			showEmail := held.Has(s.policy, rbac.MembersInvite)
			invites, err := tx.Invites(ctx, accountID)
			if err != nil {
				return err
			}
			now := s.clock()
			out = make([]Invitation, 0, len(invites))
			for _, inv := range invites {
				if inv.Status == store.InviteSuperseded {
					continue
				}
				out = append(out, invitation(inv, now, showEmail))
			}
			return nil
		})
	}
	if err != nil {
		return nil, fmt.Errorf("invites: list invites of %q for %q: %w", accountID, actor, err)
	}
	return out, nil
}

// Pending returns the team's invites that can still be accepted, newest
// first: the pending rows of a members table. It is List restricted to
// status Pending, with the same rules and errors. It is safe for concurrent
// use.
func (s *Service) Pending(ctx context.Context, actor, accountID string) ([]Invitation, error) {
	all, err := s.List(ctx, actor, accountID)
	if err != nil {
		return nil, err
	}
	pending := all[:0]
	for _, inv := range all {
		if inv.Status == Pending {
			pending = append(pending, inv)
		}
	}
	return pending, nil
}

// Resend gives a pending or expired invite a new token and returns it with
// its Token and Link, shown this once; the old token stops working
// (accepting it returns ErrSuperseded). An invite that had an expiry gets a
// fresh one of the same length, counted from now. For an email invite the
// Notifier is asked to send the email again; if that fails the resend stays
// and Resend returns the invite with an error wrapping ErrNotSent. The actor
// becomes the invite's sender, who must still be allowed to invite when it
// is accepted. The actor needs rbac.MembersInvite and a role that covers the
// invite's role. It returns an error wrapping store.ErrInvalid,
// store.ErrNotFound (no such account, or no such invite in it),
// rbac.ErrNotMember, rbac.ErrDenied, ErrUsed, ErrRevoked, ErrNotTeam or
// ErrReusableTop, and nothing is written then. It is safe for concurrent
// use.
func (s *Service) Resend(ctx context.Context, actor, accountID, inviteID string) (Invitation, error) {
	fail := func(err error) (Invitation, error) {
		return Invitation{}, fmt.Errorf("invites: resend %q in %q by %q: %w", inviteID, accountID, actor, err)
	}
	if err := store.ValidateIDs("actor", actor, "account ID", accountID, "invite ID", inviteID); err != nil {
		return fail(err)
	}
	token, hash := NewToken()
	var (
		inv store.Invite
		msg Message
	)
	_, err := s.store.Update(ctx, func(tx store.Tx) error {
		acct, me, cur, err := s.actOn(ctx, tx, actor, accountID, inviteID)
		if err != nil {
			return err
		}
		if err := s.mayGrant(ctx, tx, me, rbac.Role(cur.Role), cur.MaxUses); err != nil {
			return err
		}
		now := s.clock()
		inv = cur
		if !cur.ExpiresAt.IsZero() {
			sent := cur.CreatedAt
			if !cur.ResentAt.IsZero() {
				sent = cur.ResentAt
			}
			inv.ExpiresAt = now.Add(cur.ExpiresAt.Sub(sent))
		}
		inv.TokenHash, inv.ResentBy, inv.ResentAt, inv.UpdatedAt = hash, actor, now, now
		old := cur
		old.ID, old.Status, old.SupersededBy, old.CreatedAt, old.UpdatedAt = store.NewID("inv"), store.InviteSuperseded, cur.ID, now, now
		// The new hash first: the old one moves to the superseded record.
		if err := tx.UpdateInvite(ctx, inv); err != nil {
			return err
		}
		if err := tx.CreateInvite(ctx, old); err != nil {
			return err
		}
		inviter, err := tx.User(ctx, actor)
		if err != nil {
			return err
		}
		msg = Message{To: inv.Email, AccountID: accountID, Team: acct.Name, InviterID: actor, InviterName: inviter.Name,
			Role: rbac.Role(inv.Role), ExpiresAt: inv.ExpiresAt, RequireSecure: inv.RequireSecure, Resent: true}
		return record(ctx, tx, now, store.Allowed, store.Event{
			AccountID: accountID, Actor: actor, Action: "invite.resent",
			ResourceType: "invite", ResourceID: inv.ID,
			Before: store.EventValue(map[string]string{"expires_at": timeText(cur.ExpiresAt), "sent_by": sponsor(cur)}),
			After:  store.EventValue(map[string]string{"expires_at": timeText(inv.ExpiresAt), "sent_by": actor}),
		})
	})
	if err != nil {
		return fail(err)
	}
	out := invitation(inv, inv.ResentAt, true)
	out.Token, out.Link = token, s.link(token)
	if inv.Kind == store.InviteEmail {
		msg.Link = out.Link
		if err := s.notify(ctx, msg); err != nil {
			return out, fmt.Errorf("invites: resend %q in %q by %q: %w: %w", inviteID, accountID, actor, ErrNotSent, err)
		}
	}
	return out, nil
}

// Revoke cancels a pending or expired invite: it can no longer be accepted
// and is listed as revoked. The actor needs rbac.MembersInvite and a role
// that covers the invite's role. It returns an error wrapping
// store.ErrInvalid, store.ErrNotFound (no such account, or no such invite in
// it), rbac.ErrNotMember, rbac.ErrDenied, ErrUsed (it was used up) or
// ErrRevoked (it was revoked already), and nothing is written then. It is
// safe for concurrent use.
func (s *Service) Revoke(ctx context.Context, actor, accountID, inviteID string) error {
	err := store.ValidateIDs("actor", actor, "account ID", accountID, "invite ID", inviteID)
	if err == nil {
		_, err = s.store.Update(ctx, func(tx store.Tx) error {
			_, me, inv, err := s.actOn(ctx, tx, actor, accountID, inviteID)
			if err != nil {
				return err
			}
			if err := authz.Covers(ctx, tx, s.policy, accountID, rbac.Role(me.Role), rbac.Role(inv.Role)); err != nil && !errors.Is(err, rbac.ErrUnknownRole) {
				return fmt.Errorf("role %q may not revoke an invite with role %q: %w", me.Role, inv.Role, err)
			}
			now := s.clock()
			inv.Status, inv.UpdatedAt = store.InviteRevoked, now
			if err := tx.UpdateInvite(ctx, inv); err != nil {
				return err
			}
			return record(ctx, tx, now, store.Allowed, store.Event{
				AccountID: accountID, Actor: actor, Action: "invite.revoked",
				ResourceType: "invite", ResourceID: inv.ID,
			})
		})
	}
	if err != nil {
		return fmt.Errorf("invites: revoke %q in %q by %q: %w", inviteID, accountID, actor, err)
	}
	return nil
}

// actOn authorizes actor to manage the account's invites, locking the
// account, and returns the account, the actor's membership and the invite,
// which must belong to the account and be pending (expired or not).
func (s *Service) actOn(ctx context.Context, tx store.Tx, actor, accountID, inviteID string) (store.Account, store.Member, store.Invite, error) {
	acct, me, err := authz.Authorize(ctx, tx, s.policy, actor, accountID, rbac.MembersInvite)
	if err != nil {
		return acct, me, store.Invite{}, err
	}
	inv, err := tx.Invite(ctx, inviteID)
	if err != nil {
		return acct, me, inv, err
	}
	switch {
	case inv.AccountID != accountID || inv.Status == store.InviteSuperseded:
		// Another team's invite, or the record of a replaced token, whose
		// ID was never shown: neither is this team's invite.
		return acct, me, inv, fmt.Errorf("no invite %s in %s: %w", inviteID, accountID, store.ErrNotFound)
	case inv.Status == store.InviteAccepted:
		return acct, me, inv, ErrUsed
	case inv.Status == store.InviteRevoked:
		return acct, me, inv, ErrRevoked
	case acct.Kind != store.Team:
		return acct, me, inv, ErrNotTeam
	}
	return acct, me, inv, nil
}
