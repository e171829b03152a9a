package teams_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/overlap"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teams"
)

// TestOwnershipTransfer runs DigitalOcean's confirm-then-accept flow for
// both kinds of transfer: a grant of the top role (GrantTopRole) and a
// handover of the account (TransferOwnership), which olive, the account's
// owner, may both start.
func TestOwnershipTransfer(t *testing.T) {
	ctx := context.Background()
	kinds := []struct {
		kind  store.TransferKind
		start func(r *roster.Roster, actor, accountID, to string) (store.Transfer, error)
	}{
		{store.TransferRole, func(r *roster.Roster, actor, accountID, to string) (store.Transfer, error) {
			return r.Teams.GrantTopRole(ctx, actor, accountID, to)
		}},
		{store.TransferAccount, func(r *roster.Roster, actor, accountID, to string) (store.Transfer, error) {
			return r.Teams.TransferOwnership(ctx, actor, accountID, to)
		}},
	}
	for _, k := range kinds {
		t.Run(string(k.kind), func(t *testing.T) { ownershipTransfer(t, k.kind, k.start) })
	}
}

func ownershipTransfer(t *testing.T, kind store.TransferKind, start func(r *roster.Roster, actor, accountID, to string) (store.Transfer, error)) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		// setup's store proves, in Race, that concurrent calls overlapped.
		setup := func(t *testing.T) (*roster.Roster, *overlap.Store, *rostertest.Inbox, *rostertest.Clock, store.Account) {
			t.Helper()
			in := &rostertest.Inbox{}
			clk := rostertest.NewClock()
			s := overlap.New(b.Store(t), !b.SerialWriters())
			r := rostertest.New(t, s, rbac.DigitalOcean(), roster.WithNotifier(in), roster.WithClock(clk.Now),
				roster.WithBaseURL("https://cloud.example.com/team"))
			acct := rostertest.Team(t, r, "olive", map[string]rbac.Role{"max": rbac.DigitalOceanMember, "bea": rbac.DigitalOceanBiller})
			return r, s, in, clk, acct
		}

		t.Run("making someone owner needs the transfer flow", func(t *testing.T) {
			r, _, _, _, acct := setup(t)
			if _, err := r.Teams.ChangeRole(ctx, "olive", acct.ID, "max", rbac.DigitalOceanOwner); !errors.Is(err, rbac.ErrTopByTransfer) {
				t.Errorf("ChangeRole to owner: error = %v, want rbac.ErrTopByTransfer", err)
			}
			rostertest.User(t, r, "newbie")
			if _, err := r.Teams.AddMember(ctx, "olive", acct.ID, "newbie", rbac.DigitalOceanOwner); !errors.Is(err, rbac.ErrTopByTransfer) {
				t.Errorf("AddMember as owner: error = %v, want rbac.ErrTopByTransfer", err)
			}
			if _, err := r.Invites.CreateLink(ctx, "olive", acct.ID, rbac.DigitalOceanOwner); !errors.Is(err, rbac.ErrTopByTransfer) {
				t.Errorf("an invitation as owner: error = %v, want ErrTopByTransfer", err)
			}
			if _, err := r.Invites.CreateEmail(ctx, "olive", acct.ID, rbac.DigitalOceanOwner, []string{"new@example.com"}); !errors.Is(err, rbac.ErrTopByTransfer) {
				t.Errorf("an email invitation as owner: error = %v, want ErrTopByTransfer", err)
			}
		})

		t.Run("the owner confirms, the new owner accepts, and only then the role changes", func(t *testing.T) {
			r, s, in, _, acct := setup(t)
			tr, err := start(r, "olive", acct.ID, "max")
			if err != nil {
				t.Fatal(err)
			}
			confirm := in.Last(t, "olive")
			if !strings.HasPrefix(confirm.Link, "https://cloud.example.com/team/transfers/"+tr.ID+"?token=") || confirm.Token == "" {
				t.Errorf("confirmation link = %q", confirm.Link)
			}
			if r.Can(ctx, "max", acct.ID, rbac.MembersManage) {
				t.Fatal("max is owner before anyone confirmed")
			}
			if _, err := r.Teams.AcceptTransfer(ctx, "max", tr.ID, confirm.Token); !errors.Is(err, teams.ErrTransferClosed) {
				t.Errorf("accepting before confirmation: error = %v, want ErrTransferClosed", err)
			}
			if _, err := r.Teams.ConfirmTransfer(ctx, "max", tr.ID, confirm.Token); !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("the new owner confirming: error = %v, want ErrDenied", err)
			}
			if _, err := r.Teams.ConfirmTransfer(ctx, "olive", tr.ID, strings.Repeat("A", 43)); !errors.Is(err, teams.ErrInvalidToken) {
				t.Errorf("confirming with a wrong token: error = %v, want ErrInvalidToken", err)
			}
			if _, err := r.Teams.ConfirmTransfer(ctx, "olive", tr.ID, "short"); !errors.Is(err, teams.ErrInvalidToken) ||
				errors.Is(err, store.ErrInvalid) {
				t.Errorf("confirming with a malformed token: error = %v, want ErrInvalidToken, of one kind (a denial)", err)
			}
			got, err := r.Teams.ConfirmTransfer(ctx, "olive", tr.ID, confirm.Token)
			if err != nil || got.Status != store.TransferAwaitingAccept {
				t.Fatalf("ConfirmTransfer = %+v, %v", got, err)
			}
			if r.Can(ctx, "max", acct.ID, rbac.MembersManage) {
				t.Fatal("max is owner before accepting")
			}
			accept := in.Last(t, "max")
			if accept.Token == confirm.Token || accept.Email != "max@example.com" {
				t.Errorf("acceptance notice = %+v", accept)
			}
			if _, err := r.Teams.AcceptTransfer(ctx, "bea", tr.ID, accept.Token); !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("someone else accepting: error = %v, want ErrDenied", err)
			}
			got, err = r.Teams.AcceptTransfer(ctx, "max", tr.ID, accept.Token)
			if err != nil || got.Status != store.TransferDone {
				t.Fatalf("AcceptTransfer = %+v, %v", got, err)
			}
			if !r.Can(ctx, "max", acct.ID, rbac.MembersManage) || !r.Can(ctx, "olive", acct.ID, rbac.MembersManage) {
				t.Error("after the transfer both max and olive should be owners")
			}
			if _, err := r.Teams.AcceptTransfer(ctx, "max", tr.ID, accept.Token); !errors.Is(err, teams.ErrTransferClosed) {
				t.Errorf("accepting twice: error = %v, want ErrTransferClosed", err)
			}
			want, owner := "transfer.accepted member.role_changed transfer.confirmed transfer.started", "olive"
			if kind == store.TransferAccount {
				want, owner = "transfer.accepted account.owner_changed member.role_changed transfer.confirmed transfer.started", "max"
			}
			if got := newestAllowed(t, s, acct.ID, len(strings.Fields(want))); got != want {
				t.Errorf("newest allowed events = %s, want %s", got, want)
			}
			if got, err := r.Teams.Account(ctx, "olive", acct.ID); err != nil || got.Owner != owner {
				t.Errorf("the account's owner is %q (%v), want %s", got.Owner, err, owner)
			}
			// The refusals of members were recorded.
			for _, who := range []string{"max", "bea"} {
				if !hasDeniedBy(t, s, acct.ID, who) {
					t.Errorf("%s's refused step is not in the log", who)
				}
			}
		})

		t.Run("a transfer expires", func(t *testing.T) {
			r, _, in, clk, acct := setup(t)
			tr, err := start(r, "olive", acct.ID, "max")
			if err != nil {
				t.Fatal(err)
			}
			clk.Advance(teams.DefaultTransferTTL)
			if _, err := r.Teams.ConfirmTransfer(ctx, "olive", tr.ID, in.Last(t, "olive").Token); !errors.Is(err, teams.ErrTransferExpired) {
				t.Errorf("confirming after 7 days: error = %v, want ErrTransferExpired", err)
			}
		})

		t.Run("ten concurrent confirmations: one wins", func(t *testing.T) {
			r, s, in, _, acct := setup(t)
			tr, err := start(r, "olive", acct.ID, "max")
			if err != nil {
				t.Fatal(err)
			}
			tok := in.Last(t, "olive").Token
			errs := s.Race(t, ctx, 10, func(ctx context.Context, _ int) error {
				_, err := r.Teams.ConfirmTransfer(ctx, "olive", tr.ID, tok)
				return err
			})
			wins := 0
			for _, err := range errs {
				switch {
				case err == nil:
					wins++
				case !errors.Is(err, teams.ErrTransferClosed):
					t.Errorf("unexpected error %v", err)
				}
			}
			if wins != 1 {
				t.Errorf("%d confirmations won, want 1", wins)
			}
		})

		t.Run("a transfer dies when either side leaves", func(t *testing.T) {
			r, _, in, clk, acct := setup(t)
			tr, err := start(r, "olive", acct.ID, "max")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Teams.ConfirmTransfer(ctx, "olive", tr.ID, in.Last(t, "olive").Token); err != nil {
				t.Fatal(err)
			}
			if err := r.Teams.Leave(ctx, "max", acct.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Teams.AcceptTransfer(ctx, "max", tr.ID, in.Last(t, "max").Token); !errors.Is(err, teams.ErrTransferClosed) {
				t.Errorf("accepting after leaving: error = %v, want ErrTransferClosed", err)
			}
			// A removed new owner: the same.
			clk.Advance(time.Minute)
			tr2, err := start(r, "olive", acct.ID, "bea")
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Teams.RemoveMember(ctx, "olive", acct.ID, "bea"); err != nil {
				t.Fatal(err)
			}
			ts, _, err := r.Teams.Transfers(ctx, "olive", acct.ID, store.Page{})
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range ts {
				if x.Status != store.TransferCancelled {
					t.Errorf("transfer %s (%s -> %s) is %s after its side left, want cancelled", x.ID, x.From, x.To, x.Status)
				}
			}
			if len(ts) != 2 || ts[0].ID != tr2.ID {
				t.Errorf("transfers = %+v, want the two, newest first", ts)
			}
		})

		t.Run("either side may cancel, others may not", func(t *testing.T) {
			r, _, _, _, acct := setup(t)
			tr, err := start(r, "olive", acct.ID, "max")
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Teams.CancelTransfer(ctx, "bea", acct.ID, tr.ID); !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("a third member cancelling: error = %v, want ErrDenied", err)
			}
			if err := r.Teams.CancelTransfer(ctx, "max", acct.ID, tr.ID); err != nil {
				t.Errorf("the new owner declining: %v", err)
			}
			if err := r.Teams.CancelTransfer(ctx, "olive", acct.ID, tr.ID); !errors.Is(err, teams.ErrTransferClosed) {
				t.Errorf("cancelling twice: error = %v, want ErrTransferClosed", err)
			}
		})

		t.Run("only the owner (or a holder of the top role, for a grant) starts a transfer, to another member", func(t *testing.T) {
			r, _, _, _, acct := setup(t)
			if _, err := start(r, "max", acct.ID, "bea"); !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("a member starting a transfer: error = %v, want ErrDenied", err)
			}
			if _, err := start(r, "olive", acct.ID, "olive"); !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("transferring to oneself: error = %v, want ErrDenied", err)
			}
			if _, err := start(r, "olive", acct.ID, "stranger"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("transferring to a non-member: error = %v, want ErrNotFound", err)
			}
		})
	})
}

