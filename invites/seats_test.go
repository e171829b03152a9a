package invites_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/invites"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// TestAcceptTakesTheSeatItsInviteHeld checks that a pending invite holds
// one seat until its last use, which turns that seat into the member's:
// a team whose seats are all filled, one of them by the invite, can still
// be joined through it.
func TestAcceptTakesTheSeatItsInviteHeld(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		r, _ := rostertest.Open(t, b, rbac.Runpod(), roster.WithBaseURL("https://app.example.com"))
		acct := rostertest.Team(t, r, "alice", nil)
		for _, u := range []string{"bob", "carol", "dave"} {
			rostertest.User(t, r, u)
		}
		if _, err := r.Teams.SetSeatLimit(ctx, acct.ID, 3); err != nil {
			t.Fatal(err)
		}
		twice := link(t, r, "alice", acct.ID, rbac.RunpodBasic, invites.MaxUses(2)) // alice and the link: 2 of 3
		accept(t, r, "bob", twice.Token)                                            // a new seat: 3 of 3
		accept(t, r, "carol", twice.Token)                                          // the link's seat: 3 of 3
		if _, err := r.Teams.SetSeatLimit(ctx, acct.ID, 4); err != nil {
			t.Fatal(err)
		}
		once := link(t, r, "alice", acct.ID, rbac.RunpodBasic) // 4 of 4
		accept(t, r, "dave", once.Token)                       // the link's seat
		if _, err := r.Invites.CreateLink(ctx, "alice", acct.ID, rbac.RunpodBasic); !errors.Is(err, store.ErrNoSeats) {
			t.Errorf("an invite beyond the limit: %v, want ErrNoSeats", err)
		}
	})
}

// TestInviterWhoseRoleEnded checks that an invite is judged by its
// inviter's role as Can sees it: one whose admin role granted for a while
// has ended, though no sweep has written it yet, may no longer invite, and
// the invite is revoked.
func TestInviterWhoseRoleEnded(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		clock := rostertest.NewClock()
		r, s := rostertest.Open(t, b, rbac.Runpod(), roster.WithBaseURL("https://app.example.com"),
			roster.WithClock(clock.Now), roster.WithSweep(0))
		acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"carol": rbac.RunpodBasic})
		rostertest.User(t, r, "bob")
		if _, err := r.Teams.GrantRoleUntil(ctx, "alice", acct.ID, "carol", rbac.RunpodAdmin, clock.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		inv := link(t, r, "carol", acct.ID, rbac.RunpodDev)
		clock.Advance(2 * time.Hour)
		if _, err := r.Invites.Accept(ctx, "bob", inv.Token); !errors.Is(err, invites.ErrInviterDenied) {
			t.Fatalf("accepting the invite of an inviter whose admin role ended: %v, want ErrInviterDenied", err)
		}
		events := rostertest.Events(t, s, acct.ID)
		// Newest first: the failed acceptance, after the revocation.
		if len(events) < 2 {
			t.Fatalf("%d events, want the revocation and the failed acceptance", len(events))
		}
		failed, revoked := events[0], events[1]
		if failed.Action != store.EventInviteAcceptFailed || failed.Result != store.Denied || failed.ResourceID != inv.ID ||
			revoked.Action != store.EventInviteRevoked || revoked.ResourceID != inv.ID ||
			!strings.Contains(revoked.Reason, "may no longer invite") || failed.Reason != revoked.Reason {
			t.Errorf("newest events %+v and %+v, want the invite revoked and its acceptance failed, both saying why", failed, revoked)
		}
	})
}

// TestMaxEmailsAtOnce checks that MaxEmails addresses may be invited in one
// call (one more is refused: see TestEmailInvites).
func TestMaxEmailsAtOnce(t *testing.T) {
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		e := newInviteEnv(t, b, rbac.Runpod())
		acct := rostertest.Team(t, e.r, "alice", nil)
		emails := make([]string, invites.MaxEmails)
		for i := range emails {
			emails[i] = fmt.Sprintf("user%d@example.com", i)
		}
		invs, err := e.r.Invites.CreateEmail(context.Background(), "alice", acct.ID, rbac.RunpodBasic, emails)
		if err != nil || len(invs) != invites.MaxEmails {
			t.Fatalf("inviting %d addresses at once: %d invites, %v; want them all", invites.MaxEmails, len(invs), err)
		}
	})
}

// TestInviterWhoSignsInInsecurely checks that an invite made before the
// team required secure sign-in, by a member who signs in by email, waits:
// accepting it is refused with ErrInviterInsecure and it stays pending.
func TestInviterWhoSignsInInsecurely(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		e := newInviteEnv(t, b, rbac.Runpod())
		personal := userWith(t, e.r, "alice", "alice@example.com", store.SignInGoogle)
		acct, err := e.r.Teams.ConvertToTeam(ctx, "alice", personal.ID, "Acme")
		if err != nil {
			t.Fatal(err)
		}
		userWith(t, e.r, "carol", "carol@example.com", store.SignInEmail)
		userWith(t, e.r, "bob", "bob@example.com", store.SignInGoogle)
		if _, err := e.r.Teams.AddMember(ctx, "alice", acct.ID, "carol", rbac.RunpodAdmin); err != nil {
			t.Fatal(err)
		}
		inv := link(t, e.r, "carol", acct.ID, rbac.RunpodDev)
		if _, err := e.r.Teams.SetSecureSignIn(ctx, "alice", acct.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := e.r.Invites.Accept(ctx, "bob", inv.Token); !errors.Is(err, invites.ErrInviterInsecure) {
			t.Errorf("accepting the invite of an inviter who signs in by email: %v, want ErrInviterInsecure", err)
		}
		if got := listed(t, e.r, "alice", acct.ID, inv.ID); got.Status != store.InvitePending {
			t.Errorf("the invite is %s after the refusal, want pending", got.Status)
		}
	})
}

// TestInviteOptionBounds checks that the options' limits are themselves
// allowed: MaxLinkUses uses, an expiry of one second or of MaxExpiry, and a
// default expiry of MaxExpiry.
func TestInviteOptionBounds(t *testing.T) {
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		e := newInviteEnv(t, b, rbac.Runpod(), invites.WithDefaultExpiry(invites.MaxExpiry))
		acct := rostertest.Team(t, e.r, "alice", nil)
		now := e.clock.Now()
		for name, c := range map[string]struct {
			opts []invites.InviteOption
			want time.Time
		}{
			"the default of MaxExpiry": {nil, now.Add(invites.MaxExpiry)},
			"MaxLinkUses uses":         {[]invites.InviteOption{invites.MaxUses(invites.MaxLinkUses)}, now.Add(invites.MaxExpiry)},
			"one second":               {[]invites.InviteOption{invites.ExpiresIn(time.Second)}, now.Add(time.Second)},
			"MaxExpiry":                {[]invites.InviteOption{invites.ExpiresIn(invites.MaxExpiry)}, now.Add(invites.MaxExpiry)},
		} {
			inv, err := e.r.Invites.CreateLink(context.Background(), "alice", acct.ID, rbac.RunpodBasic, c.opts...)
			if err != nil || !inv.ExpiresAt.Equal(c.want) {
				t.Errorf("%s: expires %v, %v; want %v", name, inv.ExpiresAt, err, c.want)
			}
		}
	})
}
