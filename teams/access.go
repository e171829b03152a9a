package teams

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/teamroster/roster/internal/check"
	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// Seats is how a team's seats stand: its limit (0 for none), the seats its
// members and pending invitations fill, and how many are free (0 when the
// limit is filled or lowered below the seats filled; -1 without a limit).
type Seats struct {
	Limit   int
	Members int
	Pending int
	Free    int
}

// SetSeatLimit sets the team's seat limit, for the host application (from
// its billing plan, say): members and pending invitations may fill at most
// limit seats, and 0 removes the limit. Lowering it below the seats filled
// removes nobody; it refuses new joins and invitations until seats are free.
// It records an account.seat_limit_changed event (with no actor: it is the
// host's) when the limit changes. It returns the account, or an error
// wrapping store.ErrInvalid (a negative limit, a malformed ID),
// store.ErrNotFound or store.ErrNotTeam.
func (s *Service) SetSeatLimit(ctx context.Context, accountID string, limit int) (store.Account, error) {
	var out store.Account
	err := check.IDs(check.ID("account ID", accountID))
	if err == nil && limit < 0 {
		err = fmt.Errorf("%w: a seat limit of %d is below zero", store.ErrInvalid, limit)
	}
	if err == nil {
		_, err = s.door.Update(ctx, txn.Call{Account: accountID, Need: txn.Anyone}, func(c *txn.Change) error {
			out = c.Account
			switch {
			case c.Account.Kind != store.Team:
				return store.ErrNotTeam
			case c.Account.SeatLimit == limit:
				return nil
			}
			before := c.Account.SeatLimit
			out.SeatLimit, out.UpdatedAt = limit, c.Now()
			if err := c.Tx.UpdateAccount(ctx, out); err != nil {
				return err
			}
			_, err := c.Record(store.Event{
				Action: store.EventAccountSeatLimit, ResourceType: "account", ResourceID: accountID,
				Before: txn.EventValue(map[string]string{"seat_limit": strconv.Itoa(before)}),
				After:  txn.EventValue(map[string]string{"seat_limit": strconv.Itoa(limit)}),
			})
			return err
		})
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("set the seat limit of %q to %d: %w", accountID, limit, err)
	}
	return out, nil
}

// Seats returns how the team's seats stand, for the members table: any
// member may read it. It returns an error wrapping store.ErrInvalid,
// store.ErrNotFound or rbac.ErrNotMember.
func (s *Service) Seats(ctx context.Context, actor, accountID string) (Seats, error) {
	var out Seats
	err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID))
	if err == nil {
		err = s.door.View(ctx, txn.Call{Actor: actor, Account: accountID, Need: txn.Membership}, func(c *txn.Change) error {
			members, pending, err := c.Tx.Seats(ctx, accountID, c.Now())
			out = Seats{Limit: c.Account.SeatLimit, Members: members, Pending: pending, Free: -1}
			if out.Limit > 0 {
				out.Free = max(0, out.Limit-members-pending)
			}
			return err
		})
	}
	if err != nil {
		return Seats{}, fmt.Errorf("seats of %q for %q: %w", accountID, actor, err)
	}
	return out, nil
}

// Suspend suspends a member of the team: they keep their role and their
// seat and may do nothing there (Can refuses them every action, with
// rbac.ErrSuspended from Check) until Reinstate; their API keys do nothing
// meanwhile. The actor needs rbac.MembersManage and a role covering the
// member's. Suspending a suspended member changes nothing. It records a
// member.suspended event and returns the membership, or an error wrapping
// store.ErrInvalid, store.ErrNotFound (no such account, or the user is not
// a member), rbac.ErrNotMember, rbac.ErrDenied, store.ErrNotTeam or
// ErrLastOwner (the account owner).
func (s *Service) Suspend(ctx context.Context, actor, accountID, userID string) (store.Member, error) {
	return s.suspension(ctx, actor, accountID, userID, true)
}

// Reinstate ends a member's suspension: they act with their role again.
// The actor needs what Suspend needs. Reinstating a member who is not
// suspended changes nothing; a user removed meanwhile is not a member and
// gets store.ErrNotFound. It records a member.reinstated event and returns
// the membership, or Suspend's errors.
func (s *Service) Reinstate(ctx context.Context, actor, accountID, userID string) (store.Member, error) {
	return s.suspension(ctx, actor, accountID, userID, false)
}

