package main

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/teamapi"
)

// server is the team page's backend: roster, and the demo outbox it sends
// its emails to. It is safe for concurrent use.
type server struct {
	r      *roster.Roster
	outbox *outbox
}

// demoRoute is one route of the demo beside the team API: a net/http
// ServeMux pattern, the middleware that guards it, and its handler.
type demoRoute struct {
	pattern string
	guard   func(http.Handler) http.Handler
	handle  handlerFunc
}

// demoRoutes are the demo's own routes, under /api/demo/. DEMO ONLY: the
// sign-in has no middleware, since it is the authentication; the outbox
// stands in for the users' mailboxes; the pods stand in for the host's own
// resources, which a member or an API key of the team may read if Can says
// they may connect to pods ("Authorization: Bearer rsk_..."); the plan
// stands in for the host's billing, which sets the team's seat limit and
// which those who may manage billing pick; the domain confirmation stands
// in for the host's DNS check of a team's email domain, which those who may
// manage its settings ask for. Replace them with your own.
func (s *server) demoRoutes() []demoRoute {
	anyone := func(h http.Handler) http.Handler { return h }
	resources := roster.HTTPOptions{User: demoUser, Team: roster.TeamFromPath("team"), APIKeys: true}
	team := roster.HTTPOptions{User: demoUser, Team: roster.TeamFromPath("team")}
	return []demoRoute{
		{"POST /api/demo/signin", anyone, s.signIn},
		{"POST /api/demo/signout", anyone, s.signOut},
		{"GET /api/demo/outbox", s.r.RequireUser(roster.HTTPOptions{User: demoUser}), s.readOutbox},
		{"GET /api/demo/teams/{team}/pods", s.r.Require(rbac.PodsConnect, resources), s.pods},
		{"PUT /api/demo/teams/{team}/plan", s.r.Require(rbac.BillingManage, team), s.setPlan},
		{"POST /api/demo/teams/{team}/domains/{name}/confirm", s.r.Require(rbac.SettingsManage, team), s.confirmDomain},
	}
}

// console is the console page: plain HTML, JavaScript and CSS over the API.
//
//go:embed console
var console embed.FS

// handler serves roster's team API (package teamapi) under /api/, with
// the demo's authentication; the demo routes beside it, behind the same
// guard against cross-site requests (teamapi.SameSiteJSON); and the
// console page at /, whose index.html also answers the links of the emails
// roster sends: invitations (/invites/{token}) and ownership transfers
// (/transfers/{id}?token=...). The team API's routes, and what each
// answers, are in its OpenAPI document: GET /api/openapi.json. Since the
// demo's own routes accept API keys, the team API recognises them too, to
// refuse them: keys act through Can, they do not manage the team.
func (s *server) handler() (http.Handler, error) {
	api, err := teamapi.New(s.r, teamapi.Options{
		User:    demoUser, // DEMO ONLY: replace with your own authentication
		Prefix:  "/api",
		APIKeys: true,
	})
	if err != nil {
		return nil, err
	}
	page, err := fs.Sub(console, "console")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", api)
	for _, rt := range s.demoRoutes() {
		mux.Handle(rt.pattern, teamapi.SameSiteJSON(rt.guard(rt.handle)))
	}
	mux.Handle("/", http.FileServerFS(page))
	index := func(w http.ResponseWriter, req *http.Request) { http.ServeFileFS(w, req, page, "index.html") }
	mux.HandleFunc("GET /invites/{token}", index)
	mux.HandleFunc("GET /transfers/{id}", index)
	return mux, nil
}

// handlerFunc is a demo handler that returns a value or an error. As an
// http.Handler, it writes the value as JSON (201 for POST, 200 otherwise,
// 204 when nil) and the error as a problem report, as the team API does
// (roster.WriteError).
type handlerFunc func(w http.ResponseWriter, req *http.Request) (any, error)

// ServeHTTP calls h and writes what it returns.
func (h handlerFunc) ServeHTTP(w http.ResponseWriter, req *http.Request) {
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
}
