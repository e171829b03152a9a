package roster_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/notify"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// mailbox is the host application's notify.Notifier in this example: it
// keeps the last token sent to each user instead of emailing their link.
type mailbox map[string]string

// TransferConfirm keeps the token of the current owner's link.
func (m mailbox) TransferConfirm(_ context.Context, n notify.Transfer) error {
	m[n.From] = n.Token
	return nil
}

// TransferAccept keeps the token of the new owner's link.
func (m mailbox) TransferAccept(_ context.Context, n notify.Transfer) error {
	m[n.To] = n.Token
	return nil
}

// SendInvite sends nothing: this example invites no one.
func (m mailbox) SendInvite(context.Context, notify.Invite) error { return nil }

// On DigitalOcean another owner is made by a grant the current owner
// confirms through their link and the new owner accepts through theirs; the
// account itself stays its owner's until they hand it over the same way.
func ExampleRoster_ownershipTransfer() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "roster-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	mail := mailbox{}
	r, err := roster.Open(ctx, filepath.Join(dir, "roster.db"),
		roster.WithPolicy(rbac.DigitalOcean()), roster.WithNotifier(mail), roster.WithBaseURL("https://cloud.example.com/team"))
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	// olive's team Droplets, with max as a member.
	personal, err := r.Teams.CreateUser(ctx, store.User{ID: "olive", Email: "olive@example.com", Name: "Olive", SignIn: store.SignInGitHub})
	if err != nil {
		log.Fatal(err)
	}
	team, err := r.Teams.ConvertToTeam(ctx, "olive", personal.ID, "Droplets")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Teams.CreateUser(ctx, store.User{ID: "max", Email: "max@example.com", Name: "Max", SignIn: store.SignInGoogle}); err != nil {
		log.Fatal(err)
	}
	if _, err := r.Teams.AddMember(ctx, "olive", team.ID, "max", rbac.DigitalOceanMember); err != nil {
		log.Fatal(err)
	}

	_, err = r.Teams.ChangeRole(ctx, "olive", team.ID, "max", rbac.DigitalOceanOwner)
	fmt.Println("direct promotion refused:", errors.Is(err, rbac.ErrTopByTransfer))

	t, err := r.Teams.GrantTopRole(ctx, "olive", team.ID, "max")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Teams.ConfirmTransfer(ctx, "olive", t.ID, mail["olive"]); err != nil {
		log.Fatal(err)
	}
	fmt.Println("max is owner after confirmation:", r.Can(ctx, "max", team.ID, rbac.MembersManage))
	if _, err := r.Teams.AcceptTransfer(ctx, "max", t.ID, mail["max"]); err != nil {
		log.Fatal(err)
	}
	fmt.Println("max is owner after accepting:", r.Can(ctx, "max", team.ID, rbac.MembersManage))
	_, err = r.Teams.DeleteTeam(ctx, "max", team.ID)
	fmt.Println("max may delete olive's team:", err == nil)

	h, err := r.Teams.TransferOwnership(ctx, "olive", team.ID, "max")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Teams.ConfirmTransfer(ctx, "olive", h.ID, mail["olive"]); err != nil {
		log.Fatal(err)
	}
	if _, err := r.Teams.AcceptTransfer(ctx, "max", h.ID, mail["max"]); err != nil {
		log.Fatal(err)
	}
	acct, err := r.Teams.Account(ctx, "max", team.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("the account's owner after the handover:", acct.Owner)
	// Output:
	// direct promotion refused: true
	// max is owner after confirmation: false
	// max is owner after accepting: true
	// max may delete olive's team: false
	// the account's owner after the handover: max
}
