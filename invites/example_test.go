package invites_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/invites"
	"github.com/teamroster/roster/notify"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// Runpod's flow: an admin creates an invite link with a role, copies it and
// shares it; the invitee opens it and selects Join Team.
func ExampleService_CreateLink() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "roster-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	r, err := roster.Open(ctx, filepath.Join(dir, "roster.db"), // Runpod policy
		roster.WithBaseURL("https://app.example.com"))
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	alice, err := r.Teams.CreateUser(ctx, store.User{ID: "alice", Email: "alice@example.com", Name: "Alice", SignIn: store.SignInGoogle})
	if err != nil {
		log.Fatal(err)
	}
	for _, u := range []store.User{
		{ID: "bob", Email: "bob@example.com", Name: "Bob", SignIn: store.SignInEmail},
		{ID: "carol", Email: "carol@example.com", Name: "Carol", SignIn: store.SignInGitHub},
	} {
		if _, err := r.Teams.CreateUser(ctx, u); err != nil {
			log.Fatal(err)
		}
	}
	team, err := r.Teams.ConvertToTeam(ctx, "alice", alice.ID, "Acme")
	if err != nil {
		log.Fatal(err)
	}

	inv, err := r.Invites.CreateLink(ctx, "alice", team.ID, rbac.RunpodDev)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("link:", strings.TrimSuffix(inv.Link, inv.Token)+"<token>")

	// Bob opens the link; the host application takes the token from the path.
	token := path.Base(inv.Link)
	p, err := r.Invites.Preview(ctx, token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("join %s as %s? (invited by %s)\n", p.Team, p.Role, p.InviterName)
	m, err := r.Invites.Accept(ctx, "bob", token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("bob joined as", m.Role)
	fmt.Println("bob may manage pods:", r.Can(ctx, "bob", team.ID, rbac.PodsManage))

	// The link was for one person.
	_, err = r.Invites.Accept(ctx, "carol", token)
	fmt.Println("carol:", errors.Is(err, invites.ErrUsed))
	// Output:
	// link: https://app.example.com/invites/<token>
	// join Acme as dev? (invited by Alice)
	// bob joined as dev
	// bob may manage pods: true
	// carol: true
}

// mailer is the host application's notify.Notifier. A real one sends
// m.Link to m.To by email; this one prints the message without the secret
// link.
type mailer struct{}

func (mailer) SendInvite(ctx context.Context, m notify.Invite) error {
	fmt.Printf("mail to %s: %s invites you to %s as %s\n", m.To, m.InviterName, m.Team, m.Role)
	return nil
}

func (mailer) TransferConfirm(ctx context.Context, m notify.Transfer) error {
	fmt.Printf("mail to %s: confirm the transfer of %s\n", m.Email, m.TeamName)
	return nil
}

func (mailer) TransferAccept(ctx context.Context, m notify.Transfer) error {
	fmt.Printf("mail to %s: accept the transfer of %s\n", m.Email, m.TeamName)
	return nil
}

// DigitalOcean's flow: an owner invites several addresses at once with a
// role; each invite can only be accepted from its own address.
func ExampleService_CreateEmail() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "roster-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	r, err := roster.Open(ctx, filepath.Join(dir, "roster.db"),
		roster.WithPolicy(rbac.DigitalOcean()),
		roster.WithBaseURL("https://cloud.example.com"),
		roster.WithNotifier(mailer{}),
		roster.WithInvites(invites.WithDefaultExpiry(7*24*time.Hour)),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	olive, err := r.Teams.CreateUser(ctx, store.User{ID: "olive", Email: "olive@example.com", Name: "Olive", SignIn: store.SignInGitHub})
	if err != nil {
		log.Fatal(err)
	}
	team, err := r.Teams.ConvertToTeam(ctx, "olive", olive.ID, "Droplets")
	if err != nil {
		log.Fatal(err)
	}
	invs, err := r.Invites.CreateEmail(ctx, "olive", team.ID, rbac.DigitalOceanModifier,
		[]string{"Max@Example.com", "zoe@example.com", "max@example.com"}, invites.RequireSecure())
	if err != nil {
		log.Fatal(err)
	}

	// Max signs up with his address in other letters and with 2FA.
	if _, err := r.Teams.CreateUser(ctx, store.User{ID: "max", Email: "MAX@example.com", Name: "Max", SignIn: store.SignInEmail2FA}); err != nil {
		log.Fatal(err)
	}
	_, err = r.Invites.Accept(ctx, "max", invs[1].Token) // Zoe's invite
	fmt.Println("max with zoe's link:", errors.Is(err, invites.ErrWrongEmail))
	if _, err := r.Invites.Accept(ctx, "max", invs[0].Token); err != nil {
		log.Fatal(err)
	}
	fmt.Println("max may update resources:", r.Can(ctx, "max", team.ID, rbac.ResourcesUpdate))

	pending, _, err := r.Invites.Pending(ctx, "olive", team.ID, store.Page{})
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range pending {
		fmt.Println("pending:", p.Email, p.Role, p.Status, p.ExpiresAt.Sub(p.CreatedAt))
	}
	// Output:
	// mail to max@example.com: Olive invites you to Droplets as modifier
	// mail to zoe@example.com: Olive invites you to Droplets as modifier
	// max with zoe's link: true
	// max may update resources: true
	// pending: zoe@example.com modifier pending 168h0m0s
}

