package invites_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/invites"
	"github.com/teamroster/roster/notify"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/store/sqlstore"
)

func TestLinkInvites(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		t.Run("a link makes its first accepter a member with its role and is then used up", func(t *testing.T) {
			e := newInviteEnv(t, b, rbac.Runpod())
			acct := rostertest.Team(t, e.r, "alice", nil)
			bob, carol := rostertest.User(t, e.r, "bob"), rostertest.User(t, e.r, "carol")
			inv := link(t, e.r, "alice", acct.ID, rbac.RunpodDev)
			if b, err := base64.RawURLEncoding.Strict().DecodeString(inv.Token); inv.Link != baseURL+"/invites/"+inv.Token || err != nil || len(b) != 32 {
				t.Errorf("link = %q with token %q, want %s/invites/<256 bits in unpadded URL-safe base64>", inv.Link, inv.Token, baseURL)
			}
			if inv.Kind != store.InviteLink || inv.Role != rbac.RunpodDev || inv.Status != store.InvitePending || inv.MaxUses != 1 || inv.CreatedBy != "alice" || !inv.ExpiresAt.IsZero() {
				t.Errorf("created invite = %+v, want a pending single-use dev link by alice that never expires", inv)
			}
			if e.r.Can(ctx, "bob", acct.ID, rbac.AccountAccess) {
				t.Fatal("bob may access the team before accepting")
			}
			m := accept(t, e.r, "bob", inv.Token)
			if m.AccountID != acct.ID || m.UserID != "bob" || m.Role != string(rbac.RunpodDev) {
				t.Errorf("membership = %+v, want bob as dev of %s", m, acct.ID)
			}
			if !e.r.Can(ctx, "bob", acct.ID, rbac.PodsManage) || e.r.Can(ctx, "bob", acct.ID, rbac.BillingRead) {
				t.Error("Can does not reflect bob's dev role as soon as Accept returns")
			}
			if _, err := e.r.Invites.Accept(ctx, "carol", inv.Token); !errors.Is(err, invites.ErrUsed) {
				t.Errorf("second accept: error = %v, want ErrUsed", err)
			}
			assertRole(t, e.s, acct.ID, "carol", "")
			if got := listed(t, e.r, "alice", acct.ID, inv.ID); got.Status != store.InviteAccepted || got.Uses != 1 || got.Token != "" || got.Link != "" {
				t.Errorf("listed invite = %+v, want accepted with 1 use and no token", got)
			}
			for id, personal := range map[string]store.Account{"bob": bob, "carol": carol} {
				u, err := e.r.Teams.User(ctx, id)
				if err != nil || u.ActiveAccount != personal.ID {
					t.Errorf("%s's active account = %q, %v; want still their personal account", id, u.ActiveAccount, err)
				}
			}
		})

		t.Run("only members allowed to invite create, resend or revoke invites", func(t *testing.T) {
			e := newInviteEnv(t, b, rbac.Runpod())
			acct := rostertest.Team(t, e.r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
			rostertest.User(t, e.r, "mallory")
			inv := link(t, e.r, "alice", acct.ID, rbac.RunpodBasic)
			rev, ev := rostertest.Writes(t, e.s)
			for who, want := range map[string]error{"bob": rbac.ErrDenied, "mallory": rbac.ErrNotMember} {
				if _, err := e.r.Invites.CreateLink(ctx, who, acct.ID, rbac.RunpodBasic); !errors.Is(err, want) {
					t.Errorf("%s creates a link: error = %v, want %v", who, err, want)
				}
				if _, err := e.r.Invites.CreateEmail(ctx, who, acct.ID, rbac.RunpodBasic, []string{"x@example.com"}); !errors.Is(err, want) {
					t.Errorf("%s invites by email: error = %v, want %v", who, err, want)
				}
				if _, err := e.r.Invites.Resend(ctx, who, acct.ID, inv.ID); !errors.Is(err, want) {
					t.Errorf("%s resends: error = %v, want %v", who, err, want)
				}
				if err := e.r.Invites.Revoke(ctx, who, acct.ID, inv.ID); !errors.Is(err, want) {
					t.Errorf("%s revokes: error = %v, want %v", who, err, want)
				}
			}
			if _, err := e.r.Invites.CreateLink(ctx, "alice", "acc_missing", rbac.RunpodBasic); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("link to a missing account: error = %v, want ErrNotFound", err)
			}
			if rev2, ev2 := rostertest.Writes(t, e.s); rev2 != rev || ev2 != ev {
				t.Errorf("refused calls wrote: revision %d -> %d, last event %d -> %d", rev, rev2, ev, ev2)
			}
		})

		t.Run("nobody invites with, resends or revokes a role their own does not cover", func(t *testing.T) {
			e := newInviteEnv(t, b, leadPolicy(t))
			acct := rostertest.Team(t, e.r, "alice", map[string]rbac.Role{"lena": "lead"})
			link(t, e.r, "lena", acct.ID, "dev")
			link(t, e.r, "lena", acct.ID, "lead")
			adminInv := link(t, e.r, "alice", acct.ID, "admin")
			rev, ev := rostertest.Writes(t, e.s)
			for _, role := range []rbac.Role{"admin", "billing"} {
				if _, err := e.r.Invites.CreateLink(ctx, "lena", acct.ID, role); !errors.Is(err, rbac.ErrDenied) {
					t.Errorf("lead invites %s: error = %v, want ErrDenied", role, err)
				}
			}
			if _, err := e.r.Invites.CreateLink(ctx, "lena", acct.ID, "owner"); !errors.Is(err, rbac.ErrUnknownRole) {
				t.Errorf("unknown role: error = %v, want ErrUnknownRole", err)
			}
			if _, err := e.r.Invites.Resend(ctx, "lena", acct.ID, adminInv.ID); !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("lead resends an admin invite: error = %v, want ErrDenied", err)
			}
			if err := e.r.Invites.Revoke(ctx, "lena", acct.ID, adminInv.ID); !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("lead revokes an admin invite: error = %v, want ErrDenied", err)
			}
			if rev2, ev2 := rostertest.Writes(t, e.s); rev2 != rev || ev2 != ev {
				t.Errorf("refused calls wrote: revision %d -> %d, last event %d -> %d", rev, rev2, ev, ev2)
			}
		})

		t.Run("a reusable link admits up to MaxUses users and never grants the top role", func(t *testing.T) {
			e := newInviteEnv(t, b, rbac.Runpod())
			acct := rostertest.Team(t, e.r, "alice", nil)
			inv := link(t, e.r, "alice", acct.ID, rbac.RunpodBasic, invites.MaxUses(3))
			for _, id := range []string{"u1", "u2", "u3"} {
				rostertest.User(t, e.r, id)
				accept(t, e.r, id, inv.Token)
				if got := listed(t, e.r, "alice", acct.ID, inv.ID); id != "u3" && got.Status != store.InvitePending {
					t.Errorf("after %s joined the link is %s, want pending", id, got.Status)
				}
			}
			rostertest.User(t, e.r, "u4")
			if _, err := e.r.Invites.Accept(ctx, "u4", inv.Token); !errors.Is(err, invites.ErrUsed) {
				t.Errorf("fourth user: error = %v, want ErrUsed", err)
			}
			if got := listed(t, e.r, "alice", acct.ID, inv.ID); got.Status != store.InviteAccepted || got.Uses != 3 {
				t.Errorf("used-up link = %+v, want accepted with 3 uses", got)
			}
			rev, ev := rostertest.Writes(t, e.s)
			if _, err := e.r.Invites.CreateLink(ctx, "alice", acct.ID, rbac.RunpodAdmin, invites.MaxUses(2)); !errors.Is(err, invites.ErrReusableTop) {
				t.Errorf("reusable admin link: error = %v, want ErrReusableTop", err)
			}
			if rev2, ev2 := rostertest.Writes(t, e.s); rev2 != rev || ev2 != ev {
				t.Errorf("refused link wrote: revision %d -> %d, last event %d -> %d", rev, rev2, ev, ev2)
			}
			single := link(t, e.r, "alice", acct.ID, rbac.RunpodAdmin)
			accept(t, e.r, "u4", single.Token)
			assertRole(t, e.s, acct.ID, "u4", rbac.RunpodAdmin)
		})

		t.Run("invites expire per invite, per team or by default, or never", func(t *testing.T) {
			week := 7 * 24 * time.Hour
			var special, zero, longest string
			teamExpiry := func(ctx context.Context, accountID string) (time.Duration, error) {
				switch accountID {
				case special:
					return 48 * time.Hour, nil
				case zero: // never
					return 0, nil
				case longest:
					return invites.MaxExpiry, nil
				}
				return week, nil
			}
			e := newInviteEnv(t, b, rbac.Runpod(), invites.WithTeamExpiry(teamExpiry))
			acct := rostertest.Team(t, e.r, "alice", nil)
			other := rostertest.Team(t, e.r, "oscar", nil)
			special = other.ID
			zero, longest = rostertest.Team(t, e.r, "zed", nil).ID, rostertest.Team(t, e.r, "lou", nil).ID
			now := e.clock.Now()
			for _, c := range []struct {
				name           string
				owner, account string
				opts           []invites.InviteOption
				want           time.Time
			}{
				{"team default", "alice", acct.ID, nil, now.Add(week)},
				{"another team's default", "oscar", other.ID, nil, now.Add(48 * time.Hour)},
				{"a team default of 0", "zed", zero, nil, time.Time{}},
				{"a team default of MaxExpiry", "lou", longest, nil, now.Add(invites.MaxExpiry)},
				{"per invite", "alice", acct.ID, []invites.InviteOption{invites.ExpiresIn(time.Hour)}, now.Add(time.Hour)},
				{"never", "alice", acct.ID, []invites.InviteOption{invites.NeverExpires()}, time.Time{}},
			} {
				inv := link(t, e.r, c.owner, c.account, rbac.RunpodBasic, c.opts...)
				if !inv.ExpiresAt.Equal(c.want) {
					t.Errorf("%s: ExpiresAt = %v, want %v", c.name, inv.ExpiresAt, c.want)
				}
			}

			g := newInviteEnv(t, b, rbac.Runpod(), invites.WithDefaultExpiry(24*time.Hour))
			gteam := rostertest.Team(t, g.r, "alice", nil)
			rostertest.User(t, g.r, "bob")
			rostertest.User(t, g.r, "carol")
			day := link(t, g.r, "alice", gteam.ID, rbac.RunpodBasic)
			forever := link(t, g.r, "alice", gteam.ID, rbac.RunpodBasic, invites.NeverExpires())
			if want := g.clock.Now().Add(24 * time.Hour); !day.ExpiresAt.Equal(want) {
				t.Errorf("global default: ExpiresAt = %v, want %v", day.ExpiresAt, want)
			}
			g.clock.Advance(24 * time.Hour) // exactly at the expiry time
			if _, err := g.r.Invites.Accept(ctx, "bob", day.Token); !errors.Is(err, invites.ErrExpired) {
				t.Errorf("accept at the expiry time: error = %v, want ErrExpired", err)
			}
			assertRole(t, g.s, gteam.ID, "bob", "")
			if got := listed(t, g.r, "alice", gteam.ID, day.ID); got.Status != store.InviteExpired {
				t.Errorf("expired invite is listed as %s", got.Status)
			}
			pending, _, err := g.r.Invites.Pending(ctx, "alice", gteam.ID, store.Page{})
			if err != nil || len(pending) != 1 || pending[0].ID != forever.ID {
				t.Errorf("Pending = %+v, %v; want only the invite that never expires", pending, err)
			}
			g.clock.Advance(300 * 24 * time.Hour)
			accept(t, g.r, "carol", forever.Token)
		})

		t.Run("a link needs a configured base URL", func(t *testing.T) {
			s := b.Store(t)
			r, err := roster.New(ctx, s, rbac.Runpod())
			if err != nil {
				t.Fatal(err)
			}
			acct := rostertest.Team(t, r, "alice", nil)
			rev, ev := rostertest.Writes(t, s)
			if _, err := r.Invites.CreateLink(ctx, "alice", acct.ID, rbac.RunpodDev); !errors.Is(err, invites.ErrNoBaseURL) {
				t.Errorf("CreateLink without base URL: error = %v, want ErrNoBaseURL", err)
			}
			if _, err := r.Invites.CreateEmail(ctx, "alice", acct.ID, rbac.RunpodDev, []string{"bob@example.com"}); !errors.Is(err, invites.ErrNoBaseURL) {
				t.Errorf("CreateEmail without base URL: error = %v, want ErrNoBaseURL", err)
			}
			if rev2, ev2 := rostertest.Writes(t, s); rev2 != rev || ev2 != ev {
				t.Errorf("refused calls wrote: revision %d -> %d, last event %d -> %d", rev, rev2, ev, ev2)
			}
			e := newInviteEnvOn(t, s, rbac.Runpod(), invites.WithBaseURL("https://app.example.com/teams/join/"))
			if inv := link(t, e.r, "alice", acct.ID, rbac.RunpodDev); inv.Link != "https://app.example.com/teams/join/invites/"+inv.Token {
				t.Errorf("link = %q, want the base URL without its trailing slash, /invites/ and the token", inv.Link)
			}
		})

		t.Run("invites are made for team accounts only", func(t *testing.T) {
			e := newInviteEnv(t, b, rbac.Runpod())
			personal := rostertest.User(t, e.r, "alice")
			if _, err := e.r.Invites.CreateLink(ctx, "alice", personal.ID, rbac.RunpodDev); !errors.Is(err, store.ErrNotTeam) {
				t.Errorf("link to a personal account: error = %v, want ErrNotTeam", err)
			}
		})
	})
}

