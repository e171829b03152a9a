package teams

import (
	"context"
	"errors"
	"fmt"

	"github.com/teamroster/roster/internal/check"
	"github.com/teamroster/roster/internal/cursor"
	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// AccountEntry is one account of a user's account selector.
type AccountEntry struct {
	Account store.Account
	Role    rbac.Role // the user's role in it
	Active  bool      // the account the user works in now
}

// Accounts returns one page of the user's account selector (see
// store.Page) and the cursor of the next page ("" after the last): every
// account they are a member of, in the order they joined (their personal
// account, made with them, first), with the active one (see Active) marked
// on whichever page holds it. Pages stay stable while the user joins teams:
// a new membership comes after every earlier one. It returns an error
// wrapping store.ErrInvalid (a malformed page or cursor, or a cursor of
// another list or user) or store.ErrNotFound (no such user).
func (s *Service) Accounts(ctx context.Context, userID string, p store.Page) ([]AccountEntry, string, error) {
	var (
		out   []AccountEntry
		next  string
		after store.Key
	)
	err := check.IDs(check.ID("user ID", userID))
	if err == nil {
		err = p.Validate()
	}
	if err == nil && p.Cursor != "" {
		_, after, err = cursor.DecodeKey(p.Cursor, 0, "accounts", userID)
	}
	if err == nil {
		err = s.door.View(ctx, txn.Call{Need: txn.Anyone}, func(c *txn.Change) error {
			u, err := c.Tx.User(ctx, userID)
			if err != nil {
				return err
			}
			active, err := activeAccount(ctx, c.Tx, u)
			if err != nil {
				return err
			}
			ms, more, err := cursor.Read(p.Rows(), after, func(r store.Range) ([]store.Member, error) {
				return c.Tx.Memberships(ctx, userID, r)
			}, membershipKey, nil)
			if err != nil {
				return err
			}
			accts, err := accountsOf(ctx, c.Tx, ms)
			if err != nil {
				return err
			}
			for _, m := range ms {
				if a, ok := accts[m.AccountID]; ok {
					out = append(out, AccountEntry{Account: a, Role: rbac.Role(m.Role), Active: a.ID == active})
				}
			}
			if more {
				next = cursor.EncodeKey(0, membershipKey(ms[len(ms)-1]), "accounts", userID)
			}
			return nil
		})
	}
	if err != nil {
		return nil, "", fmt.Errorf("accounts of %q: %w", userID, err)
	}
	return out, next, nil
}

// Active returns the account the user works in: the one they last switched
// to if they are still a member of it, else their first personal account,
// else the first team they joined. Joining a team does not change it. It
// returns an error wrapping store.ErrInvalid or store.ErrNotFound (no such
// user, or the user belongs to no account).
func (s *Service) Active(ctx context.Context, userID string) (store.Account, error) {
	var out store.Account
	err := check.IDs(check.ID("user ID", userID))
	if err == nil {
		err = s.door.View(ctx, txn.Call{Need: txn.Anyone}, func(c *txn.Change) error {
			u, err := c.Tx.User(ctx, userID)
			if err != nil {
				return err
			}
			id, err := activeAccount(ctx, c.Tx, u)
			switch {
			case err != nil:
				return err
			case id == "":
				return fmt.Errorf("belongs to no account: %w", store.ErrNotFound)
			}
			out, err = c.Tx.Account(ctx, id)
			return err
		})
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("active account of %q: %w", userID, err)
	}
	return out, nil
}

// switchTries bounds how often Switch reads the user's active account again
// when a concurrent change to it wins each time.
const switchTries = 8

// Switch makes accountID the user's active account, persisted across
// sessions. The user must be a member of it; the account is locked while
// the switch is made, so a removal of the user from it commits entirely
// before (the switch is refused) or after (the removal moves the user off
// it). It returns an error wrapping store.ErrInvalid, store.ErrNotFound (no
// such user or account), rbac.ErrNotMember, rbac.ErrSecureSignIn (the team
// requires secure sign-in and the user signs in otherwise), or
// store.ErrConflict if concurrent switches of the same user kept winning.
func (s *Service) Switch(ctx context.Context, userID, accountID string) error {
	err := check.IDs(check.ID("user ID", userID), check.ID("account ID", accountID))
	if err == nil {
		_, err = s.door.Update(ctx, txn.Call{Actor: userID, Account: accountID, Need: txn.Anyone}, func(c *txn.Change) error {
			u, err := c.Tx.User(ctx, userID)
			if err != nil {
				return err
			}
			if c.Actor.UserID == "" {
				return fmt.Errorf("%s is not a member of %s: %w", userID, accountID, rbac.ErrNotMember)
			}
			for range switchTries {
				if u.ActiveAccount == accountID {
					return nil
				}
				ok, err := c.Tx.SetActiveAccount(ctx, userID, u.ActiveAccount, accountID)
				if err != nil {
					return err
				}
				if ok {
					_, err := c.Record(store.Event{
						Action: store.EventUserSwitched, ResourceType: "user", ResourceID: userID,
						Before: txn.EventValue(map[string]string{"account": u.ActiveAccount}),
						After:  txn.EventValue(map[string]string{"account": accountID}),
					})
					return err
				}
				if u, err = c.Tx.User(ctx, userID); err != nil {
					return err
				}
			}
			return fmt.Errorf("%w: the active account of %s kept changing", store.ErrConflict, userID)
		})
	}
	if err != nil {
		return fmt.Errorf("%q switch to %q: %w", userID, accountID, err)
	}
	return nil
}

// membershipKey is a membership's position in the user's memberships.
func membershipKey(m store.Member) store.Key { return store.Key{Time: m.JoinedAt, ID: m.AccountID} }

// accountsOf returns the accounts of the memberships ms by ID, read in one
// call; an account that no longer exists is missing.
func accountsOf(ctx context.Context, tx store.Tx, ms []store.Member) (map[string]store.Account, error) {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.AccountID
	}
	accts, err := tx.AccountsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]store.Account, len(accts))
	for _, a := range accts {
		byID[a.ID] = a
	}
	return byID, nil
}

// activeAccount returns the ID of the user's active account (see Active),
// or "" if they belong to none. When the user's stored choice no longer
// stands it reads their memberships a page at a time until it meets a
// personal account, which is usually the first.
func activeAccount(ctx context.Context, tx store.Tx, u store.User) (string, error) {
	if u.ActiveAccount != "" {
		_, err := tx.Member(ctx, u.ActiveAccount, u.ID)
		if err == nil {
			return u.ActiveAccount, nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return "", err
		}
	}
	firstTeam := ""
	r := store.Range{Limit: store.DefaultPageSize}
	for {
		ms, err := tx.Memberships(ctx, u.ID, r)
		if err != nil {
			return "", err
		}
		accts, err := accountsOf(ctx, tx, ms)
		if err != nil {
			return "", err
		}
		for _, m := range ms {
			a, ok := accts[m.AccountID]
			switch {
			case !ok:
			case a.Kind == store.Personal:
				return a.ID, nil
			case firstTeam == "":
				firstTeam = a.ID
			}
		}
		if len(ms) < r.Limit {
			return firstTeam, nil
		}
		r.After = membershipKey(ms[len(ms)-1])
	}
}
