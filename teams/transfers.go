package teams

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/teamroster/roster/internal/token"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// TransferOwnership starts making another member an owner (a holder of the
// policy's top role), the way DigitalOcean does it: the actor, who must hold
// the top role, is sent a link to confirm (Notifier.TransferConfirm); once
// they confirm, the new owner is sent a link to accept
// (Notifier.TransferAccept); only their acceptance changes the role. The
// transfer expires after the transfer TTL (7 days by default), is used once,
// and dies if either side leaves the team. A new transfer to the same member
// cancels an open one. The actor keeps their own role. It returns the
// transfer, or an error wrapping store.ErrInvalid, store.ErrNotFound (no such
// account, or to is not a member), rbac.ErrNotMember, rbac.ErrDenied (the
// actor lacks the top role, or to is the actor), ErrNotTeam, store.ErrExists
// (to is an owner already), or ErrNotify (the transfer was started but the
// confirmation could not be sent).
func (s *Service) TransferOwnership(ctx context.Context, actor, accountID, to string) (store.Transfer, error) {
	var (
		out    store.Transfer
		notice TransferNotice
	)
	err := store.ValidateIDs("actor", actor, "account ID", accountID, "new owner", to)
	if err == nil {
		err = s.update(ctx, actor, accountID, rbac.MembersManage, "transfer.started", func(c *change) error {
			switch {
			case c.acct.Kind != store.Team:
				return ErrNotTeam
			case !s.policy.IsTop(rbac.Role(c.me.Role)):
				return fmt.Errorf("role %q is not the top role: %w", c.me.Role, rbac.ErrDenied)
			case to == actor:
				return fmt.Errorf("owners cannot transfer to themselves: %w", rbac.ErrDenied)
			}
			target, err := c.tx.Member(ctx, accountID, to)
			if err != nil {
				return err
			}
			if s.policy.IsTop(rbac.Role(target.Role)) {
				return fmt.Errorf("%s is an owner already: %w", to, store.ErrExists)
			}
			if err := s.cancelTransfersOf(ctx, c, to, "superseded"); err != nil {
				return err
			}
			tok, hash := token.New()
			now := s.now()
			out = store.Transfer{
				ID: store.NewID("xfr"), AccountID: accountID, From: actor, To: to,
				Status: store.TransferAwaitingConfirm, ConfirmHash: hash,
				CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(s.transferTTL),
			}
			if err := c.tx.CreateTransfer(ctx, out); err != nil {
				return err
			}
			if notice, err = s.notice(ctx, c.tx, c.acct, out, actor, tok); err != nil {
				return err
			}
			return s.record(ctx, c.tx, store.Event{
				AccountID: accountID, Actor: actor, Action: "transfer.started",
				ResourceType: "transfer", ResourceID: out.ID,
				After: store.EventValue(map[string]string{"from": actor, "to": to}),
			})
		})
	}
	if err == nil {
		if nerr := s.notifier.TransferConfirm(ctx, notice); nerr != nil {
			err = fmt.Errorf("%w: %w", ErrNotify, nerr)
		}
	}
	if err != nil {
		return out, fmt.Errorf("teams: transfer %q to %q by %q: %w", accountID, to, actor, err)
	}
	return out, nil
}

// ConfirmTransfer is the current owner's confirmation of a transfer they
// started, with the token of their confirmation link. It sends the new owner
// their link to accept (Notifier.TransferAccept). Of concurrent
// confirmations one wins; the rest get ErrTransferClosed. It returns the
// transfer, or an error wrapping store.ErrInvalid, store.ErrNotFound (no such
// transfer), rbac.ErrDenied (the actor did not start it), ErrInvalidToken,
// ErrTransferClosed, ErrTransferExpired, or ErrNotify (confirmed, but the
// acceptance link could not be sent).
func (s *Service) ConfirmTransfer(ctx context.Context, actor, transferID, tok string) (store.Transfer, error) {
	var notice TransferNotice
	out, err := s.stepTransfer(ctx, actor, transferID, tok, store.TransferAwaitingConfirm, "transfer.confirmed",
		func(c *change, t *store.Transfer) error {
			if t.From != actor {
				return fmt.Errorf("only %s may confirm: %w", t.From, rbac.ErrDenied)
			}
			if !token.Match(t.ConfirmHash, tok) {
				return ErrInvalidToken
			}
			acceptTok, hash := token.New()
			t.Status, t.AcceptHash = store.TransferAwaitingAccept, hash
			var err error
			notice, err = s.notice(ctx, c.tx, c.acct, *t, t.To, acceptTok)
			return err
		})
	if err == nil {
		if nerr := s.notifier.TransferAccept(ctx, notice); nerr != nil {
			err = fmt.Errorf("teams: confirm transfer %q by %q: %w: %w", transferID, actor, ErrNotify, nerr)
		}
	}
	return out, err
}