func TestEmailInvites(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		t.Run("each distinct address gets one invite and one email", func(t *testing.T) {
			e := newInviteEnv(t, b, rbac.DigitalOcean(), invites.WithDefaultExpiry(72*time.Hour))
			acct := rostertest.Team(t, e.r, "olive", nil)
			invs, err := e.r.Invites.CreateEmail(ctx, "olive", acct.ID, rbac.DigitalOceanMember,
				[]string{"Max@Example.com", "zoe@example.com", "max@example.COM"})
			if err != nil {
				t.Fatal(err)
			}
			if len(invs) != 2 || invs[0].Email != "max@example.com" || invs[1].Email != "zoe@example.com" {
				t.Fatalf("invites = %+v, want one each for max@example.com and zoe@example.com", invs)
			}
			msgs := e.out.messages()
			if len(msgs) != 2 {
				t.Fatalf("sent %d emails, want 2", len(msgs))
			}
			for i, m := range msgs {
				want := notify.Invite{To: invs[i].Email, AccountID: acct.ID, Team: acct.Name, InviterID: "olive", InviterName: "olive",
					Role: rbac.DigitalOceanMember, Link: invs[i].Link, ExpiresAt: invs[i].ExpiresAt}
				if m != want {
					t.Errorf("email %d = %+v, want %+v", i, m, want)
				}
			}
			userWith(t, e.r, "max", "MAX@example.com", store.SignInEmail)
			accept(t, e.r, "max", invs[0].Token)
			assertRole(t, e.s, acct.ID, "max", rbac.DigitalOceanMember)
			if !e.r.Can(ctx, "max", acct.ID, rbac.ResourcesDelete) {
				t.Error("Can does not reflect the accepted email invite")
			}
		})

		t.Run("an email invite is accepted only from the invited address", func(t *testing.T) {
			e := newInviteEnv(t, b, rbac.DigitalOcean())
			acct := rostertest.Team(t, e.r, "olive", nil)
			inv := emailInvite(t, e.r, "olive", acct.ID, rbac.DigitalOceanModifier, "bob@example.com")
			gmail := emailInvite(t, e.r, "olive", acct.ID, rbac.DigitalOceanModifier, "b.ob@gmail.com")
			for id, email := range map[string]string{
				"tagged":    "bob+team@example.com",
				"dotted":    "b.ob@example.com",
				"other tld": "bob@example.co",
				"subdomain": "bob@mail.example.com",
				"other":     "eve@example.com",
			} {
				u := strings.ReplaceAll(id, " ", "-")
				userWith(t, e.r, u, email, store.SignInGoogle)
				if _, err := e.r.Invites.Accept(ctx, u, inv.Token); !errors.Is(err, invites.ErrWrongEmail) {
					t.Errorf("%s <%s> accepts bob@example.com's invite: error = %v, want ErrWrongEmail", u, email, err)
				}
				assertRole(t, e.s, acct.ID, u, "")
			}
			userWith(t, e.r, "gbob", "bob@gmail.com", store.SignInGoogle)
			if _, err := e.r.Invites.Accept(ctx, "gbob", gmail.Token); !errors.Is(err, invites.ErrWrongEmail) {
				t.Errorf("bob@gmail.com accepts b.ob@gmail.com's invite: error = %v, want ErrWrongEmail", err)
			}
			if got := listed(t, e.r, "olive", acct.ID, inv.ID); got.Status != store.InvitePending || got.Uses != 0 {
				t.Errorf("invite after refused accepts = %+v, want pending and unused", got)
			}
			userWith(t, e.r, "bob", "Bob@EXAMPLE.com", store.SignInEmail)
			accept(t, e.r, "bob", inv.Token)
		})

		t.Run("secure sign-in is required when the invite asks for it", func(t *testing.T) {
			e := newInviteEnv(t, b, rbac.DigitalOcean())
			acct := rostertest.Team(t, e.r, "olive", nil)
			for _, signIn := range []store.SignIn{store.SignInEmail, store.SignInEmail2FA, store.SignInGoogle, store.SignInGitHub} {
				id := "u-" + strings.ReplaceAll(string(signIn), "+", "-")
				inv := emailInvite(t, e.r, "olive", acct.ID, rbac.DigitalOceanMember, id+"@example.com", invites.RequireSecure())
				if !inv.RequireSecure {
					t.Errorf("invite = %+v, want RequireSecure", inv)
				}
				userWith(t, e.r, id, id+"@example.com", signIn)
				_, err := e.r.Invites.Accept(ctx, id, inv.Token)
				secure := signIn != store.SignInEmail
				switch {
				case secure && err != nil:
					t.Errorf("%s sign-in: accept error = %v, want success", signIn, err)
				case !secure && !errors.Is(err, invites.ErrInsecureSignIn):
					t.Errorf("%s sign-in: accept error = %v, want ErrInsecureSignIn", signIn, err)
				}
			}
			secureLink := link(t, e.r, "olive", acct.ID, rbac.DigitalOceanMember, invites.RequireSecure())
			userWith(t, e.r, "plain", "plain@example.com", store.SignInEmail)
			if _, err := e.r.Invites.Accept(ctx, "plain", secureLink.Token); !errors.Is(err, invites.ErrInsecureSignIn) {
				t.Errorf("secure link accepted with a password sign-in: error = %v, want ErrInsecureSignIn", err)
			}
		})

		t.Run("an address with a pending invite fails the whole batch", func(t *testing.T) {
			e := newInviteEnv(t, b, rbac.DigitalOcean())
			acct := rostertest.Team(t, e.r, "olive", nil)
			first := emailInvite(t, e.r, "olive", acct.ID, rbac.DigitalOceanMember, "ann@example.com", invites.ExpiresIn(time.Hour))
			sent := len(e.out.messages())
			rev, ev := rostertest.Writes(t, e.s)
			_, err := e.r.Invites.CreateEmail(ctx, "olive", acct.ID, rbac.DigitalOceanBiller, []string{"ben@example.com", "ANN@example.com"})
			if !errors.Is(err, invites.ErrPending) || !strings.Contains(err.Error(), "ann@example.com") {
				t.Fatalf("batch with a pending address: error = %v, want ErrPending naming ann@example.com", err)
			}
			if rev2, ev2 := rostertest.Writes(t, e.s); rev2 != rev || ev2 != ev {
				t.Errorf("refused batch wrote: revision %d -> %d, last event %d -> %d", rev, rev2, ev, ev2)
			}
			if all, _, err := e.r.Invites.List(ctx, "olive", acct.ID, store.Page{}); err != nil || len(all) != 1 {
				t.Errorf("invites after the refused batch = %+v, %v; want only the first", all, err)
			}
			if n := len(e.out.messages()); n != sent {
				t.Errorf("refused batch sent %d emails", n-sent)
			}
			e.clock.Advance(time.Hour) // the first invite expires: the address is free again
			emailInvite(t, e.r, "olive", acct.ID, rbac.DigitalOceanMember, "ann@example.com")
			if err := e.r.Invites.Revoke(ctx, "olive", acct.ID, first.ID); err != nil {
				t.Errorf("revoking the expired invite: %v", err)
			}
			// A link invite does not block email invites.
			link(t, e.r, "olive", acct.ID, rbac.DigitalOceanMember)
			emailInvite(t, e.r, "olive", acct.ID, rbac.DigitalOceanMember, "ben@example.com")
		})

		t.Run("a failing notifier keeps the invites and reports ErrNotSent", func(t *testing.T) {
			e := newInviteEnv(t, b, rbac.DigitalOcean())
			acct := rostertest.Team(t, e.r, "olive", nil)
			e.out.fail["bad@example.com"] = true
			invs, err := e.r.Invites.CreateEmail(ctx, "olive", acct.ID, rbac.DigitalOceanMember, []string{"good@example.com", "bad@example.com"})
			if !errors.Is(err, invites.ErrNotSent) || !errors.Is(err, errMailbox) || !strings.Contains(err.Error(), "bad@example.com") {
				t.Fatalf("error = %v, want ErrNotSent wrapping the mail error for bad@example.com", err)
			}
			if len(invs) != 2 || invs[1].Token == "" {
				t.Fatalf("invites = %+v, want both, with tokens", invs)
			}
			if msgs := e.out.messages(); len(msgs) != 1 || msgs[0].To != "good@example.com" {
				t.Errorf("emails sent = %+v, want only good@example.com's", msgs)
			}
			pending, _, err := e.r.Invites.Pending(ctx, "olive", acct.ID, store.Page{})
			if err != nil || len(pending) != 2 {
				t.Errorf("pending = %+v, %v; want both invites", pending, err)
			}
			if _, err := e.r.Invites.Resend(ctx, "olive", acct.ID, invs[1].ID); !errors.Is(err, invites.ErrNotSent) {
				t.Errorf("resend to the failing address: error = %v, want ErrNotSent", err)
			}
			delete(e.out.fail, "bad@example.com")
			resent, err := e.r.Invites.Resend(ctx, "olive", acct.ID, invs[1].ID)
			if err != nil {
				t.Fatal(err)
			}
			if msgs := e.out.messages(); len(msgs) != 2 || msgs[1].To != "bad@example.com" || !msgs[1].Resent || msgs[1].Link != resent.Link {
				t.Errorf("emails sent = %+v, want the resent invite to bad@example.com last", msgs)
			}
		})

		t.Run("without a notifier email invites are returned with their links", func(t *testing.T) {
			s := b.Store(t)
			r, err := roster.New(ctx, s, rbac.DigitalOcean(), roster.WithInvites(invites.WithBaseURL(baseURL)))
			if err != nil {
				t.Fatal(err)
			}
			acct := rostertest.Team(t, r, "olive", nil)
			inv := emailInvite(t, r, "olive", acct.ID, rbac.DigitalOceanMember, "max@example.com")
			if inv.Link != baseURL+"/invites/"+inv.Token {
				t.Errorf("link = %q", inv.Link)
			}
			userWith(t, r, "max", "max@example.com", store.SignInEmail)
			accept(t, r, "max", inv.Token)
		})

		t.Run("malformed address lists are refused and write nothing", func(t *testing.T) {
			e := newInviteEnv(t, b, rbac.DigitalOcean())
			acct := rostertest.Team(t, e.r, "olive", nil)
			tooMany := make([]string, invites.MaxEmails+1)
			for i := range tooMany {
				tooMany[i] = "u" + strings.Repeat("x", i) + "@example.com"
			}
			rev, ev := rostertest.Writes(t, e.s)
			for name, list := range map[string][]string{
				"empty":             nil,
				"too many":          tooMany,
				"one malformed":     {"ok@example.com", "not an address"},
				"cyrillic a":        {"\u0430lice@example.com"},
				"fullwidth":         {"\uff41lice@example.com"},
				"trailing dot":      {"alice@example.com."},
				"quoted local":      {`"alice"@example.com`},
				"address literal":   {"alice@[192.0.2.1]"},
				"display name":      {"Alice <alice@example.com>"},
				"surrounding space": {" alice@example.com"},
				"header injection":  {"alice@example.com\r\nBcc: eve@example.com"},
			} {
				if _, err := e.r.Invites.CreateEmail(ctx, "olive", acct.ID, rbac.DigitalOceanMember, list); !errors.Is(err, store.ErrInvalid) {
					t.Errorf("%s: error = %v, want ErrInvalid", name, err)
				}
			}
			if rev2, ev2 := rostertest.Writes(t, e.s); rev2 != rev || ev2 != ev {
				t.Errorf("refused calls wrote: revision %d -> %d, last event %d -> %d", rev, rev2, ev, ev2)
			}
			if n := len(e.out.messages()); n != 0 {
				t.Errorf("refused calls sent %d emails", n)
			}
		})
	})
}

