package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teamapi"
)

// serve runs the example as main does (run) on a free port of 127.0.0.1,
// with the Runpod policy and a database in the test's temporary directory,
// until the test ends, and returns its base URL and its log. The test
// fails if run returns an error.
func serve(t *testing.T) (base string, logs *logBuffer) {
	t.Helper()
	return servePolicy(t, rbac.Runpod())
}

// servePolicy is serve with the policy p.
func servePolicy(t *testing.T, p *rbac.Policy) (base string, logs *logBuffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs = &logBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, ln, filepath.Join(t.TempDir(), "roster.db"), p, nil, logs) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("run: %v", err)
		}
	})
	return "http://" + ln.Addr().String(), logs
}

// logBuffer is the server's log: a bytes.Buffer safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written.
func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// client calls the API as one user.
type client struct {
	base string
	user string
}

// do sends the request with the X-User header and a JSON body (if not nil,
// as application/json), and checks the status. With out set, it decodes the response into it.
func (c client) do(t *testing.T, method, target string, body any, want int, out any) string {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+target, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.user != "" {
		req.Header.Set("X-User", c.user)
	}
	req.Header.Set("X-Request-ID", "test-"+c.user)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != want {
		t.Fatalf("%s %s as %q: status %d, want %d: %s", method, target, c.user, res.StatusCode, want, raw)
	}
	if want >= 400 && res.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("%s %s: error response of type %q, want application/problem+json", method, target, res.Header.Get("Content-Type"))
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, target, raw, err)
		}
	}
	return string(raw)
}

type mail struct {
	Kind, Link, Token, ID string
}

// tokenOf returns the token at the end of an invite link.
func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(u.Path, "/invites/") {
		t.Fatalf("invite link %q is not base/invites/{token}", link)
	}
	return path.Base(u.Path)
}

