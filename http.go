package roster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/teamroster/roster/audit"
	itoken "github.com/teamroster/roster/internal/token"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// HTTPOptions tells the middleware of Require, RequireMember and
// RequireUser how to find a request's user and team. The host application
// supplies both from its own authentication and routing; the middleware
// calls them from many requests at once, so they must be safe for
// concurrent use.
type HTTPOptions struct {
	// User returns the ID of the request's authenticated user (the ID the
	// host gave store.User.ID), or false if the request has none. It is the
	// host's own authentication: a session cookie, a bearer token. A
	// request without a user gets 401.
	User func(*http.Request) (string, bool)
	// Team returns the ID of the account the request acts on, or false if
	// the request does not name one, such as TeamFromPath("team") or
	// TeamFromHeader("X-Team"). A request whose Team finds no team is
	// refused with 400, never sent to another account (a router that has
	// not set the path value yet, such as chi's top-level Use, or one that
	// never sets it, such as echo or gin, fails closed). With a nil Team
	// every request acts on the user's active account
	// (teams.Service.Active).
	Team func(*http.Request) (string, bool)
	// APIKeys makes the middleware accept roster's API keys (see package
	// apikeys and Roster.Authenticate) as "Authorization: Bearer <token>",
	// besides User. A request whose bearer token has the API key prefix
	// acts as the key: UserFrom returns the key's ID, so that every Can
	// the handler asks, and every event it records, is the key's, and
	// KeyFrom returns its Principal; with a nil Team it acts on the key's
	// account. A key that is not good gets 401, never User's answer.
	// RequireUser refuses keys (403): they act only on their account.
	APIKeys bool
}

// TeamFromPath returns a Team source that reads the path value name
// (r.PathValue), so that the patterns of http.ServeMux, such as
// "GET /teams/{team}/members", name the team. A router that is not
// http.ServeMux fills path values with r.SetPathValue. It reports false
// when the value is empty. The source is safe for concurrent use.
func TeamFromPath(name string) func(*http.Request) (string, bool) {
	return func(r *http.Request) (string, bool) {
		v := r.PathValue(name)
		return v, v != ""
	}
}

// TeamFromHeader returns a Team source that reads the request header name,
// such as "X-Team". It reports false when the header is absent or empty.
// The source is safe for concurrent use.
func TeamFromHeader(name string) func(*http.Request) (string, bool) {
	return func(r *http.Request) (string, bool) {
		v := r.Header.Get(name)
		return v, v != ""
	}
}

type ctxKey int

const (
	userKey ctxKey = iota
	teamKey
	keyKey
)

// UserFrom returns the user the middleware authenticated, from the context
// of the request it passed on; false if there is none. It is safe for
// concurrent use.
func UserFrom(ctx context.Context) (string, bool) {
	u, ok := ctx.Value(userKey).(string)
	return u, ok
}

// KeyFrom returns the principal of the API key the middleware
// authenticated the request with (see HTTPOptions.APIKeys), from the
// context of the request it passed on; false if the request was not made
// with a key. It is safe for concurrent use.
func KeyFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(keyKey).(Principal)
	return p, ok
}

// TeamFrom returns the team (account ID) the middleware of Require or
// RequireMember authorized the request for, from the context of the request
// it passed on; false if there is none. It is safe for concurrent use.
func TeamFrom(ctx context.Context) (string, bool) {
	t, ok := ctx.Value(teamKey).(string)
	return t, ok
}

// Problem is an HTTP problem report (RFC 9457), the body of the
// middleware's error responses, served as application/problem+json.
type Problem struct {
	// Type is "about:blank": the status code says what went wrong.
	Type string `json:"type"`
	// Title is the status code's text, such as "Forbidden" (for 499,
	// "Client Closed Request").
	Title string `json:"title"`
	// Status is the HTTP status code.
	Status int `json:"status"`
	// Detail explains this occurrence to the client.
	Detail string `json:"detail,omitempty"`
}

