package roster_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/apikeys"
	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/internal/index"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	itoken "github.com/teamroster/roster/internal/token"
	"github.com/teamroster/roster/invites"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/store/sqlstore"
	"github.com/teamroster/roster/teamapi"
	"github.com/teamroster/roster/teams"
)

// kinds are the kinds of error of package store.
var kinds = []error{
	store.ErrInvalid, store.ErrNotFound, store.ErrExists, store.ErrDenied, store.ErrUnauthenticated, store.ErrGone,
	store.ErrPrecondition, store.ErrConflict, store.ErrClosed, store.ErrBackend,
}

// sentinel is an exported Err variable of a package of the module: its
// value, the kind it wraps, and why it may be answered with a 5xx status.
type sentinel struct {
	err    error
	kind   error
	reason string // required when HTTPStatus answers 500 or more
}

// sentinels lists every exported Err variable of the module's packages, by
// "<package directory>.<name>" ("roster" for the root).
var sentinels = map[string]sentinel{
	"store.ErrInvalid":         {store.ErrInvalid, store.ErrInvalid, ""},
	"store.ErrNotFound":        {store.ErrNotFound, store.ErrNotFound, ""},
	"store.ErrExists":          {store.ErrExists, store.ErrExists, ""},
	"store.ErrDenied":          {store.ErrDenied, store.ErrDenied, ""},
	"store.ErrUnauthenticated": {store.ErrUnauthenticated, store.ErrUnauthenticated, ""},
	"store.ErrGone":            {store.ErrGone, store.ErrGone, ""},
	"store.ErrPrecondition":    {store.ErrPrecondition, store.ErrPrecondition, ""},
	"store.ErrConflict":        {store.ErrConflict, store.ErrConflict, ""},
	"store.ErrClosed":          {store.ErrClosed, store.ErrClosed, "the store is closed: the server is shutting down, another may answer (503)"},
	"store.ErrBackend":         {store.ErrBackend, store.ErrBackend, "the server failed, not the request"},
	"store.ErrNotTeam":         {store.ErrNotTeam, store.ErrPrecondition, ""},
	"store.ErrNoSeats":         {store.ErrNoSeats, store.ErrPrecondition, ""},

	"rbac.ErrUnknownRole":         {rbac.ErrUnknownRole, store.ErrInvalid, ""},
	"rbac.ErrUnknownAction":       {rbac.ErrUnknownAction, store.ErrInvalid, ""},
	"rbac.ErrDenied":              {rbac.ErrDenied, store.ErrDenied, ""},
	"rbac.ErrNotMember":           {rbac.ErrNotMember, store.ErrDenied, ""},
	"rbac.ErrSecureSignIn":        {rbac.ErrSecureSignIn, store.ErrDenied, ""},
	"rbac.ErrSuspended":           {rbac.ErrSuspended, store.ErrDenied, ""},
	"rbac.ErrTopByTransfer":       {rbac.ErrTopByTransfer, store.ErrPrecondition, ""},
	"rbac.ErrInvalidPolicy":       {rbac.ErrInvalidPolicy, store.ErrInvalid, ""},
	"rbac.ErrNotCompilable":       {rbac.ErrNotCompilable, store.ErrInvalid, ""},
	"internal/token.ErrMalformed": {itoken.ErrMalformed, store.ErrInvalid, ""},
	"internal/token.ErrKeyID":     {itoken.ErrKeyID, store.ErrInvalid, ""},
	"internal/index.ErrFull": {index.ErrFull, store.ErrBackend,
		"the in-memory view cannot hold the store's data: a server's limit, never the request's fault"},
	"internal/rostertest.ErrFault": {rostertest.ErrFault, store.ErrBackend, "tests inject it as a failure of the database"},

	"teams.ErrAlreadyTeam":          {teams.ErrAlreadyTeam, store.ErrPrecondition, ""},
	"teams.ErrLastOwner":            {teams.ErrLastOwner, store.ErrPrecondition, ""},
	"teams.ErrNotOwner":             {teams.ErrNotOwner, store.ErrDenied, ""},
	"teams.ErrPublicDomain":         {teams.ErrPublicDomain, store.ErrInvalid, ""},
	"teams.ErrDomainTaken":          {teams.ErrDomainTaken, store.ErrExists, ""},
	"roster.ErrBadKey":              {roster.ErrBadKey, store.ErrUnauthenticated, ""},
	"apikeys.ErrRevoked":            {apikeys.ErrRevoked, store.ErrGone, ""},
	"apikeys.ErrTooBroad":           {apikeys.ErrTooBroad, store.ErrDenied, ""},
	"apikeys.ErrKeyActor":           {apikeys.ErrKeyActor, store.ErrDenied, ""},
	"invites.ErrInviterInsecure":    {invites.ErrInviterInsecure, store.ErrPrecondition, ""},
	"invites.ErrInviterSuspended":   {invites.ErrInviterSuspended, store.ErrPrecondition, ""},
	"teams.ErrInsecureActor":        {teams.ErrInsecureActor, store.ErrPrecondition, ""},
	"teams.ErrTransferClosed":       {teams.ErrTransferClosed, store.ErrPrecondition, ""},
	"teams.ErrTransferExpired":      {teams.ErrTransferExpired, store.ErrGone, ""},
	"teams.ErrRoleInUse":            {teams.ErrRoleInUse, store.ErrPrecondition, ""},
	"teams.ErrRoleTooBroad":         {teams.ErrRoleTooBroad, store.ErrInvalid, ""},
	"teams.ErrTooManyRoles":         {teams.ErrTooManyRoles, store.ErrPrecondition, ""},
	"teams.ErrTeamRolesUnsupported": {teams.ErrTeamRolesUnsupported, store.ErrPrecondition, ""},
	"teams.ErrNotify": {teams.ErrNotify, store.ErrBackend,
		"the change committed but the host's Notifier failed: the server failed, not the request"},
	"teams.ErrInvalidToken": {teams.ErrInvalidToken, store.ErrDenied, ""},
	"teams.ErrOwnsTeams":    {teams.ErrOwnsTeams, store.ErrPrecondition, ""},

	"invites.ErrUnknownToken":   {invites.ErrUnknownToken, store.ErrNotFound, ""},
	"invites.ErrExpired":        {invites.ErrExpired, store.ErrGone, ""},
	"invites.ErrRevoked":        {invites.ErrRevoked, store.ErrGone, ""},
	"invites.ErrSuperseded":     {invites.ErrSuperseded, store.ErrGone, ""},
	"invites.ErrUsed":           {invites.ErrUsed, store.ErrGone, ""},
	"invites.ErrAlreadyMember":  {invites.ErrAlreadyMember, store.ErrExists, ""},
	"invites.ErrWrongEmail":     {invites.ErrWrongEmail, store.ErrDenied, ""},
	"invites.ErrInsecureSignIn": {invites.ErrInsecureSignIn, store.ErrDenied, ""},
	"invites.ErrInviterDenied":  {invites.ErrInviterDenied, store.ErrGone, ""},
	"invites.ErrReusableTop":    {invites.ErrReusableTop, store.ErrInvalid, ""},
	"invites.ErrPending":        {invites.ErrPending, store.ErrExists, ""},
	"invites.ErrNoLinkSecret":   {invites.ErrNoLinkSecret, store.ErrPrecondition, ""},
	"invites.ErrLinkNotKept":    {invites.ErrLinkNotKept, store.ErrPrecondition, ""},
	"invites.ErrWeakSecret":     {invites.ErrWeakSecret, store.ErrInvalid, ""},
	"invites.ErrNoBaseURL": {invites.ErrNoBaseURL, store.ErrBackend,
		"the server is configured without a base URL for links: nothing the client sends fixes it"},
	"invites.ErrNotSent": {invites.ErrNotSent, store.ErrBackend,
		"the invites committed but the host's Notifier failed: the server failed, not the request"},

	"store/sqlstore.ErrSchemaVersion": {sqlstore.ErrSchemaVersion, store.ErrPrecondition, ""},
	"store/sqlstore.ErrNoCgo": {sqlstore.ErrNoCgo, store.ErrBackend,
		"the program was built without cgo, which SQLite needs: a build setting, never the request's fault"},

	"audit.ErrTampered": {audit.ErrTampered, store.ErrBackend,
		"a finding about the stored data, which no change to the request repairs, not a refusal of the request"},
	"audit.ErrPruned":   {audit.ErrPruned, store.ErrGone, ""},
	"audit.ErrReserved": {audit.ErrReserved, store.ErrInvalid, ""},

	"teamapi.ErrOptions": {teamapi.ErrOptions, store.ErrInvalid, ""},
}