func TestHTTPServer(t *testing.T) {
	base, logs := serve(t)
	alice, bob, carol, dave := client{base, "alice"}, client{base, "bob"}, client{base, "carol"}, client{base, "dave"}
	anon := client{base, ""}

	for _, c := range []client{alice, bob, carol, dave} {
		c.do(t, "POST", "/api/demo/signin", map[string]string{"id": c.user, "name": c.user, "email": c.user + "@example.com", "sign_in": "google"}, 201, nil)
	}
	anon.do(t, "GET", "/api/me", nil, 401, nil)

	var m teamapi.Me
	alice.do(t, "GET", "/api/me", nil, 200, &m)
	if len(m.Accounts) != 1 || m.Accounts[0].Account.Kind != "personal" || !m.Accounts[0].Active {
		t.Fatalf("alice's accounts: %+v, want her active personal account", m.Accounts)
	}
	personal := m.Accounts[0].Account.ID

	var acme teamapi.Account
	alice.do(t, "POST", "/api/accounts/"+personal+"/convert", map[string]string{"name": "Acme"}, 200, &acme)
	if acme.ID != personal || acme.Kind != "team" || acme.Name != "Acme" {
		t.Fatalf("converted account %+v, want team Acme with ID %s", acme, personal)
	}
	bob.do(t, "POST", "/api/accounts/"+acme.ID+"/convert", map[string]string{"name": "Mine"}, 403, nil)
	teamURL := "/api/teams/" + acme.ID

	t.Run("a link invite is previewed and accepted", func(t *testing.T) {
		var links []teamapi.Invitation
		alice.do(t, "POST", teamURL+"/invites", map[string]string{"role": "dev"}, 201, &links)
		if len(links) != 1 || links[0].Token == "" || !strings.HasPrefix(links[0].Link, base+"/invites/") {
			t.Fatalf("link invite %+v", links)
		}
		tok := tokenOf(t, links[0].Link)
		var preview teamapi.InvitePreview
		bob.do(t, "GET", "/api/invites/"+tok, nil, 200, &preview)
		if preview.Team != "Acme" || preview.Role != "dev" {
			t.Errorf("preview %+v", preview)
		}
		var joined teamapi.Membership
		bob.do(t, "POST", "/api/invites/"+tok+"/accept", nil, 201, &joined)
		if joined.UserID != "bob" || joined.Role != "dev" {
			t.Errorf("joined %+v", joined)
		}
		carol.do(t, "POST", "/api/invites/"+tok+"/accept", nil, 410, nil)
		bob.do(t, "POST", teamURL+"/invites", map[string]string{"role": "dev"}, 403, nil)
	})

	t.Run("an email invite is listed, resent and accepted with the new link", func(t *testing.T) {
		var sent []teamapi.Invitation
		alice.do(t, "POST", teamURL+"/invites", map[string]any{"role": "billing", "emails": []string{"carol@example.com"}}, 201, &sent)
		var page teamapi.Page[teamapi.Invitation]
		alice.do(t, "GET", teamURL+"/invites?status=pending", nil, 200, &page)
		pending := page.Items
		if len(pending) != 1 || pending[0].Email != "carol@example.com" || pending[0].Token != "" {
			t.Fatalf("pending %+v, want carol's invite without its token", pending)
		}
		var first, again []mail
		carol.do(t, "GET", "/api/demo/outbox", nil, 200, &first)
		if len(first) != 1 || first[0].Kind != "invite" {
			t.Fatalf("carol's mail: %+v", first)
		}
		var resent teamapi.Invitation
		alice.do(t, "POST", teamURL+"/invites/"+sent[0].ID+"/resend", nil, 200, &resent)
		carol.do(t, "GET", "/api/demo/outbox", nil, 200, &again)
		if len(again) != 2 || again[0].Link == first[0].Link {
			t.Fatalf("carol's mail after the resend: %+v", again)
		}
		carol.do(t, "POST", "/api/invites/"+tokenOf(t, first[0].Link)+"/accept", nil, 410, nil)
		carol.do(t, "POST", "/api/invites/"+tokenOf(t, again[0].Link)+"/accept", nil, 201, nil)
	})

	t.Run("a pending invite's link is copied again until it is resent", func(t *testing.T) {
		var made []teamapi.Invitation
		alice.do(t, "POST", teamURL+"/invites", map[string]string{"role": "basic"}, 201, &made)
		var copied teamapi.Invitation
		alice.do(t, "POST", teamURL+"/invites/"+made[0].ID+"/link", nil, 200, &copied)
		if copied.Link != made[0].Link || copied.Status != "pending" {
			t.Fatalf("copied %+v, want the pending invite with link %s", copied, made[0].Link)
		}
		bob.do(t, "POST", teamURL+"/invites/"+made[0].ID+"/link", nil, 403, nil)
		var resent, again teamapi.Invitation
		alice.do(t, "POST", teamURL+"/invites/"+made[0].ID+"/resend", nil, 200, &resent)
		alice.do(t, "POST", teamURL+"/invites/"+made[0].ID+"/link", nil, 200, &again)
		if again.Link != resent.Link || again.Link == copied.Link {
			t.Fatalf("copy after the resend: %s, want the resent link %s", again.Link, resent.Link)
		}
		dave.do(t, "GET", "/api/invites/"+tokenOf(t, copied.Link), nil, 410, nil)
		alice.do(t, "DELETE", teamURL+"/invites/"+made[0].ID, nil, 204, nil)
		alice.do(t, "POST", teamURL+"/invites/"+made[0].ID+"/link", nil, 410, nil)
	})

	t.Run("an email invite is revoked", func(t *testing.T) {
		var sent []teamapi.Invitation
		alice.do(t, "POST", teamURL+"/invites", map[string]any{"role": "basic", "emails": []string{"dave@example.com"}}, 201, &sent)
		alice.do(t, "DELETE", teamURL+"/invites/"+sent[0].ID, nil, 204, nil)
		var page teamapi.Page[teamapi.Invitation]
		alice.do(t, "GET", teamURL+"/invites", nil, 200, &page)
		all := page.Items
		statuses := map[string]store.InviteStatus{}
		for _, inv := range all {
			statuses[inv.ID] = inv.Status
		}
		if statuses[sent[0].ID] != "revoked" || len(all) != 4 {
			t.Errorf("invites %+v, want four with dave's revoked", all)
		}
		var mails []mail
		dave.do(t, "GET", "/api/demo/outbox", nil, 200, &mails)
		dave.do(t, "POST", "/api/invites/"+tokenOf(t, mails[0].Link)+"/accept", nil, 410, nil)
		dave.do(t, "GET", teamURL+"/members", nil, 403, nil)
	})

	t.Run("the account selector switches to the team", func(t *testing.T) {
		var m teamapi.Me
		bob.do(t, "GET", "/api/me", nil, 200, &m)
		if len(m.Accounts) != 2 || m.Accounts[1].Account.ID != acme.ID || m.Accounts[1].Active {
			t.Fatalf("bob's accounts before switching: %+v", m.Accounts)
		}
		var active teamapi.Account
		bob.do(t, "POST", "/api/accounts/"+acme.ID+"/switch", nil, 200, &active)
		var after teamapi.Me // omitzero leaves inactive accounts' active out: decode afresh
		bob.do(t, "GET", "/api/me", nil, 200, &after)
		if active.ID != acme.ID || after.Accounts[0].Active || !after.Accounts[1].Active {
			t.Errorf("after switching: %+v, %+v", active, after.Accounts)
		}
		dave.do(t, "POST", "/api/accounts/"+acme.ID+"/switch", nil, 403, nil)
	})

	t.Run("members see the table; only admins see sign-in methods", func(t *testing.T) {
		var alicePage, bobPage teamapi.Page[teamapi.MemberRow]
		alice.do(t, "GET", teamURL+"/members", nil, 200, &alicePage)
		bob.do(t, "GET", teamURL+"/members", nil, 200, &bobPage)
		byAlice, byBob := alicePage.Items, bobPage.Items
		if len(byAlice) != 3 || len(byBob) != 3 {
			t.Fatalf("members: %+v / %+v", byAlice, byBob)
		}
		for i := range byAlice {
			if byAlice[i].SignIn != "google" || byBob[i].SignIn != "" {
				t.Errorf("row %d: sign-in %q for alice, %q for bob; want google and none", i, byAlice[i].SignIn, byBob[i].SignIn)
			}
		}
	})

	t.Run("the members table pages with limit and cursor", func(t *testing.T) {
		var all teamapi.Page[teamapi.MemberRow]
		alice.do(t, "GET", teamURL+"/members", nil, 200, &all)
		var walked []teamapi.MemberRow
		url := teamURL + "/members?limit=2"
		for range len(all.Items) + 1 {
			var page teamapi.Page[teamapi.MemberRow]
			alice.do(t, "GET", url, nil, 200, &page)
			walked = append(walked, page.Items...)
			if page.Next == "" {
				break
			}
			url = teamURL + "/members?limit=2&cursor=" + page.Next
		}
		if !slices.Equal(walked, all.Items) {
			t.Errorf("pages of 2 = %+v, want %+v", walked, all.Items)
		}
		alice.do(t, "GET", teamURL+"/members?cursor=forged", nil, 400, nil)
		alice.do(t, "GET", teamURL+"/members?limit=1001", nil, 400, nil)
		alice.do(t, "GET", teamURL+"/members?limit=x", nil, 400, nil)
	})

	t.Run("roles change; a member without the right is refused", func(t *testing.T) {
		var changed teamapi.Membership
		alice.do(t, "PATCH", teamURL+"/members/bob", map[string]string{"role": "basic"}, 200, &changed)
		if changed.Role != "basic" {
			t.Errorf("changed %+v", changed)
		}
		bob.do(t, "PATCH", teamURL+"/members/carol", map[string]string{"role": "basic"}, 403, nil)
		alice.do(t, "PATCH", teamURL+"/members/bob", map[string]string{"role": "emperor"}, 400, nil)
		alice.do(t, "PATCH", teamURL+"/members/bob", map[string]string{"colour": "red"}, 400, nil)
	})

	t.Run("ownership transfer: confirm, then accept", func(t *testing.T) {
		alice.do(t, "POST", teamURL+"/transfers", map[string]string{"to": "alice"}, 403, nil) // recorded as denied
		var tr teamapi.Transfer
		alice.do(t, "POST", teamURL+"/transfers", map[string]string{"to": "bob"}, 201, &tr)
		var mails []mail
		alice.do(t, "GET", "/api/demo/outbox", nil, 200, &mails)
		if len(mails) == 0 || mails[0].Kind != "transfer.confirm" || mails[0].ID != tr.ID {
			t.Fatalf("alice's mail: %+v", mails)
		}
		bob.do(t, "POST", "/api/transfers/"+tr.ID+"/confirm", map[string]string{"token": mails[0].Token}, 403, nil)
		if raw := alice.do(t, "POST", "/api/transfers/"+tr.ID+"/confirm", map[string]string{"token": mails[0].Token}, 200, nil); strings.Contains(strings.ToLower(raw), "hash") {
			t.Errorf("the confirmation's response shows the token hashes: %s", raw)
		}
		bob.do(t, "GET", "/api/demo/outbox", nil, 200, &mails)
		if len(mails) == 0 || mails[0].Kind != "transfer.accept" {
			t.Fatalf("bob's mail: %+v", mails)
		}
		bob.do(t, "POST", "/api/transfers/"+tr.ID+"/accept", map[string]string{"token": mails[0].Token}, 200, nil)
		var rows teamapi.Page[teamapi.MemberRow]
		alice.do(t, "GET", teamURL+"/members", nil, 200, &rows)
		for _, r := range rows.Items {
			if r.UserID == "bob" && r.Role != "admin" {
				t.Errorf("bob's role after the transfer: %s, want admin", r.Role)
			}
		}

		// Handing the account over is the owner's alone.
		bob.do(t, "POST", teamURL+"/transfers", map[string]string{"to": "carol", "kind": "account"}, 403, nil)
		alice.do(t, "POST", teamURL+"/transfers", map[string]string{"to": "carol", "kind": "emperor"}, 400, nil)
		var open teamapi.Transfer
		alice.do(t, "POST", teamURL+"/transfers", map[string]string{"to": "carol", "kind": "account"}, 201, &open)
		if open.Kind != "account" {
			t.Errorf("the handover's kind = %q, want account", open.Kind)
		}
		alice.do(t, "DELETE", teamURL+"/transfers/"+open.ID, nil, 204, nil)
		var page teamapi.Page[teamapi.Transfer]
		alice.do(t, "GET", teamURL+"/transfers", nil, 200, &page)
		carol.do(t, "GET", teamURL+"/transfers", nil, 403, nil)
		list := page.Items
		if len(list) != 2 || list[0].ID != open.ID || list[0].Status != "cancelled" || list[1].Status != "done" {
			t.Errorf("transfers %+v, want the cancelled one then the accepted one", list)
		}
	})

	t.Run("removal and leaving", func(t *testing.T) {
		alice.do(t, "DELETE", teamURL+"/members/carol", nil, 204, nil)
		carol.do(t, "GET", teamURL+"/members", nil, 403, nil)
		bob.do(t, "POST", teamURL+"/leave", nil, 204, nil)
		alice.do(t, "POST", teamURL+"/leave", nil, 409, nil) // the last admin
	})

	t.Run("the audit log with each filter", func(t *testing.T) {
		page := func(query string) teamapi.Page[teamapi.Event] {
			t.Helper()
			var p teamapi.Page[teamapi.Event]
			alice.do(t, "GET", teamURL+"/audit"+query, nil, 200, &p)
			return p
		}
		all := page("?limit=500")
		actions := map[store.EventAction]int{}
		for _, e := range all.Items {
			actions[e.Action]++
		}
		for _, a := range []store.EventAction{"account.converted", "invite.created", "invite.resent", "invite.revoked", "member.joined",
			"member.role_changed", "member.removed", "member.left", "transfer.started", "transfer.accepted"} {
			if actions[a] == 0 {
				t.Errorf("no %s event; got %v", a, actions)
			}
		}
		removed := page("?action=member.removed")
		if len(removed.Items) != 1 || removed.Items[0].ResourceID != "carol" {
			t.Fatalf("member.removed: %+v", removed.Items)
		}
		if e := removed.Items[0]; e.IP != "127.0.0.1" || e.UserAgent == "" || e.RequestID != "test-alice" {
			t.Errorf("request metadata of %+v: want IP 127.0.0.1, a user agent, request ID test-alice", e)
		}
		for q, check := range map[string]func(teamapi.Event) bool{
			"?actor=bob":                            func(e teamapi.Event) bool { return e.Actor == "bob" },
			"?resource_type=invite":                 func(e teamapi.Event) bool { return e.ResourceType == "invite" },
			"?resource_type=member&resource_id=bob": func(e teamapi.Event) bool { return e.ResourceID == "bob" },
			"?result=denied":                        func(e teamapi.Event) bool { return e.Result == "denied" },
			"?result=allowed&actor=alice":           func(e teamapi.Event) bool { return e.Result == "allowed" && e.Actor == "alice" },
		} {
			p := page(q)
			if len(p.Items) == 0 {
				t.Errorf("%s: no events", q)
			}
			for _, e := range p.Items {
				if !check(e) {
					t.Errorf("%s: event %+v does not match", q, e)
				}
			}
		}
		today := time.Now().UTC().Format(time.DateOnly)
		tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
		if p := page("?limit=500&since=" + today + "&until=" + tomorrow); len(p.Items) != len(all.Items) {
			t.Errorf("since today until tomorrow: %d events, want all %d", len(p.Items), len(all.Items))
		}
		if p := page("?since=" + tomorrow); len(p.Items) != 0 {
			t.Errorf("since tomorrow: %d events, want none", len(p.Items))
		}
		first := page("?limit=2")
		second := page("?limit=2&cursor=" + url.QueryEscape(first.Next))
		if len(first.Items) != 2 || len(second.Items) != 2 || second.Items[0].ID != all.Items[2].ID {
			t.Errorf("pages of two: %+v then %+v; want events 3 and 4 of %d second", first.Items, second.Items, len(all.Items))
		}
		alice.do(t, "GET", teamURL+"/audit?since=yesterday", nil, 400, nil)
		alice.do(t, "GET", teamURL+"/audit?result=maybe", nil, 400, nil)
		dave.do(t, "GET", teamURL+"/audit", nil, 403, nil)
	})

	t.Run("a user creates a team of her own and makes it require secure sign-in", func(t *testing.T) {
		var team teamapi.Account
		dave.do(t, "POST", "/api/teams", map[string]string{"name": "Dave's"}, 201, &team)
		if team.Kind != "team" || team.Name != "Dave's" || team.ID == "" {
			t.Fatalf("created %+v, want the team Dave's", team)
		}
		var m teamapi.Me
		dave.do(t, "GET", "/api/me", nil, 200, &m)
		kinds := map[store.AccountKind]int{}
		for _, a := range m.Accounts {
			kinds[a.Account.Kind]++
		}
		if kinds["personal"] != 1 || kinds["team"] < 1 {
			t.Errorf("dave's accounts %+v, want his personal account besides the new team", m.Accounts)
		}
		anon.do(t, "POST", "/api/teams", map[string]string{"name": "Nobody's"}, 401, nil)
		dave.do(t, "POST", "/api/teams", map[string]string{"name": ""}, 400, nil)

		erin := client{base, "erin"}
		erin.do(t, "POST", "/api/demo/signin", map[string]string{"id": "erin", "name": "Erin", "email": "erin@example.com", "sign_in": "email"}, 201, nil)
		url := "/api/teams/" + team.ID
		var links []teamapi.Invitation
		dave.do(t, "POST", url+"/invites", map[string]string{"role": "dev"}, 201, &links)
		erin.do(t, "POST", "/api/invites/"+tokenOf(t, links[0].Link)+"/accept", nil, 201, nil)

		var preview []teamapi.MemberRow
		dave.do(t, "GET", url+"/secure-sign-in", nil, 200, &preview)
		if len(preview) != 1 || preview[0].UserID != "erin" || preview[0].SignIn != "email" {
			t.Errorf("preview %+v, want erin, who signs in with a password", preview)
		}
		erin.do(t, "GET", url+"/secure-sign-in", nil, 403, nil)
		var secured teamapi.Account
		dave.do(t, "PUT", url+"/secure-sign-in", map[string]bool{"require": true}, 200, &secured)
		if !secured.RequireSecureSignIn {
			t.Errorf("after PUT: %+v, want RequireSecureSignIn", secured)
		}
		erin.do(t, "GET", url, nil, 403, nil)
		// Erin turns on 2FA; her next sign-in tells roster.
		erin.do(t, "POST", "/api/demo/signin", map[string]string{"id": "erin", "name": "Erin", "email": "erin@example.com", "sign_in": "email+2fa"}, 201, nil)
		erin.do(t, "GET", url, nil, 200, nil)
	})

	t.Run("the team is deleted back into a personal account", func(t *testing.T) {
		var back teamapi.Account
		alice.do(t, "DELETE", teamURL, nil, 200, &back)
		if back.ID != acme.ID || back.Kind != "personal" {
			t.Errorf("after deleting: %+v", back)
		}
	})

	if !strings.Contains(logs.String(), "mail to carol@example.com") {
		t.Errorf("the log lacks the invitation mail:\n%s", logs)
	}
}

