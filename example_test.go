package roster_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/notify"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// The main flow: open roster on a SQLite file, convert a personal account
// into a team, add a member, and ask Can in a handler.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "roster-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	r, err := roster.Open(ctx, filepath.Join(dir, "roster.db")) // Runpod policy
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	alice, err := r.Teams.CreateUser(ctx, store.User{ID: "alice", Email: "alice@example.com", Name: "Alice", SignIn: store.SignInGoogle})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Teams.CreateUser(ctx, store.User{ID: "bob", Email: "bob@example.com", Name: "Bob", SignIn: store.SignInEmail}); err != nil {
		log.Fatal(err)
	}
	team, err := r.Teams.ConvertToTeam(ctx, "alice", alice.ID, "Acme")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Teams.AddMember(ctx, "alice", team.ID, "bob", rbac.RunpodDev); err != nil {
		log.Fatal(err)
	}

	fmt.Println("same account:", team.ID == alice.ID)
	fmt.Println("bob may manage pods:", r.Can(ctx, "bob", team.ID, rbac.PodsManage))
	fmt.Println("bob may read billing:", r.Can(ctx, "bob", team.ID, rbac.BillingRead))
	fmt.Println(r.Explain(ctx, "bob", team.ID, rbac.PodsManage).Allowed)

	events, _, err := r.Audit.Query(ctx, "alice", team.ID, audit.Filter{Action: "member.added"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("audit:", events[0].Action, events[0].ResourceID, events[0].After)
	// Output:
	// same account: true
	// bob may manage pods: true
	// bob may read billing: false
	// true
	// audit: member.added bob {"role":"dev"}
}

// Check says why a user may not do something.
func ExampleRoster_Check() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "roster-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	r, err := roster.Open(ctx, filepath.Join(dir, "roster.db"), roster.WithPolicy(rbac.DigitalOcean()))
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	olive, err := r.Teams.CreateUser(ctx, store.User{ID: "olive", Email: "olive@example.com", Name: "Olive", SignIn: store.SignInGitHub})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Teams.CreateUser(ctx, store.User{ID: "max", Email: "max@example.com", Name: "Max", SignIn: store.SignInEmail2FA}); err != nil {
		log.Fatal(err)
	}
	team, err := r.Teams.ConvertToTeam(ctx, "olive", olive.ID, "Droplets")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Teams.AddMember(ctx, "olive", team.ID, "max", rbac.DigitalOceanModifier); err != nil {
		log.Fatal(err)
	}

	fmt.Println(r.Check(ctx, "max", team.ID, rbac.ResourcesUpdate))
	d := r.Explain(ctx, "max", team.ID, rbac.ResourcesDelete)
	fmt.Println(d.Allowed, d.Role)
	// Output:
	// <nil>
	// false modifier
}

// mailbox is the host application's Notifier in the examples: it keeps the
// last link token sent to each user instead of emailing it.
type mailbox map[string]string

func (m mailbox) TransferConfirm(_ context.Context, n notify.Transfer) error {
	m[n.From] = n.Token
	return nil
}

func (m mailbox) TransferAccept(_ context.Context, n notify.Transfer) error {
	m[n.To] = n.Token
	return nil
}

func (m mailbox) SendInvite(_ context.Context, msg notify.Invite) error {
	m[msg.To] = msg.Link
	return nil
}

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
	olive, err := r.Teams.CreateUser(ctx, store.User{ID: "olive", Email: "olive@example.com", Name: "Olive", SignIn: store.SignInGitHub})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Teams.CreateUser(ctx, store.User{ID: "max", Email: "max@example.com", Name: "Max", SignIn: store.SignInGoogle}); err != nil {
		log.Fatal(err)
	}
	team, err := r.Teams.ConvertToTeam(ctx, "olive", olive.ID, "Droplets")
	if err != nil {
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

// A user's account selector: joining a team does not switch to it.
func ExampleRoster_switchAccounts() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "roster-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	r, err := roster.Open(ctx, filepath.Join(dir, "roster.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	alice, err := r.Teams.CreateUser(ctx, store.User{ID: "alice", Email: "alice@example.com", Name: "Alice", SignIn: store.SignInEmail})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Teams.CreateUser(ctx, store.User{ID: "bob", Email: "bob@example.com", Name: "Bob", SignIn: store.SignInEmail}); err != nil {
		log.Fatal(err)
	}
	team, err := r.Teams.ConvertToTeam(ctx, "alice", alice.ID, "Acme")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Teams.AddMember(ctx, "alice", team.ID, "bob", rbac.RunpodDev); err != nil {
		log.Fatal(err)
	}
	show := func() {
		accounts, err := r.Teams.Accounts(ctx, "bob")
		if err != nil {
			log.Fatal(err)
		}
		for _, a := range accounts {
			name := a.Account.Name
			if a.Account.Kind == store.Personal {
				name = "(personal)"
			}
			fmt.Printf("%-10s %-5s active=%v\n", name, a.Role, a.Active)
		}
	}
	show()
	if err := r.Teams.Switch(ctx, "bob", team.ID); err != nil {
		log.Fatal(err)
	}
	show()
	// Output:
	// (personal) admin active=true
	// Acme       dev   active=false
	// (personal) admin active=false
	// Acme       dev   active=true
}
