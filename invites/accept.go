package invites

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/teamroster/roster/internal/authz"
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
// It returns the membership, or an error wrapping ErrMalformedToken,
// ErrUnknownToken, store.ErrInvalid (a malformed user ID), or one of the
// refusals of a known invite: ErrSuperseded, ErrRevoked, ErrUsed,
// ErrExpired, ErrNotTeam, ErrInviterDenied (the invite is revoked as well),
// ErrReusableTop (likewise), store.ErrNotFound (no such user),
// ErrWrongEmail, ErrInsecureSignIn or ErrAlreadyMember. A refusal changes no
// membership and no invite, except that the two marked revoke the invite
// (an invite.revoked event with the accepting user as actor and the reason),
// and is recorded as an invite.accept_failed event. It is safe for concurrent use: of concurrent
// accepts of a single-use invite exactly one succeeds, and the others get
// ErrUsed.
func (s *Service) Accept(ctx context.Context, userID, token string) (store.Member, error) {
	fail := func(err error) (store.Member, error) {
		return store.Member{}, fmt.Errorf("invites: %q accepts invite: %w", userID, err)
	}
	if err := store.ValidateID("user ID", userID); err != nil {
		return fail(err)
	}
	hash, err := HashToken(token)
	if err != nil {
		return fail(err)
	}
	var (
		out     store.Member
		refused error
	)
	_, err = s.store.Update(ctx, func(tx store.Tx) error {
		out, refused = store.Member{}, nil
		acct, inv, err := s.findByToken(ctx, tx, hash, token, true)
		if err != nil {
			return err
		}
		now := s.clock()
		r, err := s.check(ctx, tx, acct, inv, now)
		if err == nil && r == nil {
			r, err = s.checkUser(ctx, tx, inv, userID)
		}
		if err != nil {
			return err
		}
		if r != nil {
			refused = r.err
			return s.refuse(ctx, tx, inv, userID, r, now)
		}
		// A use by this user exists if they joined through this link
		// before and have left since: the write refuses it.
		err = tx.CreateInviteUse(ctx, store.InviteUse{InviteID: inv.ID, UserID: userID, UsedAt: now})
		if errors.Is(err, store.ErrExists) {
			r := &refusal{err: fmt.Errorf("%w: by this user, who has left the team since", ErrUsed), reason: "used by this user before"}
			refused = r.err
			return s.refuse(ctx, tx, inv, userID, r, now)
		} else if err != nil {
			return err
		}
		out = store.Member{AccountID: inv.AccountID, UserID: userID, Role: inv.Role, JoinedAt: now}
		if err := tx.CreateMember(ctx, out); err != nil {
			return err
		}
		inv.Uses++
		if inv.Uses >= inv.MaxUses {
			inv.Status = store.InviteAccepted
		}
		inv.UpdatedAt = now
		if err := tx.UpdateInvite(ctx, inv); err != nil {
			return err
		}
		return record(ctx, tx, now, store.Allowed, store.Event{
			AccountID: inv.AccountID, Actor: userID, Action: "member.joined",
			ResourceType: "member", ResourceID: userID,
			After: store.EventValue(map[string]string{"role": inv.Role, "invite": inv.ID, "kind": string(inv.Kind), "invited_by": sponsor(inv)}),
		})
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
// error wrapping ErrMalformedToken, ErrUnknownToken, or the refusals of
// Accept that do not depend on the user (ErrSuperseded, ErrRevoked, ErrUsed,
// ErrExpired, ErrNotTeam, ErrInviterDenied, ErrReusableTop); it writes
// nothing, so unlike Accept it neither records the refusal nor revokes. It
// is safe for concurrent use.
func (s *Service) Preview(ctx context.Context, token string) (Preview, error) {
	hash, err := HashToken(token)
	var out Preview
	if err == nil {
		err = s.store.View(ctx, func(tx store.Tx) error {
			acct, inv, err := s.findByToken(ctx, tx, hash, token, false)
			if err != nil {
				return err
			}
			r, err := s.check(ctx, tx, acct, inv, s.clock())
			if err != nil {
				return err
			}
			if r != nil {
				return r.err
			}
			inviter, err := tx.User(ctx, sponsor(inv))
			if err != nil {
				return err
			}
			out = Preview{
				AccountID: acct.ID, Team: acct.Name, Role: rbac.Role(inv.Role), Kind: inv.Kind,
				InviterID: inviter.ID, InviterName: inviter.Name, RequireSecure: inv.RequireSecure, ExpiresAt: inv.ExpiresAt,
			}
			return nil
		})
	}
	if err != nil {
		return Preview{}, fmt.Errorf("invites: preview invite: %w", err)
	}
	return out, nil
}

// findByToken finds the invite whose token hashes to hash and its account.
// With lock, it locks the account and reads the invite again under the
// lock, so that a resend, revocation or acceptance committed meanwhile is
// seen. The token is compared with the stored hash in constant time.
func (s *Service) findByToken(ctx context.Context, tx store.Tx, hash []byte, token string, lock bool) (store.Account, store.Invite, error) {
	inv, err := tx.InviteByToken(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return store.Account{}, inv, ErrUnknownToken
	} else if err != nil {
		return store.Account{}, inv, err
	}
	if !lock {
		acct, err := tx.Account(ctx, inv.AccountID)
		if err == nil && !MatchToken(inv.TokenHash, token) {
			err = ErrUnknownToken
		}
		return acct, inv, err
	}
	acct, err := tx.LockAccount(ctx, inv.AccountID)
	if err != nil {
		return acct, inv, err
	}
	inv, err = tx.InviteByToken(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return acct, inv, ErrUnknownToken
	} else if err != nil {
		return acct, inv, err
	}
	if inv.AccountID != acct.ID || !MatchToken(inv.TokenHash, token) {
		return acct, inv, ErrUnknownToken
	}
	return acct, inv, nil
}

// refusal is why a known invite cannot be accepted.
type refusal struct {
	err    error
	reason string // for the audit event
	revoke bool   // the invite can never be accepted: revoke it
}

// check returns why the invite cannot be accepted by anyone at now, or nil.
// The account is locked.
func (s *Service) check(ctx context.Context, tx store.Tx, acct store.Account, inv store.Invite, now time.Time) (*refusal, error) {
	switch {
	case inv.Status == store.InviteSuperseded:
		return &refusal{err: ErrSuperseded, reason: "token replaced by a resend"}, nil
	case inv.Status == store.InviteRevoked:
		return &refusal{err: ErrRevoked, reason: "revoked"}, nil
	case inv.Status != store.InvitePending:
		return &refusal{err: ErrUsed, reason: "used up"}, nil
	case expired(inv, now):
		return &refusal{err: ErrExpired, reason: "expired"}, nil
	case acct.Kind != store.Team:
		return &refusal{err: ErrNotTeam, reason: "not a team account"}, nil
	}
	from := sponsor(inv)
	m, err := tx.Member(ctx, acct.ID, from)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &refusal{
			err:    fmt.Errorf("%w: %s is no longer a member", ErrInviterDenied, from),
			reason: "inviter " + from + " is no longer a member", revoke: true,
		}, nil
	case err != nil:
		return nil, err
	}
	held, err := authz.Actions(ctx, tx, s.policy, acct.ID, rbac.Role(m.Role))
	if err != nil && !errors.Is(err, rbac.ErrUnknownRole) {
		return nil, err
	}
	grant := authz.MayGrant(ctx, tx, s.policy, acct.ID, rbac.Role(m.Role), rbac.Role(inv.Role))
	if grant != nil && !errors.Is(grant, rbac.ErrDenied) && !errors.Is(grant, rbac.ErrUnknownRole) && !errors.Is(grant, rbac.ErrTopByTransfer) {
		return nil, grant
	}
	switch {
	case !held.Has(s.policy, rbac.MembersInvite) || grant != nil:
		return &refusal{
			err:    fmt.Errorf("%w: %s now has role %q", ErrInviterDenied, from, m.Role),
			reason: "inviter " + from + " may no longer invite with role " + inv.Role, revoke: true,
		}, nil
	case inv.MaxUses > 1 && s.policy.IsTop(rbac.Role(inv.Role)):
		return &refusal{err: ErrReusableTop, reason: "reusable link with the top role", revoke: true}, nil
	}
	return nil, nil
}

// checkUser returns why the user cannot accept the invite, or nil. The
// account is locked.
func (s *Service) checkUser(ctx context.Context, tx store.Tx, inv store.Invite, userID string) (*refusal, error) {
	u, err := tx.User(ctx, userID)
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
	if inv.RequireSecure && !u.SignIn.Secure() {
		return &refusal{err: fmt.Errorf("%w: user signs in with %q", ErrInsecureSignIn, u.SignIn), reason: "sign-in method " + string(u.SignIn) + " is not secure"}, nil
	}
	if _, err := tx.Member(ctx, inv.AccountID, userID); err == nil {
		return &refusal{err: ErrAlreadyMember, reason: "already a member"}, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return nil, nil
}

// refuse records a refused acceptance and, if the refusal says so, revokes
// the invite. The transaction then commits these writes only.
func (s *Service) refuse(ctx context.Context, tx store.Tx, inv store.Invite, userID string, r *refusal, now time.Time) error {
	id := inv.ID
	if inv.Status == store.InviteSuperseded {
		id = inv.SupersededBy // the invite's ID, as members know it
	}
	if r.revoke {
		inv.Status, inv.UpdatedAt = store.InviteRevoked, now
		if err := tx.UpdateInvite(ctx, inv); err != nil {
			return err
		}
		if err := record(ctx, tx, now, store.Allowed, store.Event{
			AccountID: inv.AccountID, Actor: userID, Action: "invite.revoked",
			ResourceType: "invite", ResourceID: id, Reason: r.reason,
		}); err != nil {
			return err
		}
	}
	return record(ctx, tx, now, store.Denied, store.Event{
		AccountID: inv.AccountID, Actor: userID, Action: "invite.accept_failed",
		ResourceType: "invite", ResourceID: id, Reason: r.reason,
	})
}
