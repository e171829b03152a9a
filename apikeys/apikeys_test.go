package apikeys_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/apikeys"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

var ctx = context.Background()

// world is a Runpod team of alice (owner, admin) with bob (dev), carol
// (basic) and dave (admin), on a clock the test moves.
type world struct {
	r     *roster.Roster
	s     store.Store
	clock *rostertest.Clock
	team  store.Account
}

func newWorld(t *testing.T, b testdb.Backend) *world {
	t.Helper()
	clock := rostertest.NewClock()
	r, s := rostertest.Open(t, b, rbac.Runpod(), roster.WithClock(clock.Now))
	team := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev, "carol": rbac.RunpodBasic, "dave": rbac.RunpodAdmin})
	return &world{r: r, s: s, clock: clock, team: team}
}

// create makes a personal key of actor, failing t on error.
func (w *world) create(t *testing.T, actor string, spec apikeys.Spec) apikeys.Created {
	t.Helper()
	c, err := w.r.Keys.Create(ctx, actor, w.team.ID, spec)
	if err != nil {
		t.Fatalf("create %s's key %+v: %v", actor, spec, err)
	}
	return c
}

// stored reads key id from the store.
func (w *world) stored(t *testing.T, id string) store.APIKey {
	t.Helper()
	var k store.APIKey
	if err := w.s.View(ctx, func(tx store.Tx) error {
		var err error
		k, err = tx.APIKey(ctx, id)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return k
}

// newest returns the account's newest event.
func (w *world) newest(t *testing.T) store.Event {
	t.Helper()
	return rostertest.Events(t, w.s, w.team.ID)[0]
}

func TestCreate(t *testing.T) {
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		t.Run("a member's key holds their role by default and acts at once", func(t *testing.T) {
			w := newWorld(t, b)
			c := w.create(t, "bob", apikeys.Spec{Name: "CI"})
			k := c.Key
			if k.UserID != "bob" || k.Role != rbac.RunpodDev || k.Service() || k.CreatedBy != "bob" || !k.CreatedAt.Equal(w.clock.Now()) || !store.IsAPIKeyID(k.ID) {
				t.Fatalf("created %+v", k)
			}
			if !strings.HasPrefix(c.Token, "rsk_"+strings.TrimPrefix(k.ID, store.APIKeyIDPrefix)+"_") {
				t.Fatalf("token %q does not carry the key's ID %q", c.Token, k.ID)
			}
			if !w.r.Can(ctx, k.ID, w.team.ID, rbac.PodsManage) || w.r.Can(ctx, k.ID, w.team.ID, rbac.BillingRead) {
				t.Error("the key does not act with bob's dev role")
			}
			if e := w.newest(t); e.Action != store.EventAPIKeyCreated || e.Actor != "bob" || e.ResourceID != k.ID || strings.Contains(e.After, c.Token) {
				t.Errorf("event %+v", e)
			}
			if st := w.stored(t, k.ID); string(st.Hash) == c.Token || len(st.Hash) != 32 {
				t.Error("the store holds the token, not its hash")
			}
		})
		t.Run("a key narrowed to actions does only those", func(t *testing.T) {
			w := newWorld(t, b)
			k := w.create(t, "bob", apikeys.Spec{Name: "invoke only", Actions: []rbac.Action{rbac.EndpointsInvoke}}).Key
			if !w.r.Can(ctx, k.ID, w.team.ID, rbac.EndpointsInvoke) || w.r.Can(ctx, k.ID, w.team.ID, rbac.PodsManage) {
				t.Error("the narrowed key does not do exactly its action")
			}
		})
		t.Run("a key broader than its creator is denied and recorded", func(t *testing.T) {
			w := newWorld(t, b)
			for _, spec := range []apikeys.Spec{
				{Name: "admin", Role: rbac.RunpodAdmin},
				{Name: "billing", Role: rbac.RunpodBilling},
			} {
				rev, _ := rostertest.Writes(t, w.s)
				_, err := w.r.Keys.Create(ctx, "bob", w.team.ID, spec)
				if !errors.Is(err, apikeys.ErrTooBroad) || !errors.Is(err, rbac.ErrDenied) {
					t.Fatalf("dev creating a %s key: %v, want ErrTooBroad", spec.Role, err)
				}
				if e := w.newest(t); e.Action != store.EventAPIKeyCreated || e.Result != store.Denied || e.Actor != "bob" {
					t.Errorf("the refusal was recorded as %+v", e)
				}
				if now, _ := rostertest.Writes(t, w.s); now != rev {
					t.Error("a refused key changed the revision")
				}
			}
			if _, err := w.r.Keys.Create(ctx, "bob", w.team.ID, apikeys.Spec{Name: "x", Actions: []rbac.Action{rbac.BillingRead}}); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("dev narrowing to an action dev lacks: %v, want ErrInvalid", err)
			}
		})
		t.Run("service accounts need members.manage", func(t *testing.T) {
			w := newWorld(t, b)
			if _, err := w.r.Keys.CreateService(ctx, "bob", w.team.ID, apikeys.Spec{Name: "deploy", Role: rbac.RunpodDev}); !errors.Is(err, rbac.ErrDenied) {
				t.Fatalf("dev creating a service account: %v, want ErrDenied", err)
			}
			c, err := w.r.Keys.CreateService(ctx, "dave", w.team.ID, apikeys.Spec{Name: "deploy", Role: rbac.RunpodDev})
			if err != nil || !c.Key.Service() || c.Key.CreatedBy != "dave" {
				t.Fatalf("admin creating a service account: %+v, %v", c.Key, err)
			}
			if _, err := w.r.Keys.CreateService(ctx, "dave", w.team.ID, apikeys.Spec{Name: "no role"}); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("a service account without a role: %v, want ErrInvalid", err)
			}
			// It belongs to the team: it outlives its creator's membership.
			if err := w.r.Teams.RemoveMember(ctx, "alice", w.team.ID, "dave"); err != nil {
				t.Fatal(err)
			}
			if !w.r.Can(ctx, c.Key.ID, w.team.ID, rbac.PodsManage) {
				t.Error("the service account died with its creator's membership")
			}
		})
		t.Run("bad input is refused and changes nothing", func(t *testing.T) {
			w := newWorld(t, b)
			rev, ev := rostertest.Writes(t, w.s)
			for name, c := range map[string]struct {
				actor string
				spec  apikeys.Spec
				want  error
			}{
				"no name":            {"bob", apikeys.Spec{}, store.ErrInvalid},
				"a control char":     {"bob", apikeys.Spec{Name: "a\nb"}, store.ErrInvalid},
				"a huge name":        {"bob", apikeys.Spec{Name: strings.Repeat("n", 10000)}, store.ErrInvalid},
				"no actions":         {"bob", apikeys.Spec{Name: "k", Actions: []rbac.Action{}}, store.ErrInvalid},
				"an unknown action":  {"bob", apikeys.Spec{Name: "k", Actions: []rbac.Action{"pods.eat"}}, rbac.ErrUnknownAction},
				"an unknown role":    {"bob", apikeys.Spec{Name: "k", Role: "wizard"}, rbac.ErrUnknownRole},
				"an expiry passed":   {"bob", apikeys.Spec{Name: "k", ExpiresAt: w.clock.Now()}, store.ErrInvalid},
				"an expiry too far":  {"bob", apikeys.Spec{Name: "k", ExpiresAt: w.clock.Now().Add(apikeys.MaxExpiry + time.Hour)}, store.ErrInvalid},
				"an outsider":        {"mallory", apikeys.Spec{Name: "k"}, rbac.ErrNotMember},
				"a key as the actor": {store.APIKeyIDPrefix + "x", apikeys.Spec{Name: "k"}, apikeys.ErrKeyActor},
				"an empty actor":     {"", apikeys.Spec{Name: "k"}, store.ErrInvalid},
			} {
				if _, err := w.r.Keys.Create(ctx, c.actor, w.team.ID, c.spec); !errors.Is(err, c.want) {
					t.Errorf("%s: %v, want %v", name, err, c.want)
				}
			}
			if r, e := rostertest.Writes(t, w.s); r != rev || e != ev {
				t.Error("refused creations wrote something")
			}
		})
	})
}