func TestPendingInvites(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		t.Run("the list shows who, role, kind, creator, times and status, emails only to inviters", func(t *testing.T) {
			e := newInviteEnv(t, b, rbac.DigitalOcean())
			acct := rostertest.Team(t, e.r, "olive", map[string]rbac.Role{"max": rbac.DigitalOceanMember})
			created := e.clock.Now()
			mail := emailInvite(t, e.r, "olive", acct.ID, rbac.DigitalOceanBiller, "ann@example.com", invites.ExpiresIn(48*time.Hour))
			e.clock.Advance(time.Minute)
			short := link(t, e.r, "olive", acct.ID, rbac.DigitalOceanModifier, invites.ExpiresIn(time.Hour))
			e.clock.Advance(time.Minute)
			used := link(t, e.r, "olive", acct.ID, rbac.DigitalOceanResourceViewer)
			e.clock.Advance(time.Minute)
			revoked := link(t, e.r, "olive", acct.ID, rbac.DigitalOceanMember)
			rostertest.User(t, e.r, "ray")
			accept(t, e.r, "ray", used.Token)
			if err := e.r.Invites.Revoke(ctx, "olive", acct.ID, revoked.ID); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(2 * time.Hour) // short expires

			all, _, err := e.r.Invites.List(ctx, "olive", acct.ID, store.Page{})
			if err != nil {
				t.Fatal(err)
			}
			want := []struct {
				id     string
				status store.InviteStatus
			}{{revoked.ID, store.InviteRevoked}, {used.ID, store.InviteAccepted}, {short.ID, store.InviteExpired}, {mail.ID, store.InvitePending}}
			if len(all) != len(want) {
				t.Fatalf("List = %+v, want %d invites", all, len(want))
			}
			for i, w := range want {
				if all[i].ID != w.id || all[i].Status != w.status {
					t.Errorf("List[%d] = %s %s, want %s %s (newest first)", i, all[i].ID, all[i].Status, w.id, w.status)
				}
				if all[i].Token != "" || all[i].Link != "" {
					t.Errorf("List[%d] shows a token", i)
				}
			}
			if err := e.s.View(ctx, func(tx store.Tx) error {
				stored, err := tx.Invite(ctx, short.ID)
				if err == nil && stored.Status != store.InvitePending {
					t.Errorf("the expired invite is stored as %s, want pending: expired is never stored", stored.Status)
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
			got := all[3]
			if got.Email != "ann@example.com" || got.Kind != store.InviteEmail || got.Role != rbac.DigitalOceanBiller ||
				got.CreatedBy != "olive" || !got.CreatedAt.Equal(created) || !got.ExpiresAt.Equal(created.Add(48*time.Hour)) {
				t.Errorf("email invite as listed = %+v", got)
			}
			pending, _, err := e.r.Invites.Pending(ctx, "olive", acct.ID, store.Page{})
			if err != nil || len(pending) != 1 || pending[0].ID != mail.ID {
				t.Errorf("Pending = %+v, %v; want only the email invite", pending, err)
			}

			// A member who may not invite sees the rows but no addresses.
			seen, _, err := e.r.Invites.Pending(ctx, "max", acct.ID, store.Page{})
			if err != nil || len(seen) != 1 {
				t.Fatalf("Pending for a member = %+v, %v", seen, err)
			}
			if seen[0].Email != "" || seen[0].Role != rbac.DigitalOceanBiller || seen[0].CreatedBy != "olive" {
				t.Errorf("Pending for a member = %+v, want the row without its email", seen[0])
			}
			rostertest.User(t, e.r, "stranger")
			if _, _, err := e.r.Invites.List(ctx, "stranger", acct.ID, store.Page{}); !errors.Is(err, rbac.ErrNotMember) {
				t.Errorf("List by a non-member: error = %v, want ErrNotMember", err)
			}
			if _, _, err := e.r.Invites.List(ctx, "olive", "acc_missing", store.Page{}); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("List of a missing account: error = %v, want ErrNotFound", err)
			}
		})
	})
}

