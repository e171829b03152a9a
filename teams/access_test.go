package teams_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/apikeys"
	"github.com/teamroster/roster/internal/overlap"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/invites"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teams"
)

func TestSeats(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		t.Run("members and pending invites fill seats, and a full team refuses joins and invites", func(t *testing.T) {
			r, _ := rostertest.Open(t, b, rbac.Runpod(), roster.WithBaseURL("https://app.example.com"))
			team := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
			if _, err := r.Teams.SetSeatLimit(ctx, team.ID, 4); err != nil {
				t.Fatal(err)
			}
			email, err := r.Invites.CreateEmail(ctx, "alice", team.ID, rbac.RunpodBasic, []string{"carol@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			seats, err := r.Teams.Seats(ctx, "bob", team.ID)
			if err != nil || seats != (teams.Seats{Limit: 4, Members: 2, Pending: 1, Free: 1}) {
				t.Fatalf("Seats = %+v, %v", seats, err)
			}
			link, err := r.Invites.CreateLink(ctx, "alice", team.ID, rbac.RunpodBasic, invites.MaxUses(5))
			if err != nil {
				t.Fatal(err)
			}
			var limitErr *store.SeatLimitError
			_, err = r.Invites.CreateLink(ctx, "alice", team.ID, rbac.RunpodBasic)
			if !errors.Is(err, store.ErrNoSeats) || !errors.As(err, &limitErr) || limitErr.Limit != 4 || limitErr.Used != 4 {
				t.Fatalf("an invite past the limit: %v, want a SeatLimitError of 4 of 4", err)
			}
			rostertest.User(t, r, "dave")
			if _, err := r.Teams.AddMember(ctx, "alice", team.ID, "dave", rbac.RunpodBasic); !errors.Is(err, store.ErrNoSeats) {
				t.Fatalf("adding a member past the limit: %v, want ErrNoSeats", err)
			}
			if _, err := r.Invites.Accept(ctx, "dave", link.Token); !errors.Is(err, store.ErrNoSeats) {
				t.Fatalf("a join through a reusable link past the limit: %v, want ErrNoSeats", err)
			}
			// The email invite holds its seat: its user takes it.
			rostertest.User(t, r, "carol")
			if _, err := r.Teams.UpdateUser(ctx, store.User{ID: "carol", Email: "carol@example.com", Name: "carol", SignIn: store.SignInEmail}); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Invites.Accept(ctx, "carol", email[0].Token); err != nil {
				t.Fatalf("accepting an invite that holds a seat: %v", err)
			}
			// Lowering the limit removes nobody and blocks every join.
			if _, err := r.Teams.SetSeatLimit(ctx, team.ID, 2); err != nil {
				t.Fatal(err)
			}
			rows, _, err := r.Teams.Members(ctx, "alice", team.ID, store.Page{})
			if err != nil || len(rows) != 3 {
				t.Fatalf("members after lowering the limit: %d, %v; want 3", len(rows), err)
			}
			if seats, _ := r.Teams.Seats(ctx, "alice", team.ID); seats.Free != 0 || seats.Members != 3 {
				t.Errorf("seats over the limit: %+v", seats)
			}
			if err := r.Invites.Revoke(ctx, "alice", team.ID, link.ID); err != nil {
				t.Fatal(err)
			}
			if err := r.Teams.RemoveMember(ctx, "alice", team.ID, "carol"); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Teams.AddMember(ctx, "alice", team.ID, "dave", rbac.RunpodBasic); !errors.Is(err, store.ErrNoSeats) {
				t.Fatalf("a join with 2 of 2 seats filled: %v, want ErrNoSeats", err)
			}
			if _, err := r.Teams.SetSeatLimit(ctx, team.ID, 0); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Teams.AddMember(ctx, "alice", team.ID, "dave", rbac.RunpodBasic); err != nil {
				t.Fatalf("a join with no limit: %v", err)
			}
		})
		t.Run("a limit changed is recorded, with the limit before and after; one set again is not", func(t *testing.T) {
			r, s := rostertest.Open(t, b, rbac.Runpod())
			team := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
			seats, err := r.Teams.Seats(ctx, "bob", team.ID)
			if err != nil || seats != (teams.Seats{Limit: 0, Members: 2, Pending: 0, Free: -1}) {
				t.Fatalf("Seats without a limit = %+v, %v; want Free -1", seats, err)
			}
			acct, err := r.Teams.SetSeatLimit(ctx, team.ID, 2)
			if err != nil || acct.SeatLimit != 2 {
				t.Fatalf("SetSeatLimit = %+v, %v", acct, err)
			}
			es := rostertest.Events(t, s, team.ID)
			if e := es[0]; e.Action != store.EventAccountSeatLimit || e.Actor != "" || e.ResourceID != team.ID ||
				e.Before != `{"seat_limit":"0"}` || e.After != `{"seat_limit":"2"}` {
				t.Fatalf("the event of a limit set: %+v", e)
			}
			if seats, err := r.Teams.Seats(ctx, "bob", team.ID); err != nil || seats != (teams.Seats{Limit: 2, Members: 2, Free: 0}) {
				t.Fatalf("Seats with the limit filled = %+v, %v; want Free 0", seats, err)
			}
			rev, n := rostertest.Writes(t, s)
			if _, err := r.Teams.SetSeatLimit(ctx, team.ID, 2); err != nil {
				t.Fatal(err)
			}
			if r2, n2 := rostertest.Writes(t, s); r2 != rev || n2 != n {
				t.Error("setting the limit it has wrote something")
			}
		})
		t.Run("bad limits are refused and change nothing", func(t *testing.T) {
			r, s := rostertest.Open(t, b, rbac.Runpod())
			team := rostertest.Team(t, r, "alice", nil)
			personal := rostertest.User(t, r, "bob")
			rev, ev := rostertest.Writes(t, s)
			for _, c := range []struct {
				account string
				limit   int
				want    error
			}{{team.ID, -1, store.ErrInvalid}, {personal.ID, -1, store.ErrInvalid}, {"nope", -1, store.ErrInvalid},
				{personal.ID, 3, store.ErrNotTeam}, {"nope", 3, store.ErrNotFound}} {
				if _, err := r.Teams.SetSeatLimit(ctx, c.account, c.limit); !errors.Is(err, c.want) {
					t.Errorf("SetSeatLimit(%s, %d) = %v, want %v", c.account, c.limit, err, c.want)
				}
			}
			if r2, e2 := rostertest.Writes(t, s); r2 != rev || e2 != ev {
				t.Error("a refused limit wrote something")
			}
		})
		t.Run("accepts racing for the last seat: exactly one wins", func(t *testing.T) {
			s := overlap.New(b.Store(t), !b.SerialWriters())
			r := rostertest.New(t, s, rbac.Runpod(), roster.WithBaseURL("https://app.example.com"))
			team := rostertest.Team(t, r, "alice", nil)
			link, err := r.Invites.CreateLink(ctx, "alice", team.ID, rbac.RunpodBasic, invites.MaxUses(100))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Teams.SetSeatLimit(ctx, team.ID, 3); err != nil { // alice, the link, one seat free
				t.Fatal(err)
			}
			const n = 50
			for i := range n {
				rostertest.User(t, r, fmt.Sprintf("u%d", i))
			}
			errs := s.Race(t, ctx, n, func(ctx context.Context, i int) error {
				_, err := r.Invites.Accept(ctx, fmt.Sprintf("u%d", i), link.Token)
				return err
			})
			won := 0
			for _, err := range errs {
				switch {
				case err == nil:
					won++
				case !errors.Is(err, store.ErrNoSeats):
					t.Fatalf("a losing accept: %v, want ErrNoSeats", err)
				}
			}
			seats, err := r.Teams.Seats(ctx, "alice", team.ID)
			if won != 1 || err != nil || seats.Members != 2 {
				t.Fatalf("%d accepts won (seats %+v, %v), want exactly 1", won, seats, err)
			}
		})
	})
}

