package teamapi

import (
	"context"
	"net/http"
	"reflect"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/rbac"
)

// access is who may reach a route: roster's middleware answers 401 (no
// user) or 403 (not allowed) with a problem report before the handler
// runs, and otherwise puts the user and the team in the request's context
// (roster.UserFrom, roster.TeamFrom).
type access struct {
	// kind is "public" (no middleware: the OpenAPI document), "user"
	// (r.RequireUser: any signed-in user), "member" (r.RequireMember: a
	// member of the team named by {team}) or "action" (r.Require(action):
	// a member of {team} whose role may do action there, the same answer
	// as r.Can).
	kind   string
	action rbac.Action
}

var (
	public   = access{kind: "public"}
	signedIn = access{kind: "user"}
	member   = access{kind: "member"}
)

// may is the access of a member whose role may perform action.
func may(action rbac.Action) access { return access{kind: "action", action: action} }

// String is the access as the OpenAPI document's x-roster-access names it:
// public, user, member or the action.
func (a access) String() string {
	if a.kind == "action" {
		return string(a.action)
	}
	return a.kind
}

// guard returns the middleware of roster that lets a request through to
// the route.
func (a access) guard(r *roster.Roster, o roster.HTTPOptions) func(http.Handler) http.Handler {
	switch a.kind {
	case "user":
		return r.RequireUser(o)
	case "member":
		return r.RequireMember(o)
	case "action":
		return r.Require(a.action, o)
	}
	return func(h http.Handler) http.Handler { return h }
}

// call is one request to a route, as its handler sees it: the user and
// team the middleware let through, the checked query.
type call struct {
	w    http.ResponseWriter
	req  *http.Request
	user string // the signed-in user; "" on a public route
	team string // the {team} of the path, authorized by the middleware
	q    query
}

func (c *call) ctx() context.Context { return c.req.Context() }

// written is what a handler returns when it wrote the response itself.
type written struct{}

// route is one row of the route table.
type route struct {
	method string
	path   string // after the prefix, in http.ServeMux's syntax
	access access
	// status is the status of success: 200, 201 (a POST that made
	// something) or 204 (nothing to answer).
	status int
	// query names the query parameters the route takes; others are
	// refused.
	query []string
	// body says the route takes a JSON body, which it needs; a route
	// without one takes an empty body or an empty object.
	body bool
	// handle reads the decoded body (a pointer to the route's body type)
	// and answers a value to send as JSON, nil (with status 204) or
	// written{}.
	handle func(c *call, in any) (any, error)
	// newBody returns a pointer to a new body of the route's type.
	newBody func() any
}

// pattern is the route's http.ServeMux pattern under prefix.
func (rt route) pattern(prefix string) string { return rt.method + " " + prefix + rt.path }

// op makes a route whose handler takes a body of type T; struct{} means
// none.
func op[T any](method, path string, a access, status int, query []string, fn func(c *call, in T) (any, error)) route {
	return route{
		method: method, path: path, access: a, status: status, query: query,
		body:    reflect.TypeFor[T]() != reflect.TypeFor[struct{}](),
		handle:  func(c *call, in any) (any, error) { return fn(c, *in.(*T)) },
		newBody: func() any { return new(T) },
	}
}

// none is the body of a route that takes none.
type none = struct{}

// Query parameters of the lists.
var (
	paging       = []string{"limit", "cursor"}
	inviteQuery  = []string{"status", "limit", "cursor"}
	auditFilter  = []string{"since", "until", "actor", "action", "resource_type", "resource_id", "result", "limit", "cursor"}
	exportQuery  = append([]string{"format"}, auditFilter...)
	keyQuery     = []string{"all", "limit", "cursor"}
	previewQuery = []string{"role"}
)

