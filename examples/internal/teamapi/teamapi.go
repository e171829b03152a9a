// Package teamapi is the backend the examples share: roster's team page as a
// JSON API on net/http, every route behind roster's middleware, with a demo
// sign-in and a demo outbox in place of the host application's own
// authentication and mailer. examples/httpserver serves the API alone;
// examples/console serves it with the team console page.
//
// Demo only: a user is whoever the X-User header or the roster_demo_user
// cookie says. Replace User with your own authentication.
//
// A browser sends the cookie with any request to this host, whichever page
// makes it, so every route that changes state refuses requests from other
// sites and bodies that are not JSON (sameSiteJSON); keep that in front of
// your own cookie-authenticated routes.
package teamapi

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/invites"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teams"
)

// Cookie is the demo session cookie: it holds the user ID in clear. Demo
// only: anyone can set it to any user.
const Cookie = "roster_demo_user"

// User is the demo authentication: the X-User header, else the Cookie.
// Replace it with your own (a session, a bearer token).
func User(r *http.Request) (string, bool) {
	if u := r.Header.Get("X-User"); u != "" {
		return u, true
	}
	if c, err := r.Cookie(Cookie); err == nil && c.Value != "" {
		return c.Value, true
	}
	return "", false
}

// Main is the examples' main function: it reads the -addr and -db flags and
// serves until interrupted or terminated. name names the temporary directory the
// database goes in when -db is not given.
func Main(name string, site fs.FS) {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	db := flag.String("db", "", "SQLite database file (default: one in a new temporary directory)")
	flag.Parse()
	if *db == "" {
		dir, err := os.MkdirTemp("", "roster-"+name+"-")
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
	if err := Serve(ctx, ln, *db, site, os.Stderr); err != nil {
		log.Print(err)
	}
}

// Serve opens (creating if needed) the SQLite database at dbPath with the
// Runpod policy, and serves the API on ln until ctx ends; with site set, it
// also serves the files of site at "/" and site's index.html for the invite
// links (/invites/{token}). Links are built from ln's address. It logs
// requests and "sent" emails to logw, and returns when the server has shut
// down.
func Serve(ctx context.Context, ln net.Listener, dbPath string, site fs.FS, logw io.Writer) error {
	base := "http://" + ln.Addr().String()
	out := NewOutbox(logw)
	r, err := roster.Open(ctx, dbPath, roster.WithBaseURL(base), roster.WithNotifier(out))
	if err != nil {
		return err
	}
	defer r.Close()
	mux := http.NewServeMux()
	mux.Handle("/api/", New(r, out))
	if site != nil {
		mux.Handle("/", http.FileServerFS(site))
		mux.HandleFunc("GET /invites/{token}", func(w http.ResponseWriter, req *http.Request) {
			http.ServeFileFS(w, req, site, "index.html")
		})
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(logw, "http: ", 0)}
	fmt.Fprintf(logw, "serving %s on %s\n", dbPath, base)
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

// API is the JSON API New returns: an http.Handler that also lists its
// routes. It is safe for concurrent use.
type API struct {
	r      *roster.Roster
	out    *Outbox
	routes []string
	// handler is the routes' mux behind sameSiteJSON.
	handler http.Handler
}

// New returns the JSON API on r, every route under /api/ behind roster's
// middleware and every state-changing route behind sameSiteJSON; out is the
// demo mailer r was opened with. Errors are answered as problem reports by
// roster.WriteError.
func New(r *roster.Roster, out *Outbox) *API {
	a := &API{r: r, out: out}
	mux := http.NewServeMux()
	team := roster.HTTPOptions{User: User, Team: roster.TeamFromPath("team")}
	signedIn := r.RequireUser(team)
	member := r.RequireMember(team)
	may := func(action rbac.Action) func(http.Handler) http.Handler { return r.Require(action, team) }
	anyone := func(h http.Handler) http.Handler { return h }
	route := func(pattern string, mw func(http.Handler) http.Handler, h func(w http.ResponseWriter, req *http.Request) (any, error)) {
		mux.Handle(pattern, mw(handler(h)))
		a.routes = append(a.routes, pattern)
	}

	// Demo sign-in: no middleware, since it is the authentication.
	route("POST /api/demo/signin", anyone, a.signIn)
	route("POST /api/demo/signout", anyone, a.signOut)
	route("GET /api/demo/outbox", signedIn, a.outbox)

	// The user: account selector, invitations and transfers addressed to them.
	route("GET /api/me", signedIn, a.me)
	route("GET /api/invites/{token}", signedIn, a.previewInvite)
	route("POST /api/invites/{token}/accept", signedIn, a.acceptInvite)
	route("POST /api/transfers/{id}/confirm", signedIn, transferStep(r.Teams.ConfirmTransfer))
	route("POST /api/transfers/{id}/accept", signedIn, transferStep(r.Teams.AcceptTransfer))

	// One account, named by the {team} path value.
	route("POST /api/accounts/{team}/switch", member, a.switchAccount)
	route("POST /api/accounts/{team}/convert", may(rbac.SettingsManage), withBody(a.convert))
	route("GET /api/teams/{team}", member, a.teamPage)
	route("DELETE /api/teams/{team}", may(rbac.SettingsManage), a.deleteTeam)
	route("GET /api/teams/{team}/members", member, a.members)
	route("PATCH /api/teams/{team}/members/{user}", may(rbac.MembersManage), withBody(a.changeRole))
	route("DELETE /api/teams/{team}/members/{user}", may(rbac.MembersManage), a.removeMember)
	route("POST /api/teams/{team}/leave", member, a.leave)
	route("GET /api/teams/{team}/invites", member, a.listInvites)
	route("POST /api/teams/{team}/invites", may(rbac.MembersInvite), withBody(a.createInvites))
	route("POST /api/teams/{team}/invites/{id}/resend", may(rbac.MembersInvite), a.resendInvite)
	route("DELETE /api/teams/{team}/invites/{id}", may(rbac.MembersInvite), a.revokeInvite)
	route("GET /api/teams/{team}/transfers", may(rbac.MembersManage), a.transfers)
	route("POST /api/teams/{team}/transfers", may(rbac.MembersManage), withBody(a.startTransfer))
	route("DELETE /api/teams/{team}/transfers/{id}", member, a.cancelTransfer)
	route("GET /api/teams/{team}/audit", may(rbac.AuditRead), a.auditLog)
	a.handler = sameSiteJSON(mux)
	return a
}

// ServeHTTP serves the request by its route, behind sameSiteJSON: a
// state-changing request from another site gets 403 and one with a body that
// is not JSON gets 415. A request that matches no route gets 404 or 405. It
// is safe for concurrent use.
func (a *API) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	a.handler.ServeHTTP(w, req)
}

// sameSiteJSON is the middleware in front of every route that changes
// state: every method but GET, HEAD and OPTIONS. The demo cookie rides on
// any request a browser sends to this host, whichever page makes it, so
// without it another site's page (or a page on another port of the same
// host) could change things in the signed-in user's name (CSRF). It
// answers with a problem report:
//
//   - 403 Forbidden: the request comes from another site. A browser says so
//     in Sec-Fetch-Site, which must be "same-origin" or "none" (the user
//     typed the address); without that header, an Origin header must name
//     the request's Host. A request with neither header is not from a
//     browser's page (curl, a server, the tests) and passes.
//   - 415 Unsupported Media Type: the request has a body whose Content-Type
//     is not application/json (parameters such as charset allowed). A
//     page can send text/plain or a form to another site without asking it
//     first, but not application/json.
//
// Safe methods pass unchecked: no GET route changes anything.
func sameSiteJSON(next http.Handler) http.Handler {
	var crossOrigin http.CrossOriginProtection // Sec-Fetch-Site, else Origin against Host
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch req.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, req)
			return
		}
		if err := crossOrigin.Check(req); err != nil {
			roster.WriteProblem(w, http.StatusForbidden, "cross-site requests may not change anything: send them from this site's pages")
			return
		}
		if req.ContentLength != 0 { // -1: a body of unknown length
			if mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type")); err != nil || mt != "application/json" {
				roster.WriteProblem(w, http.StatusUnsupportedMediaType, "the request body must be JSON, with Content-Type application/json")
				return
			}
		}
		next.ServeHTTP(w, req)
	})
}

