package index_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/teamroster/roster/internal/index"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// partial returns an Index that holds only some accounts, loaded with the
// given accounts of s.
func partial(t *testing.T, s store.Store, p *rbac.Policy, accounts ...string) *index.Index {
	t.Helper()
	ix := index.New(p)
	ix.SetPartial()
	if err := ix.LoadAccounts(t.Context(), s.(store.AccountReader), accounts); err != nil {
		t.Fatal(err)
	}
	return ix
}

// ask answers from ix as a Roster with a memory budget does: an account ix
// does not hold is fetched first.
func ask(t *testing.T, ix *index.Index, s store.Store, user, account string, action rbac.Action) (bool, index.Answer) {
	t.Helper()
	if !ix.Holds(account) {
		if _, err := ix.Fetch(t.Context(), s, s.(store.AccountReader), account); err != nil {
			t.Fatalf("Fetch(%s): %v", account, err)
		}
		if !ix.Holds(account) {
			t.Fatalf("after Fetch(%s) the index does not hold it", account)
		}
	}
	return ix.Allowed(user, account, action), ix.Lookup(account, user, action)
}

// TestPartialEqualsWhole checks that an Index holding only some accounts,
// which fetches the others as it is asked about them, answers every
// question as one holding every account does: as loaded, and after random
// changes made through the teams service, which only the whole index
// applies as they commit; the partial one applies them when asked (CatchUp),
// or reads its accounts after them (Fetch).
func TestPartialEqualsWhole(t *testing.T) {
	for _, p := range []*rbac.Policy{rbac.Runpod(), rbac.DigitalOcean()} {
		for seed := range uint64(3) {
			t.Run(fmt.Sprintf("%s/seed %d", p.Name(), seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, 7))
				path := testdb.SQLitePath(t)
				s, err := testdb.Backends()[0].Open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				users, teams := randomWorld(t, s, p, rng)
				whole := loaded(t, s, p)
				part := partial(t, s, p, teams[:len(teams)/2]...)
				if part.Held() != len(teams)/2 {
					t.Fatalf("loaded with %d accounts, the index holds %d", len(teams)/2, part.Held())
				}
				accounts := append(teams, "no-such-team")
				compare := func(when string) {
					t.Helper()
					if err := part.CatchUp(t.Context(), s); err != nil {
						t.Fatal(err)
					}
					for _, a := range rng.Perm(len(accounts)) {
						for _, u := range users {
							for _, act := range append(p.Actions(), "no.such.action") {
								got, gotLookup := ask(t, part, s, u, accounts[a], act)
								if want := whole.Allowed(u, accounts[a], act); got != want {
									t.Errorf("%s: Allowed(%s, %s, %s) = %v, the whole index says %v", when, u, accounts[a], act, got, want)
								}
								if want := whole.Lookup(accounts[a], u, act); gotLookup != want {
									t.Errorf("%s: Lookup(%s, %s, %s) = %+v, the whole index says %+v", when, accounts[a], u, act, gotLookup, want)
								}
							}
						}
					}
				}
				compare("as loaded")
				if part.Held() != len(accounts) {
					t.Errorf("after questions about %d accounts the index holds %d", len(accounts), part.Held())
				}
				// The walk changes accounts the partial index holds; a new
				// one starts with none held, and fetches as it is asked.
				randomWalk(t, whole, p, s, path, users, teams, rng)
				compare("after the changes")
				fresh := partial(t, s, p)
				part = fresh
				compare("fetched after the changes")
			})
		}
	}
}

