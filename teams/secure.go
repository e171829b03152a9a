package teams

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/teamroster/roster/internal/check"
	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// Team-wide secure sign-in (DigitalOcean's "require secure sign-in").
//
// While a team requires it (store.Account.RequireSecureSignIn), a member
// whose sign-in method is not secure (rbac.Policy.SignIns) may do nothing
// in it: Can says no, Check and Explain say rbac.ErrSecureSignIn, and every
// call of the services on the team is refused the same way, except
// leaving it. The member keeps their membership and role, and regains
// access the moment they move to a secure method (UpdateUser or
// UpsertUser). Invitations made meanwhile require a secure method, and
// nobody signing in insecurely can accept one.

// SetSecureSignIn makes the team require secure sign-in of its members, or
// stop requiring it. The actor needs rbac.SettingsManage, and to turn it on
// must sign in securely themselves. PreviewSecureSignIn lists who would
// lose access first. Setting what is already set changes nothing. It returns
// the account, or an error wrapping store.ErrInvalid, store.ErrNotFound,
// rbac.ErrNotMember, rbac.ErrDenied, store.ErrNotTeam or
// ErrInsecureActor.
func (s *Service) SetSecureSignIn(ctx context.Context, actor, accountID string, require bool) (store.Account, error) {
	var out store.Account
	err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID))
	if err == nil {
		err = s.permitted(ctx, actor, accountID, rbac.SettingsManage, store.EventAccountSecureSignIn, txn.Resource{Type: "account", ID: accountID}, func(c *txn.Change) error {
			acct := c.Account
			out = acct
			switch {
			case acct.Kind != store.Team:
				return store.ErrNotTeam
			case acct.RequireSecureSignIn == require:
				return nil
			}
			if require {
				u, err := c.Tx.User(ctx, actor)
				if err != nil {
					return err
				}
				if !s.policy.SignIns().Secure(u.SignIn) {
					return fmt.Errorf("%w: %s signs in with %q", ErrInsecureActor, actor, u.SignIn)
				}
			}
			acct.RequireSecureSignIn, acct.UpdatedAt = require, c.Now()
			if err := c.Tx.UpdateAccount(ctx, acct); err != nil {
				return err
			}
			out = acct
			_, err := c.Record(store.Event{
				Action: store.EventAccountSecureSignIn, ResourceType: "account", ResourceID: acct.ID,
				Before: txn.EventValue(map[string]string{"require_secure_sign_in": strconv.FormatBool(!require)}),
				After:  txn.EventValue(map[string]string{"require_secure_sign_in": strconv.FormatBool(require)}),
			})
			return err
		})
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("set secure sign-in of %q to %t by %q: %w", accountID, require, actor, err)
	}
	return out, nil
}

// PreviewSecureSignIn returns the members who would lose access if the team
// required secure sign-in (or, if it does, who have lost it): those whose
// sign-in method is not secure, in the members table's order, with their
// sign-in methods. The actor needs rbac.SettingsManage. It returns an error
// wrapping store.ErrInvalid, store.ErrNotFound, rbac.ErrNotMember,
// rbac.ErrDenied or store.ErrNotTeam.
func (s *Service) PreviewSecureSignIn(ctx context.Context, actor, accountID string) ([]MemberRow, error) {
	var rows []MemberRow
	err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID))
	if err == nil {
		err = s.door.View(ctx, txn.Call{
			Actor: actor, Account: accountID, Need: txn.Permission, Action: rbac.SettingsManage,
			Event: store.EventAccountSecureSignIn, Resource: txn.Resource{Type: "account", ID: accountID},
		}, func(c *txn.Change) error {
			if c.Account.Kind != store.Team {
				return store.ErrNotTeam
			}
			members, err := c.Tx.Members(ctx, accountID, store.Range{})
			if err != nil {
				return err
			}
			for chunk := range slices.Chunk(members, store.MaxPageSize) {
				ids := make([]string, len(chunk))
				for i, m := range chunk {
					ids[i] = m.UserID
				}
				users, err := c.Tx.UsersByID(ctx, ids)
				if err != nil {
					return err
				}
				byID := make(map[string]store.User, len(users))
				for _, u := range users {
					byID[u.ID] = u
				}
				for _, m := range chunk {
					if u := byID[m.UserID]; !s.policy.SignIns().Secure(u.SignIn) {
						rows = append(rows, MemberRow{
							UserID: m.UserID, Name: u.Name, Email: u.Email, Role: rbac.Role(m.Role), Status: Joined,
							JoinedAt: m.JoinedAt, SignIn: u.SignIn, Owner: m.UserID == c.Account.Owner,
						})
					}
				}
			}
			return nil
		})
	}
	if err != nil {
		return nil, fmt.Errorf("preview secure sign-in of %q for %q: %w", accountID, actor, err)
	}
	return rows, nil
}
