package index_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/teamroster/roster/internal/index"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// membershipModel is the index's expected content: account -> user -> role.
type membershipModel map[string]map[string]rbac.Role

func (m membershipModel) apply(ch store.Change) {
	switch ch.Op {
	case store.AccountCreated:
		if m[ch.AccountID] == nil {
			m[ch.AccountID] = map[string]rbac.Role{}
		}
	case store.MemberSet:
		m.apply(store.Change{Op: store.AccountCreated, AccountID: ch.AccountID})
		m[ch.AccountID][ch.UserID] = rbac.Role(ch.Role)
	case store.MemberDeleted:
		delete(m[ch.AccountID], ch.UserID)
	}
}

// check compares every (account, user) pair of the pools with the model.
func (m membershipModel) check(t *testing.T, ix *index.Index, accounts, users []string) {
	t.Helper()
	for _, a := range accounts {
		for _, u := range users {
			role, known, member := lookupRole(ix, a, u)
			wantRole, wantMember := m[a][u]
			if wantRole == "ghost" {
				wantRole = "" // a role the policy lacks has no name in it
			}
			_, wantKnown := m[a]
			if known != wantKnown || member != wantMember || role != wantRole {
				t.Fatalf("Role(%q, %q) = %q, known %v, member %v; want %q, %v, %v", a, u, role, known, member, wantRole, wantKnown, wantMember)
			}
			if ok := ix.Allowed(u, a, rbac.AccountAccess); ok != (wantMember && wantRole != "") {
				t.Fatalf("Allowed(%q, %q) = %v, want %v", u, a, ok, !ok)
			}
		}
	}
}

// pool returns n IDs with the prefix, of varied lengths up to 128 bytes.
func pool(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s%d%s", prefix, i, strings.Repeat("x", i*7%100))
	}
	return ids
}

// randomChange returns a random change over the pools. Roles include one the
// policy lacks ("ghost"), which the index keeps as a membership that allows
// nothing.
func randomChange(rng *rand.Rand, accounts, users []string) store.Change {
	roles := []string{"admin", "dev", "basic", "billing", "ghost"}
	a, u := accounts[rng.IntN(len(accounts))], users[rng.IntN(len(users))]
	switch rng.IntN(10) {
	case 0:
		return store.Change{Op: store.AccountCreated, AccountID: a}
	case 1, 2, 3, 4, 5:
		return store.Change{Op: store.MemberSet, AccountID: a, UserID: u, Role: roles[rng.IntN(len(roles))]}
	}
	return store.Change{Op: store.MemberDeleted, AccountID: a, UserID: u}
}

// snapshotStore is a Store whose Snapshot lists items; it has nothing else.
type snapshotStore struct {
	store.Store
	items []store.SnapshotItem
	rev   store.Revision
}

func (s snapshotStore) Snapshot(_ context.Context, fn func(store.SnapshotItem) error) (store.Revision, error) {
	for _, it := range s.items {
		if err := fn(it); err != nil {
			return 0, err
		}
	}
	return s.rev, nil
}