// Routes returns the pattern of every route, such as
// "POST /api/teams/{team}/leave", in a new slice, so that a test can walk
// them. It is safe for concurrent use.
func (a *API) Routes() []string {
	return slices.Clone(a.routes)
}

// handler adapts a function returning a value or an error: the value is
// written as JSON (201 for POST, 200 otherwise, 204 when nil), the error by
// roster.WriteError: a problem report whose status comes from the error's
// kind and whose detail is its public message, never the error's own text
// (which names accounts, users and database errors; log it in your own
// handler if you need it).
func handler(h func(w http.ResponseWriter, req *http.Request) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		v, err := h(w, req)
		if err != nil {
			roster.WriteError(w, err)
			return
		}
		if v == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if req.Method == http.MethodPost {
			w.WriteHeader(http.StatusCreated)
		}
		_ = json.NewEncoder(w).Encode(v) // a failed write means the client has gone
	})
}

// errBadRequest reports a request body or query that cannot be read. Like
// roster's own sentinels it wraps a kind, store.ErrInvalid, so that
// roster.WriteError answers it with 400 and its text.
var errBadRequest = store.Kinded(store.ErrInvalid, "teamapi: malformed request body or query parameter")

// withBody adapts a handler of a JSON request body of type T.
func withBody[T any](h func(req *http.Request, in T) (any, error)) func(http.ResponseWriter, *http.Request) (any, error) {
	return func(w http.ResponseWriter, req *http.Request) (any, error) {
		var in T
		if err := decode(w, req, &in); err != nil {
			return nil, err
		}
		return h(req, in)
	}
}

