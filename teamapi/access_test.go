package teamapi_test

import (
	"testing"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teamapi"
)

// row returns the members table row of user as viewer sees it.
func (s *server) row(t *testing.T, viewer, team, user string) teamapi.MemberRow {
	t.Helper()
	var p teamapi.Page[teamapi.MemberRow]
	s.do(t, viewer, "GET", "/api/teams/"+team+"/members", nil, 200, &p)
	for _, r := range p.Items {
		if r.UserID == user {
			return r
		}
	}
	t.Fatalf("%s is not in the members table %+v", user, p.Items)
	return teamapi.MemberRow{}
}

// entry returns the entry of the account in user's account selector.
func (s *server) entry(t *testing.T, user, account string) teamapi.AccountEntry {
	t.Helper()
	var m teamapi.Me
	s.do(t, user, "GET", "/api/me", nil, 200, &m)
	for _, e := range m.Accounts {
		if e.Account.ID == account {
			return e
		}
	}
	t.Fatalf("%s's account selector lacks %s: %+v", user, account, m.Accounts)
	return teamapi.AccountEntry{}
}

// TestSecureSignInInSelector checks that the account selector says where a
// member may do nothing until they enable a secure sign-in method, and
// stops saying it once they have.
func TestSecureSignInInSelector(t *testing.T) {
	s := serve(t, testdb.Backends()[0], teamapi.Options{})
	acme := rostertest.Team(t, s.r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev}) // both sign in with email
	if _, err := s.r.Teams.UpdateUser(t.Context(), store.User{ID: "alice", Name: "alice", Email: "alice@example.com", SignIn: store.SignInGoogle}); err != nil {
		t.Fatal(err)
	}
	if e := s.entry(t, "bob", acme.ID); e.NeedsSecureSignIn || e.Suspended {
		t.Errorf("before the team requires secure sign-in: %+v", e)
	}
	if _, err := s.r.Teams.SetSecureSignIn(t.Context(), "alice", acme.ID, true); err != nil {
		t.Fatal(err)
	}
	if e := s.entry(t, "bob", acme.ID); !e.NeedsSecureSignIn || e.Suspended {
		t.Errorf("bob, who signs in with email, sees %+v; want him told he needs a secure sign-in method", e)
	}
	if e := s.entry(t, "alice", acme.ID); e.NeedsSecureSignIn {
		t.Errorf("alice, who signs in with Google, sees %+v", e)
	}
	if _, err := s.r.Teams.UpdateUser(t.Context(), store.User{ID: "bob", Name: "bob", Email: "bob@example.com", SignIn: store.SignInEmail2FA}); err != nil {
		t.Fatal(err)
	}
	if e := s.entry(t, "bob", acme.ID); e.NeedsSecureSignIn {
		t.Errorf("bob, now with 2FA, sees %+v", e)
	}
}

// TestSeats reads a team's seats through the API, on each backend: any
// member may, a stranger may not; the limit and the free seats are absent
// until the host sets a limit, and an invitation past it is refused.
func TestSeats(t *testing.T) {
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		s := serve(t, b, teamapi.Options{})
		acme := rostertest.Team(t, s.r, "alice", map[string]rbac.Role{"bob": rbac.RunpodBasic})
		rostertest.User(t, s.r, "mallory")
		seats := "/api/teams/" + acme.ID + "/seats"

		t.Run("without a limit, no limit and no free seats are given", func(t *testing.T) {
			rep := s.do(t, "bob", "GET", seats, nil, 200, nil)
			if got := string(rep.body); got != `{"members":2,"pending":0}`+"\n" {
				t.Errorf("seats %s, want two members, none pending, no limit", got)
			}
		})

		t.Run("with the host's limit, members see the seats free and filled", func(t *testing.T) {
			if _, err := s.r.Teams.SetSeatLimit(t.Context(), acme.ID, 4); err != nil {
				t.Fatal(err)
			}
			s.do(t, "alice", "POST", "/api/teams/"+acme.ID+"/invites", map[string]any{"role": "basic", "emails": []string{"carol@example.com"}}, 201, nil)
			var got teamapi.Seats
			s.do(t, "bob", "GET", seats, nil, 200, &got)
			if got.Limit != 4 || got.Members != 2 || got.Pending != 1 || got.Free == nil || *got.Free != 1 {
				t.Errorf("seats %+v, want 4 with 2 members, 1 pending, 1 free", got)
			}
			s.do(t, "alice", "POST", "/api/teams/"+acme.ID+"/invites", map[string]any{"role": "basic", "emails": []string{"dave@example.com"}}, 201, nil)
			s.do(t, "bob", "GET", seats, nil, 200, &got)
			if got.Free == nil || *got.Free != 0 {
				t.Errorf("seats %+v, want none free", got)
			}
			rep := s.do(t, "alice", "POST", "/api/teams/"+acme.ID+"/invites", map[string]string{"role": "basic"}, 409, nil)
			if p := rep.problem(t); p.Detail == "" {
				t.Errorf("the refusal of an invite past the limit says nothing: %+v", p)
			}
		})

		t.Run("a stranger may not read them", func(t *testing.T) {
			s.do(t, "mallory", "GET", seats, nil, 403, nil)
			s.do(t, "", "GET", seats, nil, 401, nil)
		})
	})
}

