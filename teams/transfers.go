package teams

import (
	"context"
	"fmt"
	"net/url"

	"github.com/teamroster/roster/internal/check"
	"github.com/teamroster/roster/internal/cursor"
	"github.com/teamroster/roster/internal/token"
	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/notify"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// TransferOwnership starts handing the account over to another member, who
// becomes its owner (see the package documentation), the way DigitalOcean
// hands over a role: the owner (the actor; nobody else may) is sent a link
// to confirm (notify.Notifier.TransferConfirm); once they confirm, the new
// owner is sent a link to accept (notify.Notifier.TransferAccept); only
// their acceptance moves the account, and gives them the top role if they
// lack it. The
// previous owner keeps their role. The transfer expires after the transfer
// TTL (7 days by default), is used once, and dies if either side leaves the
// team; a new handover cancels an open one. It returns the transfer (of kind
// store.TransferAccount), or an error wrapping store.ErrInvalid,
// store.ErrNotFound (no such account, or to is not a member),
// rbac.ErrNotMember, rbac.ErrDenied (ErrNotOwner among them, or to is the
// actor), store.ErrNotTeam, or ErrNotify (the transfer was started but the
// confirmation could not be sent).
func (s *Service) TransferOwnership(ctx context.Context, actor, accountID, to string) (store.Transfer, error) {
	out, err := s.startTransfer(ctx, actor, accountID, to, store.TransferAccount, func(c *txn.Change, target store.Member) error {
		return s.mustOwn(ctx, c)
	})
	if err != nil {
		return out, fmt.Errorf("transfer %q to %q by %q: %w", accountID, to, actor, err)
	}
	return out, nil
}

// GrantTopRole starts giving another member the policy's top role (admin,
// owner) through the same confirm-then-accept flow as TransferOwnership:
// DigitalOcean's "change someone's role to owner", where the member who
// makes the change confirms it by email and the new owner accepts. The
// actor must hold the top role; they keep it, and so does the account's
// owner: this makes another holder of the top role, not the account's
// owner. Where the policy grants the top role only this way
// (rbac.Policy.TopByTransfer) it is the only way. A new grant to the same
// member cancels an open one. It returns the transfer (of kind
// store.TransferRole), or an error wrapping store.ErrInvalid,
// store.ErrNotFound (no such account, or to is not a member),
// rbac.ErrNotMember, rbac.ErrDenied (the actor lacks the top role, or to is
// the actor), store.ErrNotTeam, store.ErrExists (to holds the top role already),
// or ErrNotify.
func (s *Service) GrantTopRole(ctx context.Context, actor, accountID, to string) (store.Transfer, error) {
	out, err := s.startTransfer(ctx, actor, accountID, to, store.TransferRole, func(c *txn.Change, target store.Member) error {
		if !c.Rights.Top() {
			return fmt.Errorf("role %q is not the top role: %w", c.Actor.Role, rbac.ErrDenied)
		}
		r, err := c.RightsOf(rbac.Role(target.Role))
		if err == nil && r.Top() {
			return fmt.Errorf("%s holds the top role already: %w", to, store.ErrExists)
		}
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("grant the top role of %q to %q by %q: %w", accountID, to, actor, err)
	}
	return out, nil
}

// startTransfer starts a transfer of the given kind once may allows it.
func (s *Service) startTransfer(ctx context.Context, actor, accountID, to string, kind store.TransferKind,
	may func(c *txn.Change, target store.Member) error) (store.Transfer, error) {
	var (
		out    store.Transfer
		notice notify.Transfer
	)
	if err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID), check.ID("new owner", to)); err != nil {
		return out, err
	}
	err := s.permitted(ctx, actor, accountID, rbac.MembersManage, store.EventTransferStarted, txn.Resource{Type: "member", ID: to}, func(c *txn.Change) error {
		switch {
		case c.Account.Kind != store.Team:
			return store.ErrNotTeam
		case to == actor:
			return fmt.Errorf("cannot transfer to oneself: %w", rbac.ErrDenied)
		}
		target, err := c.Tx.Member(ctx, accountID, to)
		if err != nil {
			return err
		}
		if err := may(c, target); err != nil {
			return err
		}
		supersedes := func(t store.Transfer) bool { return t.Kind == kind && (kind == store.TransferAccount || t.To == to) }
		if err := s.cancelTransfers(ctx, c, supersedes, "superseded"); err != nil {
			return err
		}
		tok, hash := token.New()
		now := c.Now()
		out = store.Transfer{
			ID: txn.NewID("xfr"), AccountID: accountID, Kind: kind, From: actor, To: to,
			Status: store.TransferAwaitingConfirm, ConfirmHash: hash,
			CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(s.transferTTL),
		}
		if err := c.Tx.CreateTransfer(ctx, out); err != nil {
			return err
		}
		if notice, err = s.notice(ctx, c, out, actor, tok); err != nil {
			return err
		}
		c.After(func(ctx context.Context) error { return s.notify(ctx, notify.Notifier.TransferConfirm, notice) })
		_, err = c.Record(store.Event{
			Action: store.EventTransferStarted, ResourceType: "transfer", ResourceID: out.ID,
			After: txn.EventValue(map[string]string{"kind": string(kind), "from": actor, "to": to}),
		})
		return err
	})
	return out, err
}