func TestSuspend(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		r, s := rostertest.Open(t, b, rbac.Runpod())
		team := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev, "dave": rbac.RunpodDev})
		key, err := r.Keys.Create(ctx, "bob", team.ID, apikeys.Spec{Name: "k"})
		if err != nil {
			t.Fatal(err)
		}
		m, err := r.Teams.Suspend(ctx, "alice", team.ID, "bob")
		if err != nil || !m.Suspended() || m.SuspendedBy != "alice" || m.Role != string(rbac.RunpodDev) {
			t.Fatalf("Suspend = %+v, %v", m, err)
		}
		t.Run("a suspended member may do nothing, nor may their keys", func(t *testing.T) {
			if r.Can(ctx, "bob", team.ID, rbac.PodsConnect) || r.Can(ctx, key.Key.ID, team.ID, rbac.PodsConnect) {
				t.Error("a suspended member, or their key, may act")
			}
			if err := r.Check(ctx, "bob", team.ID, rbac.PodsConnect); !errors.Is(err, rbac.ErrSuspended) {
				t.Errorf("Check: %v, want ErrSuspended", err)
			}
			if err := r.CheckStrict(ctx, "bob", team.ID, rbac.PodsConnect); !errors.Is(err, rbac.ErrSuspended) {
				t.Errorf("CheckStrict: %v, want ErrSuspended", err)
			}
			if _, _, err := r.Teams.Members(ctx, "bob", team.ID, store.Page{}); !errors.Is(err, rbac.ErrSuspended) {
				t.Errorf("a suspended member reading the members table: %v, want ErrSuspended", err)
			}
			rows, _, err := r.Teams.Members(ctx, "alice", team.ID, store.Page{})
			if err != nil || !slices.ContainsFunc(rows, func(row teams.MemberRow) bool {
				return row.UserID == "bob" && row.Suspended && row.Role == rbac.RunpodDev
			}) {
				t.Errorf("the members table does not show bob suspended with his role: %+v, %v", rows, err)
			}
		})
		t.Run("the members-only middleware tells a suspended member why", func(t *testing.T) {
			mux := http.NewServeMux()
			mux.Handle("GET /teams/{team}", r.RequireMember(roster.HTTPOptions{
				User: func(*http.Request) (string, bool) { return "bob", true }, Team: roster.TeamFromPath("team"),
			})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest("GET", "/teams/"+team.ID, nil))
			if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "suspended") {
				t.Errorf("RequireMember for a suspended member: %d %s", rec.Code, rec.Body)
			}
		})
		t.Run("who may suspend", func(t *testing.T) {
			for _, c := range []struct {
				actor, target string
				want          error
			}{{"dave", "bob", rbac.ErrDenied}, {"alice", "alice", teams.ErrLastOwner}, {"alice", "nobody", store.ErrNotFound}} {
				if _, err := r.Teams.Suspend(ctx, c.actor, team.ID, c.target); !errors.Is(err, c.want) {
					t.Errorf("%s suspending %s: %v, want %v", c.actor, c.target, err, c.want)
				}
			}
		})
		t.Run("reinstated, the member acts with their role again", func(t *testing.T) {
			if _, err := r.Teams.Reinstate(ctx, "alice", team.ID, "bob"); err != nil {
				t.Fatal(err)
			}
			if !r.Can(ctx, "bob", team.ID, rbac.PodsManage) || !r.Can(ctx, key.Key.ID, team.ID, rbac.PodsManage) {
				t.Error("the reinstated member, or their key, may not act as a dev")
			}
			actions := rostertest.Newest(t, s, team.ID, 2)
			if !strings.Contains(actions, "member.reinstated") {
				t.Errorf("newest events %s, want member.reinstated", actions)
			}
		})
		t.Run("a removed member cannot be reinstated", func(t *testing.T) {
			if _, err := r.Teams.Suspend(ctx, "alice", team.ID, "dave"); err != nil {
				t.Fatal(err)
			}
			if err := r.Teams.RemoveMember(ctx, "alice", team.ID, "dave"); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Teams.Reinstate(ctx, "alice", team.ID, "dave"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("reinstating a removed member: %v, want ErrNotFound", err)
			}
			if r.Can(ctx, "dave", team.ID, rbac.AccountAccess) {
				t.Error("the removed member may act")
			}
		})
	})
}

