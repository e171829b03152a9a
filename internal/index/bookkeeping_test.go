package index_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/teamroster/roster/internal/index"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// TestExpiryChanges checks that an end time given to, moved on, or lifted
// from an existing membership takes effect, and that a loaded snapshot's
// end times do.
func TestExpiryChanges(t *testing.T) {
	p := rbac.Runpod()
	clock := rostertest.NewClock()
	role := func(ix *index.Index, user string) rbac.Role {
		a := ix.Lookup("team", user, rbac.AccountAccess)
		if !a.Member {
			return ""
		}
		return a.Role
	}
	set := func(user string, until time.Time, fallback rbac.Role) store.Change {
		return store.Change{Op: store.MemberSet, AccountID: "team", UserID: user, Role: string(rbac.RunpodAdmin),
			ExpiresAt: until, FallbackRole: string(fallback)}
	}

	t.Run("an existing membership", func(t *testing.T) {
		ix := index.New(p)
		ix.SetClock(clock.Now)
		must(t, apply(ix, set("m", time.Time{}, "")))
		start := clock.Now()
		must(t, apply(ix, set("m", start.Add(time.Hour), rbac.RunpodBasic)))
		if got := role(ix, "m"); got != rbac.RunpodAdmin {
			t.Fatalf("before its end time: role %q, want admin", got)
		}
		clock.Advance(time.Hour)
		if got := role(ix, "m"); got != rbac.RunpodBasic {
			t.Fatalf("at its end time: role %q, want the fallback basic", got)
		}
		must(t, apply(ix, set("m", start.Add(3*time.Hour), "")))
		if got := role(ix, "m"); got != rbac.RunpodAdmin {
			t.Fatalf("with its end time moved on: role %q, want admin", got)
		}
		clock.Advance(2 * time.Hour)
		if got := role(ix, "m"); got != "" {
			t.Fatalf("at its moved end time, without a fallback: role %q, want no membership", got)
		}
		must(t, apply(ix, set("m", time.Time{}, "")))
		clock.Advance(24 * time.Hour)
		if got := role(ix, "m"); got != rbac.RunpodAdmin {
			t.Fatalf("with its end time lifted: role %q, want admin", got)
		}
	})

	t.Run("a loaded snapshot", func(t *testing.T) {
		ix := index.New(p)
		ix.SetClock(clock.Now)
		now := clock.Now()
		must(t, ix.Load(context.Background(), snapshotStore{items: []store.SnapshotItem{
			{AccountID: "team", UserID: "tmp", Role: string(rbac.RunpodAdmin), ExpiresAt: now.Add(time.Minute), FallbackRole: string(rbac.RunpodBasic)},
			{AccountID: "team", UserID: "con", Role: string(rbac.RunpodDev), ExpiresAt: now.Add(time.Hour)},
		}}))
		if role(ix, "tmp") != rbac.RunpodAdmin || role(ix, "con") != rbac.RunpodDev {
			t.Fatal("loaded memberships lack their roles before their end times")
		}
		clock.Advance(time.Minute)
		if got := role(ix, "tmp"); got != rbac.RunpodBasic {
			t.Errorf("a loaded role granted for a minute: %q after it, want the fallback basic", got)
		}
		clock.Advance(time.Hour)
		if got := role(ix, "con"); got != "" {
			t.Errorf("a loaded membership past its end: role %q, want none", got)
		}
	})
}

// TestLongestIDs checks that IDs of store.MaxIDLen bytes, the longest
// allowed, are held.
func TestLongestIDs(t *testing.T) {
	account, user := strings.Repeat("a", store.MaxIDLen), strings.Repeat("u", store.MaxIDLen)
	ix := index.New(rbac.Runpod())
	must(t, apply(ix, store.Change{Op: store.MemberSet, AccountID: account, UserID: user, Role: string(rbac.RunpodDev)}))
	if !ix.Allowed(user, account, rbac.PodsManage) {
		t.Error("a membership whose IDs are store.MaxIDLen bytes long is not held")
	}
}

