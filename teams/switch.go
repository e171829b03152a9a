package teams

import (
	"context"
	"errors"
	"fmt"

	"github.com/teamroster/roster/internal/check"
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

// Accounts returns the user's account selector: every account they are a
// member of, their personal accounts first, then teams in the order they
// joined, with exactly one marked active (see Active). It returns an error
// wrapping store.ErrInvalid or store.ErrNotFound (no such user).
func (s *Service) Accounts(ctx context.Context, userID string) ([]AccountEntry, error) {
	var out []AccountEntry
	err := check.IDs(check.ID("user ID", userID))
	if err == nil {
		err = s.door.View(ctx, txn.Call{Need: txn.Anyone}, func(c *txn.Change) (err error) {
			out, err = accounts(ctx, c.Tx, userID)
			return err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("accounts of %q: %w", userID, err)
	}
	return out, nil
}

// Active returns the account the user works in: the one they last switched
// to if they are still a member of it, else their first personal account,
// else the first team they joined. Joining a team does not change it. It
// returns an error wrapping store.ErrInvalid or store.ErrNotFound (no such
// user, or the user belongs to no account).
func (s *Service) Active(ctx context.Context, userID string) (store.Account, error) {
	entries, err := s.Accounts(ctx, userID)
	if err != nil {
		return store.Account{}, err
	}
	for _, e := range entries {
		if e.Active {
			return e.Account, nil
		}
	}
	return store.Account{}, fmt.Errorf("active account of %q: belongs to no account: %w", userID, store.ErrNotFound)
}

// switchTries bounds how often Switch reads the user's active account again
// when a concurrent change to it wins each time.
const switchTries = 8

// Switch makes accountID the user's active account, persisted across
// sessions. The user must be a member of it; the account is locked while
// the switch is made, so a removal of the user from it commits entirely
// before (the switch is refused) or after (the removal moves the user off
// it). It returns an error wrapping store.ErrInvalid, store.ErrNotFound (no
// such user or account), rbac.ErrNotMember, or store.ErrConflict if
// concurrent switches of the same user kept winning.
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

// accounts builds the account selector inside a transaction.
func accounts(ctx context.Context, tx store.Tx, userID string) ([]AccountEntry, error) {
	u, err := tx.User(ctx, userID)
	if err != nil {
		return nil, err
	}
	ms, err := tx.Memberships(ctx, userID)
	if err != nil {
		return nil, err
	}
	var personal, teams []AccountEntry
	for _, m := range ms {
		a, err := tx.Account(ctx, m.AccountID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		e := AccountEntry{Account: a, Role: rbac.Role(m.Role)}
		if a.Kind == store.Personal {
			personal = append(personal, e)
		} else {
			teams = append(teams, e)
		}
	}
	out := append(personal, teams...)
	active := -1
	for i, e := range out {
		if e.Account.ID == u.ActiveAccount {
			active = i
		}
	}
	if active < 0 && len(out) > 0 {
		active = 0
	}
	if active >= 0 {
		out[active].Active = true
	}
	return out, nil
}