func TestExpiringAccess(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		clock := rostertest.NewClock()
		r, s := rostertest.Open(t, b, rbac.Runpod(), roster.WithClock(clock.Now))
		team := rostertest.Team(t, r, "alice", map[string]rbac.Role{"con": rbac.RunpodDev, "ops": rbac.RunpodDev})
		now := clock.Now()
		t.Run("end times in the past are refused and change nothing", func(t *testing.T) {
			rev, ev := rostertest.Writes(t, s)
			if _, err := r.Teams.EndMembership(ctx, "alice", team.ID, "con", now); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("an end time of now: %v, want ErrInvalid", err)
			}
			if _, err := r.Teams.GrantRoleUntil(ctx, "alice", team.ID, "ops", rbac.RunpodAdmin, now.Add(-time.Hour)); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("a role until the past: %v, want ErrInvalid", err)
			}
			if _, err := r.Teams.EndMembership(ctx, "alice", team.ID, "alice", now.Add(time.Hour)); !errors.Is(err, teams.ErrLastOwner) {
				t.Errorf("ending the owner's membership: %v, want ErrLastOwner", err)
			}
			// Malformed before anything is authorized: a member who may not
			// grant roles is told so by ErrInvalid too, and no refusal is recorded.
			for _, actor := range []string{"alice", "con"} {
				if _, err := r.Teams.GrantRoleUntil(ctx, actor, team.ID, "ops", rbac.RunpodAdmin, time.Time{}); !errors.Is(err, store.ErrInvalid) {
					t.Errorf("a role granted by %s with no end time: %v, want ErrInvalid", actor, err)
				}
			}
			if r2, e2 := rostertest.Writes(t, s); r2 != rev || e2 != ev {
				t.Error("a refused end time wrote something")
			}
		})
		if _, err := r.Teams.EndMembership(ctx, "alice", team.ID, "con", now.Add(30*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Teams.GrantRoleUntil(ctx, "alice", team.ID, "ops", rbac.RunpodAdmin, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got := rostertest.Newest(t, s, team.ID, 2); got != "member.role_changed member.expiry_set" {
			t.Fatalf("the events of an end time and a role until a time: %s", got)
		}
		opsKey, err := r.Keys.Create(ctx, "ops", team.ID, apikeys.Spec{Name: "incident"}) // an admin key, while ops is admin
		if err != nil {
			t.Fatal(err)
		}
		t.Run("before the end, access as granted", func(t *testing.T) {
			if !r.Can(ctx, "con", team.ID, rbac.PodsManage) || !r.Can(ctx, "ops", team.ID, rbac.BillingRead) || !r.Can(ctx, opsKey.Key.ID, team.ID, rbac.BillingRead) {
				t.Error("access before the end time is missing")
			}
		})
		clock.Advance(time.Hour)
		t.Run("from the end of a role, its previous role, before any sweep", func(t *testing.T) {
			if r.Can(ctx, "ops", team.ID, rbac.BillingRead) || !r.Can(ctx, "ops", team.ID, rbac.PodsManage) {
				t.Error("the role granted for an hour did not fall back to dev at its end")
			}
			if r.Can(ctx, opsKey.Key.ID, team.ID, rbac.BillingRead) {
				t.Error("a key made during the grant keeps its rights past it")
			}
			if err := r.CheckStrict(ctx, "ops", team.ID, rbac.BillingRead); !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("CheckStrict after the grant's end: %v, want ErrDenied", err)
			}
			if _, err := r.Teams.SetSecureSignIn(ctx, "ops", team.ID, true); !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("a write by the member as admin after the grant's end: %v, want ErrDenied", err)
			}
		})
		clock.Advance(30 * 24 * time.Hour)
		t.Run("from the end of a membership, no member, before any sweep", func(t *testing.T) {
			if r.Can(ctx, "con", team.ID, rbac.AccountAccess) {
				t.Error("the contractor may act after their end")
			}
			if err := r.Check(ctx, "con", team.ID, rbac.AccountAccess); !errors.Is(err, rbac.ErrNotMember) {
				t.Errorf("Check: %v, want ErrNotMember", err)
			}
		})
		t.Run("the sweep writes the expiries, once", func(t *testing.T) {
			n, err := r.Teams.SweepExpired(ctx, clock.Now())
			if err != nil || n != 2 {
				t.Fatalf("SweepExpired = %d, %v; want 2", n, err)
			}
			if n, err := r.Teams.SweepExpired(ctx, clock.Now()); err != nil || n != 0 {
				t.Fatalf("a second sweep = %d, %v; want 0", n, err)
			}
			rows, _, err := r.Teams.Members(ctx, "alice", team.ID, store.Page{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, row := range rows {
				got = append(got, fmt.Sprintf("%s:%s:%v", row.UserID, row.Role, row.Until.IsZero()))
			}
			if want := []string{"alice:admin:true", "ops:dev:true"}; !slices.Equal(got, want) {
				t.Errorf("members after the sweep: %v, want %v", got, want)
			}
			evs := rostertest.Events(t, s, team.ID)
			var actions []string
			for _, e := range evs {
				actions = append(actions, string(e.Action))
			}
			if !slices.Contains(actions, string(store.EventMemberExpired)) || !slices.Contains(actions, string(store.EventMemberRoleExpired)) {
				t.Errorf("events %v lack member.expired and member.role_expired", actions)
			}
			if k, _, err := r.Keys.ListTeam(ctx, "alice", team.ID, store.Page{}); err != nil || len(k) != 1 || slices.Contains(k[0].Actions, rbac.BillingRead) {
				t.Errorf("the incident key was not narrowed to dev by the fall back: %+v, %v", k, err)
			}
		})
	})
}

