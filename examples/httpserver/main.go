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
// Requests that change state (POST, PATCH, DELETE) must send a body as
// application/json, and are refused when a browser says they come from
// another site (Sec-Fetch-Site, Origin), so that the cookie cannot be used
// by another site's page.
//
//	curl -X POST localhost:8080/api/demo/signin -H 'Content-Type: application/json' -d '{"id":"alice","name":"Alice","email":"alice@example.com"}'
//	curl -H 'X-User: alice' localhost:8080/api/me
package main

import (
	"context"
	"io"
	"net"

	"github.com/teamroster/roster/examples/internal/teamapi"
)

func main() {
	teamapi.Main("httpserver", nil)
}

// run serves the API on ln until ctx ends.
func run(ctx context.Context, ln net.Listener, db string, logw io.Writer) error {
	return teamapi.Serve(ctx, ln, db, nil, logw)
}