func TestRevoke(t *testing.T) {
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		w := newWorld(t, b)
		bobs := w.create(t, "bob", apikeys.Spec{Name: "bob's"}).Key
		carols := w.create(t, "carol", apikeys.Spec{Name: "carol's"}).Key
		t.Run("another member may not revoke a key that is not theirs", func(t *testing.T) {
			if _, err := w.r.Keys.Revoke(ctx, "carol", w.team.ID, bobs.ID); !errors.Is(err, rbac.ErrDenied) {
				t.Fatalf("carol revoking bob's key: %v, want ErrDenied", err)
			}
			if e := w.newest(t); e.Action != store.EventAPIKeyRevoked || e.Result != store.Denied {
				t.Errorf("the refusal was recorded as %+v", e)
			}
		})
		t.Run("the owner revokes their key and it stops at once", func(t *testing.T) {
			k, err := w.r.Keys.Revoke(ctx, "carol", w.team.ID, carols.ID)
			if err != nil || k.RevokedAt.IsZero() || k.RevokedBy != "carol" {
				t.Fatalf("Revoke = %+v, %v", k, err)
			}
			if w.r.Can(ctx, carols.ID, w.team.ID, rbac.AccountAccess) {
				t.Error("a revoked key still acts")
			}
			if _, err := w.r.Keys.Revoke(ctx, "carol", w.team.ID, carols.ID); !errors.Is(err, apikeys.ErrRevoked) {
				t.Errorf("revoking twice: %v, want ErrRevoked", err)
			}
		})
		t.Run("an admin revokes a member's key", func(t *testing.T) {
			if _, err := w.r.Keys.Revoke(ctx, "dave", w.team.ID, bobs.ID); err != nil {
				t.Fatal(err)
			}
			if w.r.Can(ctx, bobs.ID, w.team.ID, rbac.AccountAccess) {
				t.Error("a revoked key still acts")
			}
		})
		t.Run("a key of another team is not found", func(t *testing.T) {
			other := rostertest.Team(t, w.r, "erin", nil)
			if _, err := w.r.Keys.Revoke(ctx, "erin", other.ID, bobs.ID); !errors.Is(err, rbac.ErrNotMember) && !errors.Is(err, store.ErrNotFound) {
				t.Errorf("revoking through another team: %v", err)
			}
		})
	})
}