// TestSuspension suspends and reinstates a member through the API, on each
// backend: the members table shows who is suspended, a suspended member
// may do nothing in the team until reinstated, and only those who manage
// members suspend, never the account owner.
func TestSuspension(t *testing.T) {
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		s := serve(t, b, teamapi.Options{})
		acme := rostertest.Team(t, s.r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev, "carol": rbac.RunpodAdmin})
		team := "/api/teams/" + acme.ID

		t.Run("a suspended member keeps their role and may do nothing", func(t *testing.T) {
			var m teamapi.Membership
			s.do(t, "carol", "POST", team+"/members/bob/suspend", nil, 200, &m)
			if !m.Suspended || m.Role != rbac.RunpodDev || m.UserID != "bob" {
				t.Errorf("suspended %+v, want bob suspended, still a dev", m)
			}
			if r := s.row(t, "alice", acme.ID, "bob"); !r.Suspended || r.Role != rbac.RunpodDev {
				t.Errorf("bob's row %+v, want suspended, a dev", r)
			}
			s.do(t, "bob", "GET", team+"/members", nil, 403, nil)
			if e := s.entry(t, "bob", acme.ID); !e.Suspended || e.NeedsSecureSignIn || e.Role != rbac.RunpodDev {
				t.Errorf("bob's account selector shows Acme as %+v, want him suspended there", e)
			}
			s.do(t, "carol", "POST", team+"/members/bob/suspend", nil, 200, &m) // again: no change
			if !m.Suspended {
				t.Errorf("suspended again %+v", m)
			}
		})

		t.Run("a reinstated member acts with their role again", func(t *testing.T) {
			var m teamapi.Membership
			rep := s.do(t, "alice", "POST", team+"/members/bob/reinstate", nil, 200, &m)
			if m.Suspended || m.Role != rbac.RunpodDev {
				t.Errorf("reinstated %s, want bob, a dev, not suspended", rep.body)
			}
			if r := s.row(t, "bob", acme.ID, "bob"); r.Suspended {
				t.Errorf("bob's row %+v, want him not suspended", r)
			}
			if e := s.entry(t, "bob", acme.ID); e.Suspended {
				t.Errorf("bob's account selector shows Acme as %+v, want him no longer suspended", e)
			}
			var events teamapi.Page[teamapi.Event]
			s.do(t, "alice", "GET", team+"/audit?resource_id=bob&resource_type=member", nil, 200, &events)
			if len(events.Items) < 2 || events.Items[0].Action != store.EventMemberReinstated || events.Items[1].Action != store.EventMemberSuspended {
				t.Errorf("bob's events %+v, want his suspension then his reinstatement", events.Items)
			}
		})

		t.Run("only those who manage members suspend, and never the owner", func(t *testing.T) {
			s.do(t, "bob", "POST", team+"/members/carol/suspend", nil, 403, nil)
			s.do(t, "bob", "POST", team+"/members/carol/reinstate", nil, 403, nil)
			s.do(t, "carol", "POST", team+"/members/alice/suspend", nil, 409, nil)
			s.do(t, "alice", "POST", team+"/members/nobody/suspend", nil, 404, nil)
			s.do(t, "alice", "POST", team+"/members/bob/suspend", map[string]int{"for": 3}, 400, nil)
			if r := s.row(t, "alice", acme.ID, "bob"); r.Suspended {
				t.Errorf("a refused suspension changed bob's row: %+v", r)
			}
		})
	})
}