func TestResendAndRevoke(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		t.Run("resend issues a new token and the old one stops working", func(t *testing.T) {
			e := newInviteEnv(t, b, rbac.DigitalOcean())
			acct := rostertest.Team(t, e.r, "olive", map[string]rbac.Role{"oona": rbac.DigitalOceanMember})
			promote(t, e.r, e.s, acct.ID, "oona", rbac.DigitalOceanOwner)
			inv := emailInvite(t, e.r, "olive", acct.ID, rbac.DigitalOceanMember, "max@example.com", invites.ExpiresIn(24*time.Hour))
			e.clock.Advance(30 * time.Hour) // expired: resending renews it
			resent, err := e.r.Invites.Resend(ctx, "oona", acct.ID, inv.ID)
			if err != nil {
				t.Fatal(err)
			}
			now := e.clock.Now()
			if resent.ID != inv.ID || resent.Token == inv.Token || resent.Link == inv.Link || resent.Status != store.InvitePending ||
				resent.ResentBy != "oona" || !resent.ResentAt.Equal(now) || !resent.ExpiresAt.Equal(now.Add(24*time.Hour)) {
				t.Errorf("resent invite = %+v, want the same ID with a new token, sent by oona now, expiring in 24h", resent)
			}
			if msgs := e.out.messages(); len(msgs) != 2 || !msgs[1].Resent || msgs[1].Link != resent.Link || msgs[1].InviterID != "oona" {
				t.Errorf("emails = %+v, want the resent one last, from oona with the new link", msgs)
			}
			userWith(t, e.r, "max", "max@example.com", store.SignInEmail)
			if _, err := e.r.Invites.Accept(ctx, "max", inv.Token); !errors.Is(err, invites.ErrSuperseded) {
				t.Errorf("accepting the old token: error = %v, want ErrSuperseded", err)
			}
			if all, _, err := e.r.Invites.List(ctx, "olive", acct.ID, store.Page{}); err != nil || len(all) != 1 {
				t.Errorf("List after resend = %+v, %v; want the one invite", all, err)
			}
			accept(t, e.r, "max", resent.Token)
			if _, err := e.r.Invites.Accept(ctx, "max", inv.Token); !errors.Is(err, invites.ErrSuperseded) {
				t.Errorf("old token after acceptance: error = %v, want ErrSuperseded", err)
			}
		})

		t.Run("a resent link keeps its uses and its never-expiring lifetime", func(t *testing.T) {
			e := newInviteEnv(t, b, rbac.Runpod())
			acct := rostertest.Team(t, e.r, "alice", nil)
			inv := link(t, e.r, "alice", acct.ID, rbac.RunpodBasic, invites.MaxUses(2))
			rostertest.User(t, e.r, "bob")
			rostertest.User(t, e.r, "carol")
			accept(t, e.r, "bob", inv.Token)
			resent, err := e.r.Invites.Resend(ctx, "alice", acct.ID, inv.ID)
			if err != nil {
				t.Fatal(err)
			}
			if resent.Uses != 1 || !resent.ExpiresAt.IsZero() || resent.Link != baseURL+"/invites/"+resent.Token {
				t.Errorf("resent link = %+v, want 1 use, no expiry and a new link", resent)
			}
			if n := len(e.out.messages()); n != 0 {
				t.Errorf("resending a link sent %d emails", n)
			}
			accept(t, e.r, "carol", resent.Token)
		})

		t.Run("revoked and used invites cannot be revoked, resent or accepted", func(t *testing.T) {
			e := newInviteEnv(t, b, rbac.Runpod())
			acct := rostertest.Team(t, e.r, "alice", nil)
			other := rostertest.Team(t, e.r, "oscar", nil)
			rostertest.User(t, e.r, "bob")
			revoked := link(t, e.r, "alice", acct.ID, rbac.RunpodDev)
			used := link(t, e.r, "alice", acct.ID, rbac.RunpodDev)
			if err := e.r.Invites.Revoke(ctx, "alice", acct.ID, revoked.ID); err != nil {
				t.Fatal(err)
			}
			accept(t, e.r, "bob", used.Token)
			if _, err := e.r.Invites.Accept(ctx, "bob", revoked.Token); !errors.Is(err, invites.ErrRevoked) {
				t.Errorf("accept revoked: error = %v, want ErrRevoked", err)
			}
			rev, ev := rostertest.Writes(t, e.s)
			for name, c := range map[string]struct {
				err  error
				want error
			}{
				"revoke revoked": {e.r.Invites.Revoke(ctx, "alice", acct.ID, revoked.ID), invites.ErrRevoked},
				"resend revoked": {second(e.r.Invites.Resend(ctx, "alice", acct.ID, revoked.ID)), invites.ErrRevoked},
				"revoke used":    {e.r.Invites.Revoke(ctx, "alice", acct.ID, used.ID), invites.ErrUsed},
				"resend used":    {second(e.r.Invites.Resend(ctx, "alice", acct.ID, used.ID)), invites.ErrUsed},
				"another team's": {e.r.Invites.Revoke(ctx, "oscar", other.ID, used.ID), store.ErrNotFound},
				"unknown ID":     {e.r.Invites.Revoke(ctx, "alice", acct.ID, "inv_missing"), store.ErrNotFound},
				"SQL-looking ID": {e.r.Invites.Revoke(ctx, "alice", acct.ID, "x'OR'1'='1"), store.ErrNotFound},
				"wildcard ID":    {second(e.r.Invites.Resend(ctx, "alice", acct.ID, "%")), store.ErrNotFound},
			} {
				if !errors.Is(c.err, c.want) {
					t.Errorf("%s: error = %v, want %v", name, c.err, c.want)
				}
			}
			if rev2, ev2 := rostertest.Writes(t, e.s); rev2 != rev || ev2 != ev {
				t.Errorf("refused calls wrote: revision %d -> %d, last event %d -> %d", rev, rev2, ev, ev2)
			}
		})
	})
}

