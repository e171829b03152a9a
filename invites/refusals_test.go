package invites_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/invites"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// TestRefusalsAreRecorded checks that the invites service records a
// member's refused call as a denied event, by the rule every service
// follows, and does not write for an outsider.
func TestRefusalsAreRecorded(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		r, s := rostertest.Open(t, b, rbac.Runpod(), roster.WithBaseURL("https://app.example.com"))
		acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
		rostertest.User(t, r, "eve")
		inv, err := r.Invites.CreateLink(ctx, "alice", acct.ID, rbac.RunpodBasic)
		if err != nil {
			t.Fatal(err)
		}
		calls := map[store.EventAction]func(actor string) error{
			store.EventInviteCreated: func(actor string) error {
				_, err := r.Invites.CreateLink(ctx, actor, acct.ID, rbac.RunpodBasic)
				if err == nil {
					_, err = r.Invites.CreateEmail(ctx, actor, acct.ID, rbac.RunpodBasic, []string{"x@example.com"})
				}
				return err
			},
			store.EventInviteResent: func(actor string) error {
				_, err := r.Invites.Resend(ctx, actor, acct.ID, inv.ID)
				return err
			},
			store.EventInviteRevoked: func(actor string) error { return r.Invites.Revoke(ctx, actor, acct.ID, inv.ID) },
		}
		for action, call := range calls {
			if err := call("bob"); !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("%s by a dev: %v, want ErrDenied", action, err)
			}
			e := rostertest.Events(t, s, acct.ID)[0]
			if e.Action != action || e.Result != store.Denied || e.Actor != "bob" || e.ResourceType != "invite" || !strings.Contains(e.Reason, "members.invite") {
				t.Errorf("after a dev's refused %s the newest event is %+v, want bob's denied %s naming members.invite", action, e, action)
			}
			n := len(rostertest.Events(t, s, acct.ID))
			if err := call("eve"); !errors.Is(err, rbac.ErrNotMember) {
				t.Errorf("%s by an outsider: %v, want ErrNotMember", action, err)
			}
			if got := len(rostertest.Events(t, s, acct.ID)); got != n {
				t.Errorf("an outsider's refused %s wrote %d events to the team's log", action, got-n)
			}
		}
	})
}

// TestInviteMembersAddress checks that inviting the address of a current
// member is refused and writes nothing.
func TestInviteMembersAddress(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		r, s := rostertest.Open(t, b, rbac.DigitalOcean(), roster.WithBaseURL("https://app.example.com"))
		acct := rostertest.Team(t, r, "olive", map[string]rbac.Role{"max": rbac.DigitalOceanMember})
		rostertest.User(t, r, "zoe") // not a member: her address may be invited
		n := len(rostertest.Events(t, s, acct.ID))
		_, err := r.Invites.CreateEmail(ctx, "olive", acct.ID, rbac.DigitalOceanBiller, []string{"new@example.com", "MAX@Example.com"})
		if !errors.Is(err, invites.ErrAlreadyMember) || !strings.Contains(err.Error(), "max@example.com") {
			t.Fatalf("inviting a member's address: %v, want ErrAlreadyMember naming it", err)
		}
		if got := len(rostertest.Events(t, s, acct.ID)); got != n {
			t.Errorf("the refused call wrote %d events", got-n)
		}
		if pending, _, err := r.Invites.Pending(ctx, "olive", acct.ID, store.Page{}); err != nil || len(pending) != 0 {
			t.Errorf("pending invites after the refusal: %+v, %v; want none (all or nothing)", pending, err)
		}
		if _, err := r.Invites.CreateEmail(ctx, "olive", acct.ID, rbac.DigitalOceanBiller, []string{"zoe@example.com"}); err != nil {
			t.Errorf("inviting a user who is not a member: %v", err)
		}
	})
}

// TestRefusalReasonsNameNoSignIn checks that an acceptance refused for an
// insecure sign-in method does not write the method into the log.
func TestRefusalReasonsNameNoSignIn(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		r, s := rostertest.Open(t, b, rbac.DigitalOcean(), roster.WithBaseURL("https://app.example.com"))
		acct := rostertest.Team(t, r, "olive", nil)
		rostertest.User(t, r, "zoe") // signs in with a bare email
		invs, err := r.Invites.CreateEmail(ctx, "olive", acct.ID, rbac.DigitalOceanMember, []string{"zoe@example.com"}, invites.RequireSecure())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Invites.Accept(ctx, "zoe", invs[0].Token); !errors.Is(err, invites.ErrInsecureSignIn) {
			t.Fatalf("Accept: %v, want ErrInsecureSignIn", err)
		}
		for _, e := range rostertest.Events(t, s, acct.ID) {
			if strings.Contains(e.Reason, string(store.SignInEmail)) {
				t.Errorf("event %s's reason %q names the sign-in method", e.Action, e.Reason)
			}
		}
	})
}