func TestIndex(t *testing.T) {
	ctx := context.Background()
	p := rbac.Runpod()

	t.Run("random changes agree with a map of the same changes", func(t *testing.T) {
		for seed := range uint64(3) {
			rng := rand.New(rand.NewPCG(seed, 1))
			accounts, users := pool("acc", 40), pool("user", 60)
			ix, m := index.New(p), membershipModel{}
			for i := range 10000 {
				ch := randomChange(rng, accounts, users)
				if err := apply(ix, ch); err != nil {
					t.Fatal(err)
				}
				m.apply(ch)
				if i%2500 == 0 {
					m.check(t, ix, accounts, users)
				}
			}
			m.check(t, ix, append(accounts, "nowhere"), append(users, "nobody"))
		}
	})

	t.Run("IDs shared by accounts, users and roles are told apart", func(t *testing.T) {
		// The same IDs name accounts and users, some named like roles: a
		// membership (a, u) must not answer for (u, a), nor a user for an
		// account of the same name.
		ids := []string{"a", "b", "ab", "ba", "admin", "dev", "basic", "billing", "owner"}
		rng := rand.New(rand.NewPCG(11, 11))
		ix, m := index.New(p), membershipModel{}
		for i := range 5000 {
			ch := randomChange(rng, ids, ids)
			if err := apply(ix, ch); err != nil {
				t.Fatal(err)
			}
			m.apply(ch)
			if i%500 == 0 {
				m.check(t, ix, ids, ids)
			}
		}
		m.check(t, ix, ids, ids)
	})

	t.Run("a loaded snapshot answers like the changes that made it", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 7))
		accounts, users := pool("acc", 30), pool("user", 50)
		m := membershipModel{}
		for range 5000 {
			m.apply(randomChange(rng, accounts, users))
		}
		var items []store.SnapshotItem
		for a, members := range m {
			items = append(items, store.SnapshotItem{AccountID: a})
			for u, r := range members {
				items = append(items, store.SnapshotItem{AccountID: a, UserID: u, Role: string(r)})
			}
		}
		rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
		ix := index.New(p)
		if err := ix.Load(ctx, snapshotStore{items: items, rev: 9}); err != nil {
			t.Fatal(err)
		}
		m.check(t, ix, accounts, users)
		for range 5000 { // and it goes on changing like the map
			ch := randomChange(rng, accounts, users)
			if err := apply(ix, ch); err != nil {
				t.Fatal(err)
			}
			m.apply(ch)
		}
		m.check(t, ix, accounts, users)
	})

	t.Run("a loaded snapshot keeps accounts without members and secure sign-in requirements", func(t *testing.T) {
		// Items come in no order: a membership before its account.
		ix := index.New(p)
		must(t, ix.Load(ctx, snapshotStore{items: []store.SnapshotItem{
			{AccountID: "strict", UserID: "alice", Role: "admin", SignIn: store.SignInEmail},
			{AccountID: "empty1"},
			{AccountID: "empty2"},
			{AccountID: "strict", RequireSecure: true},
			{AccountID: "strict", UserID: "bob", Role: "admin", SignIn: store.SignInGoogle},
			{AccountID: "open", UserID: "carol", Role: "admin", SignIn: store.SignInEmail},
		}}))
		for _, a := range []string{"empty1", "empty2"} {
			if got := ix.Lookup(a, "nobody", rbac.AccountAccess); !got.AccountKnown {
				t.Errorf("account %s, loaded without members, is not known", a)
			}
		}
		if got := ix.Lookup("strict", "alice", rbac.PodsManage); !got.InsecureSignIn || got.Allowed {
			t.Errorf("alice signs in by email where secure sign-in is required: Lookup = %+v, want shut out", got)
		}
		if !ix.Allowed("bob", "strict", rbac.PodsManage) {
			t.Error("bob signs in with Google where secure sign-in is required, and is refused")
		}
		if !ix.Allowed("carol", "open", rbac.PodsManage) {
			t.Error("carol signs in by email where secure sign-in is not required, and is refused")
		}
	})

	t.Run("a membership listed twice in a snapshot is held once with the last role", func(t *testing.T) {
		ix := index.New(p)
		err := ix.Load(ctx, snapshotStore{items: []store.SnapshotItem{
			{AccountID: "team", UserID: "bob", Role: "admin"},
			{AccountID: "team", UserID: "bob", Role: "billing"},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if role, _, _ := lookupRole(ix, "team", "bob"); role != rbac.RunpodBilling {
			t.Errorf("role = %q, want billing", role)
		}
		if err := apply(ix, store.Change{Op: store.MemberDeleted, AccountID: "team", UserID: "bob"}); err != nil {
			t.Fatal(err)
		}
		if _, _, member := lookupRole(ix, "team", "bob"); member {
			t.Error("bob is still a member after his one membership was deleted")
		}
	})

	t.Run("IDs longer than MaxIDLen are not held", func(t *testing.T) {
		long := strings.Repeat("x", store.MaxIDLen+1)
		ix := index.New(p)
		for _, ch := range []store.Change{
			{Op: store.AccountCreated, AccountID: long},
			{Op: store.MemberSet, AccountID: long, UserID: "bob", Role: "admin"},
			{Op: store.MemberSet, AccountID: "team", UserID: long, Role: "admin"},
		} {
			if err := apply(ix, ch); err != nil {
				t.Fatal(err)
			}
		}
		if _, known, member := lookupRole(ix, long, "bob"); known || member {
			t.Error("an oversized account ID is held")
		}
		if _, _, member := lookupRole(ix, "team", long); member || ix.Allowed(long, "team", rbac.AccountAccess) {
			t.Error("an oversized user ID is held")
		}
		if _, known, _ := lookupRole(ix, "team", "bob"); !known {
			t.Error("the account of a membership with an oversized user ID is unknown")
		}
	})

	t.Run("memberships added and removed over and over do not grow memory", func(t *testing.T) {
		ix := index.New(p)
		for i := range 60000 {
			a, u := fmt.Sprintf("team%d", i%50), fmt.Sprintf("user%d", i) // a new membership every time
			if err := apply(ix, store.Change{Op: store.MemberSet, AccountID: a, UserID: u, Role: "dev"}); err != nil {
				t.Fatal(err)
			}
			if i >= 100 {
				old := fmt.Sprintf("user%d", i-100)
				if err := apply(ix, store.Change{Op: store.MemberDeleted, AccountID: fmt.Sprintf("team%d", (i-100)%50), UserID: old}); err != nil {
					t.Fatal(err)
				}
			}
		}
		st := ix.Stats()
		if st.Live != 100 {
			t.Fatalf("%d live memberships, want 100", st.Live)
		}
		// 100 live records of about 20 bytes: the slots and the arena
		// must not keep 59,900 removed ones.
		if st.Slots > 1000 || st.RecordBytes > 64<<10+10*st.LiveBytes {
			t.Errorf("after churn: %+v, want a few hundred slots and record bytes near the live ones", st)
		}
	})

	t.Run("readers see stable memberships while others change and tables grow", func(t *testing.T) {
		ix := index.New(p)
		stable := pool("stable", 20)
		for _, u := range stable {
			if err := apply(ix, store.Change{Op: store.MemberSet, AccountID: "team", UserID: u, Role: "basic"}); err != nil {
				t.Fatal(err)
			}
		}
		var stop atomic.Bool
		var wrong atomic.Int64
		var wg sync.WaitGroup
		for r := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := r; !stop.Load(); i++ {
					u := stable[i%len(stable)]
					if !ix.Allowed(u, "team", rbac.PodsConnect) || ix.Allowed(u, "team", rbac.PodsManage) {
						wrong.Add(1)
					}
					if ix.Allowed("churn0", "nowhere", rbac.PodsConnect) {
						wrong.Add(1)
					}
				}
			}()
		}
		rng := rand.New(rand.NewPCG(3, 3))
		for i := range 30000 { // grows the tables, rebuilds them and moves the arena
			a, u := fmt.Sprintf("team%d", rng.IntN(200)), fmt.Sprintf("churn%d", i)
			if err := apply(ix, store.Change{Op: store.MemberSet, AccountID: a, UserID: u, Role: "admin"}); err != nil {
				t.Fatal(err)
			}
			if err := apply(ix, store.Change{Op: store.MemberDeleted, AccountID: a, UserID: fmt.Sprintf("churn%d", rng.IntN(i+1))}); err != nil {
				t.Fatal(err)
			}
		}
		stop.Store(true)
		wg.Wait()
		if n := wrong.Load(); n > 0 {
			t.Errorf("readers got %d wrong answers while the index changed", n)
		}
	})
}

