// Command httpserver is a JSON API backend for a team page, on roster: the
// account selector and switching, members, role changes, removal, invites
// (link and email: create, list, resend, revoke, accept), ownership
// transfer and the audit log with every filter. Every route is behind
// roster's net/http middleware (roster.Require, RequireMember,
// RequireUser); the routes are listed in examples/internal/teamapi.
//
//	go run ./examples/httpserver -addr 127.0.0.1:8080
//
// Demo only: a request's user is whoever its X-User header names (or the
// cookie POST /api/demo/signin sets), and emails land in a demo outbox
// (GET /api/demo/outbox). Replace both with your own auth and mailer.
//
//	curl -X POST localhost:8080/api/demo/signin -d '{"id":"alice","name":"Alice","email":"alice@example.com"}'
//	curl -H 'X-User: alice' localhost:8080/api/me
package main

import (
	"context"
	"flag"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/teamroster/roster/examples/internal/teamapi"
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	if err := run(ctx, ln, *db, os.Stderr); err != nil {
		log.Print(err)
	}
}

// run serves the API on ln until ctx ends.
func run(ctx context.Context, ln net.Listener, db string, logw io.Writer) error {
	return teamapi.Serve(ctx, ln, db, nil, logw)
}