// withKey sends a GET request with the API key token as
// "Authorization: Bearer <token>", and no user, and checks the status. With
// out set, it decodes the response into it.
func withKey(t *testing.T, base, token, target string, want int, out any) {
	t.Helper()
	req, err := http.NewRequest("GET", base+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != want {
		t.Fatalf("GET %s with a key: status %d, want %d: %s", target, res.StatusCode, want, raw)
	}
	if want >= 400 && res.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("GET %s: error response of type %q, want application/problem+json", target, res.Header.Get("Content-Type"))
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("GET %s: decode %s: %v", target, raw, err)
		}
	}
}

// TestAPIKeys creates API keys through the team API and uses them on the
// demo's pods route, which roster's middleware guards with
// Require(rbac.PodsConnect) and APIKeys: a dev's key and a service account
// read it (200); a revoked key (401), a billing member's key (403, billing
// may not connect to pods) and a key of another team (403) do not; and no
// key manages the team through the team API (403).
func TestAPIKeys(t *testing.T) {
	base, _ := serve(t)
	alice, bob, carol, dave := client{base, "alice"}, client{base, "bob"}, client{base, "carol"}, client{base, "dave"}
	for _, c := range []client{alice, bob, carol, dave} {
		c.do(t, "POST", "/api/demo/signin", map[string]string{"id": c.user, "name": c.user, "email": c.user + "@example.com", "sign_in": "google"}, 201, nil)
	}
	var m teamapi.Me
	alice.do(t, "GET", "/api/me", nil, 200, &m)
	var acme teamapi.Account
	alice.do(t, "POST", "/api/accounts/"+m.Accounts[0].Account.ID+"/convert", map[string]string{"name": "Acme"}, 200, &acme)
	teamURL := "/api/teams/" + acme.ID
	for user, role := range map[client]string{bob: "dev", carol: "billing"} {
		var links []teamapi.Invitation
		alice.do(t, "POST", teamURL+"/invites", map[string]string{"role": role}, 201, &links)
		user.do(t, "POST", "/api/invites/"+links[0].Token+"/accept", nil, 201, nil)
	}
	pods := "/api/demo/teams/" + acme.ID + "/pods"

	var key teamapi.APIKey
	bob.do(t, "POST", teamURL+"/keys", map[string]string{"name": "CI"}, 201, &key)
	if !strings.HasPrefix(key.Token, "rsk_") || key.Role != "dev" {
		t.Fatalf("bob's key %+v, want a dev key with its token", key)
	}

	t.Run("a member's key reads the pods, acting as the key", func(t *testing.T) {
		var got podList
		withKey(t, base, key.Token, pods, 200, &got)
		if got.Team != acme.ID || got.Actor != key.ID || got.KeyOwner != "bob" || len(got.Items) == 0 {
			t.Errorf("pods %+v, want Acme's, read by bob's key %s", got, key.ID)
		}
		var his podList
		bob.do(t, "GET", pods, nil, 200, &his) // and bob himself, signed in
		if his.Actor != "bob" || his.KeyOwner != "" {
			t.Errorf("pods read by bob: %+v", his)
		}
	})

	t.Run("a service account reads the pods", func(t *testing.T) {
		var svc teamapi.APIKey
		alice.do(t, "POST", teamURL+"/keys", map[string]any{"name": "deployer", "role": "basic", "service": true}, 201, &svc)
		var got podList
		withKey(t, base, svc.Token, pods, 200, &got)
		if got.Actor != svc.ID || got.KeyOwner != "" {
			t.Errorf("pods %+v, want them read by the service account %s", got, svc.ID)
		}
	})

	t.Run("a key of a member whose role may not connect to pods is refused", func(t *testing.T) {
		var billing teamapi.APIKey
		carol.do(t, "POST", teamURL+"/keys", map[string]string{"name": "invoices"}, 201, &billing)
		withKey(t, base, billing.Token, pods, 403, nil)
		carol.do(t, "GET", pods, nil, 403, nil)
	})

	t.Run("a key acts on its own team only", func(t *testing.T) {
		var other teamapi.Account
		dave.do(t, "POST", "/api/teams", map[string]string{"name": "Dave's"}, 201, &other)
		var own teamapi.APIKey
		dave.do(t, "POST", "/api/teams/"+other.ID+"/keys", map[string]string{"name": "mine"}, 201, &own)
		withKey(t, base, own.Token, "/api/demo/teams/"+other.ID+"/pods", 200, nil)
		withKey(t, base, own.Token, pods, 403, nil)
	})

	t.Run("a key does not manage the team", func(t *testing.T) {
		withKey(t, base, key.Token, teamURL+"/members", 403, nil)
		withKey(t, base, key.Token, teamURL+"/keys", 403, nil)
		withKey(t, base, key.Token, "/api/me", 403, nil)
	})

	t.Run("a revoked key stops working at once", func(t *testing.T) {
		carol.do(t, "DELETE", teamURL+"/keys/"+key.ID, nil, 403, nil) // not hers
		bob.do(t, "DELETE", teamURL+"/keys/"+key.ID, nil, 204, nil)
		withKey(t, base, key.Token, pods, 401, nil)
		withKey(t, base, key.Token[:len(key.Token)-2], pods, 401, nil)
		var page teamapi.Page[teamapi.APIKey]
		bob.do(t, "GET", teamURL+"/keys", nil, 200, &page)
		if len(page.Items) != 1 || page.Items[0].RevokedAt.IsZero() || page.Items[0].RevokedBy != "bob" {
			t.Errorf("bob's keys %+v, want the one he revoked", page.Items)
		}
	})
}

