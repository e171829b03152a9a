package roster_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/apikeys"
	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// keyWorld is a Runpod team of alice with bob (dev), and a key of bob's.
type keyWorld struct {
	r     *roster.Roster
	s     store.Store
	clock *rostertest.Clock
	team  store.Account
	key   apikeys.Created
}

func newKeyWorld(t *testing.T, b testdb.Backend, spec apikeys.Spec) *keyWorld {
	t.Helper()
	clock := rostertest.NewClock()
	r, s := rostertest.Open(t, b, rbac.Runpod(), roster.WithClock(clock.Now))
	team := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
	if spec.Name == "" {
		spec.Name = "bob's key"
	}
	key, err := r.Keys.Create(context.Background(), "bob", team.ID, spec)
	if err != nil {
		t.Fatal(err)
	}
	return &keyWorld{r: r, s: s, clock: clock, team: team, key: key}
}

func TestAuthenticate(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		t.Run("a key's token gives its principal, which Can answers for", func(t *testing.T) {
			w := newKeyWorld(t, b, apikeys.Spec{})
			p, err := w.r.Authenticate(ctx, w.key.Token)
			want := roster.Principal{Key: w.key.Key.ID, Account: w.team.ID, Role: rbac.RunpodDev, User: "bob"}
			if err != nil || p != want {
				t.Fatalf("Authenticate = %+v, %v; want %+v", p, err, want)
			}
			if !w.r.Can(ctx, p.Key, p.Account, rbac.PodsManage) || w.r.Can(ctx, p.Key, p.Account, rbac.BillingRead) {
				t.Error("Can does not answer for the principal as for a dev")
			}
			if err := w.r.Check(ctx, p.Key, p.Account, rbac.BillingRead); !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("Check of an action the key lacks: %v, want ErrDenied", err)
			}
			if err := w.r.CheckStrict(ctx, p.Key, p.Account, rbac.PodsManage); err != nil {
				t.Errorf("CheckStrict of an action the key has: %v", err)
			}
			if err := w.r.CheckStrict(ctx, p.Key, p.Account, rbac.BillingRead); !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("CheckStrict of an action the key lacks: %v, want ErrDenied", err)
			}
		})
		t.Run("every bad token gets the same error", func(t *testing.T) {
			w := newKeyWorld(t, b, apikeys.Spec{ExpiresAt: rostertest.NewClock().Now().Add(time.Hour)})
			tok := w.key.Token
			other := newKeyWorld(t, b, apikeys.Spec{})
			revoked, err := w.r.Keys.Create(ctx, "bob", w.team.ID, apikeys.Spec{Name: "revoked"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.r.Keys.Revoke(ctx, "bob", w.team.ID, revoked.Key.ID); err != nil {
				t.Fatal(err)
			}
			swapped := tok[:21] + other.key.Token[21:] // this key's ID, another's secret
			for name, bad := range map[string]string{
				"empty":               "",
				"truncated":           tok[:len(tok)-2],
				"a broken checksum":   tok[:len(tok)-1] + "A",
				"another's secret":    swapped,
				"unknown to this one": other.key.Token,
				"revoked":             revoked.Token,
				"a bearer prefix":     "Bearer " + tok,
				"huge":                strings.Repeat("rsk_", 1<<16),
			} {
				if _, err := w.r.Authenticate(ctx, bad); !errors.Is(err, roster.ErrBadKey) || !errors.Is(err, store.ErrUnauthenticated) || err.Error() != roster.ErrBadKey.Error() {
					t.Errorf("%s: %v, want exactly ErrBadKey", name, err)
				}
			}
			if _, err := w.r.Authenticate(ctx, tok); err != nil {
				t.Fatal(err)
			}
			w.clock.Advance(time.Hour)
			if _, err := w.r.Authenticate(ctx, tok); !errors.Is(err, roster.ErrBadKey) {
				t.Errorf("an expired key: %v, want ErrBadKey", err)
			}
			if w.r.Can(ctx, w.key.Key.ID, w.team.ID, rbac.AccountAccess) {
				t.Error("Can allows an expired key")
			}
		})
		t.Run("a key can never do more than its owner can now", func(t *testing.T) {
			w := newKeyWorld(t, b, apikeys.Spec{})
			id := w.key.Key.ID
			// The team requires secure sign-in; bob signs in with email.
			alice, err := w.r.Teams.User(ctx, "alice")
			if err != nil {
				t.Fatal(err)
			}
			alice.SignIn = store.SignInGoogle
			if _, err := w.r.Teams.UpdateUser(ctx, alice); err != nil {
				t.Fatal(err)
			}
			if _, err := w.r.Teams.SetSecureSignIn(ctx, "alice", w.team.ID, true); err != nil {
				t.Fatal(err)
			}
			if w.r.Can(ctx, id, w.team.ID, rbac.PodsManage) {
				t.Error("the key of a member shut out for their sign-in method still acts")
			}
			if err := w.r.Check(ctx, id, w.team.ID, rbac.PodsManage); !errors.Is(err, rbac.ErrSecureSignIn) {
				t.Errorf("Check: %v, want ErrSecureSignIn", err)
			}
			if err := w.r.CheckStrict(ctx, id, w.team.ID, rbac.PodsManage); !errors.Is(err, rbac.ErrSecureSignIn) {
				t.Errorf("CheckStrict: %v, want ErrSecureSignIn", err)
			}
			if _, err := w.r.Teams.SetSecureSignIn(ctx, "alice", w.team.ID, false); err != nil {
				t.Fatal(err)
			}
			if !w.r.Can(ctx, id, w.team.ID, rbac.PodsManage) {
				t.Fatal("the key does not act again once the rule is off")
			}
			if err := w.r.Teams.RemoveMember(ctx, "alice", w.team.ID, "bob"); err != nil {
				t.Fatal(err)
			}
			if _, err := w.r.Authenticate(ctx, w.key.Token); !errors.Is(err, roster.ErrBadKey) {
				t.Errorf("the key of a removed member authenticates: %v", err)
			}
		})
		t.Run("no user may take a key's ID", func(t *testing.T) {
			w := newKeyWorld(t, b, apikeys.Spec{})
			_, err := w.r.Teams.CreateUser(ctx, store.User{ID: w.key.Key.ID, Email: "k@example.com", Name: "K", SignIn: store.SignInEmail})
			if !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("creating a user with a key's ID: %v, want ErrInvalid", err)
			}
			// A membership row naming a key ID, written behind roster's
			// back, grants nothing: the index does not hold it.
			raw := rostertest.New(t, w.s, rbac.Runpod())
			if raw.Can(ctx, store.APIKeyIDPrefix+"zzzz", w.team.ID, rbac.AccountAccess) {
				t.Error("an unknown key ID is allowed")
			}
		})
		t.Run("a key records the host's events under its own ID, and may not manage the team", func(t *testing.T) {
			w := newKeyWorld(t, b, apikeys.Spec{})
			id := w.key.Key.ID
			e, err := w.r.Audit.Record(ctx, id, w.team.ID, audit.Entry{Action: "pod.created", ResourceType: "pod", ResourceID: "p1"})
			if err != nil || e.Actor != id {
				t.Fatalf("Record by the key = %+v, %v", e, err)
			}
			if _, err := w.r.Teams.AddMember(ctx, id, w.team.ID, "alice", rbac.RunpodBasic); !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("a key managing the team: %v, want ErrDenied", err)
			}
			if _, err := w.r.Keys.Create(ctx, id, w.team.ID, apikeys.Spec{Name: "child"}); !errors.Is(err, apikeys.ErrKeyActor) {
				t.Errorf("a key creating a key: %v, want ErrKeyActor", err)
			}
		})
	})
}

