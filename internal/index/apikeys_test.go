package index_test

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/teamroster/roster/internal/index"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// keyID returns the ID of test key n: the prefix and 16 characters.
func keyID(n int) string { return fmt.Sprintf("%s%016d", store.APIKeyIDPrefix, n) }

func keySet(n int, account, owner string, role rbac.Role) store.Change {
	return store.Change{Op: store.APIKeySet, Key: keyID(n), AccountID: account, UserID: owner, Role: string(role),
		KeyHash: bytes.Repeat([]byte{byte(n)}, 32)}
}

func TestAPIKeys(t *testing.T) {
	p := rbac.Runpod()
	t.Run("a key acts within its role and its owner's", func(t *testing.T) {
		ix := index.New(p)
		must(t, apply(ix,
			store.Change{Op: store.MemberSet, AccountID: "team", UserID: "dev", Role: string(rbac.RunpodDev)},
			keySet(1, "team", "dev", rbac.RunpodAdmin), // stored broader than its owner: the owner bounds it
			keySet(2, "team", "", rbac.RunpodBasic),
			func() store.Change {
				c := keySet(3, "team", "dev", rbac.RunpodDev)
				c.Actions = []string{string(rbac.EndpointsInvoke)}
				return c
			}(),
		))
		for _, c := range []struct {
			key    int
			action rbac.Action
			want   bool
		}{
			{1, rbac.PodsManage, true}, {1, rbac.BillingRead, false}, // admin key, dev owner
			{2, rbac.EndpointsInvoke, true}, {2, rbac.PodsManage, false}, // a service account: its role alone
			{3, rbac.EndpointsInvoke, true}, {3, rbac.PodsManage, false}, // narrowed
		} {
			if got := ix.Allowed(keyID(c.key), "team", c.action); got != c.want {
				t.Errorf("key %d may %s = %v, want %v", c.key, c.action, got, c.want)
			}
			if got := ix.Lookup("team", keyID(c.key), c.action).Allowed; got != c.want {
				t.Errorf("Lookup: key %d may %s = %v, want %v", c.key, c.action, got, c.want)
			}
		}
		if ix.Allowed(keyID(1), "elsewhere", rbac.PodsManage) || ix.Member("elsewhere", keyID(1)) {
			t.Error("a key acts on another account")
		}
		must(t, apply(ix, store.Change{Op: store.MemberDeleted, AccountID: "team", UserID: "dev"}))
		if ix.Allowed(keyID(1), "team", rbac.PodsManage) || ix.Member("team", keyID(1)) {
			t.Error("the key of a removed owner acts")
		}
		if _, ok := ix.APIKey(keyID(1)[len(store.APIKeyIDPrefix):]); ok {
			t.Error("APIKey returns the key of a removed owner")
		}
		if !ix.Allowed(keyID(2), "team", rbac.EndpointsInvoke) {
			t.Error("a service account died with a member")
		}
	})
	t.Run("expiry is checked on every question", func(t *testing.T) {
		ix := index.New(p)
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		var mu sync.Mutex
		ix.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
		c := keySet(1, "team", "", rbac.RunpodDev)
		c.ExpiresAt = now.Add(time.Minute)
		must(t, apply(ix, c))
		suffix := keyID(1)[len(store.APIKeyIDPrefix):]
		if _, ok := ix.APIKey(suffix); !ok || !ix.Allowed(keyID(1), "team", rbac.PodsManage) {
			t.Fatal("a key before its expiry does not act")
		}
		mu.Lock()
		now = now.Add(time.Minute)
		mu.Unlock()
		if ix.Allowed(keyID(1), "team", rbac.PodsManage) || ix.Member("team", keyID(1)) {
			t.Error("a key at its expiry acts")
		}
		if _, ok := ix.APIKey(suffix); ok {
			t.Error("APIKey returns a key at its expiry")
		}
	})
	t.Run("a personal key follows its owner's standing", func(t *testing.T) {
		ix := index.New(p)
		must(t, apply(ix,
			store.Change{Op: store.MemberSet, AccountID: "team", UserID: "dev", Role: string(rbac.RunpodDev), SignIn: store.SignInEmail},
			keySet(1, "team", "dev", rbac.RunpodDev),
			keySet(2, "team", "", "no-such-role"),
		))
		suffix := keyID(1)[len(store.APIKeyIDPrefix):]
		// works: the key is found and acts as a member; allowed: it may act.
		standing := func(step string, works, allowed, insecure, suspended bool) {
			t.Helper()
			if _, ok := ix.APIKey(suffix); ok != works {
				t.Errorf("%s: APIKey found = %v, want %v", step, ok, works)
			}
			if got := ix.Member("team", keyID(1)); got != works {
				t.Errorf("%s: Member = %v, want %v", step, got, works)
			}
			a := ix.Lookup("team", keyID(1), rbac.PodsManage)
			want := index.Answer{AccountKnown: true, Member: true, RoleKnown: true, Role: rbac.RunpodDev,
				InsecureSignIn: insecure, Suspended: suspended, Allowed: allowed}
			if a != want {
				t.Errorf("%s: Lookup = %+v, want %+v", step, a, want)
			}
		}
		standing("owner in good standing", true, true, false, false)
		// A store records the change of the requirement with every member's
		// standing after it (store.AccountUpdated).
		must(t, apply(ix, store.Change{Op: store.AccountUpdated, AccountID: "team", RequireSecure: true},
			store.Change{Op: store.MemberSet, AccountID: "team", UserID: "dev", Role: string(rbac.RunpodDev), SignIn: store.SignInEmail}))
		// Like its owner, the key stays a member and may do nothing.
		standing("the account requires secure sign-in, the owner signs in by email", true, false, true, false)
		must(t, apply(ix, store.Change{Op: store.AccountUpdated, AccountID: "team"},
			store.Change{Op: store.MemberSet, AccountID: "team", UserID: "dev", Role: string(rbac.RunpodDev), SignIn: store.SignInEmail, Suspended: true}))
		standing("owner suspended", false, false, false, true)
		if a := ix.Lookup("team", keyID(2), rbac.PodsConnect); !a.Member || a.RoleKnown || a.Allowed {
			t.Errorf("a key holding a role the policy lacks: Lookup = %+v, want a member whose role is unknown, not allowed", a)
		}
	})
	t.Run("APIKey returns the key as stored", func(t *testing.T) {
		ix := index.New(p)
		ends := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		expiring := keySet(1, "team", "", rbac.RunpodDev)
		expiring.ExpiresAt = ends
		must(t, apply(ix, expiring, keySet(2, "team", "", rbac.RunpodBasic)))
		for _, c := range []struct {
			n    int
			role rbac.Role
			ends time.Time
		}{{1, rbac.RunpodDev, ends}, {2, rbac.RunpodBasic, time.Time{}}} {
			k, ok := ix.APIKey(keyID(c.n)[len(store.APIKeyIDPrefix):])
			want := index.APIKey{ID: keyID(c.n), Account: "team", Role: c.role, ExpiresAt: c.ends}
			copy(want.Hash[:], bytes.Repeat([]byte{byte(c.n)}, 32))
			if !ok || k != want {
				t.Errorf("APIKey(key %d) = %+v, %v; want %+v", c.n, k, ok, want)
			}
		}
	})
	t.Run("a membership row under a key's ID is ignored", func(t *testing.T) {
		ix := index.New(p)
		must(t, apply(ix, store.Change{Op: store.MemberSet, AccountID: "team", UserID: keyID(9), Role: string(rbac.RunpodAdmin)}))
		if ix.Allowed(keyID(9), "team", rbac.PodsManage) || ix.Member("team", keyID(9)) {
			t.Error("a membership stored under a key's ID grants access")
		}
	})
	t.Run("the key table grows and forgets revoked keys", func(t *testing.T) {
		// The table grows when a new key would fill three quarters of its
		// slots, revoked keys' slots included, and is rebuilt for the live
		// keys: the smallest power of two, 16 at least, of at least
		// 2 × (live keys + 1) slots.
		ix := index.New(p)
		slots, used, live, next := 16, 0, 0, 0
		revoked := map[int]bool{}
		check := func(step string) {
			t.Helper()
			if got := ix.Stats().KeySlots; got != slots {
				t.Fatalf("%s: the key table has %d slots, want %d", step, got, slots)
			}
		}
		add := func(i int) {
			t.Helper()
			must(t, apply(ix, keySet(i, "team", "", rbac.RunpodBasic)))
			if (used+1)*4 > slots*3 {
				slots, used = 16, live
				for slots < 2*(live+1) {
					slots *= 2
				}
			}
			used, live = used+1, live+1
			check(fmt.Sprintf("after adding key %d with %d live", i, live))
		}
		revoke := func(i int) {
			t.Helper()
			must(t, apply(ix, store.Change{Op: store.APIKeyRevoked, Key: keyID(i), AccountID: "team"}))
			live, revoked[i] = live-1, true
			check(fmt.Sprintf("after revoking key %d", i))
		}
		// Twelve keys fill the first table to three quarters; with seven
		// live, the thirteenth makes it rebuild for eight: 16 slots. With
		// eight live, it rebuilds for nine: 32.
		for _, liveAtGrowth := range []int{7, 8} {
			first := next
			for used < 12 {
				add(next)
				next++
			}
			for i := first; live > liveAtGrowth; i++ {
				revoke(i)
			}
			add(next)
			next++
		}
		if slots != 32 {
			t.Fatalf("the key table has %d slots, want 32", slots)
		}
		const n = 5000
		for next < n {
			add(next)
			next++
		}
		for i := 0; i < n; i += 2 {
			if !revoked[i] {
				revoke(i)
			}
		}
		must(t, apply(ix, keySet(25, "team", "", rbac.RunpodDev))) // replaced in its slot
		check("after replacing key 25")
		for i := n; i < 2*n; i++ {
			add(i)
		}
		for i := range 2 * n {
			want := !revoked[i]
			if got := ix.Allowed(keyID(i), "team", rbac.PodsConnect); got != want {
				t.Fatalf("key %d acts: %v, want %v", i, got, want)
			}
		}
	})
	t.Run("readers see a key before or after a change, never a torn one", func(t *testing.T) {
		ix := index.New(p)
		must(t, apply(ix, keySet(0, "team", "", rbac.RunpodBasic)))
		done := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if !ix.Allowed(keyID(0), "team", rbac.PodsConnect) {
					t.Error("a key that was never revoked stopped acting while others changed")
					return
				}
			}
		})
		for i := 1; i < 3000; i++ {
			must(t, apply(ix, keySet(i, "team", "", rbac.RunpodBasic)))
			if i%3 == 0 {
				must(t, apply(ix, store.Change{Op: store.APIKeyRevoked, Key: keyID(i), AccountID: "team"}))
			}
		}
		close(done)
		wg.Wait()
	})
}

