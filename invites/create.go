package invites

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/teamroster/roster/internal/check"
	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/notify"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// CreateLink creates a link invite to the team with role and returns it
// with its Token and Link, shown this once. The actor needs
// rbac.MembersInvite and a role that covers role; a reusable link (MaxUses
// above 1) cannot grant the top role. Options set the expiry, the number of
// uses and secure sign-in. It returns an error wrapping store.ErrInvalid
// (malformed input or options), ErrNoBaseURL, store.ErrNotFound (no such
// account), rbac.ErrNotMember, rbac.ErrDenied, rbac.ErrUnknownRole,
// store.ErrNotTeam, ErrReusableTop or store.ErrNoSeats (in a
// *store.SeatLimitError: every seat of the team is filled, pending
// invitations counted); nothing is written then but, for a member
// refused by the policy (rbac.ErrDenied), a denied invite.created event. It
// is safe for concurrent use.
func (s *Service) CreateLink(ctx context.Context, actor, accountID string, role rbac.Role, opts ...InviteOption) (Invitation, error) {
	fail := func(err error) (Invitation, error) {
		return Invitation{}, fmt.Errorf("create link to %q by %q: %w", accountID, actor, err)
	}
	c, err := newInviteConfig(store.InviteLink, opts)
	if err == nil {
		err = check.IDs(check.ID("actor", actor), check.ID("account ID", accountID), check.ID("role", string(role)))
	}
	if err == nil && s.baseURL == "" {
		err = ErrNoBaseURL
	}
	if err != nil {
		return fail(err)
	}
	life, err := s.lifetime(ctx, accountID, c)
	if err != nil {
		return fail(err)
	}
	id := txn.NewID("inv")
	tok, hash := s.newToken(id)
	var inv store.Invite
	err = s.create(ctx, actor, accountID, role, c.maxUses, func(x *txn.Change) error {
		now := x.Now()
		if err := x.Seats(1, 0); err != nil {
			return err
		}
		inv = store.Invite{
			ID: id, AccountID: accountID, Kind: store.InviteLink, Role: string(role),
			RequireSecure: c.secure || x.Account.RequireSecureSignIn, TokenHash: hash, Status: store.InvitePending, MaxUses: c.maxUses,
			CreatedBy: actor, CreatedAt: now, ExpiresAt: expiry(now, life), UpdatedAt: now,
		}
		if err := x.Tx.CreateInvite(ctx, inv); err != nil {
			return err
		}
		_, err := x.Record(store.Event{
			Action: store.EventInviteCreated, ResourceType: "invite", ResourceID: inv.ID, After: txn.EventValue(inviteFields(inv)),
		})
		return err
	})
	if err != nil {
		return fail(err)
	}
	out := invitation(inv, inv.CreatedAt, true)
	out.Token, out.Link = tok, s.link(tok)
	return out, nil
}

