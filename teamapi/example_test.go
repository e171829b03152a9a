package teamapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teamapi"
)

// The host mounts the API under /api on its own mux, with its own
// authentication (here an X-User header, for the example only), beside
// its pages. alice reads her team's members table, invites a dev by link
// and bob, who is no member, is refused.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "teamapi-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	r, err := roster.Open(ctx, filepath.Join(dir, "roster.db"), roster.WithBaseURL("https://app.example.com"))
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	alice, err := r.Teams.CreateUser(ctx, store.User{ID: "alice", Email: "alice@example.com", Name: "Alice", SignIn: store.SignInGitHub})
	if err != nil {
		log.Fatal(err)
	}
	team, err := r.Teams.ConvertToTeam(ctx, "alice", alice.ID, "Acme")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Teams.CreateUser(ctx, store.User{ID: "bob", Email: "bob@example.com", Name: "Bob", SignIn: store.SignInEmail}); err != nil {
		log.Fatal(err)
	}

	api, err := teamapi.New(r, teamapi.Options{
		User: func(req *http.Request) (string, bool) { // replace with your own authentication
			u := req.Header.Get("X-User")
			return u, u != ""
		},
		Prefix: "/api",
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", api)
	// mux.Handle("/", yourPages)

	call := func(user, method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("X-User", user)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec
	}

	res := call("alice", "GET", "/api/teams/"+team.ID+"/members", "")
	var members teamapi.Page[teamapi.MemberRow]
	if err := json.Unmarshal(res.Body.Bytes(), &members); err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Code, members.Items[0].UserID, members.Items[0].Role, members.Items[0].Owner)

	res = call("alice", "POST", "/api/teams/"+team.ID+"/invites", `{"role":"dev"}`)
	var made []teamapi.Invitation
	if err := json.Unmarshal(res.Body.Bytes(), &made); err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Code, made[0].Kind, made[0].Role, strings.HasPrefix(made[0].Link, "https://app.example.com/invites/"))

	res = call("bob", "GET", "/api/teams/"+team.ID+"/members", "")
	var p roster.Problem
	if err := json.Unmarshal(res.Body.Bytes(), &p); err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Code, res.Header().Get("Content-Type"), p.Detail)
	// Output:
	// 200 alice admin true
	// 201 link dev true
	// 403 application/problem+json you are not a member of this account
}