func TestParseSecrets(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	got, err := parseSecrets([]byte("# rotated 2026-11\nk2 " + key + "\n\nk1  " + key + "\n"))
	if err != nil || len(got) != 2 || got[0].ID() != "k2" || got[1].ID() != "k1" {
		t.Fatalf("parseSecrets = %v, %v; want k2 then k1", got, err)
	}
	short := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 31))
	for _, bad := range []string{"", "# none\n", "k1\n", "k1 not-base64!\n", "k1 " + short + "\n", "k_1 " + key + "\n"} {
		if _, err := parseSecrets([]byte(bad)); err == nil {
			t.Errorf("parseSecrets(%q) accepted it", bad)
		}
	}
}

// TestPlan sets a team's seat limit through the demo's plan, which stands in
// for the host's billing: those who may manage billing pick it, others may
// not (403), the team API shows the seats to every member, and a full team
// refuses invitations (409) until the plan grows or the limit is removed.
func TestPlan(t *testing.T) {
	base, _ := serve(t)
	alice, bob := client{base, "alice"}, client{base, "bob"}
	for _, c := range []client{alice, bob} {
		c.do(t, "POST", "/api/demo/signin", map[string]string{"id": c.user, "name": c.user, "email": c.user + "@example.com", "sign_in": "google"}, 201, nil)
	}
	var m teamapi.Me
	alice.do(t, "GET", "/api/me", nil, 200, &m)
	var acme teamapi.Account
	alice.do(t, "POST", "/api/accounts/"+m.Accounts[0].Account.ID+"/convert", map[string]string{"name": "Acme"}, 200, &acme)
	teamURL, plan := "/api/teams/"+acme.ID, "/api/demo/teams/"+acme.ID+"/plan"
	var links []teamapi.Invitation
	alice.do(t, "POST", teamURL+"/invites", map[string]string{"role": "dev"}, 201, &links)
	bob.do(t, "POST", "/api/invites/"+links[0].Token+"/accept", nil, 201, nil)

	var seats teamapi.Seats
	alice.do(t, "PUT", plan, map[string]int{"seats": 3}, 200, &seats)
	if seats.Limit != 3 || seats.Members != 2 || seats.Free == nil || *seats.Free != 1 {
		t.Fatalf("seats after the plan of 3: %+v, want 2 of 3 filled", seats)
	}
	bob.do(t, "PUT", plan, map[string]int{"seats": 10}, 403, nil) // a dev manages no billing
	bob.do(t, "GET", teamURL+"/seats", nil, 200, &seats)
	if seats.Limit != 3 {
		t.Errorf("bob sees %+v, want the limit of 3", seats)
	}
	alice.do(t, "POST", teamURL+"/invites", map[string]any{"role": "basic", "emails": []string{"carol@example.com"}}, 201, nil)
	alice.do(t, "POST", teamURL+"/invites", map[string]any{"role": "basic", "emails": []string{"dave@example.com"}}, 409, nil)
	alice.do(t, "PUT", plan, map[string]int{"seats": -1}, 400, nil)
	var unlimited teamapi.Seats
	alice.do(t, "PUT", plan, map[string]int{"seats": 0}, 200, &unlimited)
	if unlimited.Limit != 0 || unlimited.Free != nil || unlimited.Pending != 1 {
		t.Errorf("seats without a limit: %+v, want no limit, no free count, carol's invite pending", unlimited)
	}
	alice.do(t, "POST", teamURL+"/invites", map[string]any{"role": "basic", "emails": []string{"dave@example.com"}}, 201, nil)
}

