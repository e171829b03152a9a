package index_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/teamroster/roster/internal/index"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// TestKeysUnderFallbackPolicy checks API keys under a policy the index
// cannot compile (Casbin decides): a key does what its role, its actions
// and its owner's role all allow.
func TestKeysUnderFallbackPolicy(t *testing.T) {
	ix := index.New(rostertest.FallbackPolicy(t))
	narrowed := keySet(3, "team", "", "admin")
	narrowed.Actions = []string{"pods.read"}
	must(t, apply(ix,
		store.Change{Op: store.MemberSet, AccountID: "team", UserID: "dev", Role: "dev"},
		keySet(1, "team", "dev", "admin"), // bounded by its owner's dev
		keySet(2, "team", "", "viewer"),
		narrowed,
	))
	for _, c := range []struct {
		key    int
		action rbac.Action
		want   bool
	}{
		{1, "pods.start", true}, {1, "billing.read", false},
		{2, "pods.read", true}, {2, "pods.start", false},
		{3, "pods.read", true}, {3, "pods.start", false},
	} {
		if got := ix.Allowed(keyID(c.key), "team", c.action); got != c.want {
			t.Errorf("key %d, %s: Allowed = %v, want %v", c.key, c.action, got, c.want)
		}
		if got := ix.Lookup("team", keyID(c.key), c.action).Allowed; got != c.want {
			t.Errorf("key %d, %s: Lookup.Allowed = %v, want %v", c.key, c.action, got, c.want)
		}
	}
	must(t, apply(ix, store.Change{Op: store.MemberDeleted, AccountID: "team", UserID: "dev"}))
	if ix.Allowed(keyID(1), "team", "pods.start") {
		t.Error("the key of a removed member still acts")
	}
}

// widePolicy returns a policy of the Runpod model with the roles owner, who
// may do every action, and even, who may do the even ones of
// wideAction(0) to wideAction(extra-1), besides the four actions a team
// needs.
func widePolicy(t *testing.T, extra int) *rbac.Policy {
	t.Helper()
	var rules strings.Builder
	for _, a := range []string{"members.invite", "members.manage", "settings.manage", "audit.read"} {
		fmt.Fprintf(&rules, "p, owner, %s\n", a)
	}
	for i := range extra {
		fmt.Fprintf(&rules, "p, owner, %s\n", wideAction(i))
		if i%2 == 0 {
			fmt.Fprintf(&rules, "p, even, %s\n", wideAction(i))
		}
	}
	p, err := rbac.Parse("wide", []byte(rbac.Runpod().ModelText()), []byte(rules.String()))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// wideAction is widePolicy's ith action.
func wideAction(i int) rbac.Action { return rbac.Action(fmt.Sprintf("area%d.manage", i)) }

// TestManyActions checks a policy of more than 64 actions, whose grants do
// not fit in one word: roles, team roles and keys' action lists reach
// actions past the 64th.
func TestManyActions(t *testing.T) {
	const extra = 70
	ix := index.New(widePolicy(t, extra))
	narrowed := keySet(1, "team", "", "owner")
	narrowed.Actions = []string{string(wideAction(69))}
	must(t, apply(ix,
		store.Change{Op: store.RoleSet, AccountID: "team", Role: "last", Actions: []string{string(wideAction(68)), string(wideAction(69))}},
		store.Change{Op: store.MemberSet, AccountID: "team", UserID: "o", Role: "owner"},
		store.Change{Op: store.MemberSet, AccountID: "team", UserID: "e", Role: "even"},
		store.Change{Op: store.MemberSet, AccountID: "team", UserID: "l", Role: "last"},
		narrowed,
	))
	for i := range extra {
		a := wideAction(i)
		for who, want := range map[string]bool{"o": true, "e": i%2 == 0, "l": i >= 68, keyID(1): i == 69} {
			if got := ix.Allowed(who, "team", a); got != want {
				t.Errorf("%s, %s: Allowed = %v, want %v", who, a, got, want)
			}
		}
	}
}

// TestSignInChanges checks that a member's sign-in method, changed after
// they joined, decides whether they act in the accounts that require a
// secure one, and only there.
func TestSignInChanges(t *testing.T) {
	ix := index.New(rbac.Runpod())
	must(t, apply(ix,
		store.Change{Op: store.MemberSet, AccountID: "strict", UserID: "alice", Role: string(rbac.RunpodAdmin), SignIn: store.SignInEmail},
		store.Change{Op: store.MemberSet, AccountID: "open", UserID: "alice", Role: string(rbac.RunpodAdmin), SignIn: store.SignInEmail},
	))
	// A store records the requirement with every member's standing.
	must(t, apply(ix, store.Change{Op: store.AccountUpdated, AccountID: "strict", RequireSecure: true},
		store.Change{Op: store.MemberSet, AccountID: "strict", UserID: "alice", Role: string(rbac.RunpodAdmin), SignIn: store.SignInEmail}))
	for _, step := range []struct {
		signIn store.SignIn
		strict bool
	}{{store.SignInEmail, false}, {store.SignInGoogle, true}, {store.SignInEmail, false}, {store.SignInGitHub, true}} {
		must(t, apply(ix, store.Change{Op: store.UserUpdated, UserID: "alice", SignIn: step.signIn}))
		if got := ix.Allowed("alice", "strict", rbac.PodsManage); got != step.strict {
			t.Errorf("signing in with %s where secure sign-in is required: Allowed = %v, want %v", step.signIn, got, step.strict)
		}
		if !ix.Allowed("alice", "open", rbac.PodsManage) {
			t.Errorf("signing in with %s where it is not required: refused", step.signIn)
		}
	}
}