func TestAuthenticateAllocates(t *testing.T) {
	w := newKeyWorld(t, testdb.Backends()[0], apikeys.Spec{})
	ctx := context.Background()
	n := testing.AllocsPerRun(1000, func() {
		if _, err := w.r.Authenticate(ctx, w.key.Token); err != nil {
			t.Fatal(err)
		}
	})
	if n > 0 {
		t.Errorf("Authenticate of a good key allocates %v times, want 0", n)
	}
	if n := testing.AllocsPerRun(1000, func() { w.r.Can(ctx, w.key.Key.ID, w.team.ID, rbac.PodsManage) }); n > 0 {
		t.Errorf("Can for a key allocates %v times, want 0", n)
	}
}

func TestKeyUses(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		s := b.Store(t)
		clock := rostertest.NewClock()
		r, err := roster.New(ctx, s, rbac.Runpod(), roster.WithClock(clock.Now))
		if err != nil {
			t.Fatal(err)
		}
		team := rostertest.Team(t, r, "alice", nil)
		key, err := r.Keys.Create(ctx, "alice", team.ID, apikeys.Spec{Name: "k"})
		if err != nil {
			t.Fatal(err)
		}
		for i, ip := range []string{"192.0.2.1", "192.0.2.2"} {
			clock.Advance(time.Second)
			if i == 1 {
				clock.Advance(-time.Hour) // a use that comes in late is not the latest
			}
			if _, err := r.Authenticate(store.WithRequest(ctx, store.Request{IP: ip}), key.Token); err != nil {
				t.Fatal(err)
			}
		}
		last := clock.Now().Add(time.Hour - time.Second)
		if err := r.Close(); err != nil { // writes what is noted
			t.Fatal(err)
		}
		r2 := rostertest.New(t, s, rbac.Runpod())
		keys, _, err := r2.Keys.List(ctx, "alice", team.ID, store.Page{})
		if err != nil || len(keys) != 1 {
			t.Fatal(keys, err)
		}
		if !keys[0].LastUsedAt.Equal(last) || keys[0].LastUsedIP != "192.0.2.1" {
			t.Errorf("last used %v from %q, want %v from 192.0.2.1", keys[0].LastUsedAt, keys[0].LastUsedIP, last)
		}
	})
}