func TestAcceptInvites(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		t.Run("an existing member gets ErrAlreadyMember and nothing changes", func(t *testing.T) {
			e := newInviteEnv(t, b, rbac.Runpod())
			acct := rostertest.Team(t, e.r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
			inv := link(t, e.r, "alice", acct.ID, rbac.RunpodAdmin)
			rev, _ := rostertest.Writes(t, e.s)
			for _, who := range []string{"alice", "bob"} {
				_, err := e.r.Invites.Accept(ctx, who, inv.Token)
				if !errors.Is(err, invites.ErrAlreadyMember) || !errors.Is(err, store.ErrExists) {
					t.Errorf("%s accepts: error = %v, want ErrAlreadyMember", who, err)
				}
			}
			assertRole(t, e.s, acct.ID, "bob", rbac.RunpodDev)
			if rev2, _ := rostertest.Writes(t, e.s); rev2 != rev {
				t.Errorf("refused accepts changed memberships: revision %d -> %d", rev, rev2)
			}
			if got := listed(t, e.r, "alice", acct.ID, inv.ID); got.Status != store.InvitePending || got.Uses != 0 {
				t.Errorf("invite after refused accepts = %+v, want pending and unused", got)
			}
		})

		t.Run("accepting needs an existing user and creates none", func(t *testing.T) {
			e := newInviteEnv(t, b, rbac.Runpod())
			acct := rostertest.Team(t, e.r, "alice", nil)
			inv := link(t, e.r, "alice", acct.ID, rbac.RunpodDev)
			if _, err := e.r.Invites.Accept(ctx, "ghost", inv.Token); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("unknown user accepts: error = %v, want ErrNotFound", err)
			}
			if _, err := e.r.Teams.User(ctx, "ghost"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("accepting created the user: %v", err)
			}
			if got := listed(t, e.r, "alice", acct.ID, inv.ID); got.Status != store.InvitePending {
				t.Errorf("invite after the refused accept is %s, want pending", got.Status)
			}
		})

		t.Run("malformed and unknown tokens are refused and leave no trace", func(t *testing.T) {
			e := newInviteEnv(t, b, rbac.Runpod())
			acct := rostertest.Team(t, e.r, "alice", nil)
			rostertest.User(t, e.r, "bob")
			inv := link(t, e.r, "alice", acct.ID, rbac.RunpodDev)
			// A token of the right shape that no invite has: the link's
			// token with its first character changed.
			unknown := "A" + inv.Token[1:]
			if inv.Token[0] == 'A' {
				unknown = "B" + inv.Token[1:]
			}
			rev, ev := rostertest.Writes(t, e.s)
			for name, c := range map[string]struct {
				token string
				want  error
			}{
				"empty":          {"", store.ErrInvalid},
				"short":          {inv.Token[:20], store.ErrInvalid},
				"padded":         {inv.Token + "=", store.ErrInvalid},
				"SQL-looking":    {"' OR 1=1 --" + strings.Repeat("a", 32), store.ErrInvalid},
				"wildcard":       {strings.Repeat("%", len(inv.Token)), store.ErrInvalid},
				"control":        {"\x00" + inv.Token[1:], store.ErrInvalid},
				"oversized":      {strings.Repeat("A", 1<<16), store.ErrInvalid},
				"unknown":        {unknown, invites.ErrUnknownToken},
				"the whole link": {inv.Link, store.ErrInvalid},
			} {
				if _, err := e.r.Invites.Accept(ctx, "bob", c.token); !errors.Is(err, c.want) {
					t.Errorf("%s token: error = %v, want %v", name, err, c.want)
				}
				if _, err := e.r.Invites.Preview(ctx, c.token); !errors.Is(err, c.want) {
					t.Errorf("%s token: Preview error = %v, want %v", name, err, c.want)
				}
			}
			if _, err := e.r.Invites.Accept(ctx, "bob", unknown); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("unknown token: error = %v, want one wrapping store.ErrNotFound too", err)
			}
			if rev2, ev2 := rostertest.Writes(t, e.s); rev2 != rev || ev2 != ev {
				t.Errorf("refused tokens wrote: revision %d -> %d, last event %d -> %d", rev, rev2, ev, ev2)
			}
		})

		t.Run("an invite whose inviter lost the right to invite is revoked at accept time", func(t *testing.T) {
			e := newInviteEnv(t, b, rbac.Runpod())
			acct := rostertest.Team(t, e.r, "alice", map[string]rbac.Role{"carol": rbac.RunpodAdmin, "dave": rbac.RunpodAdmin})
			rostertest.User(t, e.r, "bob")
			rostertest.User(t, e.r, "erin")
			fromCarol := link(t, e.r, "carol", acct.ID, rbac.RunpodDev)
			fromDave := link(t, e.r, "dave", acct.ID, rbac.RunpodDev)
			vouched := link(t, e.r, "dave", acct.ID, rbac.RunpodBasic)
			if err := e.r.Teams.RemoveMember(ctx, "alice", acct.ID, "carol"); err != nil {
				t.Fatal(err)
			}
			if _, err := e.r.Teams.ChangeRole(ctx, "alice", acct.ID, "dave", rbac.RunpodDev); err != nil {
				t.Fatal(err)
			}
			for _, inv := range []invites.Invitation{fromCarol, fromDave} {
				if _, err := e.r.Invites.Preview(ctx, inv.Token); !errors.Is(err, invites.ErrInviterDenied) {
					t.Errorf("Preview of %s's invite: error = %v, want ErrInviterDenied", inv.CreatedBy, err)
				}
				if _, err := e.r.Invites.Accept(ctx, "bob", inv.Token); !errors.Is(err, invites.ErrInviterDenied) {
					t.Errorf("accepting %s's invite: error = %v, want ErrInviterDenied", inv.CreatedBy, err)
				}
				if got := listed(t, e.r, "alice", acct.ID, inv.ID); got.Status != store.InviteRevoked {
					t.Errorf("%s's invite is %s after the refused accept, want revoked", inv.CreatedBy, got.Status)
				}
				if _, err := e.r.Invites.Accept(ctx, "erin", inv.Token); !errors.Is(err, invites.ErrRevoked) {
					t.Errorf("accepting %s's invite again: error = %v, want ErrRevoked", inv.CreatedBy, err)
				}
			}
			assertRole(t, e.s, acct.ID, "bob", "")
			// An admin who resends dave's other invite vouches for it.
			resent, err := e.r.Invites.Resend(ctx, "alice", acct.ID, vouched.ID)
			if err != nil {
				t.Fatal(err)
			}
			accept(t, e.r, "bob", resent.Token)
			assertRole(t, e.s, acct.ID, "bob", rbac.RunpodBasic)
		})

		t.Run("removing a member does not reopen the invite they came by", func(t *testing.T) {
			e := newInviteEnv(t, b, rbac.Runpod())
			acct := rostertest.Team(t, e.r, "alice", nil)
			rostertest.User(t, e.r, "bob")
			rostertest.User(t, e.r, "carol")
			single := link(t, e.r, "alice", acct.ID, rbac.RunpodDev)
			reusable := link(t, e.r, "alice", acct.ID, rbac.RunpodBasic, invites.MaxUses(5))
			accept(t, e.r, "bob", single.Token)
			accept(t, e.r, "carol", reusable.Token)
			for _, who := range []string{"bob", "carol"} {
				if err := e.r.Teams.RemoveMember(ctx, "alice", acct.ID, who); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := e.r.Invites.Accept(ctx, "bob", single.Token); !errors.Is(err, invites.ErrUsed) {
				t.Errorf("removed member reuses a single-use invite: error = %v, want ErrUsed", err)
			}
			if _, err := e.r.Invites.Accept(ctx, "carol", reusable.Token); !errors.Is(err, invites.ErrUsed) {
				t.Errorf("removed member reuses a reusable link: error = %v, want ErrUsed", err)
			}
			for _, who := range []string{"bob", "carol"} {
				assertRole(t, e.s, acct.ID, who, "")
			}
			if got := listed(t, e.r, "alice", acct.ID, reusable.ID); got.Uses != 1 || got.Status != store.InvitePending {
				t.Errorf("reusable link = %+v, want 1 use and still pending for others", got)
			}
			if n := countEvents(t, e.s, acct.ID, "invite.accept_failed", store.Denied); n != 2 {
				t.Errorf("%d denied invite.accept_failed events, want 2", n)
			}
		})

		t.Run("deleting a team revokes its pending invites", func(t *testing.T) {
			e := newInviteEnv(t, b, rbac.DigitalOcean())
			acct := rostertest.Team(t, e.r, "olive", nil)
			l := link(t, e.r, "olive", acct.ID, rbac.DigitalOceanMember)
			m := emailInvite(t, e.r, "olive", acct.ID, rbac.DigitalOceanMember, "max@example.com")
			userWith(t, e.r, "max", "max@example.com", store.SignInGoogle)
			if _, err := e.r.Teams.DeleteTeam(ctx, "olive", acct.ID); err != nil {
				t.Fatal(err)
			}
			for _, inv := range []invites.Invitation{l, m} {
				if _, err := e.r.Invites.Accept(ctx, "max", inv.Token); !errors.Is(err, invites.ErrRevoked) {
					t.Errorf("accepting a %s invite of a deleted team: error = %v, want ErrRevoked", inv.Kind, err)
				}
				if got := listed(t, e.r, "olive", acct.ID, inv.ID); got.Status != store.InviteRevoked {
					t.Errorf("%s invite of a deleted team is %s", inv.Kind, got.Status)
				}
			}
			assertRole(t, e.s, acct.ID, "max", "")
		})

		t.Run("preview shows the team, role and inviter of a usable invite", func(t *testing.T) {
			e := newInviteEnv(t, b, rbac.Runpod())
			acct := rostertest.Team(t, e.r, "alice", nil)
			inv := link(t, e.r, "alice", acct.ID, rbac.RunpodBilling, invites.ExpiresIn(time.Hour), invites.RequireSecure())
			p, err := e.r.Invites.Preview(ctx, inv.Token)
			if err != nil {
				t.Fatal(err)
			}
			want := invites.Preview{AccountID: acct.ID, Team: acct.Name, Role: rbac.RunpodBilling, Kind: store.InviteLink,
				InviterID: "alice", InviterName: "alice", RequireSecure: true, ExpiresAt: inv.ExpiresAt}
			if p != want {
				t.Errorf("Preview = %+v, want %+v", p, want)
			}
			e.clock.Advance(time.Hour)
			if _, err := e.r.Invites.Preview(ctx, inv.Token); !errors.Is(err, invites.ErrExpired) {
				t.Errorf("Preview of an expired invite: error = %v, want ErrExpired", err)
			}
		})
	})
}

