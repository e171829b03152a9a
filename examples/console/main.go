// Command console serves a team console in the browser, the way the Runpod
// and DigitalOcean team pages work: the account selector, converting a
// personal account to a team, the members table (with the sign-in method
// column for those who manage members), invitations with a role and a link
// to copy, pending invites with resend and revoke, role changes, removal,
// leaving, deleting the team and the audit log with its filters.
//
//	go run ./examples/console -addr 127.0.0.1:8080
//
// then open http://127.0.0.1:8080 in two browsers (or a private window) and
// sign in as two users. The page is plain HTML and JavaScript embedded in
// the binary, over the same JSON API as examples/httpserver
// (examples/internal/teamapi). Demo only: the sign-in form trusts any user
// ID and emails land in a demo outbox; replace both with your own.
package main

import (
	"context"
	"embed"
	"io"
	"io/fs"
	"log"
	"net"

	"github.com/teamroster/roster/examples/internal/teamapi"
)

//go:embed static
var static embed.FS

func main() {
	site, err := fs.Sub(static, "static")
	if err != nil {
		log.Fatal(err)
	}
	teamapi.Main("console", site)
}

// run serves the console page and the API on ln until ctx ends.
func run(ctx context.Context, ln net.Listener, db string, logw io.Writer) error {
	site, err := fs.Sub(static, "static")
	if err != nil {
		return err
	}
	return teamapi.Serve(ctx, ln, db, site, logw)
}