func TestList(t *testing.T) {
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		w := newWorld(t, b)
		var bobs []string
		for i := range 5 {
			bobs = append(bobs, w.create(t, "bob", apikeys.Spec{Name: "k" + string(rune('0'+i))}).Key.ID)
			w.clock.Advance(time.Second)
		}
		carols := w.create(t, "carol", apikeys.Spec{Name: "c"}).Key.ID
		w.clock.Advance(time.Second)
		svc, err := w.r.Keys.CreateService(ctx, "alice", w.team.ID, apikeys.Spec{Name: "svc", Role: rbac.RunpodBasic})
		if err != nil {
			t.Fatal(err)
		}
		ids := func(ks []apikeys.Key) []string {
			var out []string
			for _, k := range ks {
				out = append(out, k.ID)
			}
			return out
		}
		mine := rostertest.Walk(t, 2, func(p store.Page) ([]apikeys.Key, string, error) { return w.r.Keys.List(ctx, "bob", w.team.ID, p) })
		got := ids(mine)
		slices.Reverse(got)
		if !slices.Equal(got, bobs) {
			t.Errorf("bob's keys, newest first, reversed = %v, want %v", got, bobs)
		}
		all := rostertest.Walk(t, 3, func(p store.Page) ([]apikeys.Key, string, error) { return w.r.Keys.ListTeam(ctx, "dave", w.team.ID, p) })
		if len(all) != 7 || all[0].ID != svc.Key.ID || all[1].ID != carols {
			t.Errorf("the team's keys = %v", ids(all))
		}
		if _, _, err := w.r.Keys.ListTeam(ctx, "bob", w.team.ID, store.Page{}); !errors.Is(err, rbac.ErrDenied) {
			t.Errorf("dev listing the team's keys: %v, want ErrDenied", err)
		}
		if _, _, err := w.r.Keys.List(ctx, "bob", w.team.ID, store.Page{Cursor: "garbage"}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("a garbage cursor: %v, want ErrInvalid", err)
		}
		_, next, err := w.r.Keys.List(ctx, "bob", w.team.ID, store.Page{Size: 1})
		if err != nil || next == "" {
			t.Fatal(next, err)
		}
		if _, _, err := w.r.Keys.List(ctx, "carol", w.team.ID, store.Page{Size: 1, Cursor: next}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("bob's cursor in carol's list: %v, want ErrInvalid", err)
		}
	})
}