func TestIndexTeamRoles(t *testing.T) {
	ctx := context.Background()
	p := rbac.Runpod()
	t.Run("team roles resolve per account", func(t *testing.T) {
		ix := index.New(p)
		must(t, apply(ix,
			store.Change{Op: store.AccountCreated, AccountID: "a1"},
			store.Change{Op: store.AccountCreated, AccountID: "a2"},
			store.Change{Op: store.RoleSet, AccountID: "a1", Role: "ops", Actions: []string{string(rbac.PodsManage)}},
			store.Change{Op: store.RoleSet, AccountID: "a2", Role: "ops", Actions: []string{string(rbac.BillingRead)}},
			store.Change{Op: store.MemberSet, AccountID: "a1", UserID: "u", Role: "ops"},
			store.Change{Op: store.MemberSet, AccountID: "a2", UserID: "u", Role: "ops"},
			store.Change{Op: store.MemberSet, AccountID: "a2", UserID: "v", Role: "nope"},
		))
		for _, c := range []struct {
			account string
			user    string
			action  rbac.Action
			want    bool
		}{
			{"a1", "u", rbac.PodsManage, true}, {"a1", "u", rbac.BillingRead, false},
			{"a2", "u", rbac.PodsManage, false}, {"a2", "u", rbac.BillingRead, true},
			{"a2", "v", rbac.BillingRead, false},
		} {
			if got := ix.Allowed(c.user, c.account, c.action); got != c.want {
				t.Errorf("Allowed(%s, %s, %s) = %v, want %v", c.user, c.account, c.action, got, c.want)
			}
		}
		if role, _, member := lookupRole(ix, "a2", "u"); !member || role != "ops" {
			t.Errorf("Role(a2, u) = %q, %v; want ops", role, member)
		}
	})

	t.Run("a role defined after a deleted one holds only its own actions", func(t *testing.T) {
		ix := index.New(p)
		must(t, apply(ix,
			store.Change{Op: store.AccountCreated, AccountID: "a"},
			store.Change{Op: store.RoleSet, AccountID: "a", Role: "old", Actions: []string{string(rbac.AuditRead)}},
		))
		must(t, apply(ix, store.Change{Op: store.RoleDeleted, AccountID: "a", Role: "old"}))
		must(t, apply(ix,
			store.Change{Op: store.RoleSet, AccountID: "a", Role: "new", Actions: []string{string(rbac.PodsConnect)}},
			store.Change{Op: store.MemberSet, AccountID: "a", UserID: "u", Role: "new"},
		))
		if ix.Allowed("u", "a", rbac.AuditRead) || !ix.Allowed("u", "a", rbac.PodsConnect) {
			t.Error("the new role does not hold exactly its own actions")
		}
	})

	t.Run("readers run while a team role is redefined", func(t *testing.T) {
		// Under -race this checks that redefinitions publish safely; each
		// answer must come from one of the two definitions.
		ix := index.New(p)
		a, b := []string{string(rbac.PodsManage), string(rbac.PodsConnect)}, []string{string(rbac.BillingRead), string(rbac.BillingManage)}
		must(t, apply(ix,
			store.Change{Op: store.AccountCreated, AccountID: "a"},
			store.Change{Op: store.RoleSet, AccountID: "a", Role: "r", Actions: a},
			store.Change{Op: store.MemberSet, AccountID: "a", UserID: "u", Role: "r"},
		))
		var stop atomic.Bool
		var wg sync.WaitGroup
		var wrong atomic.Int64
		for range 2 {
			wg.Go(func() {
				for !stop.Load() {
					if ix.Allowed("u", "a", rbac.AuditRead) {
						wrong.Add(1) // neither definition holds it
					}
					ix.Allowed("u", "a", rbac.PodsManage)
				}
			})
		}
		for i := range 2000 {
			acts := a
			if i%2 == 0 {
				acts = b
			}
			must(t, apply(ix, store.Change{Op: store.RoleSet, AccountID: "a", Role: "r", Actions: acts}))
		}
		stop.Store(true)
		wg.Wait()
		if n := wrong.Load(); n != 0 {
			t.Errorf("readers were allowed an action neither definition holds %d times", n)
		}
		if !ix.Allowed("u", "a", rbac.PodsManage) || ix.Allowed("u", "a", rbac.BillingRead) {
			t.Error("after the last redefinition the role does not hold its actions")
		}
	})

	t.Run("readers find the team role a membership has just taken", func(t *testing.T) {
		// Each commit defines a team role and gives it to u: a reader that
		// sees u holding it must see its definition. basic and every team
		// role here allow pods.connect, so u may always connect.
		ix := index.New(p)
		must(t, apply(ix,
			store.Change{Op: store.AccountCreated, AccountID: "a"},
			store.Change{Op: store.MemberSet, AccountID: "a", UserID: "u", Role: string(rbac.RunpodBasic)},
		))
		var stop atomic.Bool
		var wg sync.WaitGroup
		var wrong atomic.Int64
		for range 2 {
			wg.Go(func() {
				for !stop.Load() {
					if !ix.Allowed("u", "a", rbac.PodsConnect) {
						wrong.Add(1)
					}
				}
			})
		}
		for i := range 3000 {
			role := fmt.Sprintf("r%d", i)
			must(t, apply(ix,
				store.Change{Op: store.RoleSet, AccountID: "a", Role: role, Actions: []string{string(rbac.PodsConnect), string(rbac.PodsManage)}},
				store.Change{Op: store.MemberSet, AccountID: "a", UserID: "u", Role: role},
			))
			must(t, apply(ix, store.Change{Op: store.MemberSet, AccountID: "a", UserID: "u", Role: string(rbac.RunpodBasic)}))
		}
		stop.Store(true)
		wg.Wait()
		if n := wrong.Load(); n != 0 {
			t.Errorf("readers were denied pods.connect %d times: they saw a team role before its definition", n)
		}
	})

	t.Run("when every team role ID is taken a new team role is an error, not a silent denial", func(t *testing.T) {
		ix := index.New(p)
		ix.LimitTeamRoles(2)
		must(t, apply(ix,
			store.Change{Op: store.AccountCreated, AccountID: "a"},
			store.Change{Op: store.AccountCreated, AccountID: "b"},
			store.Change{Op: store.RoleSet, AccountID: "a", Role: "r0", Actions: []string{string(rbac.AuditRead)}},
			store.Change{Op: store.RoleSet, AccountID: "a", Role: "r1", Actions: []string{string(rbac.AuditRead)}},
		))
		third := store.Change{Op: store.RoleSet, AccountID: "b", Role: "r2", Actions: []string{string(rbac.PodsManage)}}
		if err := apply(ix, third); !errors.Is(err, index.ErrFull) {
			t.Fatalf("defining a third team role with two IDs: error = %v, want ErrFull", err)
		}
		must(t, apply(ix, store.Change{Op: store.MemberSet, AccountID: "b", UserID: "x", Role: "r2"}))
		if role, _, _ := lookupRole(ix, "b", "x"); role != "" {
			t.Errorf("the refused team role is held as %q", role)
		}
		must(t, apply(ix, store.Change{Op: store.RoleSet, AccountID: "a", Role: "r1", Actions: []string{string(rbac.PodsConnect)}})) // a redefinition takes no ID
		// A deleted role's ID is never given to another role: a reader that
		// read it before the deletion must not find another role's actions.
		must(t, apply(ix, store.Change{Op: store.RoleDeleted, AccountID: "a", Role: "r0"}))
		if err := apply(ix, third); !errors.Is(err, index.ErrFull) {
			t.Fatalf("defining a team role after deleting one, with two IDs: error = %v, want ErrFull", err)
		}

		loaded := index.New(p)
		loaded.LimitTeamRoles(2)
		err := loaded.Load(ctx, snapshotStore{items: []store.SnapshotItem{
			{AccountID: "a", Role: "r0", Actions: []string{string(rbac.AuditRead)}},
			{AccountID: "a", Role: "r1", Actions: []string{string(rbac.AuditRead)}},
			{AccountID: "b", Role: "r2", Actions: []string{string(rbac.AuditRead)}},
		}})
		if !errors.Is(err, index.ErrFull) {
			t.Errorf("loading three team roles with two IDs: error = %v, want ErrFull", err)
		}
	})

	t.Run("a membership listed before the team role it holds holds it", func(t *testing.T) {
		// A snapshot lists its items in no particular order.
		ix := index.New(p)
		must(t, ix.Load(ctx, snapshotStore{items: []store.SnapshotItem{
			{AccountID: "a", UserID: "u", Role: "ops"}, // before its account and its role
			{AccountID: "b", UserID: "u", Role: "ops"}, // b has no team role ops
			{AccountID: "a", UserID: "v", Role: "ops"},
			{AccountID: "a", UserID: "v", Role: string(rbac.RunpodBasic)}, // listed twice: the last role holds
			{AccountID: "a", UserID: "w", Role: string(rbac.RunpodBasic)},
			{AccountID: "a", UserID: "w", Role: "ops"},
			{AccountID: "a"},
			{AccountID: "b"},
			{AccountID: "a", Role: "ops", Actions: []string{string(rbac.PodsManage)}},
		}}))
		for _, c := range []struct {
			account, user string
			role          rbac.Role
			allowed       bool
		}{
			{"a", "u", "ops", true},
			{"b", "u", "", false},
			{"a", "v", rbac.RunpodBasic, false},
			{"a", "w", "ops", true},
		} {
			role, known, member := lookupRole(ix, c.account, c.user)
			if !known || !member || role != c.role {
				t.Errorf("Role(%s, %s) = %q, known %v, member %v; want %q, true, true", c.account, c.user, role, known, member, c.role)
			}
			if got := ix.Allowed(c.user, c.account, rbac.PodsManage); got != c.allowed {
				t.Errorf("Allowed(%s, %s, %s) = %v, want %v", c.user, c.account, rbac.PodsManage, got, c.allowed)
			}
		}
	})
}