// modulePackages parses the non-test Go files of every package of the
// module and returns the package names and the exported Err variables
// declared at package level, as "<package directory>.<name>".
func modulePackages(t *testing.T) (names, errVars []string) {
	t.Helper()
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		if !slices.Contains(names, f.Name.Name) {
			names = append(names, f.Name.Name)
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		if dir == "." {
			dir = "roster"
		}
		for _, decl := range f.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.VAR {
				continue
			}
			for _, spec := range gen.Specs {
				for _, name := range spec.(*ast.ValueSpec).Names {
					if name.IsExported() && strings.HasPrefix(name.Name, "Err") {
						errVars = append(errVars, dir+"."+name.Name)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(errVars) == 0 {
		t.Fatal("found no exported Err variable: is the test running in the module root?")
	}
	return names, errVars
}

// TestSentinelsWrapOneKind finds every exported Err variable of the module
// by parsing its source, and checks that each is in the sentinels table and
// wraps exactly the one kind the table says, that HTTPStatus answers it
// with a 5xx status only for a reason written in the table, and that its
// text is its own message behind its package's prefix, not followed by its
// kind's.
func TestSentinelsWrapOneKind(t *testing.T) {
	_, found := modulePackages(t)
	for _, name := range found {
		if _, ok := sentinels[name]; !ok {
			t.Errorf("%s is not in the sentinels table: add it with the kind it wraps", name)
		}
	}
	for name, s := range sentinels {
		if !slices.Contains(found, name) {
			t.Errorf("the sentinels table lists %s, which the source does not declare", name)
			continue
		}
		var wrapped []error
		for _, k := range kinds {
			if errors.Is(s.err, k) {
				wrapped = append(wrapped, k)
			}
		}
		if len(wrapped) != 1 || wrapped[0] != s.kind {
			t.Errorf("%s (%q) wraps the kinds %v, want exactly %v", name, s.err, wrapped, s.kind)
		}
		status := roster.HTTPStatus(s.err)
		switch {
		case status >= 500 && s.reason == "":
			t.Errorf("%s is answered with %d, and the table gives no reason why", name, status)
		case status < 500 && s.reason != "":
			t.Errorf("%s is answered with %d, yet the table gives a reason for a 5xx: %q", name, status, s.reason)
		}
		if got := store.Sentinel(s.err); got != s.err {
			t.Errorf("store.Sentinel(%s) = %v, want the sentinel itself: make it with store.Kinded", name, got)
		}
		msg := s.err.Error()
		if prefix, rest, ok := strings.Cut(msg, ": "); !ok || strings.Contains(prefix, " ") || rest == "" {
			t.Errorf("%s's text %q does not start with a package prefix", name, msg)
		}
		if s.err != s.kind && strings.Contains(msg, s.kind.Error()) {
			t.Errorf("%s's text %q carries its kind's text %q", name, msg, s.kind)
		}
	}
}

// TestHTTPStatus checks the mapping from kinds, context errors and other
// errors to statuses.
func TestHTTPStatus(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 200},
		{"invalid", fmt.Errorf("op: %w: why", store.ErrInvalid), 400},
		{"not found", fmt.Errorf("op: %w", store.ErrNotFound), 404},
		{"exists", fmt.Errorf("op: %w", store.ErrExists), 409},
		{"denied", fmt.Errorf("op: %w", rbac.ErrNotMember), 403},
		{"gone", fmt.Errorf("op: %w", invites.ErrUsed), 410},
		{"unauthenticated", fmt.Errorf("op: %w", roster.ErrBadKey), 401},
		{"precondition", fmt.Errorf("op: %w", teams.ErrLastOwner), 409},
		{"conflict", fmt.Errorf("op: %w: retry", store.ErrConflict), 409},
		{"closed", fmt.Errorf("op: %w", store.ErrClosed), 503},
		{"backend", fmt.Errorf("op: %w: %w", store.ErrBackend, errors.New("driver")), 500},
		{"deadline", fmt.Errorf("op: %w", context.DeadlineExceeded), 504},
		{"cancelled", fmt.Errorf("op: %w", context.Canceled), 499},
		{"no kind", errors.New("something else"), 500},
		{"the outermost sentinel decides", fmt.Errorf("op: %w: %w", teams.ErrInvalidToken, itoken.ErrMalformed), 403},
		{"a sentinel before a context error", errors.Join(fmt.Errorf("op: %w", rbac.ErrDenied), fmt.Errorf("record: %w", context.Canceled)), 403},
	} {
		if got := roster.HTTPStatus(c.err); got != c.want {
			t.Errorf("%s: HTTPStatus(%v) = %d, want %d", c.name, c.err, got, c.want)
		}
	}
}

// errorsFixture is a Roster on SQLite with alice's team (bob a dev, carol
// billing), dave with only his personal account, a used invite link, and
// the IDs that must stay out of public messages.
type errorsFixture struct {
	r               *roster.Roster
	team, personal  store.Account
	used, malformed string // a used invite token; a string no token has the shape of
	unknown         string // a well-formed token of no invite
	ids             []string
}

func newErrorsFixture(t *testing.T) errorsFixture {
	t.Helper()
	ctx := context.Background()
	r, err := roster.Open(ctx, testdb.SQLitePath(t), roster.WithBaseURL("https://app.example.com"))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	f := errorsFixture{r: r, malformed: "not-a-token"}
	f.team = rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev, "carol": rbac.RunpodBilling})
	f.personal = rostertest.User(t, r, "dave")
	inv, err := r.Invites.CreateLink(ctx, "alice", f.team.ID, rbac.RunpodBasic)
	if err != nil {
		t.Fatal(err)
	}
	rostertest.User(t, r, "erin")
	if _, err := r.Invites.Accept(ctx, "erin", inv.Token); err != nil {
		t.Fatal(err)
	}
	f.used = inv.Token
	f.unknown, _ = itoken.New()
	f.ids = []string{f.team.ID, f.personal.ID, inv.ID, inv.Token, f.unknown, "alice", "bob", "carol", "dave", "erin"}
	return f
}