// Resending gives an invite a new token; the old link stops working.
func ExampleService_Resend() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "roster-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	r, err := roster.Open(ctx, filepath.Join(dir, "roster.db"),
		roster.WithBaseURL("https://app.example.com"))
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
	old, err := r.Invites.CreateLink(ctx, "alice", team.ID, rbac.RunpodBasic)
	if err != nil {
		log.Fatal(err)
	}
	renewed, err := r.Invites.Resend(ctx, "alice", team.ID, old.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("same invite, new link:", renewed.ID == old.ID, renewed.Link != old.Link)
	_, err = r.Invites.Accept(ctx, "bob", old.Token)
	fmt.Println("old link:", errors.Is(err, invites.ErrSuperseded))
	_, err = r.Invites.Accept(ctx, "bob", renewed.Token)
	fmt.Println("new link:", err)
	// Output:
	// same invite, new link: true true
	// old link: true
	// new link: <nil>
}

// With link secrets, a member allowed to invite copies a pending invite's
// link again from the pending invites: the same link, which keeps working.
func ExampleService_Link() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "roster-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	// In production the key comes from your secret store, never the database.
	key, err := invites.NewSecret("2026-11", []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		log.Fatal(err)
	}
	r, err := roster.Open(ctx, filepath.Join(dir, "roster.db"),
		roster.WithBaseURL("https://app.example.com"), roster.WithLinkSecrets(key))
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	alice, err := r.Teams.CreateUser(ctx, store.User{ID: "alice", Email: "alice@example.com", Name: "Alice", SignIn: store.SignInGoogle})
	if err != nil {
		log.Fatal(err)
	}
	team, err := r.Teams.ConvertToTeam(ctx, "alice", alice.ID, "Acme")
	if err != nil {
		log.Fatal(err)
	}
	inv, err := r.Invites.CreateLink(ctx, "alice", team.ID, rbac.RunpodDev)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("token:", inv.Token[:len("rsti_2026-11_")]+"...")

	pending, _, err := r.Invites.Pending(ctx, "alice", team.ID, store.Page{}) // lists no tokens
	if err != nil {
		log.Fatal(err)
	}
	again, err := r.Invites.Link(ctx, "alice", team.ID, pending[0].ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("same link:", again.Link == inv.Link)
	// Output:
	// token: rsti_2026-11_...
	// same link: true
}

func ExampleCanonicalEmail() {
	for _, addr := range []string{"Bob@Example.COM", "bob+team@example.com", "b\u043eb@example.com"} {
		c, err := invites.CanonicalEmail(addr)
		fmt.Printf("%q %v\n", c, err != nil)
	}
	// Output:
	// "bob@example.com" false
	// "bob+team@example.com" false
	// "" true
}
