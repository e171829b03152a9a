package main

// DEMO ONLY: this file stands in for the host application's authentication.
// It trusts whatever user ID a request names. Replace demoUser with your
// own (a session, a bearer token) and drop the /api/demo routes.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teamapi"
)

// demoCookie is the demo session cookie: it holds the user ID in clear.
// DEMO ONLY: anyone can set it to any user.
const demoCookie = "roster_demo_user"

// demoUser is the demo authentication, roster.HTTPOptions.User: the X-User
// header, else the demo cookie. DEMO ONLY: replace it with your own.
func demoUser(req *http.Request) (string, bool) {
	if u := req.Header.Get("X-User"); u != "" {
		return u, true
	}
	if c, err := req.Cookie(demoCookie); err == nil && c.Value != "" {
		return c.Value, true
	}
	return "", false
}

// signInBody is the demo sign-in form.
type signInBody struct {
	ID     string       `json:"id"`
	Name   string       `json:"name"`
	Email  string       `json:"email"`
	SignIn store.SignIn `json:"sign_in"`
}

// signedIn is the demo sign-in's answer: the user as the team API shows
// them and, if a team has their email's domain verified, that team.
type signedIn struct {
	teamapi.User
	// DomainTeam is the team whose verified email domain the user's
	// address is at; absent if none.
	DomainTeam *domainTeam `json:"domain_team,omitempty"`
}

// domainTeam is the team a user's email domain leads them to: joined, with
// Role (the domain's auto-join mode), or only suggested to them.
type domainTeam struct {
	ID     string    `json:"id"`
	Name   string    `json:"name"`
	Joined bool      `json:"joined,omitzero"`
	Role   rbac.Role `json:"role,omitzero"`
}

// signIn is the demo sign-in: it keeps roster's copy of the user in step
// (Teams.UpsertUser creates them on first use and updates their name, email
// and sign-in method later, as your own sign-in callback would) and sets
// the cookie. Then, as your sign-in should once you have verified the
// user's address, it calls Teams.JoinByDomain: if a team has the address's
// domain verified, the user joins it with the domain's role (auto-join) or
// is shown it (suggest). The demo trusts the address as typed; your
// sign-in must not, or anyone could join a team by typing an address at
// its domain.
func (s *server) signIn(w http.ResponseWriter, req *http.Request) (any, error) {
	var in signInBody
	if err := decode(w, req, &in); err != nil {
		return nil, err
	}
	if in.SignIn == "" {
		in.SignIn = store.SignInEmail
	}
	u, _, err := s.r.Teams.UpsertUser(req.Context(), store.User{ID: in.ID, Name: in.Name, Email: in.Email, SignIn: in.SignIn})
	if err != nil {
		return nil, err
	}
	out := signedIn{User: teamapi.UserOf(u)} // the user as the team API shows them
	if u.Email != "" {
		m, err := s.r.Teams.JoinByDomain(req.Context(), u.ID)
		switch {
		case errors.Is(err, store.ErrInvalid):
			// an address without a registrable domain leads to no team
		case err != nil:
			return nil, err
		case m.Account.ID != "":
			out.DomainTeam = &domainTeam{ID: m.Account.ID, Name: m.Account.Name, Joined: m.Joined, Role: rbac.Role(m.Member.Role)}
		}
	}
	http.SetCookie(w, &http.Cookie{Name: demoCookie, Value: u.ID, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return out, nil
}

// errBadRequest reports a demo request body (the sign-in form, the plan)
// that cannot be read. Like roster's own sentinels it wraps a kind,
// store.ErrInvalid, so that roster.WriteError answers it with 400 and its
// text.
var errBadRequest = store.Kinded(store.ErrInvalid, "httpserver: malformed request body")

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

// signOut clears the demo cookie.
func (s *server) signOut(w http.ResponseWriter, _ *http.Request) (any, error) {
	http.SetCookie(w, &http.Cookie{Name: demoCookie, Path: "/", MaxAge: -1})
	return nil, nil
}