// AcceptTransfer is the new owner's acceptance, with the token of their
// acceptance link: in one transaction they get the top role and the transfer
// is done. The current owner must still hold the top role. It returns the
// transfer, or an error wrapping store.ErrInvalid, store.ErrNotFound,
// rbac.ErrDenied (the actor is not the new owner, or the current owner no
// longer holds the top role), ErrInvalidToken, ErrTransferClosed or
// ErrTransferExpired.
func (s *Service) AcceptTransfer(ctx context.Context, actor, transferID, tok string) (store.Transfer, error) {
	return s.stepTransfer(ctx, actor, transferID, tok, store.TransferAwaitingAccept, "transfer.accepted",
		func(c *change, t *store.Transfer) error {
			if t.To != actor {
				return fmt.Errorf("only %s may accept: %w", t.To, rbac.ErrDenied)
			}
			if !token.Match(t.AcceptHash, tok) {
				return ErrInvalidToken
			}
			from, err := c.tx.Member(ctx, t.AccountID, t.From)
			if err != nil || !s.policy.IsTop(rbac.Role(from.Role)) {
				return fmt.Errorf("%s no longer holds the top role: %w", t.From, rbac.ErrDenied)
			}
			m, err := c.tx.Member(ctx, t.AccountID, t.To)
			if err != nil {
				return err
			}
			c.me = from // the role change is the current owner's, confirmed
			if _, err := s.setRole(ctx, c, m, s.policy.Top()); err != nil {
				return err
			}
			t.Status = store.TransferDone
			return nil
		})
}

// CancelTransfer cancels an open transfer. Either side may cancel (the new
// owner declining), and so may any member holding the top role. It returns
// an error wrapping store.ErrInvalid, store.ErrNotFound, rbac.ErrNotMember,
// rbac.ErrDenied or ErrTransferClosed.
func (s *Service) CancelTransfer(ctx context.Context, actor, accountID, transferID string) error {
	err := store.ValidateIDs("actor", actor, "account ID", accountID, "transfer ID", transferID)
	if err == nil {
		_, err = s.store.Update(ctx, func(tx store.Tx) error {
			acct, err := tx.LockAccount(ctx, accountID)
			if err != nil {
				return err
			}
			t, err := tx.Transfer(ctx, transferID)
			if err != nil {
				return err
			}
			if t.AccountID != accountID {
				return fmt.Errorf("transfer %s: %w", transferID, store.ErrNotFound)
			}
			me, err := tx.Member(ctx, accountID, actor)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("%s is not a member: %w", actor, rbac.ErrNotMember)
			} else if err != nil {
				return err
			}
			if actor != t.From && actor != t.To && !s.policy.IsTop(rbac.Role(me.Role)) {
				return fmt.Errorf("only the two sides or an owner may cancel: %w", rbac.ErrDenied)
			}
			if !open(t) {
				return ErrTransferClosed
			}
			return s.cancel(ctx, &change{tx: tx, acct: acct, me: me}, t, "cancelled")
		})
	}
	if err != nil {
		return fmt.Errorf("teams: cancel transfer %q by %q: %w", transferID, actor, err)
	}
	return nil
}

