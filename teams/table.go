package teams

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/teamroster/roster/internal/check"
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
}

// Members returns the team's members table, as every member may see it: the
// members, earliest joined first, then the pending email invites, newest
// first (link invites, which name nobody, are listed by the invites
// service). A pending invite to the address of a current member is not
// listed, so nobody appears twice. Members' sign-in methods are filled in
// only for a viewer whose role allows rbac.MembersManage, and pending
// invites' addresses only for one who may see them in the invites service's
// List (whose role allows rbac.MembersInvite). It returns an error wrapping
// store.ErrInvalid, store.ErrNotFound or rbac.ErrNotMember.
func (s *Service) Members(ctx context.Context, actor, accountID string) ([]MemberRow, error) {
	var rows []MemberRow
	err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID))
	if err == nil {
		err = s.door.View(ctx, txn.Call{Actor: actor, Account: accountID, Need: txn.Membership}, func(c *txn.Change) error {
			members, err := c.Tx.Members(ctx, accountID)
			if err != nil {
				return err
			}
			joined := make(map[string]bool, len(members)) // members' addresses, lowercased
			for _, m := range members {
				u, err := c.Tx.User(ctx, m.UserID)
				if err != nil {
					return err
				}
				row := MemberRow{
					UserID: u.ID, Name: u.Name, Email: u.Email, Role: rbac.Role(m.Role), Status: Joined,
					JoinedAt: m.JoinedAt, Owner: u.ID == c.Account.Owner,
				}
				if c.Rights.SeesSignIns() {
					row.SignIn = u.SignIn
				}
				rows = append(rows, row)
				joined[strings.ToLower(u.Email)] = true
			}
			invites, err := c.Tx.Invites(ctx, accountID)
			if err != nil {
				return err
			}
			now := c.Now()
			for _, inv := range invites {
				if inv.Kind != store.InviteEmail || inv.Status != store.InvitePending || joined[inv.Email] || inv.Expired(now) {
					continue
				}
				row := MemberRow{Role: rbac.Role(inv.Role), Status: Pending, InviteID: inv.ID, ExpiresAt: inv.ExpiresAt}
				if c.Rights.SeesInvitees() {
					row.Email = inv.Email
				}
				rows = append(rows, row)
			}
			return nil
		})
	}
	if err != nil {
		return nil, fmt.Errorf("members of %q for %q: %w", accountID, actor, err)
	}
	return rows, nil
}
