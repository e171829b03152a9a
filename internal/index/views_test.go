package index

import (
	"fmt"
	"testing"
	"time"

	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// TestStaleViewFindsItsOwnEndTime checks a reader that loaded a view, then
// read a slot whose end time was set after that view was published, in a
// table that was rebuilt meanwhile with its records moved to a new arena.
// The reader's view lacks the end time, so it must look in a newer view;
// there the records have other positions, and the position it holds may be
// another membership's. It must answer with the membership's own end time:
// with another's, a member whose elevated role had ended kept it, and one
// whose role had not ended lost it.
func TestStaleViewFindsItsOwnEndTime(t *testing.T) {
	now := time.Unix(1_000_000_000, 0)
	ix := New(rbac.Runpod())
	ix.SetClock(func() time.Time { return now })
	var changes []store.Change
	users := make([]string, 64)
	for i := range users {
		users[i] = fmt.Sprintf("user-%02d", i)
		changes = append(changes, store.Change{Op: store.MemberSet, AccountID: "team", UserID: users[i], Role: string(rbac.RunpodBasic)})
	}
	if err := ix.applyChanges(changes); err != nil {
		t.Fatal(err)
	}
	stale := ix.view.Load()

	// Half of the members hold admin until an hour ago, falling back to
	// basic; the others until an hour from now. Each end time is published
	// in a new view and flagged in the slot, which the stale view shares.
	changes = changes[:0]
	for i, u := range users {
		until := now.Add(time.Hour)
		if i%2 == 0 {
			until = now.Add(-time.Hour)
		}
		changes = append(changes, store.Change{Op: store.MemberSet, AccountID: "team", UserID: u, Role: string(rbac.RunpodAdmin),
			ExpiresAt: until, FallbackRole: string(rbac.RunpodBasic)})
	}
	if err := ix.applyChanges(changes); err != nil {
		t.Fatal(err)
	}
	// Memberships added and removed until the table is rebuilt and its
	// live records move to a new arena.
	for i := 0; ix.view.Load().records == stale.records; i++ {
		if i == 100_000 {
			t.Fatal("the records never moved")
		}
		u := fmt.Sprintf("churn-%06d", i)
		if err := ix.applyChanges([]store.Change{
			{Op: store.MemberSet, AccountID: "team", UserID: u, Role: string(rbac.RunpodBasic)},
			{Op: store.MemberDeleted, AccountID: "team", UserID: u},
		}); err != nil {
			t.Fatal(err)
		}
	}

	for i, u := range users {
		want := rbac.RunpodAdmin
		if i%2 == 0 {
			want = rbac.RunpodBasic
		}
		s := ix.findMember(stale, "team", u)
		if s == nil {
			t.Fatalf("%s: not in the stale view", u)
		}
		r := ix.effective(stale, s, s.role.Load(), "team", u)
		if got := ix.roleName(r); got != want {
			t.Errorf("%s through the stale view: role %q, want %q", u, got, want)
		}
		if got, _, _ := lookupRoleOf(ix, u); got != want {
			t.Errorf("%s through the newest view: role %q, want %q", u, got, want)
		}
	}
}

// lookupRoleOf returns user's role in "team" as Lookup sees it.
func lookupRoleOf(ix *Index, user string) (rbac.Role, bool, bool) {
	a := ix.Lookup("team", user, rbac.AccountAccess)
	return a.Role, a.AccountKnown, a.Member
}