func TestIndexTeamRolesAtScale(t *testing.T) {
	ctx := context.Background()
	p := rbac.Runpod()

	t.Run("team roles past the 32,767 of one account leave room for every other account's", func(t *testing.T) {
		// Before role IDs were 32-bit, the team roles of all accounts
		// shared 32,767 IDs: once one account had taken them, every
		// later team role was silently denied.
		const n = 1<<15 - 1
		items := []store.SnapshotItem{{AccountID: "big"}, {AccountID: "small"}}
		for i := range n {
			items = append(items, store.SnapshotItem{AccountID: "big", Role: fmt.Sprintf("r%d", i), Actions: []string{string(rbac.PodsManage)}})
		}
		items = append(items,
			store.SnapshotItem{AccountID: "big", UserID: "last", Role: fmt.Sprintf("r%d", n-1)},
			store.SnapshotItem{AccountID: "small", Role: "ops", Actions: []string{string(rbac.BillingRead)}},
			store.SnapshotItem{AccountID: "small", UserID: "u", Role: "ops"},
		)
		ix := index.New(p)
		must(t, ix.Load(ctx, snapshotStore{items: items}))
		must(t, apply(ix,
			store.Change{Op: store.AccountCreated, AccountID: "later"},
			store.Change{Op: store.RoleSet, AccountID: "later", Role: "auditor", Actions: []string{string(rbac.AuditRead)}},
			store.Change{Op: store.MemberSet, AccountID: "later", UserID: "v", Role: "auditor"},
		))
		for _, c := range []struct {
			account, user string
			role          rbac.Role
			action        rbac.Action
		}{
			{"big", "last", rbac.Role(fmt.Sprintf("r%d", n-1)), rbac.PodsManage},
			{"small", "u", "ops", rbac.BillingRead},   // loaded after big's
			{"later", "v", "auditor", rbac.AuditRead}, // applied after them
		} {
			if role, _, member := lookupRole(ix, c.account, c.user); !member || role != c.role {
				t.Errorf("Role(%s, %s) = %q, member %v; want %q", c.account, c.user, role, member, c.role)
			}
			if !ix.Allowed(c.user, c.account, c.action) {
				t.Errorf("%s's team role %s does not allow %s", c.user, c.role, c.action)
			}
		}
	})

	t.Run("every one of 20,000 loaded team roles allows its holder exactly its actions", func(t *testing.T) {
		const accounts, perAccount = 40, 500
		items := teamRoleSnapshot(p, accounts, perAccount)
		ix := index.New(p)
		must(t, ix.Load(ctx, snapshotStore{items: items}))
		actions := p.Actions()
		for a := range accounts {
			for r := range perAccount {
				account, user, role := fmt.Sprintf("team%d", a), fmt.Sprintf("user%d", r), fmt.Sprintf("role%d", r)
				if got, _, member := lookupRole(ix, account, user); !member || got != rbac.Role(role) {
					t.Fatalf("Role(%s, %s) = %q, member %v; want %s", account, user, got, member, role)
				}
				held, other := actions[(a+r)%len(actions)], actions[(a+r+1)%len(actions)]
				if !ix.Allowed(user, account, held) || ix.Allowed(user, account, other) {
					t.Fatalf("%s's role %s in %s: allowed %s = %v, %s = %v; want true, false", user, role, account,
						held, ix.Allowed(user, account, held), other, ix.Allowed(user, account, other))
				}
			}
		}
	})

	t.Run("loading four times the team roles allocates about four times the memory", func(t *testing.T) {
		// Copying the team role table once per team role made loading
		// quadratic: four times the roles took sixteen times the bytes.
		load := func(accounts int) uint64 {
			s := snapshotStore{items: teamRoleSnapshot(p, accounts, 500)}
			return allocated(func() { must(t, index.New(p).Load(ctx, s)) })
		}
		small, large := load(10), load(40)
		t.Logf("5,000 team roles: %d bytes; 20,000: %d bytes", small, large)
		if large > 8*small {
			t.Errorf("loading 5,000 team roles allocated %d bytes, 20,000 allocated %d: %.1f times as much, want about 4",
				small, large, float64(large)/float64(small))
		}
	})

	t.Run("a commit defining four times the team roles allocates about four times the memory", func(t *testing.T) {
		apply := func(n int) uint64 {
			changes := []store.Change{{Op: store.AccountCreated, AccountID: "team"}}
			for i := range n {
				changes = append(changes, store.Change{Op: store.RoleSet, AccountID: "team", Role: fmt.Sprintf("r%d", i), Actions: []string{string(rbac.PodsManage)}})
			}
			return allocated(func() { must(t, apply(index.New(p), changes...)) })
		}
		small, large := apply(5000), apply(20000)
		t.Logf("5,000 team roles: %d bytes; 20,000: %d bytes", small, large)
		if large > 8*small {
			t.Errorf("a commit of 5,000 team roles allocated %d bytes, of 20,000 %d: %.1f times as much, want about 4",
				small, large, float64(large)/float64(small))
		}
	})
}

