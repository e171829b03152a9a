package teams

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/teamroster/roster/internal/check"
	"github.com/teamroster/roster/internal/cursor"
	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// MemberStatus says whether a row of the members table has joined or has
// only been invited.
type MemberStatus string

// The statuses of the members table.
const (
	Joined  MemberStatus = "joined"
	Pending MemberStatus = "pending"
)

// MemberRow is one row of a team's members table.
type MemberRow struct {
	// UserID is the member's user ID; empty for a pending invite.
	UserID string
	Name   string
	// Email is the member's address, or a pending invite's address for
	// viewers who may see it (see Members); empty otherwise.
	Email  string
	Role   rbac.Role
	Status MemberStatus
	// JoinedAt is when the member joined; zero for a pending invite.
	JoinedAt time.Time
	// SignIn is the member's sign-in method, shown only to viewers allowed
	// rbac.MembersManage (the owners, on DigitalOcean); empty otherwise and
	// for pending invites.
	SignIn store.SignIn
	// Owner marks the account's owner.
	Owner bool
	// InviteID and ExpiresAt describe a pending invite.
	InviteID  string
	ExpiresAt time.Time
	// Suspended marks a suspended member (see Service.Suspend).
	Suspended bool
	// Until is when the membership ends (FallbackRole empty) or when Role,
	// granted for a while, falls back to FallbackRole; zero if never. A
	// row whose end has passed but has not been swept yet shows it.
	Until        time.Time
	FallbackRole rbac.Role
}

// The two parts of the members table, which its cursor names.
const (
	partMembers byte = iota
	partInvites
)

// Members returns one page of the team's members table (see store.Page), as
// every member may see it, and the cursor of the next page ("" after the
// last): the members, earliest joined first (then by user ID), then the
// pending email invites, newest first (link invites, which name nobody,
// are listed by the invites service). A pending invite to the address of a
// current member is not listed, so nobody appears twice. Pages stay stable
// while members join and invites are sent: a cursor continues after the
// last row returned, a new member joins after every earlier one, and a new
// invite sorts before every older one. Members' sign-in methods are filled
// in only for a viewer whose role allows rbac.MembersManage, and pending
// invites' addresses only for one who may see them in the invites service's
// List (whose role allows rbac.MembersInvite). It returns an error wrapping
// store.ErrInvalid (a malformed page or cursor, or a cursor of another
// list or team), store.ErrNotFound or rbac.ErrNotMember.
func (s *Service) Members(ctx context.Context, actor, accountID string, p store.Page) ([]MemberRow, string, error) {
	var (
		rows  []MemberRow
		next  string
		part  byte
		after store.Key
	)
	err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID))
	if err == nil {
		err = p.Validate()
	}
	if err == nil && p.Cursor != "" {
		part, after, err = cursor.DecodeKey(p.Cursor, partInvites, "members", accountID)
	}
	if err == nil {
		err = s.door.View(ctx, txn.Call{Actor: actor, Account: accountID, Need: txn.Membership}, func(c *txn.Change) error {
			size := p.Rows()
			if part == partMembers {
				ms, more, err := cursor.Read(size, after, func(r store.Range) ([]store.Member, error) {
					return c.Tx.Members(ctx, accountID, r)
				}, memberKey, nil)
				if err != nil {
					return err
				}
				if rows, err = memberRows(ctx, c, ms); err != nil {
					return err
				}
				if more {
					next = cursor.EncodeKey(partMembers, memberKey(ms[len(ms)-1]), "members", accountID)
					return nil
				}
				part, after = partInvites, store.Key{}
			}
			invs, more, err := cursor.Read(size-len(rows), after, func(r store.Range) ([]store.Invite, error) {
				return c.Tx.Invites(ctx, accountID, r)
			}, store.Invite.Key, func(batch []store.Invite) ([]store.Invite, error) {
				return pendingEmails(ctx, c, batch)
			})
			if err != nil {
				return err
			}
			for _, inv := range invs {
				row := MemberRow{Role: rbac.Role(inv.Role), Status: Pending, InviteID: inv.ID, ExpiresAt: inv.ExpiresAt}
				if c.Rights.SeesInvitees() {
					row.Email = inv.Email
				}
				rows = append(rows, row)
			}
			if more {
				if len(invs) > 0 {
					after = invs[len(invs)-1].Key()
				}
				next = cursor.EncodeKey(partInvites, after, "members", accountID)
			}
			return nil
		})
	}
	if err != nil {
		return nil, "", fmt.Errorf("members of %q for %q: %w", accountID, actor, err)
	}
	return rows, next, nil
}

// memberKey is a membership's position in the members table.
func memberKey(m store.Member) store.Key { return store.Key{Time: m.JoinedAt, ID: m.UserID} }

// memberRows returns the rows of the members ms, reading their users in one
// call.
func memberRows(ctx context.Context, c *txn.Change, ms []store.Member) ([]MemberRow, error) {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.UserID
	}
	users, err := c.Tx.UsersByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]store.User, len(users))
	for _, u := range users {
		byID[u.ID] = u
	}
	rows := make([]MemberRow, 0, len(ms))
	for _, m := range ms {
		u, ok := byID[m.UserID]
		if !ok {
			return nil, fmt.Errorf("user %s of a membership: %w", m.UserID, store.ErrNotFound)
		}
		row := MemberRow{
			UserID: u.ID, Name: u.Name, Email: u.Email, Role: rbac.Role(m.Role), Status: Joined,
			JoinedAt: m.JoinedAt, Owner: u.ID == c.Account.Owner,
			Suspended: m.Suspended(), Until: m.Until, FallbackRole: rbac.Role(m.FallbackRole),
		}
		if c.Rights.SeesSignIns() {
			row.SignIn = u.SignIn
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// pendingEmails returns the invites of batch that are rows of the members
// table: pending, unexpired email invites to addresses of no member. It
// looks the addresses up in one call, and the membership of each user found.
func pendingEmails(ctx context.Context, c *txn.Change, batch []store.Invite) ([]store.Invite, error) {
	now := c.Now()
	var (
		pending []store.Invite
		emails  []string
	)
	for _, inv := range batch {
		if inv.Kind == store.InviteEmail && inv.Status == store.InvitePending && !inv.Expired(now) {
			pending = append(pending, inv)
			emails = append(emails, inv.Email)
		}
	}
	if len(pending) == 0 {
		return nil, nil
	}
	users, err := c.Tx.UsersByEmail(ctx, emails)
	if err != nil {
		return nil, err
	}
	joined := map[string]bool{} // members' addresses, lowercased
	for _, u := range users {
		_, err := c.Tx.Member(ctx, c.Account.ID, u.ID)
		switch {
		case err == nil:
			joined[strings.ToLower(u.Email)] = true
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
	}
	kept := pending[:0]
	for _, inv := range pending {
		if !joined[strings.ToLower(inv.Email)] {
			kept = append(kept, inv)
		}
	}
	return kept, nil
}