// TestSweepExpiredManyAtOnce ends more memberships at one time than the
// sweep reads at once: it writes them all, and counts each once.
func TestSweepExpiredManyAtOnce(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		clock := rostertest.NewClock()
		r, _ := rostertest.Open(t, b, rbac.Runpod(), roster.WithClock(clock.Now))
		const n = 250 // two and a half of the sweep's reads
		members := map[string]rbac.Role{}
		for i := range n {
			members[fmt.Sprintf("m%03d", i)] = rbac.RunpodBasic
		}
		team := rostertest.Team(t, r, "alice", members)
		for id := range members {
			if _, err := r.Teams.EndMembership(ctx, "alice", team.ID, id, clock.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		clock.Advance(time.Hour)
		if got, err := r.Teams.SweepExpired(ctx, clock.Now()); err != nil || got != n {
			t.Fatalf("SweepExpired = %d, %v; want %d", got, err, n)
		}
		if rows, _, err := r.Teams.Members(ctx, "alice", team.ID, store.Page{}); err != nil || len(rows) != 1 {
			t.Fatalf("members after the sweep: %d, %v; want alice alone", len(rows), err)
		}
	})
}

// TestChangeRoleAndTimedAccess changes the roles of members whose access is
// timed: a role given for good ends one granted for a while, a membership
// that has ended (not yet swept) is no membership to change, and demoting a
// holder of the top role returns the new membership.
func TestChangeRoleAndTimedAccess(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		clock := rostertest.NewClock()
		r, s := rostertest.Open(t, b, rbac.Runpod(), roster.WithClock(clock.Now))
		team := rostertest.Team(t, r, "alice", map[string]rbac.Role{"ops": rbac.RunpodDev, "con": rbac.RunpodDev, "adm": rbac.RunpodAdmin})
		if _, err := r.Teams.GrantRoleUntil(ctx, "alice", team.ID, "ops", rbac.RunpodAdmin, clock.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Teams.EndMembership(ctx, "alice", team.ID, "con", clock.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		m, err := r.Teams.ChangeRole(ctx, "alice", team.ID, "ops", rbac.RunpodBilling)
		if err != nil || m.Role != string(rbac.RunpodBilling) || !m.Until.IsZero() || m.FallbackRole != "" {
			t.Fatalf("a role given for good over one granted for a while: %+v, %v; want billing with no end and nothing to fall back to", m, err)
		}
		m, err = r.Teams.ChangeRole(ctx, "alice", team.ID, "adm", rbac.RunpodDev)
		if err != nil || m.Role != string(rbac.RunpodDev) || m.UserID != "adm" {
			t.Fatalf("demoting a holder of the top role = %+v, %v; want adm as dev", m, err)
		}
		clock.Advance(time.Hour)
		if !r.Can(ctx, "ops", team.ID, rbac.BillingRead) || r.Can(ctx, "ops", team.ID, rbac.PodsManage) {
			t.Error("the role given for good fell back at the end of the one it replaced")
		}
		rev, n := rostertest.Writes(t, s)
		if _, err := r.Teams.ChangeRole(ctx, "alice", team.ID, "con", rbac.RunpodBasic); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("changing the role of a membership that ended: %v, want ErrNotFound", err)
		}
		if r2, n2 := rostertest.Writes(t, s); r2 != rev || n2 != n {
			t.Error("the refused change wrote something")
		}
	})
}