// routes is the route table: every route of the API, who may reach it and
// what it answers. The OpenAPI document (openapi.json) describes each; a
// test holds the two equal.
func (a *api) routes() []route {
	return []route{
		op("GET", "/openapi.json", public, 200, nil, a.openAPI),

		// The user: account selector, new teams, invitations and transfers
		// addressed to them.
		op("GET", "/me", signedIn, 200, nil, a.me),
		op("POST", "/teams", signedIn, 201, nil, a.createTeam),
		op("GET", "/invites/{token}", signedIn, 200, nil, a.previewInvite),
		op("POST", "/invites/{token}/accept", signedIn, 201, nil, a.acceptInvite),
		op("POST", "/transfers/{id}/confirm", signedIn, 200, nil, a.confirmTransfer),
		op("POST", "/transfers/{id}/accept", signedIn, 200, nil, a.acceptTransfer),

		// One account, named by the {team} path value.
		op("POST", "/accounts/{team}/switch", member, 200, nil, a.switchAccount),
		op("POST", "/accounts/{team}/convert", may(rbac.SettingsManage), 200, nil, a.convert),
		op("GET", "/teams/{team}", member, 200, nil, a.teamPage),
		op("DELETE", "/teams/{team}", may(rbac.SettingsManage), 200, nil, a.deleteTeam),
		op("GET", "/teams/{team}/secure-sign-in", may(rbac.SettingsManage), 200, nil, a.previewSecureSignIn),
		op("PUT", "/teams/{team}/secure-sign-in", may(rbac.SettingsManage), 200, nil, a.setSecureSignIn),
		op("GET", "/teams/{team}/domains", may(rbac.SettingsManage), 200, nil, a.domains),
		op("POST", "/teams/{team}/domains", may(rbac.SettingsManage), 201, nil, a.addDomain),
		op("DELETE", "/teams/{team}/domains/{name}", may(rbac.SettingsManage), 204, nil, a.removeDomain),
		op("GET", "/teams/{team}/members", member, 200, paging, a.members),
		op("PATCH", "/teams/{team}/members/{user}", may(rbac.MembersManage), 200, nil, a.changeRole),
		op("GET", "/teams/{team}/members/{user}/role-preview", may(rbac.MembersManage), 200, previewQuery, a.previewRole),
		op("DELETE", "/teams/{team}/members/{user}", may(rbac.MembersManage), 204, nil, a.removeMember),
		op("POST", "/teams/{team}/members/{user}/suspend", may(rbac.MembersManage), 200, nil, a.suspend),
		op("POST", "/teams/{team}/members/{user}/reinstate", may(rbac.MembersManage), 200, nil, a.reinstate),
		op("PUT", "/teams/{team}/members/{user}/until", may(rbac.MembersManage), 200, nil, a.endMembership),
		op("GET", "/teams/{team}/seats", member, 200, nil, a.seats),
		op("GET", "/teams/{team}/roles", member, 200, nil, a.roles),
		op("POST", "/teams/{team}/leave", member, 204, nil, a.leave),
		op("GET", "/teams/{team}/invites", member, 200, inviteQuery, a.listInvites),
		op("POST", "/teams/{team}/invites", may(rbac.MembersInvite), 201, nil, a.createInvites),
		op("POST", "/teams/{team}/invites/{id}/resend", may(rbac.MembersInvite), 200, nil, a.resendInvite),
		op("POST", "/teams/{team}/invites/{id}/link", may(rbac.MembersInvite), 200, nil, a.copyInviteLink),
		op("DELETE", "/teams/{team}/invites/{id}", may(rbac.MembersInvite), 204, nil, a.revokeInvite),
		op("GET", "/teams/{team}/transfers", may(rbac.MembersManage), 200, paging, a.transfers),
		op("POST", "/teams/{team}/transfers", may(rbac.MembersManage), 201, nil, a.startTransfer),
		op("DELETE", "/teams/{team}/transfers/{id}", member, 204, nil, a.cancelTransfer),
		op("GET", "/teams/{team}/keys", member, 200, keyQuery, a.keys),
		op("POST", "/teams/{team}/keys", member, 201, nil, a.createKey),
		op("DELETE", "/teams/{team}/keys/{id}", member, 204, nil, a.revokeKey),
		op("GET", "/teams/{team}/audit", may(rbac.AuditRead), 200, auditFilter, a.auditLog),
		op("GET", "/teams/{team}/audit/export", may(rbac.AuditRead), 200, exportQuery, a.exportAudit),
	}
}