// newestAllowed returns the actions of the account's n newest allowed
// events, newest first, separated by spaces.
func newestAllowed(t *testing.T, s store.Store, accountID string, n int) string {
	t.Helper()
	var actions []string
	for _, e := range rostertest.Events(t, s, accountID) {
		if e.Result == store.Allowed && len(actions) < n {
			actions = append(actions, string(e.Action))
		}
	}
	return strings.Join(actions, " ")
}

// hasDeniedBy reports whether the account's log has a denied event by actor.
func hasDeniedBy(t *testing.T, s store.Store, accountID, actor string) bool {
	t.Helper()
	for _, e := range rostertest.Events(t, s, accountID) {
		if e.Result == store.Denied && e.Actor == actor {
			return true
		}
	}
	return false
}

// TestGrantDiesWithItsSendersRole checks that an open grant of the top role
// dies when the member who started it loses the top role before the
// recipient accepts: nobody stands behind it any more.
func TestGrantDiesWithItsSendersRole(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		in := &rostertest.Inbox{}
		r, s := rostertest.Open(t, b, rbac.DigitalOcean(), roster.WithNotifier(in))
		acct := rostertest.Team(t, r, "olive", map[string]rbac.Role{"max": rbac.DigitalOceanMember, "bea": rbac.DigitalOceanBiller})
		in.MakeTop(t, r, "olive", acct.ID, "max")
		tr, err := r.Teams.GrantTopRole(ctx, "max", acct.ID, "bea")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Teams.ConfirmTransfer(ctx, "max", tr.ID, in.Last(t, "max").Token); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Teams.ChangeRole(ctx, "olive", acct.ID, "max", rbac.DigitalOceanMember); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Teams.AcceptTransfer(ctx, "bea", tr.ID, in.Last(t, "bea").Token); !errors.Is(err, teams.ErrTransferClosed) {
			t.Errorf("accepting after the sender was demoted: %v, want ErrTransferClosed", err)
		}
		ts, _, err := r.Teams.Transfers(ctx, "olive", acct.ID, store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range ts {
			if x.ID == tr.ID && x.Status != store.TransferCancelled {
				t.Errorf("the grant is %s after its sender was demoted, want cancelled", x.Status)
			}
		}
		if r.Can(ctx, "bea", acct.ID, rbac.MembersManage) {
			t.Error("bea got the owner role from a grant nobody stands behind")
		}
		if got := rostertest.Newest(t, s, acct.ID, 4); !strings.Contains(got, string(store.EventTransferCancelled)) {
			t.Errorf("no transfer.cancelled among the newest events: %s", got)
		}
	})
}

