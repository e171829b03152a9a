// Command chi mounts roster on a chi router (github.com/go-chi/chi/v5): the
// host's own routes under /teams/{team}, behind roster's middleware on
// their route group and their routes, and roster's team API (package
// teamapi) mounted under /api.
//
//	go run ./chi -addr 127.0.0.1:8080
//
// It opens roster on a SQLite file in a new temporary directory and makes a
// team to try the routes on: alice owns Acme, bob is a dev there, carol is
// in billing and dave is in no team. It prints Acme's ID and requests to
// make, such as
//
//	curl -X POST -H 'X-User: bob' 127.0.0.1:8080/teams/<Acme's ID>/pods
//
// A request's user is whoever its X-User header names: DEMO ONLY, replace
// demoUser with your own authentication.
//
// chi (v5.0.12 and later) sets the request's path values, which
// roster.TeamFromPath reads, when it matches a route, so roster's middleware
// goes where the route is known: in the Use of a group inside Route, or on
// a route with With. In the top-level Use of the router it runs before
// routing, finds no {team} and answers 400. chi.URLParam(req, "team") reads
// the same value as req.PathValue("team").
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teamapi"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	dir, err := os.MkdirTemp("", "roster-chi-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	if err := run(ctx, ln, filepath.Join(dir, "roster.db"), os.Stderr); err != nil {
		log.Print(err)
	}
}

// routes is the host's chi router: a team's pods under /teams/{team}, for
// its members (listing) and for the roles that may manage pods (creating),
// and roster's team API under /api.
func routes(r *roster.Roster) (http.Handler, error) {
	api, err := teamapi.New(r, teamapi.Options{
		User:   demoUser, // DEMO ONLY: replace with your own authentication
		Prefix: "/api",   // the path Mount gives it: teamapi routes on the whole path
	})
	if err != nil {
		return nil, err
	}
	opts := roster.HTTPOptions{
		User: demoUser,
		Team: roster.TeamFromPath("team"), // set by chi once it has matched /teams/{team}
	}
	mux := chi.NewRouter()
	mux.Route("/teams/{team}", func(team chi.Router) {
		team.Use(r.RequireMember(opts)) // every route of the group: members only
		team.Get("/pods", listPods)
		team.With(r.Require(rbac.PodsManage, opts)).Post("/pods", createPod) // and a role that may
	})
	mux.Mount("/api", api)
	return mux, nil
}

// listPods is the host's handler of a team's pods. roster's middleware has
// let the request through and put its user and team in its context.
func listPods(w http.ResponseWriter, req *http.Request) {
	user, _ := roster.UserFrom(req.Context())
	team, _ := roster.TeamFrom(req.Context())
	fmt.Fprintf(w, "%s lists the pods of %s\n", user, team)
}

// createPod is the host's handler that creates a pod in a team.
func createPod(w http.ResponseWriter, req *http.Request) {
	user, _ := roster.UserFrom(req.Context())
	team, _ := roster.TeamFrom(req.Context())
	fmt.Fprintf(w, "%s creates a pod in %s\n", user, team)
}

// demoUser is the demo's authentication: the user is whoever the X-User
// header names. DEMO ONLY: anyone can claim to be anyone.
func demoUser(req *http.Request) (string, bool) {
	u := req.Header.Get("X-User")
	return u, u != ""
}

// run opens (creating it) the SQLite database at db with the Runpod
// policy, makes the demo's team (seed) and serves the router on ln until
// ctx ends. It writes the requests to try and roster's log to logw, and
// returns when the server has shut down.
func run(ctx context.Context, ln net.Listener, db string, logw io.Writer) error {
	r, err := roster.Open(ctx, db, roster.WithLogger(slog.New(slog.NewTextHandler(logw, nil))))
	if err != nil {
		return err
	}
	defer r.Close()
	team, err := seed(ctx, r)
	if err != nil {
		return err
	}
	h, err := routes(r)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(logw, "serving %s on %s: alice owns Acme (%s), bob is a dev there, carol is in billing, dave is in no team\n", db, base, team)
	for _, try := range []string{"-X POST -H 'X-User: bob'", "-X POST -H 'X-User: carol'", "-H 'X-User: dave'"} {
		fmt.Fprintf(logw, "  curl %s %s/teams/%s/pods\n", try, base, team)
	}
	fmt.Fprintf(logw, "  curl -H 'X-User: carol' %s/api/teams/%s/members\n", base, team)

	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(logw, "http: ", 0)}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}

// seed makes the demo's users and team: alice owns Acme, bob is a dev
// there, carol is in billing, and dave is in no team but his own personal
// account. It returns Acme's ID.
func seed(ctx context.Context, r *roster.Roster) (string, error) {
	var alice store.Account
	for _, u := range []store.User{
		{ID: "alice", Email: "alice@example.com", Name: "Alice", SignIn: store.SignInGitHub},
		{ID: "bob", Email: "bob@example.com", Name: "Bob", SignIn: store.SignInEmail},
		{ID: "carol", Email: "carol@example.com", Name: "Carol", SignIn: store.SignInEmail},
		{ID: "dave", Email: "dave@example.com", Name: "Dave", SignIn: store.SignInEmail},
	} {
		personal, err := r.Teams.CreateUser(ctx, u)
		if err != nil {
			return "", err
		}
		if u.ID == "alice" {
			alice = personal
		}
	}
	acme, err := r.Teams.ConvertToTeam(ctx, "alice", alice.ID, "Acme")
	if err != nil {
		return "", err
	}
	if _, err := r.Teams.AddMember(ctx, "alice", acme.ID, "bob", rbac.RunpodDev); err != nil {
		return "", err
	}
	if _, err := r.Teams.AddMember(ctx, "alice", acme.ID, "carol", rbac.RunpodBilling); err != nil {
		return "", err
	}
	return acme.ID, nil
}