func (s *Service) suspension(ctx context.Context, actor, accountID, userID string, suspend bool) (store.Member, error) {
	verb, event := "reinstate", store.EventMemberReinstated
	if suspend {
		verb, event = "suspend", store.EventMemberSuspended
	}
	var out store.Member
	err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID), check.ID("user ID", userID))
	if err == nil {
		err = s.permitted(ctx, actor, accountID, rbac.MembersManage, event, txn.Resource{Type: "member", ID: userID}, func(c *txn.Change) error {
			m, err := s.target(ctx, c, userID)
			if err != nil {
				return err
			}
			out = m
			if m.Suspended() == suspend {
				return nil
			}
			if suspend {
				m.SuspendedAt, m.SuspendedBy = c.Now(), c.Actor.UserID
			} else {
				m.SuspendedAt, m.SuspendedBy = time.Time{}, ""
			}
			if err := c.Tx.UpdateMember(ctx, m); err != nil {
				return err
			}
			out = m
			_, err = c.Record(store.Event{Action: event, ResourceType: "member", ResourceID: userID,
				Before: txn.EventValue(map[string]string{"role": m.Role})})
			return err
		})
	}
	if err != nil {
		return store.Member{}, fmt.Errorf("%s %q in %q by %q: %w", verb, userID, accountID, actor, err)
	}
	return out, nil
}

// target reads the member userID of the call's team for a change by the
// actor: a team account, a member other than its owner, whose role the
// actor's covers.
func (s *Service) target(ctx context.Context, c *txn.Change, userID string) (store.Member, error) {
	if c.Account.Kind != store.Team {
		return store.Member{}, store.ErrNotTeam
	}
	m, err := c.Tx.Member(ctx, c.Account.ID, userID)
	if err == nil {
		m, err = c.Current(m)
	}
	if err != nil {
		return store.Member{}, err
	}
	if err := c.MayActOn(m); err != nil {
		return store.Member{}, err
	}
	if userID == c.Account.Owner {
		return store.Member{}, ErrLastOwner
	}
	return m, nil
}

// EndMembership makes a member's membership end at until, for access that
// lasts a while (a contractor for 30 days): from then on Can refuses them
// everything and they are no member, and the membership is removed when
// the expiry is swept (see SweepExpired), recorded as member.expired. A zero
// until makes the membership last again. The actor needs
// rbac.MembersManage and a role covering the member's. It records a
// member.expiry_set event and returns the membership, or an error wrapping
// store.ErrInvalid (until not after now), store.ErrNotFound,
// rbac.ErrNotMember, rbac.ErrDenied, store.ErrNotTeam or ErrLastOwner.
func (s *Service) EndMembership(ctx context.Context, actor, accountID, userID string, until time.Time) (store.Member, error) {
	out, err := s.setUntil(ctx, actor, accountID, userID, "", until)
	if err != nil {
		return store.Member{}, fmt.Errorf("end the membership of %q in %q by %q: %w", userID, accountID, actor, err)
	}
	return out, nil
}

// GrantRoleUntil gives a member role until the time until, after which it
// falls back to the role they hold now (an admin role for an hour of
// incident work): Can answers with role until then and with the previous
// role from then on, and the store's record falls back when the expiry is
// swept (see SweepExpired), recorded as member.role_expired. Granting again
// before the end keeps the role to fall back to. The actor needs what
// ChangeRole needs. It records a member.role_changed event with the end
// time and returns the membership, or ChangeRole's errors and
// store.ErrInvalid for an until not after now.
func (s *Service) GrantRoleUntil(ctx context.Context, actor, accountID, userID string, role rbac.Role, until time.Time) (store.Member, error) {
	err := check.IDs(check.ID("role", string(role)))
	var out store.Member
	if err == nil {
		out, err = s.setUntil(ctx, actor, accountID, userID, role, until)
	}
	if err != nil {
		return store.Member{}, fmt.Errorf("grant %q to %q in %q until %s by %q: %w", role, userID, accountID, until.Format(time.RFC3339), actor, err)
	}
	return out, nil
}