// WriteProblem writes a problem report with the status and detail as the
// response, so that a host's handlers can answer errors in the same form
// as the middleware. A body that cannot be written means the client has
// gone; nobody is left to tell, so WriteProblem returns nothing. Like any
// write to w, it must not run concurrently with other writes to w.
func WriteProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	title := http.StatusText(status)
	if status == statusClientClosed {
		title = "Client Closed Request"
	}
	_ = json.NewEncoder(w).Encode(Problem{Type: "about:blank", Title: title, Status: status, Detail: detail})
}

// Require returns net/http middleware that passes a request to the next
// handler only if its user may perform action on its team, as Can says.
// The next handler finds the user and the team with UserFrom and TeamFrom,
// and the request metadata (IP, user agent, X-Request-ID) is in its context
// as audit.Middleware puts it, so that the audit events it writes carry it.
//
// The responses, each an application/problem+json body (see Problem):
//
//   - 401 Unauthorized: o.User found no user, or returned a malformed ID.
//   - 400 Bad Request: o.Team is set and finds no team in the request, or
//     the team the request names is not a well-formed ID. No account has
//     such an ID, so saying so reveals nothing.
//   - 403 Forbidden: the user may not perform action on the team. To a
//     user who is not a member, a team that does not exist and a team of
//     others get the same answer, so that nobody learns which teams exist;
//     a member is told which role lacks the action. With a nil o.Team, a
//     request whose user has no active account is 403 too.
//   - 500 Internal Server Error: the policy has no such action (a
//     programming error: every request fails until it is fixed; not the
//     400 HTTPStatus gives rbac.ErrUnknownAction, since the action is the
//     server's, not the client's).
//   - 500 Internal Server Error, too: with a memory budget (see
//     WithMemoryBudget), the team's account had to be read from the Store
//     and could not be.
//   - Reading the user's active account failed: the status HTTPStatus gives
//     the error, such as 500 for a database failure or 503 once the
//     Roster is closed.
//
// Denied requests are not written to the audit log. The middleware works
// with http.ServeMux and any router built on http.Handler, and is safe for
// concurrent use.
func (r *Roster) Require(action rbac.Action, o HTTPOptions) func(http.Handler) http.Handler {
	return r.middleware(o, func(w http.ResponseWriter, req *http.Request, user, team string) bool {
		d := r.Explain(req.Context(), user, team, action)
		switch {
		case d.Allowed:
			return true
		case errors.Is(d.Err, rbac.ErrUnknownAction):
			WriteProblem(w, http.StatusInternalServerError, fmt.Sprintf("the policy has no action %q", action))
		case errors.Is(d.Err, store.ErrBackend):
			WriteProblem(w, http.StatusInternalServerError, unreadAccount)
		case errors.Is(d.Err, rbac.ErrDenied):
			WriteProblem(w, http.StatusForbidden, fmt.Sprintf("your role %q may not %s on this account", d.Role, action))
		default: // not a member, or no such account: the same answer
			WriteProblem(w, http.StatusForbidden, fmt.Sprintf("you may not %s on this account", action))
		}
		return false
	})
}

// unreadAccount is the detail of the 500 a middleware answers when, with a
// memory budget (see WithMemoryBudget), the request's account had to be
// read from the Store and could not be.
const unreadAccount = "the account could not be read"

// RequireMember is Require for a request that any member of the team may
// make, whatever their role, such as reading the members table: it answers
// like Require, with 403 for a user who is not a member. It is safe for
// concurrent use.
func (r *Roster) RequireMember(o HTTPOptions) func(http.Handler) http.Handler {
	return r.middleware(o, func(w http.ResponseWriter, req *http.Request, user, team string) bool {
		member, ok := r.mem.member(req.Context(), team, user)
		switch {
		case member:
			return true
		case !ok:
			WriteProblem(w, http.StatusInternalServerError, unreadAccount)
			return false
		}
		detail := "you are not a member of this account"
		if a, _ := r.mem.lookup(req.Context(), team, user, ""); a.Suspended {
			detail = "you are suspended in this account"
		}
		WriteProblem(w, http.StatusForbidden, detail)
		return false
	})
}

