package teams

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/teamroster/roster/internal/authz"
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
	Email  string
	Role   rbac.Role
	Status MemberStatus
	// JoinedAt is when the member joined; zero for a pending invite.
	JoinedAt time.Time
	// SignIn is the member's sign-in method, shown only to viewers allowed
	// rbac.MembersManage (the owners, on DigitalOcean); empty otherwise and
	// for pending invites.
	SignIn store.SignIn
	// InviteID and ExpiresAt describe a pending invite.
	InviteID  string
	ExpiresAt time.Time
}

// Members returns the team's members table, as every member may see it: the
// members, earliest joined first, then the pending email invites, newest
// first (link invites, which name nobody, are listed by the invites
// service). Members' sign-in methods are filled in only for a viewer whose
// role allows rbac.MembersManage. It returns an error wrapping
// store.ErrInvalid, store.ErrNotFound or rbac.ErrNotMember.
func (s *Service) Members(ctx context.Context, actor, accountID string) ([]MemberRow, error) {
	var rows []MemberRow
	err := store.ValidateIDs("actor", actor, "account ID", accountID)
	if err == nil {
		err = s.store.View(ctx, func(tx store.Tx) error {
			if _, err := memberView(ctx, tx, actor, accountID); err != nil {
				return err
			}
			me, err := tx.Member(ctx, accountID, actor)
			if err != nil {
				return err
			}
			held, err := authz.Actions(ctx, tx, s.policy, accountID, rbac.Role(me.Role))
			if err != nil && !errors.Is(err, rbac.ErrUnknownRole) {
				return err
			}
			showSignIn := held.Has(s.policy, rbac.MembersManage)
			members, err := tx.Members(ctx, accountID)
			if err != nil {
				return err
			}
			for _, m := range members {
				u, err := tx.User(ctx, m.UserID)
				if err != nil {
					return err
				}
				row := MemberRow{UserID: u.ID, Name: u.Name, Email: u.Email, Role: rbac.Role(m.Role), Status: Joined, JoinedAt: m.JoinedAt}
				if showSignIn {
					row.SignIn = u.SignIn
				}
				rows = append(rows, row)
			}
			invites, err := tx.Invites(ctx, accountID)
			if err != nil {
				return err
			}
			now := s.now()
			for _, inv := range invites {
				if inv.Kind != store.InviteEmail || inv.Status != store.InvitePending ||
					(!inv.ExpiresAt.IsZero() && !now.Before(inv.ExpiresAt)) {
					continue
				}
				rows = append(rows, MemberRow{Email: inv.Email, Role: rbac.Role(inv.Role), Status: Pending, InviteID: inv.ID, ExpiresAt: inv.ExpiresAt})
			}
			return nil
		})
	}
	if err != nil {
		return nil, fmt.Errorf("teams: members of %q for %q: %w", accountID, actor, err)
	}
	return rows, nil
}