func TestSuspendedAndExpiring(t *testing.T) {
	p := rbac.Runpod()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	ix := index.New(p)
	ix.SetClock(clock)
	must(t, apply(ix,
		store.Change{Op: store.MemberSet, AccountID: "team", UserID: "sus", Role: string(rbac.RunpodAdmin), Suspended: true},
		store.Change{Op: store.MemberSet, AccountID: "team", UserID: "con", Role: string(rbac.RunpodDev), ExpiresAt: now.Add(time.Hour)},
		store.Change{Op: store.MemberSet, AccountID: "team", UserID: "tmp", Role: string(rbac.RunpodAdmin), ExpiresAt: now.Add(time.Minute),
			FallbackRole: string(rbac.RunpodBasic)},
	))
	if ix.Allowed("sus", "team", rbac.AccountAccess) || ix.Member("team", "sus") || !ix.Lookup("team", "sus", rbac.AccountAccess).Suspended {
		t.Error("a suspended member acts, counts as a member, or Lookup does not say suspended")
	}
	if a := ix.Lookup("team", "sus", rbac.AccountAccess); a.Role != rbac.RunpodAdmin || !a.RoleKnown {
		t.Errorf("a suspended member's role is not kept: %+v", a)
	}
	if !ix.Allowed("con", "team", rbac.PodsManage) || !ix.Allowed("tmp", "team", rbac.BillingRead) {
		t.Fatal("access before its end time is missing")
	}
	if n := testing.AllocsPerRun(100, func() { ix.Allowed("tmp", "team", rbac.BillingRead) }); n != 0 {
		t.Errorf("Allowed for an expiring membership allocates %v times", n)
	}
	advance(time.Minute)
	if ix.Allowed("tmp", "team", rbac.BillingRead) || !ix.Allowed("tmp", "team", rbac.PodsConnect) || ix.Lookup("team", "tmp", rbac.PodsConnect).Role != rbac.RunpodBasic {
		t.Error("a role granted for a minute does not fall back to basic at its end")
	}
	advance(time.Hour)
	if ix.Allowed("con", "team", rbac.AccountAccess) || ix.Member("team", "con") || ix.Lookup("team", "con", rbac.AccountAccess).Member {
		t.Error("a membership past its end still counts")
	}
	// The sweep's changes clear the flags.
	must(t, apply(ix,
		store.Change{Op: store.MemberSet, AccountID: "team", UserID: "tmp", Role: string(rbac.RunpodBasic)},
		store.Change{Op: store.MemberSet, AccountID: "team", UserID: "sus", Role: string(rbac.RunpodAdmin)},
	))
	if !ix.Allowed("sus", "team", rbac.BillingRead) || !ix.Allowed("tmp", "team", rbac.PodsConnect) || ix.Allowed("tmp", "team", rbac.BillingRead) {
		t.Error("the flags did not follow the changes")
	}
	// Growing the table past many members keeps the end times with the
	// memberships that moved.
	var cs []store.Change
	for i := range 3000 {
		cs = append(cs, store.Change{Op: store.MemberSet, AccountID: "team", UserID: fmt.Sprintf("u%d", i), Role: string(rbac.RunpodAdmin),
			ExpiresAt: now.Add(time.Hour), FallbackRole: string(rbac.RunpodBasic)})
	}
	must(t, apply(ix, cs...))
	cs = cs[:0]
	for i := range 3000 {
		if i%3 != 1 {
			cs = append(cs, store.Change{Op: store.MemberDeleted, AccountID: "team", UserID: fmt.Sprintf("u%d", i)})
		}
	}
	must(t, apply(ix, cs...))
	before := ix.Stats()
	cs = cs[:0]
	for i := range 2000 { // enough to rebuild the table, moving the live records to a new arena
		cs = append(cs, store.Change{Op: store.MemberSet, AccountID: "team", UserID: fmt.Sprintf("plain%d", i), Role: string(rbac.RunpodDev)})
	}
	must(t, apply(ix, cs...))
	if after := ix.Stats(); after.RecordBytes >= before.RecordBytes+after.LiveBytes-before.LiveBytes {
		t.Fatalf("the records were not compacted (%+v, then %+v): the test would not move them", before, after)
	}
	for i := 1; i < 3000; i += 3 {
		if !ix.Allowed(fmt.Sprintf("u%d", i), "team", rbac.BillingRead) {
			t.Fatalf("u%d lost its end time when the table was rebuilt", i)
		}
	}
	advance(time.Hour)
	for i := 1; i < 3000; i += 3 {
		if ix.Allowed(fmt.Sprintf("u%d", i), "team", rbac.BillingRead) || !ix.Allowed(fmt.Sprintf("u%d", i), "team", rbac.PodsConnect) {
			t.Fatalf("u%d did not fall back after the table was rebuilt", i)
		}
	}
}