// TestPartialSkipsAccountsNotHeld checks that the changes of an account the
// index does not hold cost it nothing, that an account the store lacks is
// held as absent (no such account, and no second read), that it becomes
// known when it is created, and that a fetched account that requires secure
// sign-in shuts out its members who sign in otherwise.
func TestPartialSkipsAccountsNotHeld(t *testing.T) {
	p := rbac.Runpod()
	s := testdb.Backends()[0].Store(t)
	ctx := t.Context()
	ix := partial(t, s, p)
	r := &countingReader{AccountReader: s}

	if read, err := ix.Fetch(ctx, s, r, "later"); err != nil || !read {
		t.Fatalf("Fetch of an account not held: read %v, %v", read, err)
	}
	if !ix.Holds("later") || ix.Lookup("later", "u1", rbac.AccountAccess).AccountKnown {
		t.Fatal("an account the store lacks is not held as absent")
	}
	if read, err := ix.Fetch(ctx, s, r, "later"); err != nil || read || r.reads != 1 {
		t.Fatalf("asked again about an absent account: %d reads, %v; want 1", r.reads, err)
	}
	before := ix.Footprint()
	// Another writer creates "other" with 200 members, then "later" with
	// one.
	_, err := s.Update(ctx, func(tx store.Tx) error {
		for i := range 200 {
			u := fmt.Sprintf("u%d", i)
			signIn := store.SignInEmail
			if i >= 100 {
				signIn = store.SignInEmail2FA
			}
			if err := tx.CreateUser(ctx, store.User{ID: u, Email: u + "@example.com", SignIn: signIn}); err != nil {
				return err
			}
		}
		other := store.Account{ID: "other", Kind: store.Team, Name: "other", Owner: "u0", RequireSecureSignIn: true}
		if err := tx.CreateAccount(ctx, other); err != nil {
			return err
		}
		for i := range 200 {
			if err := tx.CreateMember(ctx, store.Member{AccountID: "other", UserID: fmt.Sprintf("u%d", i), Role: string(rbac.RunpodDev)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.CatchUp(ctx, s); err != nil {
		t.Fatal(err)
	}
	if ix.Holds("other") || ix.Footprint() != before {
		t.Errorf("the changes of an account not held: holds it %v, footprint %d bytes, was %d", ix.Holds("other"), ix.Footprint(), before)
	}
	// "later" is created requiring secure sign-in, with an admin who
	// signs in securely and a member who does not.
	_, err = s.Update(ctx, func(tx store.Tx) error {
		later := store.Account{ID: "later", Kind: store.Team, Name: "later", Owner: "u101", RequireSecureSignIn: true}
		if err := tx.CreateAccount(ctx, later); err != nil {
			return err
		}
		if err := tx.CreateMember(ctx, store.Member{AccountID: "later", UserID: "u101", Role: string(rbac.RunpodAdmin)}); err != nil {
			return err
		}
		return tx.CreateMember(ctx, store.Member{AccountID: "later", UserID: "u1", Role: string(rbac.RunpodAdmin)})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.CatchUp(ctx, s); err != nil {
		t.Fatal(err)
	}
	if a := ix.Lookup("later", "u101", rbac.MembersManage); !a.AccountKnown || !a.Allowed {
		t.Errorf("an account held as absent, then created with an admin: %+v", a)
	}
	if a := ix.Lookup("later", "u1", rbac.MembersManage); a.Allowed || !a.InsecureSignIn {
		t.Errorf("an account held as absent, then created requiring secure sign-in: an admin who signs in with email: %+v", a)
	}
	if ix.Allowed("u1", "other", rbac.AccountAccess) {
		t.Error("an account not held answers from nothing")
	}
	if _, err := ix.Fetch(ctx, s, r, "other"); err != nil || !ix.Allowed("u199", "other", rbac.PodsManage) {
		t.Errorf("fetched after the changes: %v, u199 may not manage pods", err)
	}
	if a := ix.Lookup("other", "u0", rbac.PodsManage); a.Allowed || !a.InsecureSignIn {
		t.Errorf("fetched, an account that requires secure sign-in: a member who signs in with email: %+v", a)
	}
	if used := ix.UsedAccounts(); fmt.Sprint(used) != "[later other]" && fmt.Sprint(used) != "[other later]" {
		t.Errorf("UsedAccounts = %q, want the two asked about", used)
	}
}

// countingReader counts SnapshotAccounts calls.
type countingReader struct {
	store.AccountReader
	reads int
}

func (r *countingReader) SnapshotAccounts(ctx context.Context, accounts []string, fn func(store.SnapshotItem) error) (store.Revision, error) {
	r.reads++
	return r.AccountReader.SnapshotAccounts(ctx, accounts, fn)
}

// behindReader reads accounts as of a fixed revision, behind the store.
type behindReader struct{ rev store.Revision }

func (r behindReader) SnapshotAccounts(context.Context, []string, func(store.SnapshotItem) error) (store.Revision, error) {
	return r.rev, nil
}

// TestFetchRefusesAnOlderRead checks that an account read at a revision
// before the index's is refused (it would join the index missing the
// changes in between), and so is one read past changes the store does not
// list.
func TestFetchRefusesAnOlderRead(t *testing.T) {
	p := rbac.Runpod()
	ix := index.New(p)
	ix.SetPartial()
	s := changesStore{changes: []store.Change{
		{Revision: 1, Op: store.AccountCreated, AccountID: "a"},
		{Revision: 2, Op: store.AccountCreated, AccountID: "b"},
	}}
	if err := ix.CatchUp(t.Context(), s); err != nil || ix.Revision() != 2 {
		t.Fatalf("CatchUp: %v, revision %d", err, ix.Revision())
	}
	if _, err := ix.Fetch(t.Context(), s, behindReader{rev: 1}, "a"); !errors.Is(err, store.ErrBackend) {
		t.Errorf("an account read behind the index: %v, want ErrBackend", err)
	}
	if _, err := ix.Fetch(t.Context(), s, behindReader{rev: 5}, "a"); !errors.Is(err, store.ErrBackend) {
		t.Errorf("an account read at a revision the store lists no change up to: %v, want ErrBackend", err)
	}
	if ix.Holds("a") {
		t.Error("a refused read left the account held")
	}
}

// TestJoinReadsAgainWhenBehind checks an account read without the lock
// while a change to it committed and reached the index (skipped, since the
// index did not hold the account): joining the older read would lose the
// change, so Join reads the account again.
func TestJoinReadsAgainWhenBehind(t *testing.T) {
	p := rbac.Runpod()
	s := testdb.Backends()[0].Store(t)
	ctx := t.Context()
	_, err := s.Update(ctx, func(tx store.Tx) error {
		for _, u := range []string{"owner", "bob"} {
			if err := tx.CreateUser(ctx, store.User{ID: u, Email: u + "@example.com", SignIn: store.SignInEmail}); err != nil {
				return err
			}
		}
		if err := tx.CreateAccount(ctx, store.Account{ID: "team", Kind: store.Team, Name: "team", Owner: "owner"}); err != nil {
			return err
		}
		return tx.CreateMember(ctx, store.Member{AccountID: "team", UserID: "bob", Role: string(rbac.RunpodAdmin)})
	})
	if err != nil {
		t.Fatal(err)
	}
	ix := partial(t, s, p)
	r := &countingReader{AccountReader: s}
	read, err := index.ReadAccount(ctx, r, "team")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.DeleteMember(ctx, "team", "bob") }); err != nil {
		t.Fatal(err)
	}
	if err := ix.CatchUp(ctx, s); err != nil {
		t.Fatal(err)
	}
	if joined, err := ix.Join(ctx, s, r, read); err != nil || !joined {
		t.Fatalf("Join: %v, %v", joined, err)
	}
	if ix.Allowed("bob", "team", rbac.MembersManage) || r.reads != 2 {
		t.Errorf("joined a read from before bob's removal: bob allowed %v, %d reads; want refused after a second read",
			ix.Allowed("bob", "team", rbac.MembersManage), r.reads)
	}
}

// SnapshotAccounts is Snapshot's items of the given accounts.
func (s snapshotStore) SnapshotAccounts(_ context.Context, accounts []string, fn func(store.SnapshotItem) error) (store.Revision, error) {
	want := map[string]bool{}
	for _, a := range accounts {
		want[a] = true
	}
	for _, it := range s.items {
		if want[it.AccountID] {
			if err := fn(it); err != nil {
				return 0, err
			}
		}
	}
	return s.rev, nil
}

// BenchmarkAllowedPartial compares Allowed on an index that holds every
// account with one that holds only some (here, all of them too): the
// second marks each account asked about, which costs a probe of the
// account table. 100,000 memberships, 1,024 questions of members.
func BenchmarkAllowedPartial(b *testing.B) {
	p := rbac.Runpod()
	const teams, per = 10000, 10
	var items []store.SnapshotItem
	var accounts []string
	for t := range teams {
		a := fmt.Sprintf("acc_%026d", t)
		accounts = append(accounts, a)
		items = append(items, store.SnapshotItem{AccountID: a})
		for j := range per {
			items = append(items, store.SnapshotItem{AccountID: a, UserID: fmt.Sprintf("user_%025d", t*per+j), Role: string(rbac.RunpodDev)})
		}
	}
	s := snapshotStore{items: items, rev: 1}
	whole := index.New(p)
	if err := whole.Load(b.Context(), s); err != nil {
		b.Fatal(err)
	}
	part := index.New(p)
	part.SetPartial()
	if err := part.LoadAccounts(b.Context(), s, accounts); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	qs := make([][2]string, 1024)
	for i := range qs {
		t := rng.IntN(teams)
		qs[i] = [2]string{fmt.Sprintf("user_%025d", t*per+rng.IntN(per)), accounts[t]}
	}
	for name, ix := range map[string]*index.Index{"whole": whole, "partial": part} {
		b.Run(name, func(b *testing.B) {
			n, i := 0, 0
			for b.Loop() {
				if ix.Allowed(qs[i][0], qs[i][1], rbac.PodsManage) {
					n++
				}
				i = (i + 1) & 1023
			}
			if n == 0 {
				b.Fatal("nothing allowed")
			}
		})
	}
}

// TestUsedAccounts checks which accounts an index that holds only some
// reports as asked about: an account whose member was found (marked in the
// membership's slot, which must not change the slot's answers), one asked
// about for a user who is not a member, or through Lookup; not one only
// loaded.
func TestUsedAccounts(t *testing.T) {
	p := rbac.Runpod()
	var items []store.SnapshotItem
	for _, a := range []string{"hit", "miss", "lookup", "idle"} {
		items = append(items, store.SnapshotItem{AccountID: a}, store.SnapshotItem{AccountID: a, UserID: "u-" + a, Role: string(rbac.RunpodDev)})
	}
	s := snapshotStore{items: items, rev: 1}
	ix := index.New(p)
	ix.SetPartial()
	if err := ix.LoadAccounts(t.Context(), s, []string{"hit", "miss", "lookup", "idle"}); err != nil {
		t.Fatal(err)
	}
	if used := ix.UsedAccounts(); len(used) != 0 {
		t.Fatalf("loaded, not asked: UsedAccounts = %q", used)
	}
	for range 2 {
		if !ix.Allowed("u-hit", "hit", rbac.PodsManage) || ix.Allowed("u-hit", "hit", rbac.BillingManage) {
			t.Fatal("a marked membership's answers changed")
		}
	}
	if ix.Allowed("u-hit", "miss", rbac.PodsManage) {
		t.Fatal("a user of another account allowed")
	}
	if a := ix.Lookup("lookup", "u-lookup", rbac.PodsManage); !a.Allowed {
		t.Fatalf("Lookup: %+v", a)
	}
	used := ix.UsedAccounts()
	slices.Sort(used)
	if fmt.Sprint(used) != "[hit lookup miss]" {
		t.Errorf("UsedAccounts = %q, want hit, lookup and miss", used)
	}
}

// TestJoinInAnyOrder checks that an account's team roles, memberships and
// API keys join an index that holds only some accounts whatever order the
// reader gives them in (the memberships and keys name the team role), and
// whether they come in the first load or in a fetch; and that fetching an
// account held already reads nothing.
func TestJoinInAnyOrder(t *testing.T) {
	p := rbac.Runpod()
	items := []store.SnapshotItem{
		{AccountID: "team"},
		{AccountID: "team", Role: "ops", Actions: []string{string(rbac.PodsManage)}},
		{AccountID: "team", UserID: "bob", Role: "ops"},
		{AccountID: "team", Key: keyID(1), UserID: "bob", Role: "ops", KeyHash: make([]byte, 32)},
	}
	reversed := slices.Clone(items)
	slices.Reverse(reversed)
	for name, its := range map[string][]store.SnapshotItem{"in the store's order": items, "reversed": reversed} {
		s := snapshotStore{items: its, rev: 1}
		loadedNow := index.New(p)
		loadedNow.SetPartial()
		if err := loadedNow.LoadAccounts(t.Context(), s, []string{"team"}); err != nil {
			t.Fatal(err)
		}
		fetched := index.New(p)
		fetched.SetPartial()
		if err := fetched.LoadAccounts(t.Context(), s, nil); err != nil {
			t.Fatal(err)
		}
		if joined, err := fetched.Fetch(t.Context(), s, s, "team"); err != nil || !joined {
			t.Fatalf("%s: Fetch = %v, %v; want the account joined", name, joined, err)
		}
		for how, ix := range map[string]*index.Index{"loaded": loadedNow, "fetched": fetched} {
			for _, who := range []string{"bob", keyID(1)} {
				if !ix.Allowed(who, "team", rbac.PodsManage) || ix.Allowed(who, "team", rbac.BillingManage) {
					t.Errorf("%s, %s: %s allowed %s %v and %s %v; want the team role's action only", name, how, who,
						rbac.PodsManage, ix.Allowed(who, "team", rbac.PodsManage), rbac.BillingManage, ix.Allowed(who, "team", rbac.BillingManage))
				}
			}
		}
		r := &countingReader{AccountReader: s}
		if joined, err := fetched.Join(t.Context(), s, r, mustRead(t, r, "team")); err != nil || joined {
			t.Errorf("%s: joining an account held already = %v, %v; want nothing joined", name, joined, err)
		}
	}
}

func mustRead(t *testing.T, r store.AccountReader, account string) index.AccountRead {
	t.Helper()
	read, err := index.ReadAccount(t.Context(), r, account)
	if err != nil {
		t.Fatal(err)
	}
	return read
}

// failingReader fails every read.
type failingReader struct{}

var errReadFailed = errors.New("read failed")

func (failingReader) SnapshotAccounts(context.Context, []string, func(store.SnapshotItem) error) (store.Revision, error) {
	return 0, errReadFailed
}

// TestLoadAccountsHoldsTheAbsent checks that LoadAccounts holds every
// account asked for that the store lacks as absent, so that none is read
// again, and returns the reader's failure.
func TestLoadAccountsHoldsTheAbsent(t *testing.T) {
	p := rbac.Runpod()
	s := snapshotStore{items: []store.SnapshotItem{{AccountID: "team"}}, rev: 1}
	ix := index.New(p)
	ix.SetPartial()
	if err := ix.LoadAccounts(t.Context(), s, []string{"gone1", "team", "gone2"}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"gone1", "team", "gone2"} {
		if !ix.Holds(a) {
			t.Errorf("after LoadAccounts the index does not hold %s", a)
		}
	}
	if ix.Holds("other") {
		t.Error("the index holds an account it was not given")
	}
	failed := index.New(p)
	failed.SetPartial()
	if err := failed.LoadAccounts(t.Context(), failingReader{}, []string{"team"}); !errors.Is(err, errReadFailed) {
		t.Errorf("LoadAccounts from a failing reader = %v, want its error", err)
	}
}

// TestJoinCatchesUp checks an account read at a revision past the index's
// (changes committed after the index last caught up): Join first applies
// the changes up to the read's revision, over more than one batch of
// changes, to the accounts it holds, and skips those of the others.
func TestJoinCatchesUp(t *testing.T) {
	p := rbac.Runpod()
	ix := index.New(p)
	ix.SetPartial()
	if err := ix.LoadAccounts(t.Context(), snapshotStore{items: []store.SnapshotItem{{AccountID: "a"}}, rev: 1}, []string{"a"}); err != nil {
		t.Fatal(err)
	}
	const last = 12_001 // past one batch of changes
	changes := []store.Change{{Revision: 2, Op: store.MemberSet, AccountID: "a", UserID: "bob", Role: string(rbac.RunpodDev)}}
	for rev := store.Revision(3); rev < last; rev++ {
		changes = append(changes, store.Change{Revision: rev, Op: store.AccountCreated, AccountID: fmt.Sprint("n", rev)})
	}
	changes = append(changes, store.Change{Revision: last, Op: store.MemberSet, AccountID: "a", UserID: "carol", Role: string(rbac.RunpodDev)})
	s := changesStore{changes: changes}
	r := behindReader{rev: last}
	if joined, err := ix.Join(t.Context(), s, r, mustRead(t, r, "x")); err != nil || !joined {
		t.Fatalf("Join of an account read at revision %d = %v, %v", last, joined, err)
	}
	if ix.Revision() != last || !ix.Member("a", "bob") || !ix.Member("a", "carol") || ix.Holds("n3") || !ix.Holds("x") {
		t.Errorf("after the join: revision %d, bob and carol members %v %v, n3 held %v, x held %v; want %d, true, true, false, true",
			ix.Revision(), ix.Member("a", "bob"), ix.Member("a", "carol"), ix.Holds("n3"), ix.Holds("x"), last)
	}
}

// TestFootprintIsTheHeap checks Footprint against the heap the index takes,
// part by part, within 15%: 10,000 accounts alone, then with members,
// members with end times, team roles, API keys, API keys since revoked, and
// secure sign-in required, and all of them at once. A memory budget is only
// as good as this estimate: a part it left out or miscounted would show.
// The items are made as a database's rows are, each with strings of its
// own, so that what the index keeps of them counts; the policy has 504
// actions, so that the team roles' sets of actions weigh.
func TestFootprintIsTheHeap(t *testing.T) {
	p := widePolicy(t, 500)
	member := func(a, j int, acct string) store.SnapshotItem {
		return store.SnapshotItem{AccountID: acct, UserID: fmt.Sprintf("user_%025d", a*4+j), Role: "even"}
	}
	members := func(a int, acct string) (items []store.SnapshotItem) {
		for j := range 4 {
			items = append(items, member(a, j, acct))
		}
		return items
	}
	ending := func(a int, acct string) (items []store.SnapshotItem) {
		for j := range 4 {
			it := member(a, j, acct)
			it.ExpiresAt = time.Now().Add(time.Hour)
			items = append(items, it)
		}
		return items
	}
	roles := func(a int, acct string) (items []store.SnapshotItem) {
		for j := range 3 {
			items = append(items, store.SnapshotItem{AccountID: acct, Role: fmt.Sprintf("role%d", j),
				Actions: []string{string(wideAction(j)), string(wideAction(499 - j))}})
		}
		return items
	}
	keys := func(a int, acct string) (items []store.SnapshotItem) {
		for j := range 2 {
			items = append(items, store.SnapshotItem{AccountID: acct, Key: keyID(a*4 + j), UserID: member(a, j, acct).UserID,
				Role: strings.Clone("even"), KeyHash: make([]byte, 32)})
		}
		return items
	}
	const n = 10000
	for _, c := range []struct {
		name    string
		secure  bool
		items   []func(a int, acct string) []store.SnapshotItem
		revoked bool
	}{
		{name: "accounts"},
		{name: "members", items: []func(int, string) []store.SnapshotItem{members}},
		{name: "members with end times", items: []func(int, string) []store.SnapshotItem{ending}},
		{name: "team roles", items: []func(int, string) []store.SnapshotItem{roles}},
		{name: "API keys", items: []func(int, string) []store.SnapshotItem{keys}},
		{name: "API keys revoked", items: []func(int, string) []store.SnapshotItem{keys}, revoked: true},
		{name: "secure sign-in", secure: true},
		{name: "all", secure: true, items: []func(int, string) []store.SnapshotItem{ending, roles, keys}},
	} {
		t.Run(c.name, func(t *testing.T) {
			accounts := make([]string, n)
			for a := range accounts {
				accounts[a] = fmt.Sprintf("acc_%026d", a)
			}
			r := generator(func(a int, fn func(store.SnapshotItem) error) error {
				acct := strings.Clone(accounts[a])
				items := []store.SnapshotItem{{AccountID: acct, RequireSecure: c.secure}}
				for _, f := range c.items {
					items = append(items, f(a, acct)...)
				}
				for _, it := range items {
					if c.secure && it.UserID != "" && it.Key == "" {
						it.SignIn = store.SignInGoogle
					}
					if err := fn(it); err != nil {
						return err
					}
				}
				return nil
			})
			before := liveHeap()
			ix := index.New(p)
			ix.SetPartial()
			must(t, ix.LoadAccounts(t.Context(), r, accounts))
			if c.revoked {
				var revoke []store.Change
				for a := range n {
					for _, k := range keys(a, accounts[a]) {
						revoke = append(revoke, store.Change{Op: store.APIKeyRevoked, AccountID: k.AccountID, Key: k.Key, UserID: k.UserID})
					}
				}
				must(t, apply(ix, revoke...))
			}
			took := int64(liveHeap() - before)
			fp := ix.Footprint()
			if fp < took*85/100 || fp > took*115/100 {
				t.Errorf("Footprint %d bytes, the index took %d of the heap (%.2f of it)", fp, took, float64(fp)/float64(took))
			}
			t.Logf("Footprint %d bytes, %.3f of the heap the index took", fp, float64(fp)/float64(took))
			runtime.KeepAlive(ix)
			runtime.KeepAlive(accounts)
		})
	}
}

// liveHeap returns the bytes of the heap that are in use, after a
// collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// generator is an AccountReader whose accounts are acc_ and a number,
// their items made when read by calling it with the number.
type generator func(a int, fn func(store.SnapshotItem) error) error

func (g generator) SnapshotAccounts(_ context.Context, accounts []string, fn func(store.SnapshotItem) error) (store.Revision, error) {
	for _, acct := range accounts {
		a, err := strconv.Atoi(strings.TrimPrefix(acct, "acc_"))
		if err != nil {
			return 0, err
		}
		if err := g(a, fn); err != nil {
			return 0, err
		}
	}
	return 1, nil
}
