// Command httpserver is a team page on roster: roster's team API (package
// teamapi) under /api/ and, at /, a console page in the browser over it,
// the way the Runpod and DigitalOcean team pages work. It covers the
// account selector and switching, converting a personal account to a team,
// the seats and the secure sign-in status, the members table (with the
// sign-in method column for those who manage members, and badges for the
// account owner and suspended members), what each role may do (from the
// policy), role changes with a preview of what they add and remove,
// suspension and reinstatement, removal and leaving, invites (link and
// email, optionally requiring a secure sign-in method: create, list,
// resend, copy the link again, revoke, accept), ownership changes (start,
// confirm and accept through the emailed links, cancel), deleting the team,
// API keys and service accounts, the team's email domains (claim, confirm
// by a demo DNS check, remove), and the audit log in words, with every
// filter and its export. Removing a member, leaving, deleting the team and
// ownership changes ask first. A demo route of the host's own, GET
// /api/demo/teams/{team}/pods, shows an API key at work: roster's
// middleware lets a member or a key of the team through if it may connect
// to pods. Another, PUT /api/demo/teams/{team}/plan, stands in for the
// host's billing, which sets the team's seat limit. A third,
// POST /api/demo/teams/{team}/domains/{name}/confirm, stands in for the
// host's DNS check of an email domain the team's owner claimed; the demo
// sign-in then lets a user with an address at that domain join the team
// (Teams.JoinByDomain).
//
//	go run ./examples/httpserver -addr 127.0.0.1:8080
//
// -policy picks the roles: runpod (basic, billing, dev, admin; the default)
// or digitalocean (owner, biller, billing viewer, member, modifier,
// resource viewer; several members may be owners, made so only by an
// ownership change that one confirms and the other accepts).
//
// Invite links can be copied again from the pending invites because their
// tokens are derived from a link secret. -link-secrets names a file of
// secrets, one a line, "<key ID> <key in standard base64, at least 32
// bytes>", the current one first and older ones (still accepted) after it.
// Without it, the server draws a secret for the run, and the links it made
// stop working when it restarts.
//
// then open http://127.0.0.1:8080 in two browsers (or a private window) and
// sign in as two users, or call the API:
//
//	curl -X POST localhost:8080/api/demo/signin -H 'Content-Type: application/json' -d '{"id":"alice","name":"Alice","email":"alice@example.com"}'
//	curl -H 'X-User: alice' localhost:8080/api/me
//
// and with a key that alice makes for her account (its ID is that of
// GET /api/me's account; the token is in the answer, shown this once):
//
//	curl -X POST localhost:8080/api/teams/$TEAM/keys -H 'X-User: alice' -H 'Content-Type: application/json' -d '{"name":"CI"}'
//	curl -H "Authorization: Bearer $TOKEN" localhost:8080/api/demo/teams/$TEAM/pods
//
// The team API itself is package teamapi: this program mounts it under
// /api/ (its routes and answers are in GET /api/openapi.json) and adds what
// is the host's own. The files, top to bottom:
//
//   - main.go: the flags, opening roster, serving.
//   - routes.go: mounting the team API (teamapi.New) beside the demo
//     routes and the console page.
//   - demo_signin.go, demo_outbox.go: DEMO ONLY. A request's user is
//     whoever its X-User header names (or the cookie POST /api/demo/signin
//     sets), and emails land in an outbox a user reads through
//     GET /api/demo/outbox. Replace both with your own authentication and
//     mailer.
//   - demo_pods.go: DEMO ONLY. The host's own resources, a team's pods,
//     behind roster.Require(rbac.PodsConnect) with API keys accepted.
//   - demo_seats.go: DEMO ONLY. The host's billing plan, which sets the
//     team's seat limit (Teams.SetSeatLimit), behind
//     roster.Require(rbac.BillingManage).
//   - demo_domains.go: DEMO ONLY. The host's DNS check of a team's email
//     domain, which confirms the claim (Teams.ConfirmDomain), behind
//     roster.Require(rbac.SettingsManage).
//   - console/: the page (plain HTML, JavaScript and CSS), embedded.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
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
	"strings"
	"syscall"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/invites"
	"github.com/teamroster/roster/rbac"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	db := flag.String("db", "", "SQLite database file (default: one in a new temporary directory)")
	secretsFile := flag.String("link-secrets", "", `file of invite link secrets, "<key ID> <base64 key>" a line, current first (default: one drawn for this run)`)
	policyName := flag.String("policy", "runpod", "the roles and permissions: runpod or digitalocean")
	flag.Parse()
	policy, ok := policies[*policyName]
	if !ok {
		log.Fatalf("-policy %q: want runpod or digitalocean", *policyName)
	}
	var secrets []invites.Secret
	if *secretsFile != "" {
		b, err := os.ReadFile(*secretsFile)
		if err != nil {
			log.Fatal(err)
		}
		if secrets, err = parseSecrets(b); err != nil {
			log.Fatalf("%s: %v", *secretsFile, err)
		}
	}
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
	if err := run(ctx, ln, *db, policy(), secrets, os.Stderr); err != nil {
		log.Print(err)
	}
}

// policies are the presets -policy names.
var policies = map[string]func() *rbac.Policy{"runpod": rbac.Runpod, "digitalocean": rbac.DigitalOcean}

// run opens (creating if needed) the SQLite database at db with the policy
// p, and serves the API and the console page on ln until ctx ends.
// Invite and transfer links are built from ln's address; invite tokens are
// derived from secrets[0], and those of secrets[1:] are accepted too (with
// no secrets, from one drawn for this run). It logs the emails it would
// send, roster's records (among them a line per API request) and the
// server's errors to logw, and returns when the server has shut down.
func run(ctx context.Context, ln net.Listener, db string, p *rbac.Policy, secrets []invites.Secret, logw io.Writer) error {
	base := "http://" + ln.Addr().String()
	outbox := newOutbox(logw) // demo only: your mailer, a notify.Notifier
	if len(secrets) == 0 {
		key := make([]byte, invites.MinSecretLen)
		_, _ = rand.Read(key) // crypto/rand.Read never returns an error
		s, err := invites.NewSecret("run", key)
		if err != nil {
			return err
		}
		fmt.Fprintln(logw, "no -link-secrets: invite links made in this run stop working when it ends")
		secrets = []invites.Secret{s}
	}
	r, err := roster.Open(ctx, db, roster.WithPolicy(p), roster.WithBaseURL(base), roster.WithNotifier(outbox),
		roster.WithLinkSecrets(secrets[0], secrets[1:]...), roster.WithLogger(slog.New(slog.NewTextHandler(logw, nil))))
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
	fmt.Fprintf(logw, "serving %s with the %s policy on %s\n", db, p.Name(), base)
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

// parseSecrets reads link secrets, one a line: a key ID and the key in
// standard base64, separated by spaces. Blank lines and lines starting with
// # are skipped. The first secret is the current one.
func parseSecrets(b []byte) ([]invites.Secret, error) {
	var out []invites.Secret
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, enc, ok := strings.Cut(line, " ")
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
		if !ok || err != nil {
			return nil, fmt.Errorf("line %d: want \"<key ID> <base64 key>\"", n)
		}
		s, err := invites.NewSecret(id, key)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, errors.New("no secrets")
	}
	return out, sc.Err()
}