// decode reads the JSON request body into v, refusing unknown fields and
// bodies over 64 KiB.
func decode(w http.ResponseWriter, req *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, req.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: request body: %v", errBadRequest, err)
	}
	return nil
}

// who returns the user and team the middleware put in the context.
func who(req *http.Request) (user, team string) {
	user, _ = roster.UserFrom(req.Context())
	team, _ = roster.TeamFrom(req.Context())
	return user, team
}

type signIn struct {
	ID     string       `json:"id"`
	Name   string       `json:"name"`
	Email  string       `json:"email"`
	SignIn store.SignIn `json:"sign_in"`
}

// signIn is the demo sign-in: it registers the user on first use and sets
// the cookie. Your application's own sign-in calls Teams.CreateUser when it
// registers a user.
func (a *API) signIn(w http.ResponseWriter, req *http.Request) (any, error) {
	var in signIn
	if err := decode(w, req, &in); err != nil {
		return nil, err
	}
	if in.SignIn == "" {
		in.SignIn = store.SignInEmail
	}
	_, err := a.r.Teams.CreateUser(req.Context(), store.User{ID: in.ID, Name: in.Name, Email: in.Email, SignIn: in.SignIn})
	if err != nil && !errors.Is(err, store.ErrExists) {
		return nil, err
	}
	u, err := a.r.Teams.User(req.Context(), in.ID)
	if err != nil {
		return nil, err
	}
	http.SetCookie(w, &http.Cookie{Name: Cookie, Value: u.ID, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return u, nil
}

func (a *API) signOut(w http.ResponseWriter, _ *http.Request) (any, error) {
	http.SetCookie(w, &http.Cookie{Name: Cookie, Path: "/", MaxAge: -1})
	return nil, nil
}

func (a *API) outbox(_ http.ResponseWriter, req *http.Request) (any, error) {
	user, _ := who(req)
	u, err := a.r.Teams.User(req.Context(), user)
	if err != nil {
		return nil, err
	}
	return a.out.For(u), nil
}

type me struct {
	User     store.User           `json:"user"`
	Accounts []teams.AccountEntry `json:"accounts"`
	// Can lists, by account ID, the actions the user may perform there.
	Can map[string][]string `json:"can"`
	// Policy, Roles and Top describe the policy: its name, its roles and
	// its top role.
	Policy string      `json:"policy"`
	Roles  []rbac.Role `json:"roles"`
	Top    rbac.Role   `json:"top"`
}

// me is the account selector, with what the user may do in each account so
// that a page shows only the controls that will work.
func (a *API) me(_ http.ResponseWriter, req *http.Request) (any, error) {
	ctx := req.Context()
	user, _ := who(req)
	u, err := a.r.Teams.User(ctx, user)
	if err != nil {
		return nil, err
	}
	accounts, err := a.r.Teams.Accounts(ctx, user)
	if err != nil {
		return nil, err
	}
	p := a.r.Policy()
	can := map[string][]string{}
	for _, e := range accounts {
		acts := []string{}
		for _, act := range p.Actions() {
			if a.r.Can(ctx, user, e.Account.ID, act) {
				acts = append(acts, string(act))
			}
		}
		can[e.Account.ID] = acts
	}
	return me{User: u, Accounts: accounts, Policy: p.Name(), Can: can, Roles: p.Roles(), Top: p.Top()}, nil
}

func (a *API) previewInvite(_ http.ResponseWriter, req *http.Request) (any, error) {
	return a.r.Invites.Preview(req.Context(), req.PathValue("token"))
}

func (a *API) acceptInvite(_ http.ResponseWriter, req *http.Request) (any, error) {
	user, _ := who(req)
	return a.r.Invites.Accept(req.Context(), user, req.PathValue("token"))
}

type tokenBody struct {
	Token string `json:"token"`
}

// transferStep is confirming (Teams.ConfirmTransfer) or accepting
// (Teams.AcceptTransfer) the transfer {id} with the token of its email.
func transferStep(step func(ctx context.Context, actor, transferID, tok string) (store.Transfer, error)) func(http.ResponseWriter, *http.Request) (any, error) {
	return withBody(func(req *http.Request, in tokenBody) (any, error) {
		user, _ := who(req)
		t, err := step(req.Context(), user, req.PathValue("id"), in.Token)
		if err != nil {
			return nil, err
		}
		return transferOf(t), nil
	})
}

func (a *API) switchAccount(_ http.ResponseWriter, req *http.Request) (any, error) {
	user, team := who(req)
	if err := a.r.Teams.Switch(req.Context(), user, team); err != nil {
		return nil, err
	}
	return a.r.Teams.Active(req.Context(), user)
}

type nameBody struct {
	Name string `json:"name"`
}

func (a *API) convert(req *http.Request, in nameBody) (any, error) {
	user, team := who(req)
	return a.r.Teams.ConvertToTeam(req.Context(), user, team, in.Name)
}

// teamPage is the account with the caller's role.
func (a *API) teamPage(_ http.ResponseWriter, req *http.Request) (any, error) {
	user, team := who(req)
	return a.r.Teams.Account(req.Context(), user, team)
}

func (a *API) deleteTeam(_ http.ResponseWriter, req *http.Request) (any, error) {
	user, team := who(req)
	return a.r.Teams.DeleteTeam(req.Context(), user, team)
}

func (a *API) members(_ http.ResponseWriter, req *http.Request) (any, error) {
	user, team := who(req)
	return a.r.Teams.Members(req.Context(), user, team)
}

type roleBody struct {
	Role rbac.Role `json:"role"`
}

func (a *API) changeRole(req *http.Request, in roleBody) (any, error) {
	user, team := who(req)
	return a.r.Teams.ChangeRole(req.Context(), user, team, req.PathValue("user"), in.Role)
}

func (a *API) removeMember(_ http.ResponseWriter, req *http.Request) (any, error) {
	user, team := who(req)
	return nil, a.r.Teams.RemoveMember(req.Context(), user, team, req.PathValue("user"))
}

func (a *API) leave(_ http.ResponseWriter, req *http.Request) (any, error) {
	user, team := who(req)
	return nil, a.r.Teams.Leave(req.Context(), user, team)
}

// listInvites lists every invite of the team, or only pending ones with
// ?status=pending.
func (a *API) listInvites(_ http.ResponseWriter, req *http.Request) (any, error) {
	user, team := who(req)
	switch req.URL.Query().Get("status") {
	case "":
		return a.r.Invites.List(req.Context(), user, team)
	case "pending":
		return a.r.Invites.Pending(req.Context(), user, team)
	}
	return nil, fmt.Errorf("%w: status must be empty or pending", errBadRequest)
}

type inviteBody struct {
	Role rbac.Role `json:"role"`
	// Emails, when given, makes one email invite per address (all or
	// nothing); otherwise a link is made.
	Emails []string `json:"emails"`
	// MaxUses lets a link be used by that many users.
	MaxUses int `json:"max_uses"`
	// ExpiresIn is a duration such as "72h"; empty means the default.
	ExpiresIn     string `json:"expires_in"`
	RequireSecure bool   `json:"require_secure"`
}

// createInvites returns the new invitations, each with its token and link:
// the only time they are shown.
func (a *API) createInvites(req *http.Request, in inviteBody) (any, error) {
	var opts []invites.InviteOption
	if in.MaxUses != 0 {
		opts = append(opts, invites.MaxUses(in.MaxUses))
	}
	if in.ExpiresIn != "" {
		d, err := time.ParseDuration(in.ExpiresIn)
		if err != nil {
			return nil, fmt.Errorf("%w: expires_in: %v", errBadRequest, err)
		}
		opts = append(opts, invites.ExpiresIn(d))
	}
	if in.RequireSecure {
		opts = append(opts, invites.RequireSecure())
	}
	user, team := who(req)
	if len(in.Emails) > 0 {
		return a.r.Invites.CreateEmail(req.Context(), user, team, in.Role, in.Emails, opts...)
	}
	inv, err := a.r.Invites.CreateLink(req.Context(), user, team, in.Role, opts...)
	if err != nil {
		return nil, err
	}
	return []invites.Invitation{inv}, nil
}

func (a *API) resendInvite(_ http.ResponseWriter, req *http.Request) (any, error) {
	user, team := who(req)
	return a.r.Invites.Resend(req.Context(), user, team, req.PathValue("id"))
}

func (a *API) revokeInvite(_ http.ResponseWriter, req *http.Request) (any, error) {
	user, team := who(req)
	return nil, a.r.Invites.Revoke(req.Context(), user, team, req.PathValue("id"))
}

// transfer is a transfer without its token hashes.
type transfer struct {
	ID, AccountID, From, To         string
	Kind                            store.TransferKind
	Status                          store.TransferStatus
	CreatedAt, ExpiresAt, UpdatedAt time.Time
}

func transferOf(t store.Transfer) transfer {
	return transfer{ID: t.ID, AccountID: t.AccountID, From: t.From, To: t.To, Kind: t.Kind, Status: t.Status,
		CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, UpdatedAt: t.UpdatedAt}
}

func (a *API) transfers(_ http.ResponseWriter, req *http.Request) (any, error) {
	user, team := who(req)
	ts, err := a.r.Teams.Transfers(req.Context(), user, team)
	if err != nil {
		return nil, err
	}
	out := make([]transfer, len(ts))
	for i, t := range ts {
		out[i] = transferOf(t)
	}
	return out, nil
}

// transferBody starts a transfer: kind "role" (the default) gives To the top
// role (Teams.GrantTopRole), "account" hands the account over to To
// (Teams.TransferOwnership).
type transferBody struct {
	To   string             `json:"to"`
	Kind store.TransferKind `json:"kind"`
}

func (a *API) startTransfer(req *http.Request, in transferBody) (any, error) {
	user, team := who(req)
	start := a.r.Teams.GrantTopRole
	switch in.Kind {
	case "", store.TransferRole:
	case store.TransferAccount:
		start = a.r.Teams.TransferOwnership
	default:
		return nil, fmt.Errorf("%w: unknown transfer kind %q", store.ErrInvalid, in.Kind)
	}
	t, err := start(req.Context(), user, team, in.To)
	if err != nil {
		return nil, err
	}
	return transferOf(t), nil
}

func (a *API) cancelTransfer(_ http.ResponseWriter, req *http.Request) (any, error) {
	user, team := who(req)
	return nil, a.r.Teams.CancelTransfer(req.Context(), user, team, req.PathValue("id"))
}

type auditPage struct {
	Events []store.Event `json:"events"`
	Next   string        `json:"next"`
}

// auditLog is one page of the audit log. Query parameters: since and until
// (RFC 3339 or a date, 2006-01-02), actor, action, resource_type,
// resource_id, result (allowed or denied), limit and cursor.
func (a *API) auditLog(_ http.ResponseWriter, req *http.Request) (any, error) {
	q := req.URL.Query()
	f := audit.Filter{
		Actor: q.Get("actor"), Action: store.EventAction(q.Get("action")), ResourceType: q.Get("resource_type"),
		ResourceID: q.Get("resource_id"), Result: store.Result(q.Get("result")), Cursor: q.Get("cursor"),
	}
	var err error
	if f.Since, err = parseTime(q, "since"); err != nil {
		return nil, err
	}
	if f.Until, err = parseTime(q, "until"); err != nil {
		return nil, err
	}
	if s := q.Get("limit"); s != "" {
		if f.Limit, err = strconv.Atoi(s); err != nil {
			return nil, fmt.Errorf("%w: limit: %v", errBadRequest, err)
		}
	}
	user, team := who(req)
	events, next, err := a.r.Audit.Query(req.Context(), user, team, f)
	if err != nil {
		return nil, err
	}
	for i := range events { // the hash chain is for Verify, not for the page
		events[i].PrevHash, events[i].Hash = nil, nil
	}
	return auditPage{Events: events, Next: next}, nil
}

// parseTime reads the query parameter name as RFC 3339 or a date; empty is
// the zero time.
func parseTime(q url.Values, name string) (time.Time, error) {
	s := q.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: %s: want RFC 3339 or YYYY-MM-DD, got %q", errBadRequest, name, s)
}
