package invites

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/teamroster/roster/internal/authz"
	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// Accept makes the user a member of the invite's team with the invite's
// role, in one transaction with the invite's use and the member.joined
// event; once it returns, Can reflects the membership. A single-use invite
// is then used up; a reusable link counts one more use, and each user may
// use it once. The user must exist; accepting does not change their active
// account.
//
// It returns the membership, or an error wrapping store.ErrInvalid (a
// malformed user ID, or a string not shaped like a token, which is refused
// without reading the store), ErrUnknownToken (also, without a read, for a
// derived token whose link secret is not configured), or one of the
// refusals of a known invite: ErrSuperseded, ErrRevoked, ErrUsed,
// ErrExpired, store.ErrNotTeam, ErrInviterDenied (the invite is revoked as well),
// ErrReusableTop (likewise), ErrInviterInsecure, ErrInviterSuspended, store.ErrNotFound (no such user),
// ErrWrongEmail, ErrInsecureSignIn, ErrAlreadyMember or store.ErrNoSeats
// (in a *store.SeatLimitError: the team's seat limit is filled; a
// single-use invite's own seat counts for its user, but not once the limit
// was lowered below the seats filled). A refusal changes no
// membership and no invite, except that the two marked revoke the invite
// (an invite.revoked event with the accepting user as actor and the reason),
// and is recorded as an invite.accept_failed event (but a seat refusal:
// the invite stays good once a seat is free). It is safe for concurrent use: of concurrent
// accepts of a single-use invite exactly one succeeds, and the others get
// ErrUsed; of concurrent accepts for a team's last seat exactly one
// succeeds.
func (s *Service) Accept(ctx context.Context, userID, tok string) (store.Member, error) {
	fail := func(err error) (store.Member, error) {
		return store.Member{}, fmt.Errorf("%q accepts invite: %w", userID, err)
	}
	if err := store.ValidateID("user ID", userID); err != nil {
		return fail(err)
	}
	hash, err := s.lookup(tok)
	if err != nil {
		return fail(err)
	}
	var (
		out     store.Member
		refused error
	)
	_, err = s.door.Update(ctx, txn.Call{Actor: userID, Find: byToken(hash), Need: txn.Anyone}, func(c *txn.Change) error {
		out, refused = store.Member{}, nil
		inv, err := s.findByToken(ctx, c, hash, tok)
		if err != nil {
			return err
		}
		r, err := s.check(ctx, c, inv)
		if err == nil && r == nil {
			r, err = s.checkUser(ctx, c, inv, userID)
		}
		if err != nil {
			return err
		}
		if r != nil {
			refused = r.err
			return s.refuse(ctx, c, inv, r)
		}
		now := c.Now()
		// A use by this user exists if they joined through this link
		// before and have left since: the write refuses it.
		err = c.Tx.CreateInviteUse(ctx, store.InviteUse{InviteID: inv.ID, UserID: userID, UsedAt: now})
		if errors.Is(err, store.ErrExists) {
			r := &refusal{err: fmt.Errorf("%w: by this user, who has left the team since", ErrUsed), reason: "used by this user before"}
			refused = r.err
			return s.refuse(ctx, c, inv, r)
		} else if err != nil {
			return err
		}
		freed := 0
		if inv.Uses+1 >= inv.MaxUses {
			freed = 1 // the invite's own seat becomes the member's
		}
		if err := c.Seats(1, freed); err != nil {
			return err
		}
		out = store.Member{AccountID: inv.AccountID, UserID: userID, Role: inv.Role, JoinedAt: now}
		if err := c.Tx.CreateMember(ctx, out); err != nil {
			return err
		}
		inv.Uses++
		if inv.Uses >= inv.MaxUses {
			inv.Status = store.InviteAccepted
		}
		inv.UpdatedAt = now
		if err := c.Tx.UpdateInvite(ctx, inv); err != nil {
			return err
		}
		_, err = c.Record(store.Event{
			Action: store.EventMemberJoined, ResourceType: "member", ResourceID: userID,
			After: txn.EventValue(map[string]string{"role": inv.Role, "invite": inv.ID, "kind": string(inv.Kind), "invited_by": sponsor(inv)}),
		})
		return err
	})
	if err != nil {
		return fail(err)
	}
	if refused != nil {
		return fail(refused)
	}
	return out, nil
}

