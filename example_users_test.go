package roster_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// Keeping users in step with the host's sign-in, a team of one's own, and a
// team that requires secure sign-in (DigitalOcean).
func ExampleRoster_secureSignIn() {
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

	// The host's sign-in callback: UpsertUser creates a user on their
	// first sign-in and updates them later; an unchanged user writes
	// nothing.
	signIn := func(id string, method store.SignIn) {
		if _, _, err := r.Teams.UpsertUser(ctx, store.User{ID: id, Email: id + "@example.com", Name: id, SignIn: method}); err != nil {
			log.Fatal(err)
		}
	}
	signIn("olive", store.SignInGoogle)
	signIn("max", store.SignInEmail)

	// Olive keeps her personal account and creates a team besides it.
	team, err := r.Teams.CreateTeam(ctx, "olive", "Ocean Labs")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Teams.AddMember(ctx, "olive", team.ID, "max", rbac.DigitalOceanMember); err != nil {
		log.Fatal(err)
	}

	// Who would lose access if the team required secure sign-in?
	rows, err := r.Teams.PreviewSecureSignIn(ctx, "olive", team.ID)
	if err != nil {
		log.Fatal(err)
	}
	for _, row := range rows {
		fmt.Println("would lose access:", row.UserID, "signs in with", row.SignIn)
	}
	if _, err := r.Teams.SetSecureSignIn(ctx, "olive", team.ID, true); err != nil {
		log.Fatal(err)
	}
	err = r.Check(ctx, "max", team.ID, rbac.ResourcesRead)
	fmt.Println("max refused for his sign-in:", errors.Is(err, rbac.ErrSecureSignIn))

	// Max turns on two-factor authentication; the next sign-in tells roster.
	signIn("max", store.SignInEmail2FA)
	fmt.Println("max may read resources:", r.Can(ctx, "max", team.ID, rbac.ResourcesRead))
	// Output:
	// would lose access: max signs in with email
	// max refused for his sign-in: true
	// max may read resources: true
}