// TestKeysFollowTheirOwner checks that a personal key never outlives or
// outgrows its owner's access, in the store as in Can.
func TestKeysFollowTheirOwner(t *testing.T) {
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		t.Run("removed, the owner's keys are revoked", func(t *testing.T) {
			w := newWorld(t, b)
			k := w.create(t, "bob", apikeys.Spec{Name: "k"}).Key
			if err := w.r.Teams.RemoveMember(ctx, "alice", w.team.ID, "bob"); err != nil {
				t.Fatal(err)
			}
			if w.r.Can(ctx, k.ID, w.team.ID, rbac.AccountAccess) {
				t.Error("the removed member's key still acts")
			}
			if st := w.stored(t, k.ID); st.RevokedAt.IsZero() {
				t.Error("the removed member's key is not revoked in the store")
			}
			// Back in the team, bob does not get the old key back.
			if _, err := w.r.Teams.AddMember(ctx, "alice", w.team.ID, "bob", rbac.RunpodDev); err != nil {
				t.Fatal(err)
			}
			if w.r.Can(ctx, k.ID, w.team.ID, rbac.AccountAccess) {
				t.Error("the old key came back with its owner")
			}
			evs := rostertest.Events(t, w.s, w.team.ID)
			if !slices.ContainsFunc(evs, func(e store.Event) bool {
				return e.Action == store.EventAPIKeyRevoked && e.ResourceID == k.ID && strings.Contains(e.Reason, "removed")
			}) {
				t.Error("no api_key.revoked event names the removal")
			}
		})
		t.Run("leaving takes the keys", func(t *testing.T) {
			w := newWorld(t, b)
			k := w.create(t, "carol", apikeys.Spec{Name: "k"}).Key
			if err := w.r.Teams.Leave(ctx, "carol", w.team.ID); err != nil {
				t.Fatal(err)
			}
			if w.r.Can(ctx, k.ID, w.team.ID, rbac.AccountAccess) || w.stored(t, k.ID).RevokedAt.IsZero() {
				t.Error("the key of a member who left still works")
			}
		})
		t.Run("demoted, the owner's keys are narrowed", func(t *testing.T) {
			w := newWorld(t, b)
			wide := w.create(t, "dave", apikeys.Spec{Name: "wide"}).Key // admin
			billing := w.create(t, "dave", apikeys.Spec{Name: "billing", Actions: []rbac.Action{rbac.BillingManage}}).Key
			if _, err := w.r.Teams.ChangeRole(ctx, "alice", w.team.ID, "dave", rbac.RunpodDev); err != nil {
				t.Fatal(err)
			}
			if !w.r.Can(ctx, wide.ID, w.team.ID, rbac.PodsManage) || w.r.Can(ctx, wide.ID, w.team.ID, rbac.BillingRead) {
				t.Error("the admin key of a member now dev does not act as dev")
			}
			st := w.stored(t, wide.ID)
			if !st.RevokedAt.IsZero() || st.Actions == nil || slices.Contains(st.Actions, string(rbac.BillingRead)) || !slices.Contains(st.Actions, string(rbac.PodsManage)) {
				t.Errorf("the stored key was not narrowed to dev's actions: %+v", st)
			}
			if st := w.stored(t, billing.ID); st.RevokedAt.IsZero() {
				t.Error("a key left with no action was not revoked")
			}
			// Promoted again, dave does not get the billing rights back on
			// the narrowed key.
			if _, err := w.r.Teams.ChangeRole(ctx, "alice", w.team.ID, "dave", rbac.RunpodAdmin); err != nil {
				t.Fatal(err)
			}
			if w.r.Can(ctx, wide.ID, w.team.ID, rbac.BillingRead) {
				t.Error("the narrowed key widened again with its owner")
			}
			evs := rostertest.Events(t, w.s, w.team.ID)
			if !slices.ContainsFunc(evs, func(e store.Event) bool {
				return e.Action == store.EventAPIKeyNarrowed && e.ResourceID == wide.ID
			}) {
				t.Error("no api_key.narrowed event")
			}
		})
		t.Run("deleting the team revokes its service accounts", func(t *testing.T) {
			w := newWorld(t, b)
			svc, err := w.r.Keys.CreateService(ctx, "alice", w.team.ID, apikeys.Spec{Name: "svc", Role: rbac.RunpodBasic})
			if err != nil {
				t.Fatal(err)
			}
			mine := w.create(t, "alice", apikeys.Spec{Name: "mine"}).Key
			if _, err := w.r.Teams.DeleteTeam(ctx, "alice", w.team.ID); err != nil {
				t.Fatal(err)
			}
			if w.r.Can(ctx, svc.Key.ID, w.team.ID, rbac.AccountAccess) {
				t.Error("a service account of a deleted team still acts")
			}
			if !w.r.Can(ctx, mine.ID, w.team.ID, rbac.AccountAccess) {
				t.Error("the owner's own key died with the team, though the account is still theirs")
			}
		})
		t.Run("deleting a team role revokes the keys holding it", func(t *testing.T) {
			w := newWorld(t, b)
			if _, err := w.r.Teams.DefineRole(ctx, "alice", w.team.ID, "invoker", []rbac.Action{rbac.AccountAccess, rbac.EndpointsInvoke}); err != nil {
				t.Fatal(err)
			}
			k := w.create(t, "bob", apikeys.Spec{Name: "k", Role: "invoker"}).Key
			if !w.r.Can(ctx, k.ID, w.team.ID, rbac.EndpointsInvoke) || w.r.Can(ctx, k.ID, w.team.ID, rbac.PodsManage) {
				t.Fatal("the team role key does not act as the team role")
			}
			if err := w.r.Teams.DeleteRole(ctx, "alice", w.team.ID, "invoker"); err != nil {
				t.Fatal(err)
			}
			if w.r.Can(ctx, k.ID, w.team.ID, rbac.EndpointsInvoke) || w.stored(t, k.ID).RevokedAt.IsZero() {
				t.Error("the key of a deleted role still works")
			}
		})
	})
}

