package invites_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/teamroster/roster/internal/overlap"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/invites"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// raceStore returns a store of backend b (with limitedStore's pool) whose
// Race proves that its contenders overlapped.
func raceStore(t *testing.T, b testdb.Backend) *overlap.Store {
	t.Helper()
	return overlap.New(limitedStore(t, b), !b.SerialWriters())
}

// TestInviteConcurrency races calls on one invite or address through
// overlap.Store.Race, which fails a round whose calls did not overlap.
func TestInviteConcurrency(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		t.Run("fifty accepts of one single-use token make exactly one member", func(t *testing.T) {
			const n = 50
			s := raceStore(t, b)
			e := newInviteEnvOn(t, s, rbac.Runpod())
			acct := rostertest.Team(t, e.r, "alice", nil)
			ids := make([]string, n)
			for i := range ids {
				ids[i] = fmt.Sprintf("u%02d", i)
				rostertest.User(t, e.r, ids[i])
			}
			inv := link(t, e.r, "alice", acct.ID, rbac.RunpodDev)
			errs := s.Race(t, ctx, n, func(ctx context.Context, i int) error {
				_, err := e.r.Invites.Accept(ctx, ids[i], inv.Token)
				return err
			})
			winner, used := "", 0
			for i, err := range errs {
				switch {
				case err == nil && winner == "":
					winner = ids[i]
				case err == nil:
					t.Errorf("%s and %s both accepted", winner, ids[i])
				case errors.Is(err, invites.ErrUsed):
					used++
				default:
					t.Errorf("%s: unexpected error %v", ids[i], err)
				}
			}
			if winner == "" || used != n-1 {
				t.Fatalf("winner %q and %d ErrUsed, want one winner and %d ErrUsed", winner, used, n-1)
			}
			members, _, err := e.r.Teams.Members(ctx, "alice", acct.ID, store.Page{})
			if err != nil {
				t.Fatal(err)
			}
			if len(members) != 2 {
				t.Errorf("members = %+v, want alice and %s", members, winner)
			}
			for _, id := range ids {
				if got, want := e.r.Can(ctx, id, acct.ID, rbac.PodsManage), id == winner; got != want {
					t.Errorf("Can(%s) = %v, want %v", id, got, want)
				}
			}
			if got := countEvents(t, e.s, acct.ID, "member.joined", store.Allowed); got != 1 {
				t.Errorf("%d member.joined events, want 1", got)
			}
			if got := countEvents(t, e.s, acct.ID, "invite.accept_failed", store.Denied); got != n-1 {
				t.Errorf("%d invite.accept_failed events, want %d", got, n-1)
			}
			if got := listed(t, e.r, "alice", acct.ID, inv.ID); got.Status != store.InviteAccepted || got.Uses != 1 {
				t.Errorf("invite = %+v, want accepted with one use", got)
			}
		})

		t.Run("one user accepting many times at once joins once", func(t *testing.T) {
			const n = 10
			s := raceStore(t, b)
			e := newInviteEnvOn(t, s, rbac.Runpod())
			acct := rostertest.Team(t, e.r, "alice", nil)
			rostertest.User(t, e.r, "bob")
			inv := link(t, e.r, "alice", acct.ID, rbac.RunpodBasic, invites.MaxUses(5))
			ok := 0
			for _, err := range s.Race(t, ctx, n, func(ctx context.Context, _ int) error {
				_, err := e.r.Invites.Accept(ctx, "bob", inv.Token)
				return err
			}) {
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, invites.ErrAlreadyMember):
					t.Errorf("unexpected error %v", err)
				}
			}
			if ok != 1 {
				t.Errorf("%d accepts succeeded, want 1", ok)
			}
			if got := listed(t, e.r, "alice", acct.ID, inv.ID); got.Uses != 1 {
				t.Errorf("uses = %d, want 1", got.Uses)
			}
		})

		t.Run("accept racing revoke never yields a member from a revoked invite", func(t *testing.T) {
			const rounds = 10
			s := raceStore(t, b)
			e := newInviteEnvOn(t, s, rbac.Runpod())
			acct := rostertest.Team(t, e.r, "alice", nil)
			won := map[string]int{}
			for round := range rounds {
				id := fmt.Sprintf("r%02d", round)
				rostertest.User(t, e.r, id)
				inv := link(t, e.r, "alice", acct.ID, rbac.RunpodDev)
				errs := s.Race(t, ctx, 2, func(ctx context.Context, i int) error {
					if i == 0 {
						_, err := e.r.Invites.Accept(ctx, id, inv.Token)
						return err
					}
					return e.r.Invites.Revoke(ctx, "alice", acct.ID, inv.ID)
				})
				status := listed(t, e.r, "alice", acct.ID, inv.ID).Status
				member := e.r.Can(ctx, id, acct.ID, rbac.AccountAccess)
				switch {
				case errs[0] == nil && errors.Is(errs[1], invites.ErrUsed) && status == store.InviteAccepted && member:
					won["accept"]++
				case errors.Is(errs[0], invites.ErrRevoked) && errs[1] == nil && status == store.InviteRevoked && !member:
					won["revoke"]++
				default:
					t.Errorf("round %d: accept %v, revoke %v, invite %s, member %v: not one of the two serial outcomes",
						round, errs[0], errs[1], status, member)
				}
				assertRole(t, e.s, acct.ID, id, map[bool]rbac.Role{true: rbac.RunpodDev, false: ""}[status == store.InviteAccepted])
			}
			t.Logf("winners over %d rounds: %v", rounds, won)
		})

		t.Run("resend racing accept of the old token: the old token works only if it came first", func(t *testing.T) {
			const rounds = 10
			s := raceStore(t, b)
			e := newInviteEnvOn(t, s, rbac.Runpod())
			acct := rostertest.Team(t, e.r, "alice", nil)
			won := map[string]int{}
			for round := range rounds {
				id := fmt.Sprintf("r%02d", round)
				rostertest.User(t, e.r, id)
				inv := link(t, e.r, "alice", acct.ID, rbac.RunpodDev)
				var resent invites.Invitation
				errs := s.Race(t, ctx, 2, func(ctx context.Context, i int) error {
					if i == 0 {
						_, err := e.r.Invites.Accept(ctx, id, inv.Token)
						return err
					}
					var err error
					resent, err = e.r.Invites.Resend(ctx, "alice", acct.ID, inv.ID)
					return err
				})
				member := e.r.Can(ctx, id, acct.ID, rbac.AccountAccess)
				switch {
				case errs[0] == nil && errors.Is(errs[1], invites.ErrUsed) && member:
					won["accept"]++
				case errors.Is(errs[0], invites.ErrSuperseded) && errs[1] == nil && !member:
					won["resend"]++
					accept(t, e.r, id, resent.Token) // the new token works
				default:
					t.Errorf("round %d: accept %v, resend %v, member %v: not one of the two serial outcomes", round, errs[0], errs[1], member)
				}
			}
			t.Logf("winners over %d rounds: %v", rounds, won)
		})

		t.Run("concurrent invites of one address create one invite", func(t *testing.T) {
			const n = 10
			s := raceStore(t, b)
			e := newInviteEnvOn(t, s, rbac.DigitalOcean())
			acct := rostertest.Team(t, e.r, "olive", nil)
			ok := 0
			for _, err := range s.Race(t, ctx, n, func(ctx context.Context, _ int) error {
				_, err := e.r.Invites.CreateEmail(ctx, "olive", acct.ID, rbac.DigitalOceanMember, []string{"max@example.com"})
				return err
			}) {
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, invites.ErrPending):
					t.Errorf("unexpected error %v", err)
				}
			}
			pending, _, err := e.r.Invites.Pending(ctx, "olive", acct.ID, store.Page{})
			if ok != 1 || err != nil || len(pending) != 1 {
				t.Errorf("%d calls succeeded and %d invites are pending (%v), want 1 and 1", ok, len(pending), err)
			}
		})
	})
}