func TestRequireWithKeys(t *testing.T) {
	ctx := context.Background()
	w := newKeyWorld(t, testdb.Backends()[0], apikeys.Spec{})
	other := rostertest.Team(t, w.r, "erin", map[string]rbac.Role{"bob": rbac.RunpodAdmin})
	var seen struct {
		user, team string
		key        roster.Principal
		haveKey    bool
	}
	next := http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		seen.user, _ = roster.UserFrom(req.Context())
		seen.team, _ = roster.TeamFrom(req.Context())
		seen.key, seen.haveKey = roster.KeyFrom(req.Context())
	})
	session := func(req *http.Request) (string, bool) { c, err := req.Cookie("user"); return valueOf(c), err == nil }
	serve := func(o roster.HTTPOptions, mw func(roster.HTTPOptions) func(http.Handler) http.Handler, path, auth string) int {
		seen.user, seen.team, seen.haveKey = "", "", false
		mux := http.NewServeMux()
		mux.Handle("/teams/{team}/pods", mw(o)(next))
		mux.Handle("/pods", mw(o)(next))
		req := httptest.NewRequest("POST", path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec.Code
	}
	manage := func(o roster.HTTPOptions) func(http.Handler) http.Handler { return w.r.Require(rbac.PodsManage, o) }
	billing := func(o roster.HTTPOptions) func(http.Handler) http.Handler { return w.r.Require(rbac.BillingRead, o) }
	userOnly := func(o roster.HTTPOptions) func(http.Handler) http.Handler { return w.r.RequireUser(o) }
	withKeys := roster.HTTPOptions{User: session, Team: roster.TeamFromPath("team"), APIKeys: true}
	bearer := "Bearer " + w.key.Token

	if got := serve(withKeys, manage, "/teams/"+w.team.ID+"/pods", bearer); got != 200 || seen.user != w.key.Key.ID || !seen.haveKey || seen.key.User != "bob" {
		t.Errorf("a key on its team: %d, user %q, key %+v", got, seen.user, seen.key)
	}
	if got := serve(withKeys, billing, "/teams/"+w.team.ID+"/pods", bearer); got != 403 {
		t.Errorf("a key asking for an action its role lacks: %d, want 403", got)
	}
	// bob is an admin of erin's team, but his key is for alice's.
	if got := serve(withKeys, manage, "/teams/"+other.ID+"/pods", bearer); got != 403 {
		t.Errorf("a key on another team its owner belongs to: %d, want 403", got)
	}
	if got := serve(roster.HTTPOptions{User: session, APIKeys: true}, manage, "/pods", bearer); got != 200 || seen.team != w.team.ID {
		t.Errorf("a key without a team source: %d, team %q; want its own account", got, seen.team)
	}
	if got := serve(withKeys, manage, "/teams/"+w.team.ID+"/pods", "Bearer "+w.key.Token[:len(w.key.Token)-1]+"x"); got != 401 {
		t.Errorf("a broken key: %d, want 401", got)
	}
	if got := serve(withKeys, userOnly, "/pods", bearer); got != 403 {
		t.Errorf("a key on a route for users: %d, want 403", got)
	}
	// Without APIKeys, the bearer header is the host's business: User
	// decides, and finds nobody here.
	if got := serve(roster.HTTPOptions{User: session, Team: roster.TeamFromPath("team")}, manage, "/teams/"+w.team.ID+"/pods", bearer); got != 401 || seen.haveKey {
		t.Errorf("keys not enabled: %d, want 401", got)
	}
	_ = ctx
}

func valueOf(c *http.Cookie) string {
	if c == nil {
		return ""
	}
	return c.Value
}