// TestTeamRoleDeletedKeepsTheOthers checks that deleting one of an
// account's team roles leaves the others usable.
func TestTeamRoleDeletedKeepsTheOthers(t *testing.T) {
	ix := index.New(rbac.Runpod())
	must(t, apply(ix,
		store.Change{Op: store.RoleSet, AccountID: "team", Role: "ops", Actions: []string{string(rbac.PodsManage)}},
		store.Change{Op: store.RoleSet, AccountID: "team", Role: "audit", Actions: []string{string(rbac.AuditRead)}},
	))
	must(t, apply(ix, store.Change{Op: store.RoleDeleted, AccountID: "team", Role: "audit"}))
	must(t, apply(ix, store.Change{Op: store.MemberSet, AccountID: "team", UserID: "u", Role: "ops"}))
	if !ix.Allowed("u", "team", rbac.PodsManage) {
		t.Error("a team role is lost when another of its account's is deleted")
	}
}

// TestMembershipAccounting checks what the index counts of its
// memberships, which decides when it rebuilds its table and moves its
// records: a loaded snapshot is held in a table 60% full, a membership listed
// twice counts once, removing and re-adding counts each once, the table is
// rebuilt for its live memberships before a new one would fill it beyond
// 80% (removed ones' slots counted), and the records move to a new arena
// at a rebuild only when removed ones take more bytes than live ones.
func TestMembershipAccounting(t *testing.T) {
	const recordSize = 16 // a length byte and a user ID of 15
	user := func(i int) string { return fmt.Sprintf("u%014d", i) }
	account := func(i int) string { return fmt.Sprintf("team%d", i%7) }
	membersFor := func(n int) int { return max(16, (n+1)*5/3) }

	var items []store.SnapshotItem
	for i := range 990 {
		items = append(items, store.SnapshotItem{AccountID: account(i), UserID: user(i), Role: string(rbac.RunpodDev)})
	}
	for i := range 10 { // listed twice
		items = append(items, store.SnapshotItem{AccountID: account(i), UserID: user(i), Role: string(rbac.RunpodAdmin)})
	}
	ix := index.New(rbac.Runpod())
	must(t, ix.Load(context.Background(), snapshotStore{items: items}))
	st := ix.Stats()
	if st.Live != 990 || st.Slots != membersFor(1000) || st.LiveBytes != st.RecordBytes-10*recordSize {
		t.Fatalf("after loading 990 memberships, 10 of them listed twice: %+v, want 990 live in %d slots, the duplicates' %d bytes not live",
			st, membersFor(1000), 10*recordSize)
	}
	slots, used, live := st.Slots, 990, 990
	check := func(step string, want index.Stats) {
		t.Helper()
		got := ix.Stats()
		if got.Live != live || got.Slots != slots || got.LiveBytes != want.LiveBytes {
			t.Fatalf("%s: %+v, want %d live in %d slots and %d live bytes", step, got, live, slots, want.LiveBytes)
		}
	}
	for i := range 800 {
		before := ix.Stats()
		must(t, apply(ix, store.Change{Op: store.MemberDeleted, AccountID: account(i), UserID: user(i)}))
		live--
		check("after a removal", index.Stats{LiveBytes: before.LiveBytes - recordSize})
	}
	for i := range 50 {
		before := ix.Stats()
		must(t, apply(ix, store.Change{Op: store.MemberSet, AccountID: account(i), UserID: user(i), Role: string(rbac.RunpodDev)}))
		live++
		check("after adding a removed membership again", index.Stats{LiveBytes: before.LiveBytes + recordSize})
		must(t, apply(ix, store.Change{Op: store.MemberSet, AccountID: account(i), UserID: user(i), Role: string(rbac.RunpodAdmin)}))
		check("after a role change", index.Stats{LiveBytes: before.LiveBytes + recordSize})
	}
	moved, removed := 0, map[int]bool{}
	for i := 1000; i < 3000 || moved == 0 && i < 20000; i++ {
		before := ix.Stats()
		must(t, apply(ix, store.Change{Op: store.MemberSet, AccountID: account(i), UserID: user(i), Role: string(rbac.RunpodDev)}))
		rebuilt := (used+1)*5 > slots*4
		if rebuilt {
			slots, used = membersFor(live), live
		}
		used, live = used+1, live+1
		after := ix.Stats()
		if rebuilt && 2*before.LiveBytes < before.RecordBytes {
			moved++
			if after.RecordBytes > before.LiveBytes+recordSize+64 {
				t.Fatalf("membership %d: a rebuild kept %d record bytes for %d live ones", i, after.RecordBytes, before.LiveBytes)
			}
			check("after a rebuild that moved the records", index.Stats{LiveBytes: after.RecordBytes})
			continue
		}
		if after.RecordBytes < before.RecordBytes+recordSize {
			t.Fatalf("membership %d: the records moved from %d bytes to %d, with %d of them live", i, before.RecordBytes, after.RecordBytes, before.LiveBytes)
		}
		check(fmt.Sprintf("after adding membership %d", i), index.Stats{LiveBytes: before.LiveBytes + after.RecordBytes - before.RecordBytes})
		if i%10 == 0 && i > 1000 { // some removed records at the next rebuild
			must(t, apply(ix, store.Change{Op: store.MemberDeleted, AccountID: account(i - 5), UserID: user(i - 5)}))
			live--
			removed[i-5] = true
		}
	}
	if moved == 0 {
		t.Fatal("no rebuild moved the records")
	}
	for i := range 3000 {
		want := i < 50 || i >= 800 && i < 990 || i >= 1000 && !removed[i]
		if got := ix.Member(account(i), user(i)); got != want {
			t.Fatalf("membership %d: Member = %v, want %v", i, got, want)
		}
	}
}