// Transfers returns the account's ownership transfers, newest first, to a
// member holding the top role. It returns an error wrapping
// store.ErrInvalid, store.ErrNotFound, rbac.ErrNotMember or rbac.ErrDenied.
func (s *Service) Transfers(ctx context.Context, actor, accountID string) ([]store.Transfer, error) {
	var out []store.Transfer
	err := store.ValidateIDs("actor", actor, "account ID", accountID)
	if err == nil {
		err = s.view(ctx, actor, accountID, rbac.MembersManage, func(tx store.Tx, _ store.Account, me store.Member) error {
			if !s.policy.IsTop(rbac.Role(me.Role)) {
				return fmt.Errorf("role %q is not the top role: %w", me.Role, rbac.ErrDenied)
			}
			var err error
			out, err = tx.Transfers(ctx, accountID)
			return err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("teams: transfers of %q for %q: %w", accountID, actor, err)
	}
	return out, nil
}

// stepTransfer moves an open transfer in the want state one step: it locks
// the account, checks the state and the expiry, runs step, stores the
// transfer and records the event.
func (s *Service) stepTransfer(ctx context.Context, actor, transferID, tok string, want store.TransferStatus, event string,
	step func(c *change, t *store.Transfer) error) (store.Transfer, error) {
	var out store.Transfer
	err := store.ValidateIDs("actor", actor, "transfer ID", transferID)
	if err == nil {
		if _, herr := token.Hash(tok); herr != nil {
			err = fmt.Errorf("%w: %w", ErrInvalidToken, herr)
		}
	}
	if err == nil {
		_, err = s.store.Update(ctx, func(tx store.Tx) error {
			t, err := tx.Transfer(ctx, transferID)
			if err != nil {
				return err
			}
			acct, err := tx.LockAccount(ctx, t.AccountID)
			if err != nil {
				return err
			}
			if t, err = tx.Transfer(ctx, transferID); err != nil { // read again under the lock
				return err
			}
			switch {
			case t.Status != want:
				return fmt.Errorf("transfer is %s: %w", t.Status, ErrTransferClosed)
			case !s.now().Before(t.ExpiresAt):
				return ErrTransferExpired
			}
			c := &change{tx: tx, acct: acct, me: store.Member{AccountID: acct.ID, UserID: actor}}
			if err := step(c, &t); err != nil {
				return err
			}
			t.UpdatedAt = s.now()
			if err := tx.UpdateTransfer(ctx, t); err != nil {
				return err
			}
			out = t
			return s.record(ctx, tx, store.Event{
				AccountID: t.AccountID, Actor: actor, Action: store.EventAction(event),
				ResourceType: "transfer", ResourceID: t.ID,
				After: store.EventValue(map[string]string{"status": string(t.Status)}),
			})
		})
	}
	if err != nil {
		return store.Transfer{}, fmt.Errorf("teams: %s %q by %q: %w", event, transferID, actor, err)
	}
	return out, nil
}

// cancelTransfersOf cancels the account's open transfers from or to userID.
func (s *Service) cancelTransfersOf(ctx context.Context, c *change, userID, reason string) error {
	ts, err := c.tx.Transfers(ctx, c.acct.ID)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if open(t) && (t.From == userID || t.To == userID) {
			if err := s.cancel(ctx, c, t, reason); err != nil {
				return err
			}
		}
	}
	return nil
}

// cancel marks the transfer cancelled and records why.
func (s *Service) cancel(ctx context.Context, c *change, t store.Transfer, reason string) error {
	t.Status, t.UpdatedAt = store.TransferCancelled, s.now()
	if err := c.tx.UpdateTransfer(ctx, t); err != nil {
		return err
	}
	return s.record(ctx, c.tx, store.Event{
		AccountID: t.AccountID, Actor: c.me.UserID, Action: "transfer.cancelled",
		ResourceType: "transfer", ResourceID: t.ID, Reason: reason,
	})
}

// open reports whether the transfer still waits for a step.
func open(t store.Transfer) bool {
	return t.Status == store.TransferAwaitingConfirm || t.Status == store.TransferAwaitingAccept
}

// notice builds the email notice for recipient with its secret link.
func (s *Service) notice(ctx context.Context, tx store.Tx, acct store.Account, t store.Transfer, recipient, tok string) (TransferNotice, error) {
	u, err := tx.User(ctx, recipient)
	if err != nil {
		return TransferNotice{}, err
	}
	return TransferNotice{
		TransferID: t.ID, AccountID: acct.ID, TeamName: acct.Name, From: t.From, To: t.To,
		Email: u.Email, Token: tok, ExpiresAt: t.ExpiresAt,
		Link: s.linkBase + "/" + url.PathEscape(t.ID) + "?token=" + tok,
	}, nil
}
