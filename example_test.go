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
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teams"
)

// The main flow: open roster on a SQLite file, convert a personal account
// into a team, add a member, then ask Can (in a handler) and Check (to say
// why not), and read the audit log.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "roster-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	r, err := roster.Open(ctx, filepath.Join(dir, "roster.db")) // the Runpod policy
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	// CreateUser registers alice with her personal account, which she
	// converts into the team Acme.
	personal, err := r.Teams.CreateUser(ctx, store.User{ID: "alice", Email: "alice@example.com", Name: "Alice", SignIn: store.SignInGoogle})
	if err != nil {
		log.Fatal(err)
	}
	team, err := r.Teams.ConvertToTeam(ctx, "alice", personal.ID, "Acme")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Teams.CreateUser(ctx, store.User{ID: "bob", Email: "bob@example.com", Name: "Bob", SignIn: store.SignInEmail}); err != nil {
		log.Fatal(err)
	}
	if _, err := r.Teams.AddMember(ctx, "alice", team.ID, "bob", rbac.RunpodDev); err != nil {
		log.Fatal(err)
	}

	fmt.Println("same account:", team.ID == personal.ID)
	fmt.Println("bob may manage pods:", r.Can(ctx, "bob", team.ID, rbac.PodsManage))
	fmt.Println("bob may read billing:", r.Can(ctx, "bob", team.ID, rbac.BillingRead))
	// Check says why not, in an error wrapping rbac.ErrDenied; Explain
	// gives the whole decision.
	err = r.Check(ctx, "bob", team.ID, rbac.BillingRead)
	fmt.Println("denied:", errors.Is(err, rbac.ErrDenied))
	fmt.Println("bob's role:", r.Explain(ctx, "bob", team.ID, rbac.BillingRead).Role)

	events, _, err := r.Audit.Query(ctx, "alice", team.ID, audit.Filter{Action: "member.added"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("audit:", events[0].Action, events[0].ResourceID, events[0].After)
	// Output:
	// same account: true
	// bob may manage pods: true
	// bob may read billing: false
	// denied: true
	// bob's role: dev
	// audit: member.added bob {"role":"dev"}
}

// A user's account selector: joining a team does not switch to it; Switch
// does.
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

	personal, err := r.Teams.CreateUser(ctx, store.User{ID: "alice", Email: "alice@example.com", Name: "Alice", SignIn: store.SignInEmail})
	if err != nil {
		log.Fatal(err)
	}
	team, err := r.Teams.ConvertToTeam(ctx, "alice", personal.ID, "Acme")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Teams.CreateUser(ctx, store.User{ID: "bob", Email: "bob@example.com", Name: "Bob", SignIn: store.SignInEmail}); err != nil {
		log.Fatal(err)
	}
	if _, err := r.Teams.AddMember(ctx, "alice", team.ID, "bob", rbac.RunpodDev); err != nil {
		log.Fatal(err)
	}

	show := func() {
		accounts, _, err := r.Teams.Accounts(ctx, "bob", store.Page{})
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

// The team page: the members table (with sign-in methods for those who
// manage members), a role change and a removal.
func ExampleRoster_members() {
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

	personal, err := r.Teams.CreateUser(ctx, store.User{ID: "alice", Email: "alice@example.com", Name: "Alice", SignIn: store.SignInGitHub})
	if err != nil {
		log.Fatal(err)
	}
	team, err := r.Teams.ConvertToTeam(ctx, "alice", personal.ID, "Acme")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Teams.CreateUser(ctx, store.User{ID: "bob", Email: "bob@example.com", Name: "Bob", SignIn: store.SignInEmail}); err != nil {
		log.Fatal(err)
	}
	if _, err := r.Teams.AddMember(ctx, "alice", team.ID, "bob", rbac.RunpodDev); err != nil {
		log.Fatal(err)
	}

	if _, err := r.Teams.ChangeRole(ctx, "alice", team.ID, "bob", rbac.RunpodBilling); err != nil {
		log.Fatal(err)
	}
	show := func(viewer string) {
		rows, _, err := r.Teams.Members(ctx, viewer, team.ID, store.Page{})
		if err != nil {
			log.Fatal(err)
		}
		for _, m := range rows {
			fmt.Printf("%s sees %s: %s, sign-in %q\n", viewer, m.UserID, m.Role, m.SignIn)
		}
	}
	show("alice")
	show("bob")

	if err := r.Teams.RemoveMember(ctx, "alice", team.ID, "bob"); err != nil {
		log.Fatal(err)
	}
	fmt.Println("bob may read billing:", r.Can(ctx, "bob", team.ID, rbac.BillingRead))
	// Output:
	// alice sees alice: admin, sign-in "github"
	// alice sees bob: billing, sign-in "email"
	// bob sees alice: admin, sign-in ""
	// bob sees bob: billing, sign-in ""
	// bob may read billing: false
}

// The members table a page at a time: each call returns up to Size rows and
// the cursor of the next page, "" after the last. The members come first,
// in the order they joined, then the pending email invites.
func ExampleRoster_pages() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "roster-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	r, err := roster.Open(ctx, filepath.Join(dir, "roster.db"), roster.WithBaseURL("https://app.example.com"))
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	personal, err := r.Teams.CreateUser(ctx, store.User{ID: "alice", Email: "alice@example.com", Name: "Alice", SignIn: store.SignInEmail})
	if err != nil {
		log.Fatal(err)
	}
	team, err := r.Teams.ConvertToTeam(ctx, "alice", personal.ID, "Acme")
	if err != nil {
		log.Fatal(err)
	}
	for _, id := range []string{"bob", "carol", "dan"} {
		if _, err := r.Teams.CreateUser(ctx, store.User{ID: id, Email: id + "@example.com", Name: id, SignIn: store.SignInEmail}); err != nil {
			log.Fatal(err)
		}
		if _, err := r.Teams.AddMember(ctx, "alice", team.ID, id, rbac.RunpodDev); err != nil {
			log.Fatal(err)
		}
	}
	if _, err := r.Invites.CreateEmail(ctx, "alice", team.ID, rbac.RunpodBasic, []string{"erin@example.com"}); err != nil {
		log.Fatal(err)
	}

	for page, n := (store.Page{Size: 2}), 1; ; n++ {
		rows, next, err := r.Teams.Members(ctx, "alice", team.ID, page)
		if err != nil {
			log.Fatal(err)
		}
		for _, m := range rows {
			who := m.UserID
			if m.Status == teams.Pending {
				who = m.Email
			}
			fmt.Printf("page %d: %-7s %-16s %s\n", n, m.Status, who, m.Role)
		}
		if next == "" {
			break
		}
		page.Cursor = next
	}
	// Output:
	// page 1: joined  alice            admin
	// page 1: joined  bob              dev
	// page 2: joined  carol            dev
	// page 2: joined  dan              dev
	// page 3: pending erin@example.com basic
}