// TestTeamRoleVisibleWithItsHolders checks that a reader who finds a
// membership or an API key holding a team role defined in the same commit
// also finds the role: it sees the holder not yet there, or there with
// the role's actions, never a member who may do nothing. A membership whose
// end time has passed holds its fallback role, here a new team role too.
func TestTeamRoleVisibleWithItsHolders(t *testing.T) {
	ix := index.New(rbac.Runpod())
	past := time.Now().Add(-time.Hour)
	var current atomic.Int64
	current.Store(-1)
	var stop atomic.Bool
	var wrong atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for !stop.Load() {
			i := current.Load()
			if i < 0 {
				continue
			}
			for _, who := range []string{fmt.Sprintf("u%d", i), fmt.Sprintf("f%d", i), keyID(int(i))} {
				if a := ix.Lookup("team", who, rbac.PodsManage); a.Member && !a.Allowed {
					wrong.Add(1)
				}
			}
		}
	})
	const commits = 1000
	for i := range commits {
		// Each holder in a commit of its own, with a role of its own.
		for h, holder := range []func(role string) store.Change{
			func(role string) store.Change {
				return store.Change{Op: store.MemberSet, AccountID: "team", UserID: fmt.Sprintf("u%d", i), Role: role}
			},
			func(role string) store.Change {
				return store.Change{Op: store.MemberSet, AccountID: "team", UserID: fmt.Sprintf("f%d", i), Role: string(rbac.RunpodBasic),
					ExpiresAt: past, FallbackRole: role}
			},
			func(role string) store.Change { return keySet(i, "team", "", rbac.Role(role)) },
		} {
			role := fmt.Sprintf("ops%d-%d", i, h)
			changes := []store.Change{
				{Op: store.RoleSet, AccountID: "team", Role: role, Actions: []string{string(rbac.PodsManage)}},
				holder(role),
			}
			for j := range 100 { // more of the commit after the holder
				changes = append(changes, store.Change{Op: store.AccountCreated, AccountID: fmt.Sprintf("other%d", j)})
			}
			current.Store(int64(i))
			must(t, apply(ix, changes...))
		}
	}
	stop.Store(true)
	wg.Wait()
	if n := wrong.Load(); n > 0 {
		t.Errorf("readers found a holder of a team role without the role %d times", n)
	}
}