func TestInviteAudit(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		t.Run("every step is audited, failed acceptances as denied", func(t *testing.T) {
			e := newInviteEnv(t, b, rbac.Runpod())
			acct := rostertest.Team(t, e.r, "alice", nil)
			rostertest.User(t, e.r, "bob")
			inv := emailInvite(t, e.r, "alice", acct.ID, rbac.RunpodDev, "bob@example.com")
			resent, err := e.r.Invites.Resend(ctx, "alice", acct.ID, inv.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.r.Invites.Accept(ctx, "bob", inv.Token); !errors.Is(err, invites.ErrSuperseded) {
				t.Fatalf("old token: %v", err)
			}
			accept(t, e.r, "bob", resent.Token)
			other := link(t, e.r, "alice", acct.ID, rbac.RunpodBasic)
			if err := e.r.Invites.Revoke(ctx, "alice", acct.ID, other.ID); err != nil {
				t.Fatal(err)
			}

			evs, _, err := e.r.Audit.Query(ctx, "alice", acct.ID, audit.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			type row struct{ action, actor, resType, resID string }
			var got []row
			for _, ev := range evs {
				if strings.HasPrefix(string(ev.Action), "invite.") || ev.Action == "member.joined" {
					got = append(got, row{string(ev.Action), ev.Actor, ev.ResourceType, ev.ResourceID})
				}
			}
			want := []row{
				{"invite.revoked", "alice", "invite", other.ID},
				{"invite.created", "alice", "invite", other.ID},
				{"member.joined", "bob", "member", "bob"},
				{"invite.accept_failed", "bob", "invite", inv.ID},
				{"invite.resent", "alice", "invite", inv.ID},
				{"invite.created", "alice", "invite", inv.ID},
			}
			if len(got) != len(want) {
				t.Fatalf("invite events = %+v, want %+v", got, want)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("event %d = %+v, want %+v", i, got[i], want[i])
				}
			}
			joined, _, err := e.r.Audit.Query(ctx, "alice", acct.ID, audit.Filter{Action: "member.joined"})
			if err != nil || len(joined) != 1 {
				t.Fatalf("member.joined events = %+v, %v", joined, err)
			}
			if j := joined[0]; j.Result != store.Allowed || !strings.Contains(j.After, `"role":"dev"`) || !strings.Contains(j.After, inv.ID) {
				t.Errorf("member.joined = %+v, want allowed, naming the role and the invite", j)
			}
			failed, _, err := e.r.Audit.Query(ctx, "alice", acct.ID, audit.Filter{Action: "invite.accept_failed"})
			if err != nil || len(failed) != 1 || failed[0].Result != store.Denied || failed[0].Reason == "" {
				t.Errorf("invite.accept_failed events = %+v, %v; want one denied, with a reason", failed, err)
			}
			created, _, err := e.r.Audit.Query(ctx, "alice", acct.ID, audit.Filter{Action: "invite.created", ResourceID: inv.ID})
			if err != nil || len(created) != 1 || !strings.Contains(created[0].After, "bob@example.com") || strings.Contains(created[0].After, inv.Token) {
				t.Errorf("invite.created = %+v, %v; want the address and no token", created, err)
			}
		})
	})
}