// notify sends a notice through the Notifier's method send, if there is a
// Notifier, wrapping its failure in ErrNotify.
func (s *Service) notify(ctx context.Context, send func(notify.Notifier, context.Context, notify.Transfer) error, n notify.Transfer) error {
	if s.notifier == nil {
		return nil
	}
	if err := send(s.notifier, ctx, n); err != nil {
		return fmt.Errorf("%w: %w", ErrNotify, err)
	}
	return nil
}

// ConfirmTransfer is the current owner's confirmation of a transfer they
// started, with the token of their confirmation link. It sends the new owner
// their link to accept (notify.Notifier.TransferAccept). Of concurrent
// confirmations one wins; the rest get ErrTransferClosed. It returns the
// transfer, or an error wrapping store.ErrInvalid, store.ErrNotFound (no such
// transfer), rbac.ErrDenied (the actor did not start it, or, as
// rbac.ErrSecureSignIn, the team requires secure sign-in and they sign in
// otherwise), ErrInvalidToken, ErrTransferClosed, ErrTransferExpired, or ErrNotify
// (confirmed, but the acceptance link could not be sent).
func (s *Service) ConfirmTransfer(ctx context.Context, actor, transferID, tok string) (store.Transfer, error) {
	return s.stepTransfer(ctx, actor, transferID, tok, store.TransferAwaitingConfirm, store.EventTransferConfirmed,
		func(c *txn.Change, t *store.Transfer) error {
			if t.From != actor {
				return fmt.Errorf("only %s may confirm: %w", t.From, rbac.ErrDenied)
			}
			if !token.Match(t.ConfirmHash, tok) {
				return ErrInvalidToken
			}
			acceptTok, hash := token.New()
			t.Status, t.AcceptHash = store.TransferAwaitingAccept, hash
			notice, err := s.notice(ctx, c, *t, t.To, acceptTok)
			if err != nil {
				return err
			}
			c.After(func(ctx context.Context) error { return s.notify(ctx, notify.Notifier.TransferAccept, notice) })
			return nil
		})
}

// AcceptTransfer is the new owner's acceptance, with the token of their
// acceptance link: in one transaction they get the top role (if they lack
// it), the account for a handover (TransferOwnership), and the transfer is
// done. The member who started it must still hold the top role, and for a
// handover still own the account. It returns the transfer, or an error
// wrapping store.ErrInvalid, store.ErrNotFound, rbac.ErrDenied (the actor
// is not the new owner, or the side that started it no longer may; as
// rbac.ErrSecureSignIn, the team requires secure sign-in and the new owner
// signs in otherwise), ErrInvalidToken, ErrTransferClosed or
// ErrTransferExpired.
func (s *Service) AcceptTransfer(ctx context.Context, actor, transferID, tok string) (store.Transfer, error) {
	return s.stepTransfer(ctx, actor, transferID, tok, store.TransferAwaitingAccept, store.EventTransferAccepted,
		func(c *txn.Change, t *store.Transfer) error {
			if t.To != actor {
				return fmt.Errorf("only %s may accept: %w", t.To, rbac.ErrDenied)
			}
			if !token.Match(t.AcceptHash, tok) {
				return ErrInvalidToken
			}
			from, err := c.Tx.Member(ctx, t.AccountID, t.From)
			if err != nil {
				return fmt.Errorf("%s is no longer a member: %w", t.From, rbac.ErrDenied)
			}
			if r, err := c.RightsOf(rbac.Role(from.Role)); err != nil || !r.Top() {
				return fmt.Errorf("%s no longer holds the top role: %w", t.From, rbac.ErrDenied)
			}
			if t.Kind == store.TransferAccount && c.Account.Owner != t.From {
				return fmt.Errorf("%s no longer owns the account: %w", t.From, rbac.ErrDenied)
			}
			if r, err := c.RightsOf(rbac.Role(c.Actor.Role)); err != nil || !r.Top() {
				// The role change is the one who started the transfer's,
				// confirmed.
				if _, err := s.setRole(ctx, c, c.Actor, s.policy.Top(), t.From); err != nil {
					return err
				}
			}
			if t.Kind == store.TransferAccount {
				if err := s.setOwner(ctx, c, actor, "ownership transferred by "+t.From); err != nil {
					return err
				}
			}
			t.Status = store.TransferDone
			return nil
		})
}