// TestEndTimes gives memberships and roles end times through the API, on
// each backend, on a clock the test moves: the members table shows them,
// the API honours them at the instant they pass, null makes a membership
// last again, and bad times are refused and change nothing.
func TestEndTimes(t *testing.T) {
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		clock := rostertest.NewClock()
		s := serve(t, b, teamapi.Options{}, roster.WithClock(clock.Now))
		acme := rostertest.Team(t, s.r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev, "carol": rbac.RunpodBasic, "dave": rbac.RunpodBasic})
		team := "/api/teams/" + acme.ID
		at := func(d time.Duration) string { return clock.Now().Add(d).Format(time.RFC3339) }

		t.Run("a membership ends at its time", func(t *testing.T) {
			var m teamapi.Membership
			s.do(t, "alice", "PUT", team+"/members/carol/until", map[string]string{"until": at(48 * time.Hour)}, 200, &m)
			if want := clock.Now().Add(48 * time.Hour); !m.Until.Equal(want) || m.FallbackRole != "" {
				t.Errorf("membership %+v, want one ending at %s", m, want)
			}
			if r := s.row(t, "alice", acme.ID, "carol"); !r.Until.Equal(m.Until) || r.FallbackRole != "" {
				t.Errorf("carol's row %+v, want it to end at %s", r, m.Until)
			}
			s.do(t, "carol", "GET", team, nil, 200, nil)
			clock.Advance(48 * time.Hour)
			s.do(t, "carol", "GET", team, nil, 403, nil)
		})

		t.Run("null makes a membership last again", func(t *testing.T) {
			s.do(t, "alice", "PUT", team+"/members/bob/until", map[string]string{"until": at(time.Hour)}, 200, nil)
			var m teamapi.Membership
			rep := s.do(t, "alice", "PUT", team+"/members/bob/until", map[string]any{"until": nil}, 200, &m)
			if !m.Until.IsZero() {
				t.Errorf("after null: %s, want no end time", rep.body)
			}
			clock.Advance(2 * time.Hour)
			s.do(t, "bob", "GET", team, nil, 200, nil)
		})

		t.Run("a role granted until a time falls back then", func(t *testing.T) {
			var m teamapi.Membership
			s.do(t, "alice", "PATCH", team+"/members/bob", map[string]string{"role": "admin", "until": at(time.Hour)}, 200, &m)
			if m.Role != rbac.RunpodAdmin || m.FallbackRole != rbac.RunpodDev || m.Until.IsZero() {
				t.Errorf("granted %+v, want admin until an hour from now, then dev", m)
			}
			if r := s.row(t, "alice", acme.ID, "bob"); r.Role != rbac.RunpodAdmin || r.FallbackRole != rbac.RunpodDev || !r.Until.Equal(m.Until) {
				t.Errorf("bob's row %+v, want admin falling back to dev", r)
			}
			s.do(t, "bob", "GET", team+"/audit", nil, 200, nil)
			clock.Advance(time.Hour)
			s.do(t, "bob", "GET", team+"/audit", nil, 403, nil)
			s.do(t, "bob", "GET", team+"/members", nil, 200, nil)
		})

		t.Run("bad end times are refused and change nothing", func(t *testing.T) {
			before := s.row(t, "alice", acme.ID, "dave")
			for name, body := range map[string]any{
				"no until":         map[string]any{},
				"a date":           map[string]string{"until": "2030-01-31"},
				"a number":         map[string]int{"until": 5},
				"a time not ahead": map[string]string{"until": at(-time.Minute)},
			} {
				t.Run(name, func(t *testing.T) {
					s.do(t, "alice", "PUT", team+"/members/dave/until", body, 400, nil)
				})
			}
			s.do(t, "alice", "PATCH", team+"/members/dave", map[string]string{"role": "admin", "until": "tomorrow"}, 400, nil)
			s.do(t, "alice", "PATCH", team+"/members/dave", map[string]string{"role": "admin", "until": at(-time.Hour)}, 400, nil)
			if r := s.row(t, "alice", acme.ID, "dave"); r != before {
				t.Errorf("dave's row after the refusals: %+v, want it as before: %+v", r, before)
			}
			s.do(t, "alice", "PUT", team+"/members/alice/until", map[string]string{"until": at(time.Hour)}, 409, nil) // the owner
			s.do(t, "bob", "PUT", team+"/members/alice/until", map[string]string{"until": at(time.Hour)}, 403, nil)
		})
	})
}