// TestWriteError checks that WriteError answers a sample of wrapped errors,
// returned by roster's services or built the way its store wraps driver
// errors, with a problem report of the kind's status whose detail is the
// public message of the error's sentinel, naming no account, user or
// invite and carrying no driver text.
func TestWriteError(t *testing.T) {
	ctx := context.Background()
	f := newErrorsFixture(t)
	r := f.r
	driver := []string{"SQLSTATE", "duplicate key", "roster_members", "10.0.0.5", "connection refused", "smtp", "mailbox full"}
	closed := newErrorsFixture(t).r
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	_, closedErr := closed.Teams.User(ctx, "bob")

	for _, c := range []struct {
		name   string
		err    error
		status int
		detail string
	}{
		{"a role lacking the permission", r.Teams.RemoveMember(ctx, "bob", f.team.ID, "carol"), 403, "permission denied"},
		{"a user who is not a member", returned2(r.Teams.Account(ctx, "dave", f.team.ID)), 403, "not a member"},
		{"the owner leaving", r.Teams.Leave(ctx, "alice", f.team.ID), 409,
			"the account owner cannot be removed, demoted or leave; transfer ownership first"},
		{"an unknown role", returned2(r.Teams.ChangeRole(ctx, "alice", f.team.ID, "bob", "emperor")), 400, "unknown role"},
		{"a personal account", returned2(r.Invites.CreateLink(ctx, "dave", f.personal.ID, rbac.RunpodDev)), 409, "not a team account"},
		{"a used invite", returned2(r.Invites.Accept(ctx, "dave", f.used)), 410, "invite already used"},
		{"an unknown token", returned2(r.Invites.Accept(ctx, "dave", f.unknown)), 404, "no invite has this token"},
		{"a malformed token", returned2(r.Invites.Accept(ctx, "dave", f.malformed)), 400, "malformed token"},
		{"an existing user", returned2(r.Teams.CreateUser(ctx, store.User{ID: "bob", Email: "bob@example.com", Name: "bob", SignIn: store.SignInEmail})), 409, "already exists"},
		{"a malformed ID", returned2(r.Teams.User(ctx, "bob\x00")), 400, "invalid input"},
		{"a reserved audit action", returned2(r.Audit.Record(ctx, "bob", f.team.ID, audit.Entry{Action: store.EventMemberAdded})), 400,
			"action namespace is reserved for roster"},
		{"a unique violation with its driver text", fmt.Errorf("add %q to %q by %q: %w", "bob", f.team.ID, "alice",
			fmt.Errorf("create member %s/bob: %w: %w", f.team.ID, store.ErrExists,
				errors.New(`ERROR: duplicate key value violates unique constraint "roster_members_pkey" (SQLSTATE 23505)`))), 409, "already exists"},
		{"a database failure", fmt.Errorf("members of %q for %q: %w", f.team.ID, "bob",
			fmt.Errorf("members of %s: %w: %w", f.team.ID, store.ErrBackend, errors.New("dial tcp 10.0.0.5:5432: connect: connection refused"))), 500,
			"something went wrong"},
		{"a notifier failure", fmt.Errorf("transfer %q to %q by %q: %w: %w", f.team.ID, "bob", "alice", teams.ErrNotify,
			errors.New("smtp: bob@example.com: mailbox full")), 500, "something went wrong"},
		{"a closed store", closedErr, 503, "the service is unavailable; try again later"},
		{"a deadline", fmt.Errorf("members of %q for %q: %w", f.team.ID, "bob", context.DeadlineExceeded), 504, "the request took too long"},
		{"a cancelled request", fmt.Errorf("members of %q for %q: %w", f.team.ID, "bob", context.Canceled), 499, "the request was cancelled"},
		{"an error of no kind", fmt.Errorf("members of %q: %w", f.team.ID, errors.New("disk on fire")), 500, "something went wrong"},
		{"no error", nil, 500, "something went wrong"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.err == nil && c.name != "no error" {
				t.Fatal("the call succeeded; the sample needs its refusal")
			}
			rec := httptest.NewRecorder()
			roster.WriteError(rec, c.err)
			if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q, want application/problem+json", ct)
			}
			var p roster.Problem
			if err := json.NewDecoder(rec.Body).Decode(&p); err != nil {
				t.Fatalf("decode the problem report: %v", err)
			}
			if rec.Code != c.status || p.Status != c.status {
				t.Errorf("status %d (report %d), want %d; error: %v", rec.Code, p.Status, c.status, c.err)
			}
			if want := http.StatusText(c.status); c.status != 499 && p.Title != want {
				t.Errorf("title %q, want %q", p.Title, want)
			}
			if p.Detail != c.detail {
				t.Errorf("detail %q, want %q; error: %v", p.Detail, c.detail, c.err)
			}
			for _, s := range append(slices.Clone(f.ids), driver...) {
				if strings.Contains(p.Detail, s) {
					t.Errorf("detail %q names %q", p.Detail, s)
				}
			}
		})
	}
	t.Run("499 has a title", func(t *testing.T) {
		rec := httptest.NewRecorder()
		roster.WriteError(rec, context.Canceled)
		var p roster.Problem
		if err := json.NewDecoder(rec.Body).Decode(&p); err != nil {
			t.Fatal(err)
		}
		if p.Title != "Client Closed Request" {
			t.Errorf("title %q, want Client Closed Request", p.Title)
		}
	})
}