// Preview describes a usable invite to the holder of its token, for the
// page where they choose to join.
type Preview struct {
	AccountID string
	Team      string
	Role      rbac.Role
	Kind      store.InviteKind
	// InviterID and InviterName name the member who sent the invite.
	InviterID     string
	InviterName   string
	RequireSecure bool
	// ExpiresAt is when the invite stops working; zero means never.
	ExpiresAt time.Time
}

// Preview returns what the token invites to, without accepting it, for the
// holder of the token: the team, the role and who sent it. It returns an
// error wrapping store.ErrInvalid (a string not shaped like a token, refused
// without reading the store), ErrUnknownToken (as for Accept), or the
// refusals of Accept that do not depend on the user (ErrSuperseded, ErrRevoked, ErrUsed,
// ErrExpired, store.ErrNotTeam, ErrInviterDenied, ErrReusableTop,
// ErrInviterInsecure); it writes
// nothing, so unlike Accept it neither records the refusal nor revokes. It
// is safe for concurrent use.
func (s *Service) Preview(ctx context.Context, tok string) (Preview, error) {
	hash, err := s.lookup(tok)
	var out Preview
	if err == nil {
		err = s.door.View(ctx, txn.Call{Find: byToken(hash), Need: txn.Anyone}, func(c *txn.Change) error {
			inv, err := s.findByToken(ctx, c, hash, tok)
			if err != nil {
				return err
			}
			r, err := s.check(ctx, c, inv)
			if err != nil {
				return err
			}
			if r != nil {
				return r.err
			}
			inviter, err := c.Tx.User(ctx, sponsor(inv))
			if err != nil {
				return err
			}
			out = Preview{
				AccountID: c.Account.ID, Team: c.Account.Name, Role: rbac.Role(inv.Role), Kind: inv.Kind,
				InviterID: inviter.ID, InviterName: inviter.Name, RequireSecure: inv.RequireSecure || c.Account.RequireSecureSignIn, ExpiresAt: inv.ExpiresAt,
			}
			return nil
		})
	}
	if err != nil {
		return Preview{}, fmt.Errorf("preview invite: %w", err)
	}
	return out, nil
}

// byToken finds the account of the invite whose token hashes to hash, for
// the door to lock.
func byToken(hash []byte) func(ctx context.Context, tx store.Tx) (string, error) {
	return func(ctx context.Context, tx store.Tx) (string, error) {
		inv, err := tx.InviteByToken(ctx, hash)
		if errors.Is(err, store.ErrNotFound) {
			return "", ErrUnknownToken
		}
		return inv.AccountID, err
	}
}

// findByToken reads the invite whose token hashes to hash again, under the
// lock of its account that the door took, so that a resend, revocation or
// acceptance committed meanwhile is seen. The token is compared with the
// stored hash in constant time, and a derived token checked against its
// secret (see tokenMatches).
func (s *Service) findByToken(ctx context.Context, c *txn.Change, hash []byte, tok string) (store.Invite, error) {
	inv, err := c.Tx.InviteByToken(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return inv, ErrUnknownToken
	} else if err != nil {
		return inv, err
	}
	if inv.AccountID != c.Account.ID || !s.tokenMatches(inv, tok) {
		return inv, ErrUnknownToken
	}
	return inv, nil
}

// refusal is why a known invite cannot be accepted.
type refusal struct {
	err    error
	reason string // for the audit event
	revoke bool   // the invite can never be accepted: revoke it
}