// RequireUser returns middleware that passes a request on only if o.User
// finds its user (401 otherwise, as Require), for requests that act on no
// team, such as listing the user's accounts or accepting an invitation.
// o.Team is not used and TeamFrom reports false. The request metadata is put
// in the context as Require does. It is safe for concurrent use.
func (r *Roster) RequireUser(o HTTPOptions) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return audit.Middleware(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			user, key, ok := r.authenticate(w, req, o)
			if !ok {
				return
			}
			if key != nil {
				WriteProblem(w, http.StatusForbidden, "an API key acts only on its own account")
				return
			}
			next.ServeHTTP(w, req.WithContext(context.WithValue(req.Context(), userKey, user)))
		}))
	}
}

// middleware authenticates the user, resolves the team and lets allow decide;
// allow writes the response when it says no.
func (r *Roster) middleware(o HTTPOptions, allow func(w http.ResponseWriter, req *http.Request, user, team string) bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return audit.Middleware(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			user, key, ok := r.authenticate(w, req, o)
			if !ok {
				return
			}
			team, ok := r.team(w, req, o, user, key)
			if !ok || !allow(w, req, user, team) {
				return
			}
			ctx := context.WithValue(context.WithValue(req.Context(), userKey, user), teamKey, team)
			if key != nil {
				ctx = context.WithValue(ctx, keyKey, *key)
			}
			next.ServeHTTP(w, req.WithContext(ctx))
		}))
	}
}

// authenticate returns the request's user, or with o.APIKeys the API key
// its bearer token names (the key's ID as the user, and its principal), or
// writes 401 and reports false.
func (r *Roster) authenticate(w http.ResponseWriter, req *http.Request, o HTTPOptions) (string, *Principal, bool) {
	if o.APIKeys {
		if tok, ok := bearer(req); ok && strings.HasPrefix(tok, itoken.APIKeyPrefix) {
			p, err := r.Authenticate(req.Context(), tok)
			if err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
				WriteProblem(w, http.StatusUnauthorized, "the API key is not valid")
				return "", nil, false
			}
			return p.Key, &p, true
		}
	}
	user, ok := authenticateUser(w, req, o)
	return user, nil, ok
}

// bearer returns the token of the request's "Authorization: Bearer" header.
func bearer(req *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(req.Header.Get("Authorization"), " ")
	return tok, ok && strings.EqualFold(scheme, "Bearer") && tok != ""
}

// authenticateUser returns the request's user as o.User finds it, or
// writes 401 and reports false.
func authenticateUser(w http.ResponseWriter, req *http.Request, o HTTPOptions) (string, bool) {
	var user string
	ok := o.User != nil
	if ok {
		user, ok = o.User(req)
	}
	if !ok || store.ValidateID("user", user) != nil {
		WriteProblem(w, http.StatusUnauthorized, "sign in first")
		return "", false
	}
	return user, true
}

// team returns the team the request acts on: the one o.Team finds, or with
// a nil o.Team the user's active account (an API key's own account). Otherwise it writes the error
// response and reports false.
func (r *Roster) team(w http.ResponseWriter, req *http.Request, o HTTPOptions, user string, key *Principal) (string, bool) {
	if o.Team == nil && key != nil {
		return key.Account, true
	}
	if o.Team != nil {
		team, ok := o.Team(req)
		switch {
		case !ok:
			WriteProblem(w, http.StatusBadRequest, "the request names no team")
			return "", false
		case store.ValidateID("team", team) != nil:
			WriteProblem(w, http.StatusBadRequest, "the team ID is malformed")
			return "", false
		}
		return team, true
	}
	a, err := r.Teams.Active(req.Context(), user)
	switch {
	case errors.Is(err, store.ErrNotFound):
		WriteProblem(w, http.StatusForbidden, "you have no active account")
		return "", false
	case err != nil:
		WriteProblem(w, HTTPStatus(err), "the active account could not be read")
		return "", false
	}
	return a.ID, true
}
