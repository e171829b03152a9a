package roster_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// member is a user and the role exampleTeam gives them.
type member struct {
	id   string
	role rbac.Role
}

// exampleTeam opens a Roster on a SQLite file in a new temporary directory,
// with alice's team Acme and the members added in order; alice signs in
// with GitHub, the others with email. done closes the Roster and removes
// the directory.
func exampleTeam(ctx context.Context, members ...member) (r *roster.Roster, team store.Account, done func()) {
	dir, err := os.MkdirTemp("", "roster-example-")
	if err != nil {
		log.Fatal(err)
	}
	r, err = roster.Open(ctx, filepath.Join(dir, "roster.db"))
	if err != nil {
		log.Fatal(err)
	}
	done = func() {
		if err := r.Close(); err != nil {
			log.Print(err)
		}
		os.RemoveAll(dir)
	}
	alice, err := r.Teams.CreateUser(ctx, store.User{ID: "alice", Email: "alice@example.com", Name: "Alice", SignIn: store.SignInGitHub})
	if err != nil {
		log.Fatal(err)
	}
	if team, err = r.Teams.ConvertToTeam(ctx, "alice", alice.ID, "Acme"); err != nil {
		log.Fatal(err)
	}
	for _, m := range members {
		if _, err := r.Teams.CreateUser(ctx, store.User{ID: m.id, Email: m.id + "@example.com", Name: m.id, SignIn: store.SignInEmail}); err != nil {
			log.Fatal(err)
		}
		if _, err := r.Teams.AddMember(ctx, "alice", team.ID, m.id, m.role); err != nil {
			log.Fatal(err)
		}
	}
	return r, team, done
}

// Require guards a route of http.ServeMux: the host supplies its own
// authentication (here an X-User header, for the example only) and the
// team comes from the {team} path value. The handler finds both in the
// request's context.
func ExampleRoster_Require() {
	ctx := context.Background()
	r, team, done := exampleTeam(ctx, member{"bob", rbac.RunpodDev}, member{"carol", rbac.RunpodBilling})
	defer done()

	opts := roster.HTTPOptions{
		User: func(req *http.Request) (string, bool) { // replace with your own authentication
			u := req.Header.Get("X-User")
			return u, u != ""
		},
		Team: roster.TeamFromPath("team"),
	}
	mux := http.NewServeMux()
	mux.Handle("POST /teams/{team}/pods", r.Require(rbac.PodsManage, opts)(http.HandlerFunc(
		func(w http.ResponseWriter, req *http.Request) {
			user, _ := roster.UserFrom(req.Context())
			team, _ := roster.TeamFrom(req.Context())
			fmt.Fprintf(w, "%s creates a pod in %s", user, team)
		})))

	for _, user := range []string{"bob", "carol", ""} {
		req := httptest.NewRequest("POST", "/teams/"+team.ID+"/pods", nil)
		req.Header.Set("X-User", user)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
		if rec.Code != http.StatusOK {
			fmt.Print(rec.Body)
		}
	}
	// Output:
	// 200 text/plain; charset=utf-8
	// 403 application/problem+json
	// {"type":"about:blank","title":"Forbidden","status":403,"detail":"your role \"billing\" may not pods.manage on this account"}
	// 401 application/problem+json
	// {"type":"about:blank","title":"Unauthorized","status":401,"detail":"sign in first"}
}

// The team page: the members table (with sign-in methods for those who
// manage members), a role change and a removal, each in the audit log.
func ExampleRoster_members() {
	ctx := context.Background()
	r, team, done := exampleTeam(ctx, member{"bob", rbac.RunpodDev})
	defer done()
	if _, err := r.Teams.ChangeRole(ctx, "alice", team.ID, "bob", rbac.RunpodBilling); err != nil {
		log.Fatal(err)
	}
	show := func(viewer string) {
		rows, err := r.Teams.Members(ctx, viewer, team.ID)
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
