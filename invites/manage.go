package invites

import (
	"context"
	"fmt"
	"time"

	"github.com/teamroster/roster/internal/check"
	"github.com/teamroster/roster/internal/cursor"
	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/notify"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// List returns one page of the team's invites (see store.Page), newest
// first (then by ID), each with its status at the time of the call
// (pending, accepted, revoked or expired), and the cursor of the next page
// ("" after the last). An invite sent while paging sorts before the first
// page, so later pages neither repeat nor miss one. Every member of the
// team may list them; Email is filled in only for members allowed
// rbac.MembersInvite. Tokens and links are never listed. It returns an
// error wrapping store.ErrInvalid (a malformed page or cursor, or a cursor
// of another list or team), store.ErrNotFound (no such account) or
// rbac.ErrNotMember. It is safe for concurrent use.
func (s *Service) List(ctx context.Context, actor, accountID string, p store.Page) ([]Invitation, string, error) {
	out, next, err := s.list(ctx, actor, accountID, p, "invites", func(inv store.Invite, _ time.Time) bool {
		return inv.Status != store.InviteSuperseded
	})
	if err != nil {
		return nil, "", fmt.Errorf("list invites of %q for %q: %w", accountID, actor, err)
	}
	return out, next, nil
}

// Pending returns one page of the team's invites that can still be
// accepted, newest first: List restricted to status store.InvitePending
// (so neither expired nor used up), with the same rules and errors; its
// cursors are its own. It is safe for concurrent use.
func (s *Service) Pending(ctx context.Context, actor, accountID string, p store.Page) ([]Invitation, string, error) {
	out, next, err := s.list(ctx, actor, accountID, p, "pending invites", func(inv store.Invite, now time.Time) bool {
		return status(inv, now) == store.InvitePending
	})
	if err != nil {
		return nil, "", fmt.Errorf("list pending invites of %q for %q: %w", accountID, actor, err)
	}
	return out, next, nil
}

// list returns a page of the account's invites that keep keeps at the time
// of the call, with the cursor of the next page, bound to the list's name.
func (s *Service) list(ctx context.Context, actor, accountID string, p store.Page, name string,
	keep func(inv store.Invite, now time.Time) bool) ([]Invitation, string, error) {
	var (
		out   []Invitation
		next  string
		after store.Key
	)
	err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID))
	if err == nil {
		err = p.Validate()
	}
	if err == nil && p.Cursor != "" {
		_, after, err = cursor.DecodeKey(p.Cursor, 0, name, accountID)
	}
	if err != nil {
		return nil, "", err
	}
	err = s.door.View(ctx, txn.Call{Actor: actor, Account: accountID, Need: txn.Membership}, func(c *txn.Change) error {
		now := c.Now()
		invs, more, err := cursor.Read(p.Rows(), after, func(r store.Range) ([]store.Invite, error) {
			return c.Tx.Invites(ctx, accountID, r)
		}, store.Invite.Key, func(batch []store.Invite) ([]store.Invite, error) {
			var kept []store.Invite
			for _, inv := range batch {
				if keep(inv, now) {
					kept = append(kept, inv)
				}
			}
			return kept, nil
		})
		if err != nil {
			return err
		}
		out = make([]Invitation, len(invs))
		for i, inv := range invs {
			out[i] = invitation(inv, now, c.Rights.SeesInvitees())
		}
		if more {
			next = cursor.EncodeKey(0, invs[len(invs)-1].Key(), name, accountID)
		}
		return nil
	})
	return out, next, err
}

