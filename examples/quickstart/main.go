// Command quickstart runs the Runpod team flow end to end on a SQLite file
// in a new temporary directory, printing each step and each Can answer.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/notify"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

func main() {
	dir, err := os.MkdirTemp("", "roster-quickstart-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := run(context.Background(), os.Stdout, filepath.Join(dir, "roster.db")); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, w io.Writer, path string) error {
	r, err := roster.Open(ctx, path, // SQLite file, Runpod policy
		roster.WithBaseURL("https://app.example.com"), // links are built from it
		roster.WithNotifier(&notify.Log{W: w}),        // "sends" emails to w
	)
	if err != nil {
		return err
	}
	defer r.Close()
	fmt.Fprintf(w, "opened %s with the %s policy\n", filepath.Base(path), r.Policy().Name())

	users := []store.User{
		{ID: "alice", Email: "alice@example.com", Name: "Alice", SignIn: store.SignInGoogle},
		{ID: "bob", Email: "bob@example.com", Name: "Bob", SignIn: store.SignInEmail2FA},
		{ID: "carol", Email: "carol@example.com", Name: "Carol", SignIn: store.SignInGitHub},
	}
	var alice store.Account
	for _, u := range users {
		acct, err := r.Teams.CreateUser(ctx, u)
		if err != nil {
			return err
		}
		if u.ID == "alice" {
			alice = acct
		}
		fmt.Fprintf(w, "created user %s with a personal account\n", u.ID)
	}

	team, err := r.Teams.ConvertToTeam(ctx, "alice", alice.ID, "Acme")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "alice converted her personal account to the team %q (same account ID)\n", team.Name)

	// Runpod's way: an invite link to copy and share.
	inv, err := r.Invites.CreateLink(ctx, "alice", team.ID, rbac.RunpodDev)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "alice created an invite link for the dev role: %s\n", inv.Link)
	m, err := r.Invites.Accept(ctx, "bob", inv.Token)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "bob opened the link and joined as %s\n", m.Role)
	if _, err := r.Invites.Accept(ctx, "carol", inv.Token); err != nil {
		fmt.Fprintf(w, "carol tried the same link: %v\n", err)
	}

	// DigitalOcean's way: invitations by email, bound to the address.
	sent, err := r.Invites.CreateEmail(ctx, "alice", team.ID, rbac.RunpodBilling, []string{"Carol@Example.com"})
	if err != nil {
		return err
	}
	pending, _, err := r.Invites.Pending(ctx, "alice", team.ID, store.Page{}) // the first page
	if err != nil {
		return err
	}
	for _, p := range pending {
		fmt.Fprintf(w, "pending invite: %s as %s, created by %s\n", p.Email, p.Role, p.CreatedBy)
	}
	m, err = r.Invites.Accept(ctx, "carol", sent[0].Token)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "carol accepted the emailed invite and joined as %s\n", m.Role)

	ask := func(user string, action rbac.Action) {
		fmt.Fprintf(w, "  Can(%s, Acme, %s) = %v\n", user, action, r.Can(ctx, user, team.ID, action))
	}
	ask("bob", rbac.PodsManage)
	ask("bob", rbac.BillingRead)
	ask("carol", rbac.BillingManage)
	ask("carol", rbac.PodsConnect)
	fmt.Fprintf(w, "  Check(carol, Acme, %s): %v\n", rbac.PodsConnect, r.Check(ctx, "carol", team.ID, rbac.PodsConnect))

	if _, err := r.Teams.ChangeRole(ctx, "alice", team.ID, "bob", rbac.RunpodBasic); err != nil {
		return err
	}
	fmt.Fprintln(w, "alice changed bob's role to basic")
	ask("bob", rbac.PodsManage)
	ask("bob", rbac.PodsConnect)

	if err := r.Teams.RemoveMember(ctx, "alice", team.ID, "carol"); err != nil {
		return err
	}
	fmt.Fprintln(w, "alice removed carol")
	ask("carol", rbac.BillingRead)

	if err := r.Teams.Leave(ctx, "alice", team.ID); err != nil {
		fmt.Fprintf(w, "alice tried to leave: %v\n", err)
	}

	events, _, err := r.Audit.Query(ctx, "alice", team.ID, audit.Filter{})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "audit log, newest first:")
	for _, e := range events {
		fmt.Fprintf(w, "  %s %-20s by %-6s on %s %s\n", e.Time.Format("15:04:05"), e.Action, e.Actor, e.ResourceType, e.ResourceID)
	}
	return nil
}