// TestTransferTTL: a transfer stays open for the TTL the option sets, or
// for DefaultTransferTTL when the option is zero or less.
func TestTransferTTL(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		for _, c := range []struct {
			ttl, want time.Duration
		}{{time.Minute, time.Minute}, {0, teams.DefaultTransferTTL}, {-time.Minute, teams.DefaultTransferTTL}} {
			clock := rostertest.NewClock()
			r, _ := rostertest.Open(t, b, rbac.Runpod(), roster.WithClock(clock.Now), roster.WithTransferTTL(c.ttl))
			team := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
			tr, err := r.Teams.TransferOwnership(ctx, "alice", team.ID, "bob")
			if err != nil {
				t.Fatal(err)
			}
			if got := tr.ExpiresAt.Sub(clock.Now()); got != c.want {
				t.Errorf("WithTransferTTL(%v): the transfer expires after %v, want %v", c.ttl, got, c.want)
			}
		}
	})
}

// TestTransferSupersedes checks which open transfers a new one cancels as
// superseded: a handover of the account cancels every open handover,
// whoever it was to; a grant of the top role cancels only the open grants
// to the same member, and neither kind cancels the other. And a grant to a
// member who holds the top role already is refused with ErrExists.
func TestTransferSupersedes(t *testing.T) {
	ctx := context.Background()
	in := &rostertest.Inbox{}
	clock := rostertest.NewClock()
	r, _ := rostertest.Open(t, testdb.Backends()[0], rbac.DigitalOcean(), roster.WithNotifier(in), roster.WithClock(clock.Now),
		roster.WithBaseURL("https://cloud.example.com/team"))
	acct := rostertest.Team(t, r, "olive", map[string]rbac.Role{"max": rbac.DigitalOceanMember, "bea": rbac.DigitalOceanBiller})
	start := func(grant bool, to string) string {
		t.Helper()
		clock.Advance(time.Second)
		var tr store.Transfer
		var err error
		if grant {
			tr, err = r.Teams.GrantTopRole(ctx, "olive", acct.ID, to)
		} else {
			tr, err = r.Teams.TransferOwnership(ctx, "olive", acct.ID, to)
		}
		if err != nil {
			t.Fatal(err)
		}
		return tr.ID
	}
	open := func() map[string]bool {
		t.Helper()
		ts, _, err := r.Teams.Transfers(ctx, "olive", acct.ID, store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, x := range ts {
			out[x.ID] = x.Status != store.TransferCancelled
		}
		return out
	}
	handToMax := start(false, "max")
	handToBea := start(false, "bea")
	grantToMax := start(true, "max")
	grantToBea := start(true, "bea")
	if got := open(); got[handToMax] || !got[handToBea] || !got[grantToMax] || !got[grantToBea] {
		t.Errorf("after handovers to max then bea and grants to max and bea: open %v; want all but the handover to max", got)
	}
	grantToMaxAgain := start(true, "max")
	if got := open(); got[grantToMax] || !got[grantToMaxAgain] || !got[grantToBea] || !got[handToBea] {
		t.Errorf("after a second grant to max: open %v; want it, the grant to bea and the handover to bea", got)
	}

	// bea accepts a grant of the top role; a grant to her again is refused.
	in.MakeTop(t, r, "olive", acct.ID, "bea")
	if _, err := r.Teams.GrantTopRole(ctx, "olive", acct.ID, "bea"); !errors.Is(err, store.ErrExists) {
		t.Errorf("a grant of the top role to its holder: %v, want ErrExists", err)
	}
}

// TestNewOwnerKeepsNoEndTime checks that a member whose membership was to
// end, and who becomes the account's owner, owns it: the end time goes
// (an owner's membership never ends), and the account names them as its
// owner.
func TestNewOwnerKeepsNoEndTime(t *testing.T) {
	ctx := context.Background()
	in := &rostertest.Inbox{}
	r, s := rostertest.Open(t, testdb.Backends()[0], rbac.Runpod(), roster.WithNotifier(in), roster.WithBaseURL("https://app.example.com/team"))
	acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
	if _, err := r.Teams.EndMembership(ctx, "alice", acct.ID, "bob", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	tr, err := r.Teams.TransferOwnership(ctx, "alice", acct.ID, "bob")
	if err != nil {
		t.Fatal(err)
	}
	in.Transfer(t, r, tr)
	var a store.Account
	var m store.Member
	err = s.View(ctx, func(tx store.Tx) error {
		var err error
		if a, err = tx.Account(ctx, acct.ID); err != nil {
			return err
		}
		m, err = tx.Member(ctx, acct.ID, "bob")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if a.Owner != "bob" || !m.Until.IsZero() {
		t.Errorf("after the handover: owner %q, bob's end time %v; want bob, none", a.Owner, m.Until)
	}
}

// TestTransferFromATopHolder checks the two rules of acceptance that concern
// a holder of the top role who is not the account's owner: their grant of
// the top role is accepted (only a handover of the account needs its
// sender to own it), and a handover of the account to a member who holds
// the top role already changes their role not at all (no role change is
// recorded, only the handover).
func TestTransferFromATopHolder(t *testing.T) {
	ctx := context.Background()
	in := &rostertest.Inbox{}
	r, s := rostertest.Open(t, testdb.Backends()[0], rbac.DigitalOcean(), roster.WithNotifier(in), roster.WithBaseURL("https://cloud.example.com/team"))
	acct := rostertest.Team(t, r, "olive", map[string]rbac.Role{"max": rbac.DigitalOceanMember, "bea": rbac.DigitalOceanBiller})
	in.MakeTop(t, r, "olive", acct.ID, "max")

	grant, err := r.Teams.GrantTopRole(ctx, "max", acct.ID, "bea")
	if err != nil {
		t.Fatal(err)
	}
	in.Transfer(t, r, grant) // max holds the top role but does not own the account
	if !r.Can(ctx, "bea", acct.ID, rbac.MembersManage) {
		t.Error("bea lacks the top role after accepting max's grant")
	}

	hand, err := r.Teams.TransferOwnership(ctx, "olive", acct.ID, "max")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Teams.ConfirmTransfer(ctx, "olive", hand.ID, in.Last(t, "olive").Token); err != nil {
		t.Fatal(err)
	}
	before := len(rostertest.Events(t, s, acct.ID))
	if _, err := r.Teams.AcceptTransfer(ctx, "max", hand.ID, in.Last(t, "max").Token); err != nil {
		t.Fatal(err)
	}
	es := rostertest.Events(t, s, acct.ID)
	for _, e := range es[:len(es)-before] {
		if e.Action == store.EventMemberRoleChanged {
			t.Errorf("accepting the account as a holder of the top role recorded a role change of %s: %s", e.ResourceID, e.After)
		}
	}
	if a, err := r.Teams.Account(ctx, "max", acct.ID); err != nil || a.Owner != "max" {
		t.Errorf("after the handover the account is %+v, %v; want max its owner", a, err)
	}
}

// TestMalformedTransferTokenWritesNothing checks that a token that is not
// one in form is refused as ErrInvalidToken before anything is read or
// written: no denial is recorded for it, as none is for other malformed
// input, and an invalid transfer ID is still refused as store.ErrInvalid.
func TestMalformedTransferTokenWritesNothing(t *testing.T) {
	ctx := context.Background()
	in := &rostertest.Inbox{}
	r, s := rostertest.Open(t, testdb.Backends()[0], rbac.Runpod(), roster.WithNotifier(in), roster.WithBaseURL("https://app.example.com/team"))
	acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
	tr, err := r.Teams.TransferOwnership(ctx, "alice", acct.ID, "bob")
	if err != nil {
		t.Fatal(err)
	}
	rev, last := rostertest.Writes(t, s)
	for _, tok := range []string{"", "x", strings.Repeat("!", 43), strings.Repeat("a", 10_000)} {
		if _, err := r.Teams.ConfirmTransfer(ctx, "alice", tr.ID, tok); !errors.Is(err, teams.ErrInvalidToken) {
			t.Errorf("confirming with the token %.20q: %v, want ErrInvalidToken", tok, err)
		}
		if _, err := r.Teams.ConfirmTransfer(ctx, "alice", "", tok); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("confirming transfer \"\" with the token %.20q: %v, want ErrInvalid", tok, err)
		}
	}
	if rev2, last2 := rostertest.Writes(t, s); rev2 != rev || last2 != last {
		t.Errorf("malformed tokens wrote: revision %d → %d, newest event %d → %d", rev, rev2, last, last2)
	}
}

// TestRemovalCancelsEveryOpenTransfer checks that removing a member cancels
// every open transfer to them, not only the first, and leaves the others'
// open.
func TestRemovalCancelsEveryOpenTransfer(t *testing.T) {
	ctx := context.Background()
	in := &rostertest.Inbox{}
	r, _ := rostertest.Open(t, testdb.Backends()[0], rbac.DigitalOcean(), roster.WithNotifier(in), roster.WithBaseURL("https://cloud.example.com/team"))
	acct := rostertest.Team(t, r, "olive", map[string]rbac.Role{"max": rbac.DigitalOceanMember, "bea": rbac.DigitalOceanBiller})
	grantToMax, err := r.Teams.GrantTopRole(ctx, "olive", acct.ID, "max")
	if err != nil {
		t.Fatal(err)
	}
	handToMax, err := r.Teams.TransferOwnership(ctx, "olive", acct.ID, "max")
	if err != nil {
		t.Fatal(err)
	}
	grantToBea, err := r.Teams.GrantTopRole(ctx, "olive", acct.ID, "bea")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Teams.RemoveMember(ctx, "olive", acct.ID, "max"); err != nil {
		t.Fatal(err)
	}
	ts, _, err := r.Teams.Transfers(ctx, "olive", acct.ID, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]store.TransferStatus{}
	for _, x := range ts {
		got[x.ID] = x.Status
	}
	want := map[string]store.TransferStatus{
		grantToMax.ID: store.TransferCancelled, handToMax.ID: store.TransferCancelled, grantToBea.ID: store.TransferAwaitingConfirm,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("transfers after max's removal (-want +got):\n%s", diff)
	}
}