// second returns the error of a two-result call.
func second[T any](_ T, err error) error { return err }

// third returns the error of a call that returns two values besides it.
func third[T, U any](_ T, _ U, err error) error { return err }

// leadPolicy is a policy with a "lead" role that may invite but holds less
// than admin: it covers dev but not billing or admin.
func leadPolicy(t *testing.T) *rbac.Policy {
	t.Helper()
	policy := `
p, admin, account.access
p, admin, pods.manage
p, admin, billing.read
p, admin, members.invite
p, admin, members.manage
p, admin, settings.manage
p, admin, audit.read
p, lead, account.access
p, lead, pods.manage
p, lead, members.invite
p, dev, account.access
p, dev, pods.manage
p, billing, account.access
p, billing, billing.read
`
	p, err := rbac.Parse("lead", []byte(rbac.Runpod().ModelText()), []byte(policy))
	if err != nil {
		t.Fatalf("parse policy: %v", err)
	}
	return p
}

func TestInviteTokensAtRest(t *testing.T) {
	ctx := context.Background()
	// makeInvites creates a link, an email invite and a resent invite and
	// returns every token issued, old and new.
	makeInvites := func(t *testing.T, e *inviteEnv) []string {
		t.Helper()
		acct := rostertest.Team(t, e.r, "alice", nil)
		l := link(t, e.r, "alice", acct.ID, rbac.RunpodDev, invites.MaxUses(3))
		m := emailInvite(t, e.r, "alice", acct.ID, rbac.RunpodAdmin, "bob@example.com")
		resent, err := e.r.Invites.Resend(ctx, "alice", acct.ID, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		return []string{l.Token, m.Token, resent.Token}
	}
	// leaks returns the tokens found in dump, as text or as raw bytes.
	leaks := func(t *testing.T, dump []byte, tokens []string) []string {
		t.Helper()
		var found []string
		for _, tok := range tokens {
			raw, err := base64.RawURLEncoding.DecodeString(tok)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(dump, []byte(tok)) || bytes.Contains(dump, raw) || bytes.Contains(dump, []byte(hex.EncodeToString(raw))) {
				found = append(found, tok)
			}
		}
		return found
	}

	t.Run("sqlite: the database files hold no token", func(t *testing.T) {
		path := testdb.SQLitePath(t)
		s, err := sqlstore.OpenSQLite(path)
		if err != nil {
			t.Fatal(err)
		}
		tokens := makeInvites(t, newInviteEnvOn(t, s, rbac.Runpod()))
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		var dump []byte
		files, err := filepath.Glob(path + "*") // the database, its WAL and shared memory
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			dump = append(dump, b...)
		}
		if !bytes.Contains(dump, []byte("bob@example.com")) {
			t.Fatal("the dump does not even hold the invited address: it is not a dump of the database")
		}
		if found := leaks(t, dump, tokens); len(found) > 0 {
			t.Errorf("the database files hold %d of %d tokens", len(found), len(tokens))
		}
	})

	t.Run("postgres: no table holds a token", func(t *testing.T) {
		b := testdb.Backends()[1]
		b.Skip(t)
		dsn := b.DSN(t)
		s, err := b.Open(dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Error(err)
			}
		})
		tokens := makeInvites(t, newInviteEnvOn(t, s, rbac.Runpod()))
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var dump []byte
		tables, err := db.QueryContext(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for tables.Next() {
			var name string
			if err := tables.Scan(&name); err != nil {
				t.Fatal(err)
			}
			names = append(names, name)
		}
		if err := errors.Join(tables.Err(), tables.Close()); err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			rows, err := db.QueryContext(ctx, "SELECT t::text FROM "+name+" AS t")
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var row string
				if err := rows.Scan(&row); err != nil {
					t.Fatal(err)
				}
				dump = append(dump, row...)
			}
			if err := errors.Join(rows.Err(), rows.Close()); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Contains(dump, []byte("bob@example.com")) {
			t.Fatal("the dump does not even hold the invited address: it is not a dump of the database")
		}
		if found := leaks(t, dump, tokens); len(found) > 0 {
			t.Errorf("the tables hold %d of %d tokens", len(found), len(tokens))
		}
	})
}

