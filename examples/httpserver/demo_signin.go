package main

// DEMO ONLY: this file stands in for the host application's authentication.
// It trusts whatever user ID a request names. Replace demoUser with your
// own (a session, a bearer token) and drop the /api/demo routes.

import (
	"encoding/json"
	"fmt"
	"net/http"

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

// signIn is the demo sign-in: it keeps roster's copy of the user in step
// (Teams.UpsertUser creates them on first use and updates their name, email
// and sign-in method later, as your own sign-in callback would) and sets
// the cookie.
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
	http.SetCookie(w, &http.Cookie{Name: demoCookie, Value: u.ID, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return teamapi.UserOf(u), nil // the user as the team API shows them
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
