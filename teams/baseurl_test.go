package teams_test

import (
	"context"
	"testing"

	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teams"
)

// TestWithBaseURL checks that a Service wired by hand builds transfer links
// from the base URL as roster.WithBaseURL does: the base URL without its
// trailing slash, "/transfers/", the transfer ID and the token.
func TestWithBaseURL(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		in := &rostertest.Inbox{}
		tm := teams.New(b.Store(t), rbac.Runpod(), teams.WithBaseURL("https://app.example.com/team/"), teams.WithNotifier(in))
		olive, err := tm.CreateUser(ctx, store.User{ID: "olive", Email: "olive@example.com", Name: "Olive", SignIn: store.SignInGitHub})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tm.CreateUser(ctx, store.User{ID: "max", Email: "max@example.com", Name: "Max", SignIn: store.SignInGoogle}); err != nil {
			t.Fatal(err)
		}
		if _, err := tm.ConvertToTeam(ctx, "olive", olive.ID, "Acme"); err != nil {
			t.Fatal(err)
		}
		if _, err := tm.AddMember(ctx, "olive", olive.ID, "max", rbac.RunpodDev); err != nil {
			t.Fatal(err)
		}
		tr, err := tm.TransferOwnership(ctx, "olive", olive.ID, "max")
		if err != nil {
			t.Fatal(err)
		}
		n := in.Last(t, "olive")
		if want := "https://app.example.com/team/transfers/" + tr.ID + "?token=" + n.Token; n.Link != want {
			t.Errorf("confirmation link = %q, want %q", n.Link, want)
		}
	})
}