// returned2 returns the error of a call that returns a value and an error.
func returned2[T any](_ T, err error) error { return err }

// TestErrorTextRepeatsNoPackagePrefix makes refused calls of each service
// (teams, invites, audit, and the Roster's own Check and Open) and checks
// that the text of each error holds no package prefix ("invites: ") twice:
// an operation's context does not repeat the prefix of the sentinel it
// wraps.
func TestErrorTextRepeatsNoPackagePrefix(t *testing.T) {
	ctx := context.Background()
	f := newErrorsFixture(t)
	r := f.r
	names, _ := modulePackages(t)
	names = slices.DeleteFunc(names, func(n string) bool { return n == "main" })

	tr, err := r.Teams.TransferOwnership(ctx, "alice", f.team.ID, "bob")
	if err != nil {
		t.Fatal(err)
	}
	_, openErr := roster.Open(ctx, filepath.Join(t.TempDir(), "missing", "dir", "roster.db"))
	calls := map[string]error{
		"teams.CreateUser of an existing user":         returned2(r.Teams.CreateUser(ctx, store.User{ID: "bob", Email: "bob@example.com", Name: "bob", SignIn: store.SignInEmail})),
		"teams.User of nobody":                         returned2(r.Teams.User(ctx, "nobody")),
		"teams.Account by a non-member":                returned2(r.Teams.Account(ctx, "dave", f.team.ID)),
		"teams.RemoveMember by a dev":                  r.Teams.RemoveMember(ctx, "bob", f.team.ID, "carol"),
		"teams.Leave by the owner":                     r.Teams.Leave(ctx, "alice", f.team.ID),
		"teams.AddMember of a member":                  returned2(r.Teams.AddMember(ctx, "alice", f.team.ID, "bob", rbac.RunpodDev)),
		"teams.ChangeRole to an unknown role":          returned2(r.Teams.ChangeRole(ctx, "alice", f.team.ID, "bob", "emperor")),
		"teams.ConvertToTeam of a team":                returned2(r.Teams.ConvertToTeam(ctx, "alice", f.team.ID, "Again")),
		"teams.DeleteTeam by a non-owner":              returned2(r.Teams.DeleteTeam(ctx, "bob", f.team.ID)),
		"teams.Rename of a personal account":           returned2(r.Teams.Rename(ctx, "dave", f.personal.ID, "Dave Inc")),
		"teams.AcceptTransfer before confirmation":     returned2(r.Teams.AcceptTransfer(ctx, "bob", tr.ID, f.unknown)),
		"teams.ConfirmTransfer with a malformed token": returned2(r.Teams.ConfirmTransfer(ctx, "alice", tr.ID, f.malformed)),
		"teams.ConfirmTransfer with the wrong token":   returned2(r.Teams.ConfirmTransfer(ctx, "alice", tr.ID, f.unknown)),
		"teams.DefineRole holding every action":        returned2(r.Teams.DefineRole(ctx, "alice", f.team.ID, "everything", r.Policy().Actions())),
		"teams.Switch to a team of others":             r.Teams.Switch(ctx, "dave", f.team.ID),

		"invites.Accept of a used invite":              returned2(r.Invites.Accept(ctx, "dave", f.used)),
		"invites.Accept of an unknown token":           returned2(r.Invites.Accept(ctx, "dave", f.unknown)),
		"invites.Accept of a malformed token":          returned2(r.Invites.Accept(ctx, "dave", f.malformed)),
		"invites.Preview of an unknown token":          returned2(r.Invites.Preview(ctx, f.unknown)),
		"invites.CreateLink by a billing member":       returned2(r.Invites.CreateLink(ctx, "carol", f.team.ID, rbac.RunpodDev)),
		"invites.CreateLink to a personal account":     returned2(r.Invites.CreateLink(ctx, "dave", f.personal.ID, rbac.RunpodDev)),
		"invites.CreateLink of the top role, reusable": returned2(r.Invites.CreateLink(ctx, "alice", f.team.ID, rbac.RunpodAdmin, invites.MaxUses(5))),
		"invites.CreateEmail to a member":              returned2(r.Invites.CreateEmail(ctx, "alice", f.team.ID, rbac.RunpodDev, []string{"bob@example.com"})),
		"invites.Revoke of no invite":                  r.Invites.Revoke(ctx, "alice", f.team.ID, "inv_nope"),
		"invites.List by a non-member":                 returned3(r.Invites.List(ctx, "dave", f.team.ID, store.Page{})),

		"audit.Query by a member without audit.read":  returned3(r.Audit.Query(ctx, "bob", f.team.ID, audit.Filter{})),
		"audit.Query with a malformed filter":         returned3(r.Audit.Query(ctx, "alice", f.team.ID, audit.Filter{Limit: -1})),
		"audit.Record of a reserved action":           returned2(r.Audit.Record(ctx, "bob", f.team.ID, audit.Entry{Action: store.EventMemberAdded})),
		"audit.MembersAt by a non-member":             returned2(r.Audit.MembersAt(ctx, "dave", f.team.ID, time.Now())),
		"audit.Verify by a member without audit.read": returned2(r.Audit.Verify(ctx, "bob", f.team.ID)),

		"roster.Check of a non-member":       r.Check(ctx, "dave", f.team.ID, rbac.PodsConnect),
		"roster.Check of an unknown action":  r.Check(ctx, "bob", f.team.ID, "no.such"),
		"roster.CheckStrict of a dev":        r.CheckStrict(ctx, "bob", f.team.ID, rbac.BillingManage),
		"roster.Open of a missing directory": openErr,
	}
	for what, err := range calls {
		if err == nil {
			t.Errorf("%s: succeeded; the sample needs its refusal", what)
			continue
		}
		// A prefix starts the text or follows another part's ": ".
		seen := map[string]int{}
		parts := strings.Split(err.Error(), ": ")
		for _, part := range parts[:len(parts)-1] {
			if slices.Contains(names, part) {
				seen[part]++
			}
		}
		for pkg, n := range seen {
			if n > 1 {
				t.Errorf("%s: %q holds the prefix %q %d times", what, err, pkg+": ", n)
			}
		}
	}
}

// returned3 returns the error of a call that returns two values and an
// error.
func returned3[T, U any](_ T, _ U, err error) error { return err }