// TestDetails holds the smaller rules of the service to their word: the
// longest expiry, what the created event and the lists say of a key's
// actions, and the refusals of lists.
func TestDetails(t *testing.T) {
	w := newWorld(t, testdb.Backends()[0])
	t.Run("an expiry of exactly MaxExpiry is accepted, a microsecond more is not", func(t *testing.T) {
		if _, err := w.r.Keys.Create(ctx, "bob", w.team.ID, apikeys.Spec{Name: "longest", ExpiresAt: w.clock.Now().Add(apikeys.MaxExpiry)}); err != nil {
			t.Errorf("an expiry at MaxExpiry: %v", err)
		}
		if _, err := w.r.Keys.Create(ctx, "bob", w.team.ID, apikeys.Spec{Name: "longer", ExpiresAt: w.clock.Now().Add(apikeys.MaxExpiry + time.Microsecond)}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("an expiry past MaxExpiry: %v, want ErrInvalid", err)
		}
	})
	t.Run("a narrowed key's actions are in its event and its list entry, a plain key's are nil", func(t *testing.T) {
		narrow := w.create(t, "carol", apikeys.Spec{Name: "narrow", Actions: []rbac.Action{rbac.EndpointsInvoke}})
		if e := w.newest(t); !strings.Contains(e.After, "endpoints.invoke") {
			t.Errorf("the created event of a narrowed key says %s", e.After)
		}
		plain := w.create(t, "carol", apikeys.Spec{Name: "plain"})
		if e := w.newest(t); strings.Contains(e.After, "actions") {
			t.Errorf("the created event of a plain key says %s", e.After)
		}
		keys, _, err := w.r.Keys.List(ctx, "carol", w.team.ID, store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			switch k.ID {
			case narrow.Key.ID:
				if !slices.Equal(k.Actions, []rbac.Action{rbac.EndpointsInvoke}) {
					t.Errorf("the narrowed key lists actions %v", k.Actions)
				}
			case plain.Key.ID:
				if k.Actions != nil {
					t.Errorf("the plain key lists actions %#v, want nil", k.Actions)
				}
			}
		}
	})
	t.Run("lists refuse a malformed page and a key as the actor", func(t *testing.T) {
		if _, _, err := w.r.Keys.List(ctx, "bob", w.team.ID, store.Page{Size: -1}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("a negative page size: %v, want ErrInvalid", err)
		}
		k := w.create(t, "bob", apikeys.Spec{Name: "lister"})
		if _, _, err := w.r.Keys.List(ctx, k.Key.ID, w.team.ID, store.Page{}); !errors.Is(err, apikeys.ErrKeyActor) {
			t.Errorf("a key listing keys: %v, want ErrKeyActor", err)
		}
		if _, _, err := w.r.Keys.ListTeam(ctx, k.Key.ID, w.team.ID, store.Page{}); !errors.Is(err, apikeys.ErrKeyActor) {
			t.Errorf("a key listing the team's keys: %v, want ErrKeyActor", err)
		}
	})
}