// TestDomains claims an email domain for a team through the team API,
// confirms it through the demo's stand-in for the host's DNS check, and
// signs users in: one at the domain before the confirmation stays out, one
// after it joins the team with the domain's role, and a user at another
// domain is led to no team. Only those who manage the team's settings ask
// for the check (403), and a domain without a claim is not confirmed (404).
func TestDomains(t *testing.T) {
	base, _ := serve(t)
	alice, bob, erin, frank, mallory := client{base, "alice"}, client{base, "bob"}, client{base, "erin"}, client{base, "frank"}, client{base, "mallory"}
	signIn := func(t *testing.T, c client, email string) (out struct {
		teamapi.User
		DomainTeam *struct {
			ID, Name string
			Joined   bool
			Role     rbac.Role
		} `json:"domain_team"`
	}) {
		t.Helper()
		c.do(t, "POST", "/api/demo/signin", map[string]string{"id": c.user, "name": c.user, "email": email, "sign_in": "google"}, 201, &out)
		return out
	}
	signIn(t, alice, "alice@acme.example")
	signIn(t, bob, "bob@example.com")
	var m teamapi.Me
	alice.do(t, "GET", "/api/me", nil, 200, &m)
	var acme teamapi.Account
	alice.do(t, "POST", "/api/accounts/"+m.Accounts[0].Account.ID+"/convert", map[string]string{"name": "Acme"}, 200, &acme)
	teamURL := "/api/teams/" + acme.ID
	var links []teamapi.Invitation
	alice.do(t, "POST", teamURL+"/invites", map[string]string{"role": "dev"}, 201, &links)
	bob.do(t, "POST", "/api/invites/"+links[0].Token+"/accept", nil, 201, nil)
	confirm := "/api/demo/teams/" + acme.ID + "/domains/acme.example/confirm"

	var claim teamapi.Domain
	alice.do(t, "POST", teamURL+"/domains", map[string]string{"name": "acme.example", "mode": "auto_join", "role": "billing"}, 201, &claim)
	if !strings.HasPrefix(claim.Challenge, "roster-domain-verification=") || !claim.VerifiedAt.IsZero() {
		t.Fatalf("the claim %+v, want it pending with a challenge to publish", claim)
	}

	t.Run("a user of a pending domain does not join", func(t *testing.T) {
		if got := signIn(t, erin, "erin@acme.example"); got.ID != "erin" || got.DomainTeam != nil {
			t.Errorf("erin signed in: %+v, want no team", got)
		}
		erin.do(t, "GET", teamURL+"/members", nil, 403, nil)
	})

	t.Run("only those who manage settings confirm a claim", func(t *testing.T) {
		bob.do(t, "POST", confirm, nil, 403, nil)
		signIn(t, mallory, "mallory@example.com")
		mallory.do(t, "POST", confirm, nil, 403, nil)
		alice.do(t, "POST", "/api/demo/teams/"+acme.ID+"/domains/other.example/confirm", nil, 404, nil)
		var list []teamapi.Domain
		alice.do(t, "GET", teamURL+"/domains", nil, 200, &list)
		if len(list) != 1 || !list[0].VerifiedAt.IsZero() {
			t.Errorf("claims %+v, want acme.example still pending", list)
		}
	})

	t.Run("the demo DNS check confirms the claim", func(t *testing.T) {
		var got teamapi.Domain
		alice.do(t, "POST", confirm, nil, 201, &got)
		if got.Name != "acme.example" || got.VerifiedAt.IsZero() || got.Challenge != claim.Challenge {
			t.Errorf("confirmed %+v, want acme.example verified", got)
		}
	})

	t.Run("a new user of the domain signs in and is a member with its role", func(t *testing.T) {
		got := signIn(t, frank, "frank@acme.example")
		if d := got.DomainTeam; d == nil || d.ID != acme.ID || d.Name != "Acme" || !d.Joined || d.Role != "billing" {
			t.Fatalf("frank signed in: %+v, want him joined to Acme as billing", got)
		}
		var rows teamapi.Page[teamapi.MemberRow]
		alice.do(t, "GET", teamURL+"/members", nil, 200, &rows)
		i := slices.IndexFunc(rows.Items, func(r teamapi.MemberRow) bool { return r.UserID == "frank" })
		if i < 0 || rows.Items[i].Role != "billing" || rows.Items[i].Status != "joined" {
			t.Errorf("members %+v, want frank joined as billing", rows.Items)
		}
		var me teamapi.Me
		frank.do(t, "GET", "/api/me", nil, 200, &me)
		if len(me.Accounts) != 2 || me.Accounts[1].Account.ID != acme.ID || me.Accounts[1].Role != "billing" {
			t.Errorf("frank's accounts %+v, want his own and Acme as billing", me.Accounts)
		}
		var joined teamapi.Page[teamapi.Event]
		alice.do(t, "GET", teamURL+"/audit?action=member.joined&resource_id=frank", nil, 200, &joined)
		if len(joined.Items) != 1 || !strings.Contains(string(joined.Items[0].After), `"domain":"acme.example"`) {
			t.Errorf("frank's member.joined events %+v, want one naming the domain", joined.Items)
		}
	})

	t.Run("a member of the team signing in again is suggested it, not joined twice", func(t *testing.T) {
		if got := signIn(t, frank, "frank@acme.example"); got.DomainTeam == nil || got.DomainTeam.Joined {
			t.Errorf("frank signed in again: %+v, want Acme suggested", got)
		}
	})

	t.Run("a user of another domain is led to no team", func(t *testing.T) {
		if got := signIn(t, bob, "bob@example.com"); got.DomainTeam != nil {
			t.Errorf("bob signed in: %+v, want no team", got)
		}
	})
}
