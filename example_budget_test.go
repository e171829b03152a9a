package roster_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/store/sqlstore"
)

// A Roster that holds in memory only the accounts it is asked about, for a
// user base whose memberships do not fit in every instance's memory: the
// first question about an account reads it from the Store, the next ones
// are answered from memory, and Health says what the memory holds.
func ExampleWithMemoryBudget() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "roster-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	s, err := sqlstore.OpenSQLite(filepath.Join(dir, "roster.db")) // or OpenPostgres
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	// Another instance (here, one holding everything) made a team.
	other, err := roster.New(ctx, s, rbac.Runpod())
	if err != nil {
		log.Fatal(err)
	}
	defer other.Close()
	alice, err := other.Teams.CreateUser(ctx, store.User{ID: "alice", Email: "alice@example.com", Name: "Alice", SignIn: store.SignInGoogle})
	if err != nil {
		log.Fatal(err)
	}

	r, err := roster.New(ctx, s, rbac.Runpod(), roster.WithMemoryBudget(64<<20))
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	fmt.Println("accounts held at first:", r.Health().Accounts)
	fmt.Println("alice may access her account:", r.Can(ctx, "alice", alice.ID, rbac.AccountAccess))
	fmt.Println("asked again:", r.Can(ctx, "alice", alice.ID, rbac.AccountAccess))
	h := r.Health()
	fmt.Println("accounts held:", h.Accounts, "read from the store:", h.AccountReads)
	// Output:
	// accounts held at first: 0
	// alice may access her account: true
	// asked again: true
	// accounts held: 1 read from the store: 1
}