// teamRoleSnapshot returns the items of a snapshot of accounts team0...
// each with perAccount team roles role0... and a member user0... holding
// each: in account a, role r holds one action, p.Actions()[(a+r) % n]. The
// items are shuffled, so memberships often come before their roles.
func teamRoleSnapshot(p *rbac.Policy, accounts, perAccount int) []store.SnapshotItem {
	actions := p.Actions()
	var items []store.SnapshotItem
	for a := range accounts {
		account := fmt.Sprintf("team%d", a)
		items = append(items, store.SnapshotItem{AccountID: account})
		for r := range perAccount {
			role := fmt.Sprintf("role%d", r)
			items = append(items,
				store.SnapshotItem{AccountID: account, Role: role, Actions: []string{string(actions[(a+r)%len(actions)])}},
				store.SnapshotItem{AccountID: account, UserID: fmt.Sprintf("user%d", r), Role: role},
			)
		}
	}
	rng := rand.New(rand.NewPCG(uint64(accounts), uint64(perAccount)))
	rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	return items
}

// allocated returns the bytes fn allocates.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// BenchmarkLoadTeamRoles loads a snapshot of 1,000 and of 10,000 team roles,
// each held by one member, into an empty index: the time per op grows with
// the number of roles, not with its square.
func BenchmarkLoadTeamRoles(b *testing.B) {
	ctx := context.Background()
	p := rbac.Runpod()
	for _, n := range []int{1000, 10000} {
		s := snapshotStore{items: teamRoleSnapshot(p, n/500, 500)}
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := index.New(p).Load(ctx, s); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/role")
		})
	}
}

