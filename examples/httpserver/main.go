// Command httpserver is a team page on roster: a JSON API under /api/ and,
// at /, a console page in the browser over it, the way the Runpod and
// DigitalOcean team pages work. It covers the account selector and
// switching, converting a personal account to a team, the members table
// (with the sign-in method column for those who manage members), role
// changes, removal and leaving, invites (link and email: create, list,
// resend, revoke, accept), ownership transfer, deleting the team and the
// audit log with every filter.
//
//	go run ./examples/httpserver -addr 127.0.0.1:8080
//
// then open http://127.0.0.1:8080 in two browsers (or a private window) and
// sign in as two users, or call the API:
//
//	curl -X POST localhost:8080/api/demo/signin -H 'Content-Type: application/json' -d '{"id":"alice","name":"Alice","email":"alice@example.com"}'
//	curl -H 'X-User: alice' localhost:8080/api/me
//
// The files, top to bottom:
//
//   - main.go: the flags, opening roster, serving.
//   - routes.go: the route table, every route with the roster middleware it
//     is behind (Require, RequireMember, RequireUser).
//   - handlers.go: the handlers, each a few calls to roster's services.
//   - samesite.go: the guard in front of every route that changes state:
//     no cross-site requests, JSON bodies only.
//   - demo_signin.go, demo_outbox.go: DEMO ONLY. A request's user is
//     whoever its X-User header names (or the cookie POST /api/demo/signin
//     sets), and emails land in an outbox a user reads through
//     GET /api/demo/outbox. Replace both with your own authentication and
//     mailer.
//   - console/: the page (plain HTML, JavaScript and CSS), embedded.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/teamroster/roster"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	db := flag.String("db", "", "SQLite database file (default: one in a new temporary directory)")
	flag.Parse()
	if *db == "" {
		dir, err := os.MkdirTemp("", "roster-httpserver-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(dir)
		*db = filepath.Join(dir, "roster.db")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	if err := run(ctx, ln, *db, os.Stderr); err != nil {
		log.Print(err)
	}
}

// run opens (creating if needed) the SQLite database at db with the Runpod
// policy, and serves the API and the console page on ln until ctx ends.
// Invite and transfer links are built from ln's address. It logs the
// emails it would send and the server's errors to logw, and returns when
// the server has shut down.
func run(ctx context.Context, ln net.Listener, db string, logw io.Writer) error {
	base := "http://" + ln.Addr().String()
	outbox := newOutbox(logw) // demo only: your mailer, a notify.Notifier
	r, err := roster.Open(ctx, db, roster.WithBaseURL(base), roster.WithNotifier(outbox))
	if err != nil {
		return err
	}
	defer r.Close()

	h, err := (&server{r: r, outbox: outbox}).handler()
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(logw, "http: ", 0),
	}
	fmt.Fprintf(logw, "serving %s on %s\n", db, base)
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
