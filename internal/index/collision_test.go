package index

import (
	"fmt"
	"testing"

	"github.com/teamroster/roster/rbac"
)

// TestTagCollisions checks that a membership answers only for its own
// account and user when another pair's hash tag is the same: the tag picks
// the candidate slot, and the full IDs decide.
func TestTagCollisions(t *testing.T) {
	ix := New(rbac.Runpod())
	// collide returns two of name(0), name(1)... whose pairs, made by
	// pair, have the same tag.
	collide := func(name func(int) string, pair func(string) (string, string)) (string, string) {
		seen := map[uint32]string{}
		for i := 0; ; i++ {
			n := name(i)
			a, u := pair(n)
			tag := memberTag(ix.seed, a, u)
			if other, ok := seen[tag]; ok {
				return other, n
			}
			seen[tag] = n
		}
	}
	set := func(account, user string) {
		ix.mu.Lock()
		defer ix.mu.Unlock()
		if err := ix.setMember(account, user, membership{role: string(rbac.RunpodAdmin)}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(t *testing.T, account, user, askAccount, askUser string) {
		set(account, user)
		set(askAccount, "someone-else") // the account asked about exists
		if !ix.Allowed(user, account, rbac.PodsManage) {
			t.Fatalf("%s in %s: refused, want allowed", user, account)
		}
		if ix.Allowed(askUser, askAccount, rbac.PodsManage) {
			t.Errorf("%s in %s: allowed by %s's membership of %s, whose tag is the same", askUser, askAccount, user, account)
		}
	}

	t.Run("same user, another account", func(t *testing.T) {
		a1, a2 := collide(func(i int) string { return fmt.Sprintf("acc%d", i) },
			func(a string) (string, string) { return a, "alice" })
		check(t, a1, "alice", a2, "alice")
	})
	t.Run("same account, another user", func(t *testing.T) {
		u1, u2 := collide(func(i int) string { return fmt.Sprintf("user%d", i) },
			func(u string) (string, string) { return "team", u })
		check(t, "team", u1, "team", u2)
	})
}