// apply applies changes to ix as one commit, the revision after ix's.
func apply(ix *index.Index, changes ...store.Change) error {
	rev := ix.Revision() + 1
	for i := range changes {
		changes[i].Revision = rev
	}
	return ix.Apply(context.Background(), nil, store.Commit{Revision: rev, Changes: changes})
}

// lookupRole returns the user's role in the account, and whether the account
// is known and the user a member, as Lookup says.
func lookupRole(ix *index.Index, account, user string) (role rbac.Role, accountKnown, member bool) {
	a := ix.Lookup(account, user, rbac.AccountAccess)
	return a.Role, a.AccountKnown, a.Member
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestAccountsSurviveGrowth checks that every account stays known, and no
// other becomes known, while the account table grows many times over: a
// growth that dropped or misplaced an entry would make Check call a team
// with members "no such account". The table doubles when it would be more
// than three quarters full, and not before, so probes stay short.
func TestAccountsSurviveGrowth(t *testing.T) {
	ix := index.New(rbac.Runpod())
	accounts := pool("grow", 5000)
	for i, a := range accounts {
		if err := apply(ix, store.Change{Op: store.AccountCreated, AccountID: a}); err != nil {
			t.Fatal(err)
		}
		want := 16
		for 4*(i+1) > 3*want {
			want *= 2
		}
		if got := ix.Stats().AccountSlots; got != want {
			t.Fatalf("after %d accounts, the account table has %d slots, want %d", i+1, got, want)
		}
		if i&(i+1) == 0 || i == len(accounts)-1 { // after each doubling, and at the end
			for _, b := range accounts[:i+1] {
				if !ix.Lookup(b, "nobody", rbac.AccountAccess).AccountKnown {
					t.Fatalf("after %d accounts, account %s is not known", i+1, b)
				}
			}
		}
	}
	for _, b := range pool("absent", 5000) {
		if ix.Lookup(b, "nobody", rbac.AccountAccess).AccountKnown {
			t.Fatalf("account %s, never created, is known", b)
		}
	}
}

// TestEmptyAction checks that an empty action is allowed to nobody, and
// that asking does not panic.
func TestEmptyAction(t *testing.T) {
	ix := index.New(rbac.Runpod())
	if err := apply(ix, store.Change{Op: store.MemberSet, AccountID: "team", UserID: "alice", Role: "admin"}); err != nil {
		t.Fatal(err)
	}
	if ix.Allowed("alice", "team", "") {
		t.Error("Allowed(alice, team, \"\") = true, want false")
	}
	if a := ix.Lookup("team", "alice", ""); a.Allowed || !a.Member {
		t.Errorf("Lookup(team, alice, \"\") = %+v, want a member not allowed", a)
	}
}

// TestActionTableSpreads checks that the action table's hash spreads a
// policy's actions, even actions named alike: each is found within a few
// probes of its home slot, in a table of the smallest power of two (eight
// at least) that is twice as large as the actions. A hash that sent every
// action to one slot would still answer right, probing past every action
// before it; the earlier hash, of the length and three bytes, sent
// "area0.manage" to "area9.manage" to one slot.
func TestActionTableSpreads(t *testing.T) {
	policies := []*rbac.Policy{rbac.Runpod(), rbac.DigitalOcean()}
	for _, extra := range []int{0, 4, 12, 36} { // 4, 8, 16 and 40 actions in all
		var rules strings.Builder
		rules.WriteString("p, owner, members.invite\np, owner, members.manage\np, owner, settings.manage\np, owner, audit.read\n")
		for i := range extra {
			fmt.Fprintf(&rules, "p, owner, area%d.manage\n", i)
		}
		p, err := rbac.Parse(fmt.Sprintf("actions%d", 4+extra), []byte(rbac.Runpod().ModelText()), []byte(rules.String()))
		if err != nil {
			t.Fatal(err)
		}
		policies = append(policies, p)
	}
	for _, p := range policies {
		n := len(p.Actions())
		want := 8
		for want < 2*n {
			want *= 2
		}
		size, most, total := index.New(p).ActionProbes()
		t.Logf("%s: %d actions, %d slots, probes %.2f on average, %d at most", p.Name(), n, size, float64(total)/float64(n), most)
		if size != want {
			t.Errorf("%s: %d actions in %d slots, want %d", p.Name(), n, size, want)
		}
		// A random hash at this load probes 1.5 slots on average.
		if 2*total > 4*n || most > 6 {
			t.Errorf("%s: lookups probe %d slots in all, %d at most: want 2 on average and 6 at most", p.Name(), total, most)
		}
	}
}