// check returns why the invite cannot be accepted by anyone now, or nil.
func (s *Service) check(ctx context.Context, c *txn.Change, inv store.Invite) (*refusal, error) {
	switch {
	case inv.Status == store.InviteSuperseded:
		return &refusal{err: ErrSuperseded, reason: "token replaced by a resend"}, nil
	case inv.Status == store.InviteRevoked:
		return &refusal{err: ErrRevoked, reason: "revoked"}, nil
	case inv.Status != store.InvitePending:
		return &refusal{err: ErrUsed, reason: "used up"}, nil
	case inv.Expired(c.Now()):
		return &refusal{err: ErrExpired, reason: "expired"}, nil
	case c.Account.Kind != store.Team:
		return &refusal{err: store.ErrNotTeam, reason: "not a team account"}, nil
	}
	from := sponsor(inv)
	m, err := c.Tx.Member(ctx, c.Account.ID, from)
	if err == nil {
		m, err = c.Current(m) // as Can sees them: a role granted for a while may have ended
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &refusal{
			err:    fmt.Errorf("%w: %s is no longer a member", ErrInviterDenied, from),
			reason: "inviter " + from + " is no longer a member", revoke: true,
		}, nil
	case err != nil:
		return nil, err
	}
	inviter, err := c.RightsOf(rbac.Role(m.Role))
	if err != nil && !errors.Is(err, rbac.ErrUnknownRole) {
		return nil, err
	}
	role, err := c.RightsOf(rbac.Role(inv.Role))
	if err != nil && !errors.Is(err, rbac.ErrUnknownRole) {
		return nil, err
	}
	switch {
	case !inviter.Allows(rbac.MembersInvite) || authz.MayGrant(inviter, role) != nil:
		return &refusal{
			err:    fmt.Errorf("%w: %s now has role %q", ErrInviterDenied, from, m.Role),
			reason: "inviter " + from + " may no longer invite with role " + inv.Role, revoke: true,
		}, nil
	case inv.MaxUses > 1 && role.Top():
		return &refusal{err: ErrReusableTop, reason: "reusable link with the top role", revoke: true}, nil
	case m.Suspended():
		// A suspended inviter may do nothing, invite included, until
		// reinstated: the invite waits for them.
		return &refusal{err: fmt.Errorf("%w: %s is suspended", ErrInviterSuspended, from), reason: "inviter " + from + " is suspended"}, nil
	}
	if c.Account.RequireSecureSignIn {
		// An inviter the team shuts out for their sign-in method may do
		// nothing there, invite included, until they enable a secure one:
		// the invite waits for them rather than being revoked.
		u, err := c.Tx.User(ctx, from)
		if err != nil {
			return nil, err
		}
		if !s.policy.SignIns().Secure(u.SignIn) {
			return &refusal{
				err:    fmt.Errorf("%w: %s signs in insecurely and the team requires secure sign-in", ErrInviterInsecure, from),
				reason: "inviter " + from + " does not sign in securely",
			}, nil
		}
	}
	return nil, nil
}

// checkUser returns why the user cannot accept the invite, or nil.
func (s *Service) checkUser(ctx context.Context, c *txn.Change, inv store.Invite, userID string) (*refusal, error) {
	u, err := c.Tx.User(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return &refusal{err: fmt.Errorf("no user %s: %w", userID, store.ErrNotFound), reason: "no such user"}, nil
	} else if err != nil {
		return nil, err
	}
	if inv.Kind == store.InviteEmail {
		if email, err := CanonicalEmail(u.Email); err != nil || email != inv.Email {
			return &refusal{err: ErrWrongEmail, reason: "user's email is not the invited address"}, nil
		}
	}
	if (inv.RequireSecure || c.Account.RequireSecureSignIn) && !s.policy.SignIns().Secure(u.SignIn) {
		return &refusal{err: fmt.Errorf("%w: user signs in with %q", ErrInsecureSignIn, u.SignIn), reason: "the user's sign-in method is not secure"}, nil
	}
	if c.Actor.UserID != "" {
		return &refusal{err: ErrAlreadyMember, reason: "already a member"}, nil
	}
	return nil, nil
}

// refuse records a refused acceptance and, if the refusal says so, revokes
// the invite. The transaction then commits these writes only.
func (s *Service) refuse(ctx context.Context, c *txn.Change, inv store.Invite, r *refusal) error {
	id := inv.ID
	if inv.Status == store.InviteSuperseded {
		id = inv.SupersededBy // the invite's ID, as members know it
	}
	if r.revoke {
		inv.Status, inv.UpdatedAt = store.InviteRevoked, c.Now()
		if err := c.Tx.UpdateInvite(ctx, inv); err != nil {
			return err
		}
		if _, err := c.Record(store.Event{
			Action: store.EventInviteRevoked, ResourceType: "invite", ResourceID: id, Reason: r.reason,
		}); err != nil {
			return err
		}
	}
	_, err := c.Record(store.Event{
		Action: store.EventInviteAcceptFailed, ResourceType: "invite", ResourceID: id, Reason: r.reason, Result: store.Denied,
	})
	return err
}
