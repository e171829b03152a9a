package teams_test

import (
	"context"
	"errors"
	"testing"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/invites"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teams"
)

// setSignIn moves the user to the sign-in method, failing tb on error.
func setSignIn(tb testing.TB, r *roster.Roster, id string, method store.SignIn) {
	tb.Helper()
	u, err := r.Teams.User(context.Background(), id)
	if err == nil {
		u.SignIn = method
		_, err = r.Teams.UpdateUser(context.Background(), u)
	}
	if err != nil {
		tb.Fatalf("move %s to %s: %v", id, method, err)
	}
}

func TestSecureSignIn(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		box := &rostertest.Inbox{}
		r, s := rostertest.Open(t, b, rbac.DigitalOcean(), roster.WithBaseURL("https://app.example.com"), roster.WithNotifier(box))
		// olive (owner) and gus sign in with Google; max and bea with a
		// bare password.
		team := rostertest.Team(t, r, "olive", map[string]rbac.Role{
			"max": rbac.DigitalOceanMember, "bea": rbac.DigitalOceanBiller, "gus": rbac.DigitalOceanMember,
		})
		setSignIn(t, r, "olive", store.SignInGoogle)
		setSignIn(t, r, "gus", store.SignInGoogle)

		t.Run("the preview lists who would lose access", func(t *testing.T) {
			rows, err := r.Teams.PreviewSecureSignIn(ctx, "olive", team.ID)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, row := range rows {
				ids = append(ids, row.UserID)
				if row.SignIn != store.SignInEmail {
					t.Errorf("preview row %+v, want its sign-in method", row)
				}
			}
			if len(ids) != 2 || !(ids[0] == "max" && ids[1] == "bea" || ids[0] == "bea" && ids[1] == "max") {
				t.Errorf("preview = %v, want max and bea", ids)
			}
			if _, err := r.Teams.PreviewSecureSignIn(ctx, "max", team.ID); !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("preview by a member without settings.manage: %v, want ErrDenied", err)
			}
			setSignIn(t, r, "olive", store.SignInEmail)
			defer setSignIn(t, r, "olive", store.SignInGoogle)
			rows, err = r.Teams.PreviewSecureSignIn(ctx, "olive", team.ID)
			if err != nil || len(rows) != 3 {
				t.Fatalf("preview with the owner signing in by email = %+v, %v; want three rows", rows, err)
			}
			for _, row := range rows {
				if row.Owner != (row.UserID == "olive") {
					t.Errorf("preview row of %s marks the owner %v", row.UserID, row.Owner)
				}
			}
		})
		t.Run("an actor who signs in insecurely cannot turn it on", func(t *testing.T) {
			if _, err := r.Teams.SetSecureSignIn(ctx, "max", team.ID, true); !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("SetSecureSignIn by a member: %v, want ErrDenied", err)
			}
			setSignIn(t, r, "olive", store.SignInEmail)
			_, err := r.Teams.SetSecureSignIn(ctx, "olive", team.ID, true)
			if !errors.Is(err, teams.ErrInsecureActor) {
				t.Errorf("SetSecureSignIn by an owner signing in with a password: %v, want ErrInsecureActor", err)
			}
			setSignIn(t, r, "olive", store.SignInGoogle)
			if acct, _ := r.Teams.Account(ctx, "olive", team.ID); acct.RequireSecureSignIn {
				t.Error("a refused SetSecureSignIn changed the account")
			}
		})

		rev, events := rostertest.Writes(t, s)
		acct, err := r.Teams.SetSecureSignIn(ctx, "olive", team.ID, true)
		if err != nil || !acct.RequireSecureSignIn {
			t.Fatalf("SetSecureSignIn = %+v, %v", acct, err)
		}
		if rev2, events2 := rostertest.Writes(t, s); rev2 != rev+1 || events2 != events+1 {
			t.Errorf("turning it on: revision %d -> %d, events %d -> %d; want one of each", rev, rev2, events, events2)
		}
		if last := rostertest.Events(t, s, team.ID)[0]; last.Action != store.EventAccountSecureSignIn || last.Actor != "olive" {
			t.Errorf("last event = %+v, want olive's %s", last, store.EventAccountSecureSignIn)
		}

		t.Run("Can refuses members who sign in insecurely, and says why", func(t *testing.T) {
			for _, id := range []string{"max", "bea"} {
				for _, a := range r.Policy().Actions() {
					if r.Can(ctx, id, team.ID, a) {
						t.Errorf("%s, signing in with a password, may %s", id, a)
					}
				}
				if err := r.Check(ctx, id, team.ID, rbac.ResourcesRead); !errors.Is(err, rbac.ErrSecureSignIn) {
					t.Errorf("Check(%s) = %v, want ErrSecureSignIn", id, err)
				}
				if err := r.CheckStrict(ctx, id, team.ID, rbac.ResourcesRead); !errors.Is(err, rbac.ErrSecureSignIn) {
					t.Errorf("CheckStrict(%s) = %v, want ErrSecureSignIn", id, err)
				}
				if d := r.Explain(ctx, id, team.ID, rbac.ResourcesRead); d.Allowed || d.Role == "" || !errors.Is(d.Err, rbac.ErrSecureSignIn) {
					t.Errorf("Explain(%s) = %+v, want denied with the member's role and ErrSecureSignIn", id, d)
				}
			}
			if !r.Can(ctx, "gus", team.ID, rbac.ResourcesCreate) || !r.Can(ctx, "olive", team.ID, rbac.SettingsManage) {
				t.Error("members signing in with Google lost access")
			}
			if n := testing.AllocsPerRun(100, func() { r.Can(ctx, "max", team.ID, rbac.ResourcesRead) }); n != 0 {
				t.Errorf("Can for a refused insecure member allocates %.1f times", n)
			}
		})
		t.Run("the services refuse them too, and record it", func(t *testing.T) {
			if _, _, err := r.Teams.Members(ctx, "max", team.ID, store.Page{}); !errors.Is(err, rbac.ErrSecureSignIn) {
				t.Errorf("Members by max = %v, want ErrSecureSignIn", err)
			}
			if _, err := r.Invites.CreateLink(ctx, "max", team.ID, rbac.DigitalOceanMember); !errors.Is(err, rbac.ErrSecureSignIn) {
				t.Errorf("CreateLink by max = %v, want ErrSecureSignIn", err)
			}
			last := rostertest.Events(t, s, team.ID)[0]
			if last.Action != store.EventInviteCreated || last.Result != store.Denied || last.Actor != "max" {
				t.Errorf("last event = %+v, want max's denied invite.created", last)
			}
		})
		t.Run("invitations now require secure sign-in", func(t *testing.T) {
			inv, err := r.Invites.CreateLink(ctx, "olive", team.ID, rbac.DigitalOceanMember)
			if err != nil || !inv.RequireSecure {
				t.Fatalf("CreateLink = %+v, %v; want RequireSecure", inv, err)
			}
			rostertest.User(t, r, "newbie") // a password
			if _, err := r.Invites.Accept(ctx, "newbie", inv.Token); !errors.Is(err, invites.ErrInsecureSignIn) {
				t.Errorf("Accept by a password user = %v, want ErrInsecureSignIn", err)
			}
			setSignIn(t, r, "newbie", store.SignInEmail2FA)
			if _, err := r.Invites.Accept(ctx, "newbie", inv.Token); err != nil {
				t.Errorf("Accept with 2FA = %v", err)
			}
		})
		t.Run("an invite from a member the team shuts out waits for them", func(t *testing.T) {
			inv, err := r.Invites.CreateLink(ctx, "olive", team.ID, rbac.DigitalOceanMember)
			if err != nil {
				t.Fatal(err)
			}
			setSignIn(t, r, "olive", store.SignInEmail) // the inviter stops signing in securely
			rostertest.User(t, r, "nia")
			setSignIn(t, r, "nia", store.SignInGoogle)
			if _, err := r.Invites.Accept(ctx, "nia", inv.Token); !errors.Is(err, invites.ErrInviterInsecure) {
				t.Errorf("Accept of an invite whose inviter is shut out = %v, want ErrInviterInsecure", err)
			}
			setSignIn(t, r, "olive", store.SignInGoogle)
			if _, err := r.Invites.Accept(ctx, "nia", inv.Token); err != nil {
				t.Errorf("Accept once the inviter signs in securely again = %v", err)
			}
		})
		t.Run("a member regains access by enabling a secure method", func(t *testing.T) {
			setSignIn(t, r, "max", store.SignInEmail2FA)
			if !r.Can(ctx, "max", team.ID, rbac.ResourcesCreate) {
				t.Error("max, now with 2FA, is still refused")
			}
			setSignIn(t, r, "max", store.SignInEmail)
			if r.Can(ctx, "max", team.ID, rbac.ResourcesRead) {
				t.Error("max, back to a password, is allowed")
			}
		})
		t.Run("they can neither switch to the team nor take part in a transfer", func(t *testing.T) {
			if err := r.Teams.Switch(ctx, "max", team.ID); !errors.Is(err, rbac.ErrSecureSignIn) {
				t.Errorf("Switch by max = %v, want ErrSecureSignIn", err)
			}
			tr, err := r.Teams.TransferOwnership(ctx, "olive", team.ID, "max")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Teams.ConfirmTransfer(ctx, "olive", tr.ID, box.Token(tr.ID)); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Teams.AcceptTransfer(ctx, "max", tr.ID, box.Token(tr.ID)); !errors.Is(err, rbac.ErrSecureSignIn) {
				t.Errorf("AcceptTransfer by max = %v, want ErrSecureSignIn", err)
			}
			if acct, err := r.Teams.Account(ctx, "olive", team.ID); err != nil || acct.Owner != "olive" {
				t.Errorf("account after the refused acceptance = %+v, %v; want olive still its owner", acct, err)
			}
			if err := r.Teams.CancelTransfer(ctx, "olive", team.ID, tr.ID); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("another instance opened now refuses them too", func(t *testing.T) {
			r2 := rostertest.New(t, s, rbac.DigitalOcean())
			if r2.Can(ctx, "bea", team.ID, rbac.BillingRead) || !r2.Can(ctx, "gus", team.ID, rbac.ResourcesRead) {
				t.Error("an index loaded from the store does not know the team requires secure sign-in")
			}
		})
		t.Run("a refused member may still leave", func(t *testing.T) {
			if err := r.Teams.Leave(ctx, "bea", team.ID); err != nil {
				t.Errorf("Leave by bea = %v", err)
			}
		})
		t.Run("turning it off restores access", func(t *testing.T) {
			if _, err := r.Teams.SetSecureSignIn(ctx, "olive", team.ID, false); err != nil {
				t.Fatal(err)
			}
			if !r.Can(ctx, "max", team.ID, rbac.ResourcesCreate) {
				t.Error("max is refused after the team stopped requiring secure sign-in")
			}
			rev, events := rostertest.Writes(t, s)
			if _, err := r.Teams.SetSecureSignIn(ctx, "olive", team.ID, false); err != nil {
				t.Fatal(err)
			}
			if rev2, events2 := rostertest.Writes(t, s); rev2 != rev || events2 != events {
				t.Error("setting what is set wrote")
			}
		})
		t.Run("personal accounts have no such setting; deleting the team clears it", func(t *testing.T) {
			personal := rostertest.User(t, r, "solo")
			setSignIn(t, r, "solo", store.SignInGoogle)
			if _, err := r.Teams.SetSecureSignIn(ctx, "solo", personal.ID, true); !errors.Is(err, store.ErrNotTeam) {
				t.Errorf("SetSecureSignIn on a personal account = %v, want ErrNotTeam", err)
			}
			if _, err := r.Teams.SetSecureSignIn(ctx, "olive", team.ID, true); err != nil {
				t.Fatal(err)
			}
			acct, err := r.Teams.DeleteTeam(ctx, "olive", team.ID)
			if err != nil || acct.RequireSecureSignIn {
				t.Errorf("DeleteTeam = %+v, %v; want a personal account without the requirement", acct, err)
			}
		})
	})
}
