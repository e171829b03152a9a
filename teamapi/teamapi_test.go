package teamapi_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/url"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teamapi"
)

// tokenOf returns the token at the end of an invite link.
func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(u.Path, "/invites/") {
		t.Fatalf("invite link %q is not base/invites/{token}", link)
	}
	return path.Base(u.Path)
}

// TestTeamAPI walks the team page through the API as its users would, on
// each backend: every route, its answer and its refusals. Every reply is
// checked against the OpenAPI document as it arrives (see server.send).
func TestTeamAPI(t *testing.T) {
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		s := serve(t, b, teamapi.Options{})
		for _, u := range []string{"alice", "bob", "carol", "dave"} {
			s.user(t, u, store.SignInGoogle)
		}
		s.do(t, "", "GET", "/api/me", nil, 401, nil)
		s.do(t, "mallory", "GET", "/api/me", nil, 404, nil) // signed in, but unknown to roster

		var m teamapi.Me
		s.do(t, "alice", "GET", "/api/me", nil, 200, &m)
		if len(m.Accounts) != 1 || m.Accounts[0].Account.Kind != store.Personal || !m.Accounts[0].Active {
			t.Fatalf("alice's accounts: %+v, want her active personal account", m.Accounts)
		}
		personal := m.Accounts[0].Account.ID
		if m.User.ID != "alice" || m.User.SignIn != store.SignInGoogle || m.Policy != "runpod" || m.Top != rbac.RunpodAdmin ||
			!slices.Contains(m.Can[personal], rbac.SettingsManage) || !slices.Contains(m.Roles, rbac.RunpodDev) {
			t.Errorf("alice's page %+v: want her, the Runpod policy and settings.manage on her account", m)
		}

		var acme teamapi.Account
		s.do(t, "alice", "POST", "/api/accounts/"+personal+"/convert", map[string]string{"name": "Acme"}, 200, &acme)
		if acme.ID != personal || acme.Kind != store.Team || acme.Name != "Acme" || acme.Owner != "alice" {
			t.Fatalf("converted account %+v, want team Acme of alice with ID %s", acme, personal)
		}
		s.do(t, "bob", "POST", "/api/accounts/"+acme.ID+"/convert", map[string]string{"name": "Mine"}, 403, nil)
		s.do(t, "alice", "POST", "/api/accounts/"+acme.ID+"/convert", map[string]string{"name": "Again"}, 409, nil)
		team := "/api/teams/" + acme.ID

		t.Run("a link invite is previewed and accepted once", func(t *testing.T) {
			var links []teamapi.Invitation
			s.do(t, "alice", "POST", team+"/invites", map[string]any{"role": "dev", "expires_in": "72h"}, 201, &links)
			if len(links) != 1 || links[0].Token == "" || !strings.HasPrefix(links[0].Link, s.base+"/invites/") ||
				links[0].Kind != store.InviteLink || links[0].ExpiresAt.IsZero() || links[0].CreatedBy != "alice" {
				t.Fatalf("link invite %+v", links)
			}
			tok := tokenOf(t, links[0].Link)
			var preview teamapi.InvitePreview
			s.do(t, "bob", "GET", "/api/invites/"+tok, nil, 200, &preview)
			if preview.Team != "Acme" || preview.Role != rbac.RunpodDev || preview.InviterName != "alice" || preview.AccountID != acme.ID {
				t.Errorf("preview %+v", preview)
			}
			var joined teamapi.Membership
			s.do(t, "bob", "POST", "/api/invites/"+tok+"/accept", nil, 201, &joined)
			if joined.UserID != "bob" || joined.Role != rbac.RunpodDev || joined.AccountID != acme.ID || joined.JoinedAt.IsZero() {
				t.Errorf("joined %+v", joined)
			}
			s.do(t, "carol", "POST", "/api/invites/"+tok+"/accept", nil, 410, nil)
			s.do(t, "carol", "GET", "/api/invites/"+tok, nil, 410, nil)
			s.do(t, "carol", "GET", "/api/invites/not-a-token", nil, 400, nil)
			s.do(t, "bob", "POST", team+"/invites", map[string]string{"role": "dev"}, 403, nil)
			s.do(t, "alice", "POST", team+"/invites", map[string]string{"role": "emperor"}, 400, nil)
			s.do(t, "alice", "POST", team+"/invites", map[string]any{"role": "dev", "expires_in": "soon"}, 400, nil)
		})

		t.Run("an email invite is listed, resent and accepted with the new link", func(t *testing.T) {
			var sent []teamapi.Invitation
			s.do(t, "alice", "POST", team+"/invites", map[string]any{"role": "billing", "emails": []string{"carol@example.com"}}, 201, &sent)
			if len(sent) != 1 || sent[0].Email != "carol@example.com" || sent[0].Kind != store.InviteEmail {
				t.Fatalf("sent %+v", sent)
			}
			var page teamapi.Page[teamapi.Invitation]
			s.do(t, "alice", "GET", team+"/invites?status=pending", nil, 200, &page)
			if len(page.Items) != 1 || page.Items[0].Email != "carol@example.com" || page.Items[0].Token != "" || page.Items[0].Link != "" {
				t.Fatalf("pending %+v, want carol's invite without its token", page.Items)
			}
			first := s.in.Messages()
			var resent teamapi.Invitation
			s.do(t, "alice", "POST", team+"/invites/"+sent[0].ID+"/resend", nil, 200, &resent)
			again := s.in.Messages()
			if len(again) != len(first)+1 || resent.Link == sent[0].Link || resent.ResentBy != "alice" || resent.ResentAt.IsZero() {
				t.Fatalf("resent %+v; mail %d then %d", resent, len(first), len(again))
			}
			s.do(t, "carol", "POST", "/api/invites/"+tokenOf(t, sent[0].Link)+"/accept", nil, 410, nil)
			s.do(t, "carol", "POST", "/api/invites/"+tokenOf(t, again[len(again)-1].Link)+"/accept", nil, 201, nil)
			s.do(t, "alice", "GET", team+"/invites?status=accepted", nil, 400, nil)
		})

		t.Run("a pending invite's link is copied again until it is resent", func(t *testing.T) {
			var made []teamapi.Invitation
			s.do(t, "alice", "POST", team+"/invites", map[string]string{"role": "basic"}, 201, &made)
			var copied teamapi.Invitation
			s.do(t, "alice", "POST", team+"/invites/"+made[0].ID+"/link", nil, 200, &copied)
			if copied.Link != made[0].Link || copied.Status != store.InvitePending {
				t.Fatalf("copied %+v, want the pending invite with link %s", copied, made[0].Link)
			}
			s.do(t, "bob", "POST", team+"/invites/"+made[0].ID+"/link", nil, 403, nil)
			var resent, again teamapi.Invitation
			s.do(t, "alice", "POST", team+"/invites/"+made[0].ID+"/resend", nil, 200, &resent)
			s.do(t, "alice", "POST", team+"/invites/"+made[0].ID+"/link", nil, 200, &again)
			if again.Link != resent.Link || again.Link == copied.Link {
				t.Fatalf("copy after the resend: %s, want the resent link %s", again.Link, resent.Link)
			}
			s.do(t, "dave", "GET", "/api/invites/"+tokenOf(t, copied.Link), nil, 410, nil)
			s.do(t, "alice", "DELETE", team+"/invites/"+made[0].ID, nil, 204, nil)
			s.do(t, "alice", "POST", team+"/invites/"+made[0].ID+"/link", nil, 410, nil)
			s.do(t, "alice", "DELETE", team+"/invites/inv_nosuch", nil, 404, nil)
		})

		t.Run("an email invite is revoked", func(t *testing.T) {
			var sent []teamapi.Invitation
			s.do(t, "alice", "POST", team+"/invites", map[string]any{"role": "basic", "emails": []string{"dave@example.com"}}, 201, &sent)
			s.do(t, "alice", "DELETE", team+"/invites/"+sent[0].ID, nil, 204, nil)
			var page teamapi.Page[teamapi.Invitation]
			s.do(t, "alice", "GET", team+"/invites", nil, 200, &page)
			statuses := map[string]store.InviteStatus{}
			for _, inv := range page.Items {
				statuses[inv.ID] = inv.Status
			}
			if statuses[sent[0].ID] != store.InviteRevoked || len(page.Items) != 4 {
				t.Errorf("invites %+v, want four with dave's revoked", page.Items)
			}
			msgs := s.in.Messages()
			s.do(t, "dave", "POST", "/api/invites/"+tokenOf(t, msgs[len(msgs)-1].Link)+"/accept", nil, 410, nil)
			s.do(t, "dave", "GET", team+"/members", nil, 403, nil)
		})

		t.Run("the account selector switches to the team", func(t *testing.T) {
			var m teamapi.Me
			s.do(t, "bob", "GET", "/api/me", nil, 200, &m)
			if len(m.Accounts) != 2 || m.Accounts[1].Account.ID != acme.ID || m.Accounts[1].Active || m.Accounts[1].Role != rbac.RunpodDev {
				t.Fatalf("bob's accounts before switching: %+v", m.Accounts)
			}
			if can := m.Can[acme.ID]; !slices.Contains(can, rbac.PodsManage) || slices.Contains(can, rbac.MembersInvite) {
				t.Errorf("bob may %q in Acme, want a dev's actions", can)
			}
			var active teamapi.Account
			s.do(t, "bob", "POST", "/api/accounts/"+acme.ID+"/switch", nil, 200, &active)
			var after teamapi.Me // omitzero leaves inactive accounts' active out: decode afresh
			s.do(t, "bob", "GET", "/api/me", nil, 200, &after)
			if active.ID != acme.ID || after.Accounts[0].Active || !after.Accounts[1].Active {
				t.Errorf("after switching: %+v, %+v", active, after.Accounts)
			}
			s.do(t, "dave", "POST", "/api/accounts/"+acme.ID+"/switch", nil, 403, nil)
			var page teamapi.Account
			s.do(t, "bob", "GET", team, nil, 200, &page)
			if page.ID != acme.ID || page.Name != "Acme" {
				t.Errorf("the team page %+v", page)
			}
		})

		t.Run("members see the table; only those who manage members see sign-in methods", func(t *testing.T) {
			var byAlice, byBob teamapi.Page[teamapi.MemberRow]
			s.do(t, "alice", "GET", team+"/members", nil, 200, &byAlice)
			s.do(t, "bob", "GET", team+"/members", nil, 200, &byBob)
			if len(byAlice.Items) != 3 || len(byBob.Items) != 3 || byAlice.Next != "" {
				t.Fatalf("members: %+v / %+v", byAlice, byBob)
			}
			for i, r := range byAlice.Items {
				if r.SignIn != store.SignInGoogle || byBob.Items[i].SignIn != "" || r.JoinedAt.IsZero() || r.Status != "joined" {
					t.Errorf("row %d: %+v for alice, %+v for bob; want google for alice only", i, r, byBob.Items[i])
				}
				if r.Owner != (r.UserID == "alice") {
					t.Errorf("row %+v: owner %v", r, r.Owner)
				}
			}
		})

		t.Run("the members table pages with limit and cursor", func(t *testing.T) {
			var all teamapi.Page[teamapi.MemberRow]
			s.do(t, "alice", "GET", team+"/members", nil, 200, &all)
			var walked []teamapi.MemberRow
			target := team + "/members?limit=2"
			for range len(all.Items) + 1 {
				var page teamapi.Page[teamapi.MemberRow]
				s.do(t, "alice", "GET", target, nil, 200, &page)
				walked = append(walked, page.Items...)
				if page.Next == "" {
					break
				}
				target = team + "/members?limit=2&cursor=" + url.QueryEscape(page.Next)
			}
			if !slices.Equal(walked, all.Items) {
				t.Errorf("pages of 2 = %+v, want %+v", walked, all.Items)
			}
			s.do(t, "alice", "GET", team+"/members?cursor=forged", nil, 400, nil)
			s.do(t, "alice", "GET", team+"/members?limit=1001", nil, 400, nil)
			s.do(t, "alice", "GET", team+"/members?limit=x", nil, 400, nil)
			s.do(t, "alice", "GET", team+"/members?limit=-1", nil, 400, nil)
		})

		t.Run("roles change; a member without the right is refused", func(t *testing.T) {
			var changed teamapi.Membership
			s.do(t, "alice", "PATCH", team+"/members/bob", map[string]string{"role": "basic"}, 200, &changed)
			if changed.Role != rbac.RunpodBasic || changed.UserID != "bob" {
				t.Errorf("changed %+v", changed)
			}
			s.do(t, "bob", "PATCH", team+"/members/carol", map[string]string{"role": "basic"}, 403, nil)
			s.do(t, "alice", "PATCH", team+"/members/bob", map[string]string{"role": "emperor"}, 400, nil)
			s.do(t, "alice", "PATCH", team+"/members/nobody", map[string]string{"role": "basic"}, 404, nil)
			s.do(t, "alice", "PATCH", team+"/members/alice", map[string]string{"role": "basic"}, 409, nil) // the owner
		})

		t.Run("ownership transfer: confirm, then accept", func(t *testing.T) {
			s.do(t, "alice", "POST", team+"/transfers", map[string]string{"to": "alice"}, 403, nil) // recorded as denied
			var tr teamapi.Transfer
			s.do(t, "alice", "POST", team+"/transfers", map[string]string{"to": "bob"}, 201, &tr)
			if tr.Kind != store.TransferRole || tr.Status != store.TransferAwaitingConfirm || tr.From != "alice" || tr.To != "bob" || tr.ExpiresAt.IsZero() {
				t.Fatalf("started %+v", tr)
			}
			confirm := s.in.Token(tr.ID)
			s.do(t, "bob", "POST", "/api/transfers/"+tr.ID+"/confirm", map[string]string{"token": confirm}, 403, nil)
			s.do(t, "alice", "POST", "/api/transfers/"+tr.ID+"/confirm", map[string]string{"token": "wrong"}, 403, nil)
			rep := s.do(t, "alice", "POST", "/api/transfers/"+tr.ID+"/confirm", map[string]string{"token": confirm}, 200, &tr)
			if tr.Status != store.TransferAwaitingAccept || bytes.Contains(bytes.ToLower(rep.body), []byte("hash")) {
				t.Errorf("confirmed: %s", rep.body)
			}
			s.do(t, "bob", "POST", "/api/transfers/"+tr.ID+"/accept", map[string]string{"token": s.in.Token(tr.ID)}, 200, &tr)
			if tr.Status != store.TransferDone {
				t.Errorf("accepted %+v", tr)
			}
			s.do(t, "bob", "POST", "/api/transfers/tr_nosuch/accept", map[string]string{"token": "x"}, 403, nil) // as a wrong token
			var rows teamapi.Page[teamapi.MemberRow]
			s.do(t, "alice", "GET", team+"/members", nil, 200, &rows)
			for _, r := range rows.Items {
				if r.UserID == "bob" && r.Role != rbac.RunpodAdmin {
					t.Errorf("bob's role after the transfer: %s, want admin", r.Role)
				}
			}

			// Handing the account over is the owner's alone.
			s.do(t, "bob", "POST", team+"/transfers", map[string]string{"to": "carol", "kind": "account"}, 403, nil)
			s.do(t, "alice", "POST", team+"/transfers", map[string]string{"to": "carol", "kind": "emperor"}, 400, nil)
			var open teamapi.Transfer
			s.do(t, "alice", "POST", team+"/transfers", map[string]string{"to": "carol", "kind": "account"}, 201, &open)
			if open.Kind != store.TransferAccount {
				t.Errorf("the handover's kind = %q, want account", open.Kind)
			}
			s.do(t, "carol", "DELETE", team+"/transfers/"+open.ID, nil, 204, nil) // its recipient
			var page teamapi.Page[teamapi.Transfer]
			s.do(t, "alice", "GET", team+"/transfers", nil, 200, &page)
			s.do(t, "carol", "GET", team+"/transfers", nil, 403, nil)
			if len(page.Items) != 2 || page.Items[0].ID != open.ID || page.Items[0].Status != store.TransferCancelled || page.Items[1].Status != store.TransferDone {
				t.Errorf("transfers %+v, want the cancelled one then the accepted one", page.Items)
			}
			s.do(t, "alice", "DELETE", team+"/transfers/"+open.ID, nil, 409, nil)
		})

		t.Run("removal and leaving", func(t *testing.T) {
			s.do(t, "alice", "DELETE", team+"/members/carol", nil, 204, nil)
			s.do(t, "carol", "GET", team+"/members", nil, 403, nil)
			s.do(t, "bob", "POST", team+"/leave", nil, 204, nil)
			s.do(t, "alice", "POST", team+"/leave", nil, 409, nil) // the owner
		})

		t.Run("the audit log with each filter, details as JSON values", func(t *testing.T) {
			page := func(query string) teamapi.Page[teamapi.Event] {
				t.Helper()
				var p teamapi.Page[teamapi.Event]
				s.do(t, "alice", "GET", team+"/audit"+query, nil, 200, &p)
				return p
			}
			all := page("?limit=500")
			actions := map[store.EventAction]int{}
			for _, e := range all.Items {
				actions[e.Action]++
			}
			for _, a := range []store.EventAction{"account.converted", "invite.created", "invite.resent", "invite.revoked", "invite.link_copied",
				"member.joined", "member.role_changed", "member.removed", "member.left", "transfer.started", "transfer.accepted"} {
				if actions[a] == 0 {
					t.Errorf("no %s event; got %v", a, actions)
				}
			}
			changed := page("?action=member.role_changed&resource_id=bob")
			if len(changed.Items) == 0 {
				t.Fatal("no role change of bob")
			}
			var before, after map[string]any
			e := changed.Items[len(changed.Items)-1] // the oldest: dev to basic
			if err := json.Unmarshal(e.Before, &before); err != nil || before["role"] != "dev" {
				t.Errorf("before = %s (%v), want a JSON object with role dev", e.Before, err)
			}
			if err := json.Unmarshal(e.After, &after); err != nil || after["role"] != "basic" {
				t.Errorf("after = %s (%v), want a JSON object with role basic", e.After, err)
			}
			removed := page("?action=member.removed")
			if len(removed.Items) != 1 || removed.Items[0].ResourceID != "carol" {
				t.Fatalf("member.removed: %+v", removed.Items)
			}
			if e := removed.Items[0]; e.IP != "127.0.0.1" || e.UserAgent == "" {
				t.Errorf("request metadata of %+v: want IP 127.0.0.1 and a user agent", e)
			}
			for q, check := range map[string]func(teamapi.Event) bool{
				"?actor=bob":                            func(e teamapi.Event) bool { return e.Actor == "bob" },
				"?resource_type=invite":                 func(e teamapi.Event) bool { return e.ResourceType == "invite" },
				"?resource_type=member&resource_id=bob": func(e teamapi.Event) bool { return e.ResourceID == "bob" },
				"?result=denied":                        func(e teamapi.Event) bool { return e.Result == store.Denied },
				"?result=allowed&actor=alice":           func(e teamapi.Event) bool { return e.Result == store.Allowed && e.Actor == "alice" },
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
			if p := page("?limit=500&since=" + today + "&until=" + tomorrow); len(p.Items) < len(all.Items) {
				t.Errorf("since today until tomorrow: %d events, want all %d", len(p.Items), len(all.Items))
			}
			if p := page("?since=" + url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339))); len(p.Items) != 0 {
				t.Errorf("since an hour from now: %d events, want none", len(p.Items))
			}
			first := page("?limit=2")
			second := page("?limit=2&cursor=" + url.QueryEscape(first.Next))
			if len(first.Items) != 2 || len(second.Items) != 2 || second.Items[0].ID >= first.Items[1].ID {
				t.Errorf("pages of two: %+v then %+v", first.Items, second.Items)
			}
			s.do(t, "alice", "GET", team+"/audit?since=yesterday", nil, 400, nil)
			s.do(t, "alice", "GET", team+"/audit?result=maybe", nil, 400, nil)
			s.do(t, "alice", "GET", team+"/audit?since="+tomorrow+"&until="+today, nil, 400, nil)
			s.do(t, "dave", "GET", team+"/audit", nil, 403, nil)
		})

		t.Run("the audit log exports as JSON Lines and CSV, filtered", func(t *testing.T) {
			var p teamapi.Page[teamapi.Event]
			s.do(t, "alice", "GET", team+"/audit?resource_type=invite&limit=500", nil, 200, &p)
			rep := s.do(t, "alice", "GET", team+"/audit/export?resource_type=invite", nil, 200, nil)
			if ct := rep.header.Get("Content-Type"); ct != "application/jsonl" {
				t.Errorf("Content-Type %q", ct)
			}
			var ids []int64
			sc := bufio.NewScanner(bytes.NewReader(rep.body))
			for sc.Scan() {
				var line struct {
					ID           int64
					ResourceType string `json:"resource_type"`
					Hash         string
				}
				if err := json.Unmarshal(sc.Bytes(), &line); err != nil || line.ResourceType != "invite" || line.Hash == "" {
					t.Errorf("line %s (%v): want an invite event with its hash", sc.Bytes(), err)
				}
				ids = append(ids, line.ID)
			}
			if len(ids) != len(p.Items) || ids[0] != p.Items[0].ID {
				t.Errorf("exported %v, want the %d events of the page", ids, len(p.Items))
			}

			rep = s.do(t, "alice", "GET", team+"/audit/export?format=csv&limit=3", nil, 200, nil)
			rows, err := csv.NewReader(bytes.NewReader(rep.body)).ReadAll()
			if err != nil || len(rows) != 4 || rows[0][0] != "id" || !strings.HasPrefix(rep.header.Get("Content-Type"), "text/csv") {
				t.Errorf("CSV export of 3 (%v, %s): %q", err, rep.header.Get("Content-Type"), rows)
			}
			if d := rep.header.Get("Content-Disposition"); !strings.Contains(d, "attachment") {
				t.Errorf("Content-Disposition %q", d)
			}
			rep = s.do(t, "alice", "GET", team+"/audit/export?action=nothing.happened", nil, 200, nil)
			if len(rep.body) != 0 {
				t.Errorf("an export of nothing: %q", rep.body)
			}
			s.do(t, "alice", "GET", team+"/audit/export?format=xml", nil, 400, nil)
			s.do(t, "dave", "GET", team+"/audit/export", nil, 403, nil)
			var exported teamapi.Page[teamapi.Event]
			s.do(t, "alice", "GET", team+"/audit?action=audit.exported", nil, 200, &exported)
			if len(exported.Items) != 3 {
				t.Errorf("%d exports recorded, want 3", len(exported.Items))
			}
		})

		t.Run("a user creates a team and makes it require secure sign-in", func(t *testing.T) {
			var own teamapi.Account
			s.do(t, "dave", "POST", "/api/teams", map[string]string{"name": "Dave's"}, 201, &own)
			if own.Kind != store.Team || own.Name != "Dave's" || own.ID == "" || own.Owner != "dave" {
				t.Fatalf("created %+v, want the team Dave's", own)
			}
			s.do(t, "", "POST", "/api/teams", map[string]string{"name": "Nobody's"}, 401, nil)
			s.do(t, "dave", "POST", "/api/teams", map[string]string{"name": ""}, 400, nil)

			s.user(t, "erin", store.SignInEmail)
			url := "/api/teams/" + own.ID
			var links []teamapi.Invitation
			s.do(t, "dave", "POST", url+"/invites", map[string]string{"role": "dev"}, 201, &links)
			s.do(t, "erin", "POST", "/api/invites/"+links[0].Token+"/accept", nil, 201, nil)

			var preview []teamapi.MemberRow
			s.do(t, "dave", "GET", url+"/secure-sign-in", nil, 200, &preview)
			if len(preview) != 1 || preview[0].UserID != "erin" || preview[0].SignIn != store.SignInEmail {
				t.Errorf("preview %+v, want erin, who signs in with a password", preview)
			}
			s.do(t, "erin", "GET", url+"/secure-sign-in", nil, 403, nil)
			var secured teamapi.Account
			s.do(t, "dave", "PUT", url+"/secure-sign-in", map[string]bool{"require": true}, 200, &secured)
			if !secured.RequireSecureSignIn {
				t.Errorf("after PUT: %+v, want RequireSecureSignIn", secured)
			}
			s.do(t, "erin", "GET", url, nil, 403, nil)
			if _, err := s.r.Teams.UpdateUser(t.Context(), store.User{ID: "erin", Name: "erin", Email: "erin@example.com", SignIn: store.SignInEmail2FA}); err != nil {
				t.Fatal(err)
			}
			s.do(t, "erin", "GET", url, nil, 200, nil)
			s.do(t, "dave", "GET", url+"/secure-sign-in", nil, 200, &preview)
			if preview == nil || len(preview) != 0 {
				t.Errorf("preview %+v, want [] once everyone signs in securely", preview)
			}
			var relaxed teamapi.Account
			s.do(t, "dave", "PUT", url+"/secure-sign-in", map[string]bool{"require": false}, 200, &relaxed)
			if relaxed.RequireSecureSignIn || relaxed.ID != own.ID {
				t.Errorf("after turning it off: %+v", relaxed)
			}
			personal := s.user(t, "fay", store.SignInGoogle)
			s.do(t, "fay", "GET", "/api/teams/"+personal+"/secure-sign-in", nil, 409, nil) // a personal account
		})

		t.Run("the team is deleted back into a personal account", func(t *testing.T) {
			s.do(t, "bob", "DELETE", team, nil, 403, nil) // no longer a member
			var back teamapi.Account
			s.do(t, "alice", "DELETE", team, nil, 200, &back)
			if back.ID != acme.ID || back.Kind != store.Personal || back.Name != "" {
				t.Errorf("after deleting: %+v", back)
			}
		})
	})
}