// setUntil gives the membership an end time (role empty) or a role until
// a time.
func (s *Service) setUntil(ctx context.Context, actor, accountID, userID string, role rbac.Role, until time.Time) (store.Member, error) {
	var out store.Member
	err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID), check.ID("user ID", userID))
	if err == nil && role != "" && until.IsZero() {
		err = fmt.Errorf("%w: a role granted for a while needs an end time", store.ErrInvalid)
	}
	if err != nil {
		return out, err
	}
	until = until.UTC().Truncate(time.Microsecond)
	event := store.EventMemberExpirySet
	if role != "" {
		event = store.EventMemberRoleChanged
	}
	err = s.permitted(ctx, actor, accountID, rbac.MembersManage, event, txn.Resource{Type: "member", ID: userID}, func(c *txn.Change) error {
		if !until.IsZero() && !until.After(c.Now()) {
			return fmt.Errorf("%w: the end time %s is not after now", store.ErrInvalid, until.Format(time.RFC3339))
		}
		m, err := s.target(ctx, c, userID)
		if err != nil {
			return err
		}
		before := map[string]string{"role": m.Role, "until": stamp(m.Until), "fallback_role": m.FallbackRole}
		if role == "" {
			if m.FallbackRole != "" {
				return fmt.Errorf("%w: %s holds a role for a while; end the membership after it falls back", store.ErrPrecondition, userID)
			}
			m.Until = until
		} else {
			if err := c.MayGrant(role); err != nil {
				return err
			}
			if m.FallbackRole == "" {
				if !m.Until.IsZero() {
					return fmt.Errorf("%w: %s's membership ends at %s", store.ErrPrecondition, userID, stamp(m.Until))
				}
				m.FallbackRole = m.Role
			}
			m.Role, m.Until = string(role), until
		}
		if err := c.Tx.UpdateMember(ctx, m); err != nil {
			return err
		}
		out = m
		_, err = c.Record(store.Event{Action: event, ResourceType: "member", ResourceID: userID,
			Before: txn.EventValue(before),
			After:  txn.EventValue(map[string]string{"role": m.Role, "until": stamp(m.Until), "fallback_role": m.FallbackRole})})
		return err
	})
	return out, err
}

// stamp formats t for an event; "" for the zero time.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// SweepExpired writes the expiries whose time has come at now into the
// store: a membership that ended is removed (member.expired, with its API
// keys revoked), a role granted for a while falls back (member.role_expired,
// with its API keys narrowed). Can refuses from the end time on whether or
// not this has run, so it may run late; a Roster runs it every
// roster.SweepInterval. It returns how many expiries it wrote, and the
// store's errors (the expiries written before an error stay written).
func (s *Service) SweepExpired(ctx context.Context, now time.Time) (int, error) {
	n := 0
	for {
		var due []store.Member
		err := s.door.View(ctx, txn.Call{Need: txn.Anyone}, func(c *txn.Change) error {
			var err error
			due, err = c.Tx.ExpiredMembers(ctx, now, 100)
			return err
		})
		if err != nil {
			return n, fmt.Errorf("sweep expiries: %w", err)
		}
		// wrote says whether this read wrote any expiry: if none, what it
		// found changed meanwhile, and reading again would find it again.
		wrote := false
		for _, m := range due {
			ok, err := s.expire(ctx, m.AccountID, m.UserID, now)
			if err != nil {
				return n, fmt.Errorf("sweep the expiry of %q in %q: %w", m.UserID, m.AccountID, err)
			}
			if ok {
				n++
				wrote = true
			}
		}
		if len(due) < 100 || !wrote {
			return n, nil
		}
	}
}

// expire writes the expiry of the membership if it is still due under the
// account's lock, and reports whether it did.
func (s *Service) expire(ctx context.Context, accountID, userID string, now time.Time) (bool, error) {
	done := false
	_, err := s.door.Update(ctx, txn.Call{Account: accountID, Need: txn.Anyone}, func(c *txn.Change) error {
		done = false
		m, err := c.Tx.Member(ctx, accountID, userID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil
		case err != nil:
			return err
		case !m.Expired(now):
			return nil // changed meanwhile
		}
		done = true
		if m.FallbackRole == "" {
			return s.remove(ctx, c, m, store.EventMemberExpired, "membership ended")
		}
		rights, err := c.RightsOf(rbac.Role(m.FallbackRole))
		if err != nil && !errors.Is(err, rbac.ErrUnknownRole) {
			return err
		}
		expired := m
		m.Role, m.Until, m.FallbackRole = m.FallbackRole, time.Time{}, ""
		if err := c.Tx.UpdateMember(ctx, m); err != nil {
			return err
		}
		if err := c.FitKeys(userID, rights); err != nil {
			return err
		}
		_, err = c.Record(store.Event{Action: store.EventMemberRoleExpired, ResourceType: "member", ResourceID: userID,
			Before: txn.EventValue(map[string]string{"role": expired.Role, "until": stamp(expired.Until)}),
			After:  txn.EventValue(map[string]string{"role": m.Role})})
		return err
	})
	return done, err
}