// Resend gives a pending or expired invite a new token and returns it with
// its Token and Link, shown this once (with link secrets, Link shows them
// again; the new token is derived from the current secret); the old token
// stops working
// (accepting it returns ErrSuperseded). An invite that had an expiry gets a
// fresh one of the same length, counted from now. For an email invite the
// Notifier is asked to send the email again; if that fails the resend stays
// and Resend returns the invite with an error wrapping ErrNotSent. The actor
// becomes the invite's sender, who must still be allowed to invite when it
// is accepted. The actor needs rbac.MembersInvite and a role that covers the
// invite's role. It returns an error wrapping store.ErrInvalid,
// store.ErrNotFound (no such account, or no such invite in it),
// rbac.ErrNotMember, rbac.ErrDenied, ErrUsed, ErrRevoked, store.ErrNotTeam or
// ErrReusableTop, and nothing is written then but, for a member refused by
// the policy (rbac.ErrDenied), a denied invite.resent event. It is safe for
// concurrent use.
func (s *Service) Resend(ctx context.Context, actor, accountID, inviteID string) (Invitation, error) {
	fail := func(err error) (Invitation, error) {
		return Invitation{}, fmt.Errorf("resend %q in %q by %q: %w", inviteID, accountID, actor, err)
	}
	if err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID), check.ID("invite ID", inviteID)); err != nil {
		return fail(err)
	}
	tok, hash := s.newToken(inviteID)
	var (
		inv store.Invite
		msg notify.Invite
	)
	err := s.manage(ctx, actor, accountID, inviteID, store.EventInviteResent, func(c *txn.Change, cur store.Invite) error {
		if err := s.mayGrant(c, rbac.Role(cur.Role), cur.MaxUses); err != nil {
			return err
		}
		now := c.Now()
		if cur.Expired(now) {
			// An expired invite holds no seat; resent, it takes one again.
			if err := c.Seats(1, 0); err != nil {
				return err
			}
		}
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
		old.ID, old.Status, old.SupersededBy, old.CreatedAt, old.UpdatedAt = txn.NewID("inv"), store.InviteSuperseded, cur.ID, now, now
		// The new hash first: the old one moves to the superseded record.
		if err := c.Tx.UpdateInvite(ctx, inv); err != nil {
			return err
		}
		if err := c.Tx.CreateInvite(ctx, old); err != nil {
			return err
		}
		inviter, err := c.Tx.User(ctx, actor)
		if err != nil {
			return err
		}
		msg = notify.Invite{To: inv.Email, AccountID: accountID, Team: c.Account.Name, InviterID: actor, InviterName: inviter.Name,
			Role: rbac.Role(inv.Role), ExpiresAt: inv.ExpiresAt, RequireSecure: inv.RequireSecure, Resent: true}
		_, err = c.Record(store.Event{
			Action: store.EventInviteResent, ResourceType: "invite", ResourceID: inv.ID,
			Before: txn.EventValue(map[string]string{"expires_at": timeText(cur.ExpiresAt), "sent_by": sponsor(cur)}),
			After:  txn.EventValue(map[string]string{"expires_at": timeText(inv.ExpiresAt), "sent_by": actor}),
		})
		return err
	})
	if err != nil {
		return fail(err)
	}
	out := invitation(inv, inv.ResentAt, true)
	out.Token, out.Link = tok, s.link(tok)
	if inv.Kind == store.InviteEmail {
		msg.Link = out.Link
		if err := s.notify(ctx, msg); err != nil {
			return out, fmt.Errorf("resend %q in %q by %q: %w: %w", inviteID, accountID, actor, ErrNotSent, err)
		}
	}
	return out, nil
}

// Revoke cancels a pending or expired invite: it can no longer be accepted
// and is listed as revoked. The actor needs rbac.MembersInvite and a role
// that covers the invite's role. It returns an error wrapping
// store.ErrInvalid, store.ErrNotFound (no such account, or no such invite in
// it), rbac.ErrNotMember, rbac.ErrDenied, ErrUsed (it was used up) or
// ErrRevoked (it was revoked already), and nothing is written then but,
// for a member refused by the policy (rbac.ErrDenied), a denied
// invite.revoked event. It is safe for concurrent use.
func (s *Service) Revoke(ctx context.Context, actor, accountID, inviteID string) error {
	err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID), check.ID("invite ID", inviteID))
	if err == nil {
		err = s.manage(ctx, actor, accountID, inviteID, store.EventInviteRevoked, func(c *txn.Change, inv store.Invite) error {
			if err := c.Covers(rbac.Role(inv.Role)); err != nil {
				return fmt.Errorf("role %q may not revoke an invite with role %q: %w", c.Actor.Role, inv.Role, err)
			}
			inv.Status, inv.UpdatedAt = store.InviteRevoked, c.Now()
			if err := c.Tx.UpdateInvite(ctx, inv); err != nil {
				return err
			}
			_, err := c.Record(store.Event{Action: store.EventInviteRevoked, ResourceType: "invite", ResourceID: inv.ID})
			return err
		})
	}
	if err != nil {
		return fmt.Errorf("revoke %q in %q by %q: %w", inviteID, accountID, actor, err)
	}
	return nil
}

// manage runs fn through the door once actor may manage the account's
// invites (rbac.MembersInvite), with the invite, which must belong to the
// account and be pending (expired or not); a refusal is recorded as event.
func (s *Service) manage(ctx context.Context, actor, accountID, inviteID string, event store.EventAction, fn func(c *txn.Change, inv store.Invite) error) error {
	_, err := s.door.Update(ctx, txn.Call{
		Actor: actor, Account: accountID, Need: txn.Permission, Action: rbac.MembersInvite,
		Event: event, Resource: txn.Resource{Type: "invite", ID: inviteID},
	}, func(c *txn.Change) error {
		inv, err := c.Tx.Invite(ctx, inviteID)
		if err != nil {
			return err
		}
		switch {
		case inv.AccountID != accountID || inv.Status == store.InviteSuperseded:
			// Another team's invite, or the record of a replaced token, whose
			// ID was never shown: neither is this team's invite.
			return fmt.Errorf("no invite %s in %s: %w", inviteID, accountID, store.ErrNotFound)
		case inv.Status == store.InviteAccepted:
			return ErrUsed
		case inv.Status == store.InviteRevoked:
			return ErrRevoked
		case c.Account.Kind != store.Team:
			return store.ErrNotTeam
		}
		return fn(c, inv)
	})
	return err
}