// CancelTransfer cancels an open transfer. Either side may cancel (the new
// owner declining), and so may the account's owner and any member holding
// the top role. It returns an error wrapping store.ErrInvalid,
// store.ErrNotFound, rbac.ErrNotMember, rbac.ErrDenied or ErrTransferClosed.
func (s *Service) CancelTransfer(ctx context.Context, actor, accountID, transferID string) error {
	err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID), check.ID("transfer ID", transferID))
	if err == nil {
		_, err = s.door.Update(ctx, txn.Call{
			Actor: actor, Account: accountID, Need: txn.Membership,
			Event: store.EventTransferCancelled, Resource: txn.Resource{Type: "transfer", ID: transferID},
		}, func(c *txn.Change) error {
			t, err := c.Tx.Transfer(ctx, transferID)
			if err != nil {
				return err
			}
			if t.AccountID != accountID {
				return fmt.Errorf("transfer %s: %w", transferID, store.ErrNotFound)
			}
			if actor != t.From && actor != t.To && actor != c.Account.Owner && !c.Rights.Top() {
				return fmt.Errorf("only the two sides, the owner or a holder of the top role may cancel: %w", rbac.ErrDenied)
			}
			if !open(t) {
				return ErrTransferClosed
			}
			return s.cancel(ctx, c, t, "cancelled")
		})
	}
	if err != nil {
		return fmt.Errorf("cancel transfer %q by %q: %w", transferID, actor, err)
	}
	return nil
}

// Transfers returns one page of the account's ownership transfers (see
// store.Page), newest first (then by ID), to a member holding the top role,
// and the cursor of the next page ("" after the last). A transfer started
// while paging sorts before the first page, so later pages neither repeat
// nor miss one. It returns an error wrapping store.ErrInvalid (a malformed
// page or cursor, or a cursor of another list or team), store.ErrNotFound,
// rbac.ErrNotMember or rbac.ErrDenied.
func (s *Service) Transfers(ctx context.Context, actor, accountID string, p store.Page) ([]store.Transfer, string, error) {
	var (
		out   []store.Transfer
		next  string
		after store.Key
	)
	err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID))
	if err == nil {
		err = p.Validate()
	}
	if err == nil && p.Cursor != "" {
		_, after, err = cursor.DecodeKey(p.Cursor, 0, "transfers", accountID)
	}
	if err == nil {
		err = s.door.View(ctx, txn.Call{Actor: actor, Account: accountID, Need: txn.Permission, Action: rbac.MembersManage}, func(c *txn.Change) error {
			if !c.Rights.Top() {
				return fmt.Errorf("role %q is not the top role: %w", c.Actor.Role, rbac.ErrDenied)
			}
			var (
				more bool
				err  error
			)
			out, more, err = cursor.Read(p.Rows(), after, func(r store.Range) ([]store.Transfer, error) {
				return c.Tx.Transfers(ctx, accountID, r)
			}, store.Transfer.Key, nil)
			if more {
				next = cursor.EncodeKey(0, out[len(out)-1].Key(), "transfers", accountID)
			}
			return err
		})
	}
	if err != nil {
		return nil, "", fmt.Errorf("transfers of %q for %q: %w", accountID, actor, err)
	}
	return out, next, nil
}