func TestInviteBadInput(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		e := newInviteEnv(t, b, rbac.Runpod())
		acct := rostertest.Team(t, e.r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
		inv := link(t, e.r, "alice", acct.ID, rbac.RunpodDev)
		rev, ev := rostertest.Writes(t, e.s)
		check := func(t *testing.T, what string, err error) {
			t.Helper()
			if !errors.Is(err, store.ErrInvalid) {
				t.Errorf("%s: error = %v, want ErrInvalid", what, err)
			}
		}
		badIDs := map[string]string{"empty": "", "oversized": strings.Repeat("x", store.MaxIDLen+1), "non-UTF-8": "a\xffb",
			"control character": "a\x00b", "newline": "a\nb", "space": "a b", "bidi override": "a\u202eb", "SQL": "x' OR '1'='1"}
		for kind, bad := range badIDs {
			t.Run("IDs "+kind, func(t *testing.T) {
				check(t, "actor", second(e.r.Invites.CreateLink(ctx, bad, acct.ID, rbac.RunpodDev)))
				check(t, "account", second(e.r.Invites.CreateLink(ctx, "alice", bad, rbac.RunpodDev)))
				check(t, "role", second(e.r.Invites.CreateLink(ctx, "alice", acct.ID, rbac.Role(bad))))
				check(t, "email actor", second(e.r.Invites.CreateEmail(ctx, bad, acct.ID, rbac.RunpodDev, []string{"x@example.com"})))
				check(t, "resend invite", second(e.r.Invites.Resend(ctx, "alice", acct.ID, bad)))
				check(t, "revoke actor", e.r.Invites.Revoke(ctx, bad, acct.ID, inv.ID))
				check(t, "list account", third(e.r.Invites.List(ctx, "alice", bad, store.Page{})))
				check(t, "pending actor", third(e.r.Invites.Pending(ctx, bad, acct.ID, store.Page{})))
				check(t, "accepting user", second(e.r.Invites.Accept(ctx, bad, inv.Token)))
			})
		}
		t.Run("invite options", func(t *testing.T) {
			for name, opts := range map[string][]invites.InviteOption{
				"no uses":            {invites.MaxUses(0)},
				"too many uses":      {invites.MaxUses(invites.MaxLinkUses + 1)},
				"zero expiry":        {invites.ExpiresIn(0)},
				"negative expiry":    {invites.ExpiresIn(-time.Hour)},
				"sub-second expiry":  {invites.ExpiresIn(time.Millisecond)},
				"too long an expiry": {invites.ExpiresIn(invites.MaxExpiry + time.Second)},
				"nil option":         {nil},
			} {
				check(t, name, second(e.r.Invites.CreateLink(ctx, "alice", acct.ID, rbac.RunpodDev, opts...)))
			}
			check(t, "reusable email invite", second(e.r.Invites.CreateEmail(ctx, "alice", acct.ID, rbac.RunpodDev, []string{"x@example.com"}, invites.MaxUses(2))))
		})
		t.Run("a team expiry out of range or failing", func(t *testing.T) {
			for name, c := range map[string]struct {
				d    time.Duration
				err  error
				want error
			}{
				"negative": {-time.Hour, nil, store.ErrInvalid},
				"too long": {invites.MaxExpiry + time.Hour, nil, store.ErrInvalid},
				"an error": {0, errMailbox, errMailbox},
			} {
				f := newInviteEnvOn(t, e.s, rbac.Runpod(), invites.WithTeamExpiry(func(context.Context, string) (time.Duration, error) { return c.d, c.err }))
				if _, err := f.r.Invites.CreateLink(ctx, "alice", acct.ID, rbac.RunpodDev); !errors.Is(err, c.want) {
					t.Errorf("%s: error = %v, want %v", name, err, c.want)
				}
			}
		})
		if rev2, ev2 := rostertest.Writes(t, e.s); rev2 != rev || ev2 != ev {
			t.Errorf("refused calls wrote: revision %d -> %d, last event %d -> %d", rev, rev2, ev, ev2)
		}
		t.Run("invalid service options", func(t *testing.T) {
			for name, opt := range map[string]invites.Option{
				"relative base URL":     invites.WithBaseURL("/join"),
				"ftp base URL":          invites.WithBaseURL("ftp://example.com/join"),
				"base URL without host": invites.WithBaseURL("https:///join"),
				"base URL with user":    invites.WithBaseURL("https://user:pw@example.com/join"),
				"base URL with query":   invites.WithBaseURL("https://example.com/join?t="),
				"base URL with #":       invites.WithBaseURL("https://example.com/join#x"),
				"base URL with space":   invites.WithBaseURL("https://example.com/jo in"),
				"negative expiry":       invites.WithDefaultExpiry(-time.Second),
				"too long an expiry":    invites.WithDefaultExpiry(invites.MaxExpiry + time.Second),
				"nil clock":             invites.WithClock(nil),
			} {
				if _, err := roster.New(ctx, e.s, rbac.Runpod(), roster.WithInvites(opt)); !errors.Is(err, store.ErrInvalid) {
					t.Errorf("%s: roster.New error = %v, want ErrInvalid", name, err)
				}
			}
			if _, err := invites.New(nil, rbac.Runpod()); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("invites.New(nil store) error = %v, want ErrInvalid", err)
			}
		})
	})
}