// CreateEmail invites each of the email addresses to the team with role and
// returns the invites, one per distinct address (in canonical form, in the
// order given), each with its Token and Link, shown this once. It is all or
// nothing: one transaction creates every invite or none. Addresses equal
// after canonicalization (CanonicalEmail) collapse into one invite, and an
// address with a pending, unexpired email invite to the team fails the call
// with ErrPending, one of a current member with ErrAlreadyMember. The actor
// needs rbac.MembersInvite and a role that covers role. Options set the expiry and secure sign-in; email invites are single
// use.
//
// After the invites commit, the Notifier (if any) is asked to send each
// one; if it fails for some, CreateEmail returns all the invites and an
// error wrapping ErrNotSent. Otherwise it returns an error wrapping
// store.ErrInvalid (no addresses, more than MaxEmails, a malformed address
// or option), ErrNoBaseURL, store.ErrNotFound, rbac.ErrNotMember,
// rbac.ErrDenied, rbac.ErrUnknownRole, store.ErrNotTeam, store.ErrNoSeats
// (the addresses need more seats than are free), ErrPending or
// ErrAlreadyMember, and nothing is written but, for a member refused by the
// policy (rbac.ErrDenied), a denied invite.created event. It is safe for concurrent use.
func (s *Service) CreateEmail(ctx context.Context, actor, accountID string, role rbac.Role, emails []string, opts ...InviteOption) ([]Invitation, error) {
	fail := func(err error) ([]Invitation, error) {
		return nil, fmt.Errorf("create email invites to %q by %q: %w", accountID, actor, err)
	}
	c, err := newInviteConfig(store.InviteEmail, opts)
	if err == nil {
		err = check.IDs(check.ID("actor", actor), check.ID("account ID", accountID), check.ID("role", string(role)))
	}
	var addrs []string
	if err == nil {
		addrs, err = canonicalList(emails)
	}
	if err == nil && s.baseURL == "" {
		err = ErrNoBaseURL
	}
	if err != nil {
		return fail(err)
	}
	life, err := s.lifetime(ctx, accountID, c)
	if err != nil {
		return fail(err)
	}
	ids := make([]string, len(addrs))
	tokens := make([]string, len(addrs))
	hashes := make([][]byte, len(addrs))
	for i := range addrs {
		ids[i] = txn.NewID("inv")
		tokens[i], hashes[i] = s.newToken(ids[i])
	}
	var (
		created []store.Invite
		msg     notify.Invite
	)
	err = s.create(ctx, actor, accountID, role, 1, func(x *txn.Change) error {
		now := x.Now()
		if err := pendingFor(ctx, x.Tx, accountID, addrs, now); err != nil {
			return err
		}
		if err := membersAmong(ctx, x.Tx, accountID, addrs); err != nil {
			return err
		}
		if err := x.Seats(len(addrs), 0); err != nil {
			return err
		}
		inviter, err := x.Tx.User(ctx, actor)
		if err != nil {
			return err
		}
		created = created[:0]
		for i, addr := range addrs {
			inv := store.Invite{
				ID: ids[i], AccountID: accountID, Kind: store.InviteEmail, Role: string(role),
				Email: addr, RequireSecure: c.secure || x.Account.RequireSecureSignIn, TokenHash: hashes[i], Status: store.InvitePending, MaxUses: 1,
				CreatedBy: actor, CreatedAt: now, ExpiresAt: expiry(now, life), UpdatedAt: now,
			}
			if err := x.Tx.CreateInvite(ctx, inv); err != nil {
				return err
			}
			if _, err := x.Record(store.Event{
				Action: store.EventInviteCreated, ResourceType: "invite", ResourceID: inv.ID, After: txn.EventValue(inviteFields(inv)),
			}); err != nil {
				return err
			}
			created = append(created, inv)
		}
		msg = notify.Invite{AccountID: accountID, Team: x.Account.Name, InviterID: actor, InviterName: inviter.Name,
			Role: role, RequireSecure: c.secure || x.Account.RequireSecureSignIn, ExpiresAt: expiry(now, life)}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	out := make([]Invitation, len(created))
	var notSent []error
	for i, inv := range created {
		out[i] = invitation(inv, inv.CreatedAt, true)
		out[i].Token, out[i].Link = tokens[i], s.link(tokens[i])
		m := msg
		m.To, m.Link = inv.Email, out[i].Link
		if err := s.notify(ctx, m); err != nil {
			notSent = append(notSent, err)
		}
	}
	if len(notSent) > 0 {
		return out, fmt.Errorf("create email invites to %q by %q: %w: %w", accountID, actor, ErrNotSent, errors.Join(notSent...))
	}
	return out, nil
}

// notify sends m through the Notifier, if there is one.
func (s *Service) notify(ctx context.Context, m notify.Invite) error {
	if s.notifier == nil {
		return nil
	}
	if err := s.notifier.SendInvite(ctx, m); err != nil {
		return fmt.Errorf("send to %s: %w", m.To, err)
	}
	return nil
}

// canonicalList returns the canonical forms of emails, duplicates dropped,
// in the order given.
func canonicalList(emails []string) ([]string, error) {
	if len(emails) == 0 {
		return nil, fmt.Errorf("%w: no email addresses", store.ErrInvalid)
	}
	if len(emails) > MaxEmails {
		return nil, fmt.Errorf("%w: %d email addresses, at most %d at once", store.ErrInvalid, len(emails), MaxEmails)
	}
	seen := make(map[string]bool, len(emails))
	var out []string
	for _, e := range emails {
		c, err := CanonicalEmail(e)
		if err != nil {
			return nil, err
		}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out, nil
}

// pendingFor returns an error wrapping ErrPending naming the addresses that
// have a pending, unexpired email invite to the account. The caller has
// locked the account, so no such invite can appear before it commits.
func pendingFor(ctx context.Context, tx store.Tx, accountID string, addrs []string, now time.Time) error {
	invites, err := tx.Invites(ctx, accountID, store.Range{})
	if err != nil {
		return err
	}
	want := make(map[string]bool, len(addrs))
	for _, a := range addrs {
		want[a] = true
	}
	var taken []string
	for _, inv := range invites {
		if inv.Kind == store.InviteEmail && inv.Status == store.InvitePending && !inv.Expired(now) && want[inv.Email] {
			taken = append(taken, inv.Email)
			want[inv.Email] = false
		}
	}
	if len(taken) > 0 {
		return fmt.Errorf("%w: %s", ErrPending, strings.Join(taken, ", "))
	}
	return nil
}

// membersAmong returns an error wrapping ErrAlreadyMember naming the
// addresses that belong to members of the account.
func membersAmong(ctx context.Context, tx store.Tx, accountID string, addrs []string) error {
	users, err := tx.UsersByEmail(ctx, addrs)
	if err != nil {
		return err
	}
	var taken []string
	for _, u := range users {
		if _, err := tx.Member(ctx, accountID, u.ID); err == nil {
			taken = append(taken, strings.ToLower(u.Email))
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	if len(taken) > 0 {
		return fmt.Errorf("%w: %s", ErrAlreadyMember, strings.Join(taken, ", "))
	}
	return nil
}

// create runs fn through the door once actor may invite to the team with
// role and maxUses.
func (s *Service) create(ctx context.Context, actor, accountID string, role rbac.Role, maxUses int, fn func(c *txn.Change) error) error {
	_, err := s.door.Update(ctx, txn.Call{
		Actor: actor, Account: accountID, Need: txn.Permission, Action: rbac.MembersInvite,
		Event: store.EventInviteCreated, Resource: txn.Resource{Type: "invite"},
	}, func(c *txn.Change) error {
		if c.Account.Kind != store.Team {
			return store.ErrNotTeam
		}
		if err := s.mayGrant(c, role, maxUses); err != nil {
			return err
		}
		return fn(c)
	})
	return err
}

// mayGrant checks that the actor may give role by an invite with maxUses
// uses: a role they may grant (see txn.Change.MayGrant) and, for a reusable
// invite, not the top role.
func (s *Service) mayGrant(c *txn.Change, role rbac.Role, maxUses int) error {
	if err := c.MayGrant(role); err != nil {
		return fmt.Errorf("role %q may not grant role %q: %w", c.Actor.Role, role, err)
	}
	if r, err := c.RightsOf(role); err == nil && maxUses > 1 && r.Top() {
		return fmt.Errorf("%w: role %q with %d uses", ErrReusableTop, role, maxUses)
	}
	return nil
}
