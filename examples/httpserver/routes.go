package main

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/rbac"
)

// server is the team page's backend: roster, and the demo outbox it sends
// its emails to. Its handlers are in handlers.go. It is safe for concurrent
// use.
type server struct {
	r      *roster.Roster
	outbox *outbox
}

// route is one row of the route table: a net/http ServeMux pattern, the
// middleware that guards it, and its handler.
type route struct {
	pattern string
	guard   func(http.Handler) http.Handler
	handle  handlerFunc
}

// routes is the route table: every route of the API and who may reach it.
// roster's middleware answers 401 (no user) or 403 (not allowed) with a
// problem report before the handler runs, and otherwise puts the user and
// the team in the request's context (roster.UserFrom, roster.TeamFrom):
//
//   - r.RequireUser(opts): any signed-in user;
//   - r.RequireMember(opts): a member of the team named by {team};
//   - r.Require(action, opts): a member of {team} whose role may do action
//     there, the same answer as r.Can.
func (s *server) routes() []route {
	opts := roster.HTTPOptions{
		User: demoUser, // DEMO ONLY: replace with your own authentication
		Team: roster.TeamFromPath("team"),
	}
	signedIn := s.r.RequireUser(opts)
	member := s.r.RequireMember(opts)
	may := func(action rbac.Action) func(http.Handler) http.Handler { return s.r.Require(action, opts) }
	anyone := func(h http.Handler) http.Handler { return h }

	return []route{
		// DEMO ONLY: the sign-in has no middleware, since it is the
		// authentication; the outbox stands in for the users' mailboxes.
		{"POST /api/demo/signin", anyone, s.signIn},
		{"POST /api/demo/signout", anyone, s.signOut},
		{"GET /api/demo/outbox", signedIn, s.readOutbox},

		// The user: account selector, invitations and transfers addressed to them.
		{"GET /api/me", signedIn, s.me},
		{"POST /api/teams", signedIn, withBody(s.createTeam)},
		{"GET /api/invites/{token}", signedIn, s.previewInvite},
		{"POST /api/invites/{token}/accept", signedIn, s.acceptInvite},
		{"POST /api/transfers/{id}/confirm", signedIn, transferStep(s.r.Teams.ConfirmTransfer)},
		{"POST /api/transfers/{id}/accept", signedIn, transferStep(s.r.Teams.AcceptTransfer)},

		// One account, named by the {team} path value.
		{"POST /api/accounts/{team}/switch", member, s.switchAccount},
		{"POST /api/accounts/{team}/convert", may(rbac.SettingsManage), withBody(s.convert)},
		{"GET /api/teams/{team}", member, s.teamPage},
		{"DELETE /api/teams/{team}", may(rbac.SettingsManage), s.deleteTeam},
		{"GET /api/teams/{team}/secure-sign-in", may(rbac.SettingsManage), s.previewSecureSignIn},
		{"PUT /api/teams/{team}/secure-sign-in", may(rbac.SettingsManage), withBody(s.setSecureSignIn)},
		{"GET /api/teams/{team}/members", member, s.members},
		{"PATCH /api/teams/{team}/members/{user}", may(rbac.MembersManage), withBody(s.changeRole)},
		{"DELETE /api/teams/{team}/members/{user}", may(rbac.MembersManage), s.removeMember},
		{"POST /api/teams/{team}/leave", member, s.leave},
		{"GET /api/teams/{team}/invites", member, s.listInvites},
		{"POST /api/teams/{team}/invites", may(rbac.MembersInvite), withBody(s.createInvites)},
		{"POST /api/teams/{team}/invites/{id}/resend", may(rbac.MembersInvite), s.resendInvite},
		{"POST /api/teams/{team}/invites/{id}/link", may(rbac.MembersInvite), s.copyInviteLink},
		{"DELETE /api/teams/{team}/invites/{id}", may(rbac.MembersInvite), s.revokeInvite},
		{"GET /api/teams/{team}/transfers", may(rbac.MembersManage), s.transfers},
		{"POST /api/teams/{team}/transfers", may(rbac.MembersManage), withBody(s.startTransfer)},
		{"DELETE /api/teams/{team}/transfers/{id}", member, s.cancelTransfer},
		{"GET /api/teams/{team}/audit", may(rbac.AuditRead), s.auditLog},
	}
}

// console is the console page: plain HTML, JavaScript and CSS over the API.
//
//go:embed console
var console embed.FS

// handler serves the routes under /api/, each behind its guard and all of
// them behind sameSiteJSON, and the console page at /, whose index.html
// also answers the invite links (/invites/{token}). A request under /api/
// that matches no route gets 404, or 405 for another method.
func (s *server) handler() (http.Handler, error) {
	api := http.NewServeMux()
	for _, rt := range s.routes() {
		api.Handle(rt.pattern, rt.guard(rt.handle))
	}
	page, err := fs.Sub(console, "console")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", sameSiteJSON(api))
	mux.Handle("/", http.FileServerFS(page))
	mux.HandleFunc("GET /invites/{token}", func(w http.ResponseWriter, req *http.Request) {
		http.ServeFileFS(w, req, page, "index.html")
	})
	return mux, nil
}