// stepTransfer moves an open transfer in the want state one step: through
// the door it finds and locks the transfer's account, reads the transfer
// again under the lock, checks the state and the expiry, runs step, stores
// the transfer and records the event.
func (s *Service) stepTransfer(ctx context.Context, actor, transferID, tok string, want store.TransferStatus, event store.EventAction,
	step func(c *txn.Change, t *store.Transfer) error) (store.Transfer, error) {
	var out store.Transfer
	err := check.IDs(check.ID("actor", actor), check.ID("transfer ID", transferID))
	if err == nil {
		if _, herr := token.Hash(tok); herr != nil {
			err = fmt.Errorf("%w: %v", ErrInvalidToken, herr) // one kind: a denial
		}
	}
	if err == nil {
		find := func(ctx context.Context, tx store.Tx) (string, error) {
			t, err := tx.Transfer(ctx, transferID)
			return t.AccountID, err
		}
		// The token, checked by step, authorizes; the door records a
		// member's refusal.
		_, err = s.door.Update(ctx, txn.Call{
			Actor: actor, Find: find, Need: txn.Anyone,
			Event: event, Resource: txn.Resource{Type: "transfer", ID: transferID},
		}, func(c *txn.Change) error {
			t, err := c.Tx.Transfer(ctx, transferID) // again, under the lock
			if err != nil {
				return err
			}
			switch {
			case t.AccountID != c.Account.ID:
				return fmt.Errorf("transfer %s moved: %w", transferID, store.ErrConflict)
			case t.Status != want:
				return fmt.Errorf("transfer is %s: %w", t.Status, ErrTransferClosed)
			case !c.Now().Before(t.ExpiresAt):
				return ErrTransferExpired
			}
			if err := step(c, &t); err != nil {
				return err
			}
			t.UpdatedAt = c.Now()
			if err := c.Tx.UpdateTransfer(ctx, t); err != nil {
				return err
			}
			out = t
			_, err = c.Record(store.Event{
				Action: event, ResourceType: "transfer", ResourceID: t.ID,
				After: txn.EventValue(map[string]string{"status": string(t.Status)}),
			})
			return err
		})
	}
	if err != nil {
		return out, fmt.Errorf("%s %q by %q: %w", event, transferID, actor, err)
	}
	return out, nil
}

// cancelTransfersOf cancels the account's open transfers from or to userID.
func (s *Service) cancelTransfersOf(ctx context.Context, c *txn.Change, userID, reason string) error {
	return s.cancelTransfers(ctx, c, func(t store.Transfer) bool { return t.From == userID || t.To == userID }, reason)
}

// cancelTransfers cancels the account's open transfers that match.
func (s *Service) cancelTransfers(ctx context.Context, c *txn.Change, match func(store.Transfer) bool, reason string) error {
	ts, err := c.Tx.Transfers(ctx, c.Account.ID, store.Range{})
	if err != nil {
		return err
	}
	for _, t := range ts {
		if open(t) && match(t) {
			if err := s.cancel(ctx, c, t, reason); err != nil {
				return err
			}
		}
	}
	return nil
}

// cancel marks the transfer cancelled and records why.
func (s *Service) cancel(ctx context.Context, c *txn.Change, t store.Transfer, reason string) error {
	t.Status, t.UpdatedAt = store.TransferCancelled, c.Now()
	if err := c.Tx.UpdateTransfer(ctx, t); err != nil {
		return err
	}
	_, err := c.Record(store.Event{
		Action: store.EventTransferCancelled, ResourceType: "transfer", ResourceID: t.ID, Reason: reason,
	})
	return err
}

// open reports whether the transfer still waits for a step.
func open(t store.Transfer) bool {
	return t.Status == store.TransferAwaitingConfirm || t.Status == store.TransferAwaitingAccept
}

// notice builds the email notice for recipient with its secret link.
func (s *Service) notice(ctx context.Context, c *txn.Change, t store.Transfer, recipient, tok string) (notify.Transfer, error) {
	u, err := c.Tx.User(ctx, recipient)
	if err != nil {
		return notify.Transfer{}, err
	}
	return notify.Transfer{
		TransferID: t.ID, AccountID: c.Account.ID, TeamName: c.Account.Name, Kind: t.Kind, From: t.From, To: t.To,
		Email: u.Email, Token: tok, ExpiresAt: t.ExpiresAt,
		Link: s.baseURL + "/transfers/" + url.PathEscape(t.ID) + "?token=" + tok,
	}, nil
}
