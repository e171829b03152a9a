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

// Require guards a route of http.ServeMux: the host supplies its own
// authentication (here an X-User header, for the example only) and the
// team comes from the {team} path value. The handler finds both in the
// request's context; a refusal is a problem report.
func ExampleRoster_Require() {
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

	// alice's team Acme, with bob as a dev and carol in billing.
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
	if _, err := r.Teams.CreateUser(ctx, store.User{ID: "carol", Email: "carol@example.com", Name: "Carol", SignIn: store.SignInEmail}); err != nil {
		log.Fatal(err)
	}
	if _, err := r.Teams.AddMember(ctx, "alice", team.ID, "carol", rbac.RunpodBilling); err != nil {
		log.Fatal(err)
	}

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
