package rbac_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/teamroster/roster/rbac"
)

// fallbackModels are models the decision table cannot represent, each with
// a policy for it: patterns (keyMatch), a deny effect and a condition on the
// team.
var fallbackModels = []struct {
	name, model, policy string
	actions             []rbac.Action // the policy's Actions
	roleActions         map[rbac.Role][]rbac.Action
}{
	{
		name:  "keyMatch",
		model: strings.Replace(testModel, "r.act == p.act", "keyMatch(r.act, p.act)", 1),
		policy: "p, admin, *\n" +
			"p, dev, pods.*\n" +
			"p, dev, audit.read\n" +
			"p, viewer, pods.read\n",
		actions: []rbac.Action{"audit.read", "pods.read", "members.invite", "members.manage", "settings.manage"},
		roleActions: map[rbac.Role][]rbac.Action{
			"admin":  {"audit.read", "pods.read", "members.invite", "members.manage", "settings.manage"},
			"dev":    {"audit.read", "pods.read"},
			"viewer": {"pods.read"},
		},
	},
	{
		name: "deny effect",
		model: strings.NewReplacer(
			"p = sub, act", "p = sub, act, eft",
			"e = some(where (p.eft == allow))", "e = some(where (p.eft == allow)) && !some(where (p.eft == deny))",
		).Replace(testModel),
		policy: `p, admin, members.invite, allow
p, admin, members.manage, allow
p, admin, settings.manage, allow
p, admin, audit.read, allow
p, admin, pods.delete, allow
p, dev, pods.delete, allow
p, dev, pods.delete, deny
p, dev, audit.read, allow
`,
		actions: []rbac.Action{"members.invite", "members.manage", "settings.manage", "audit.read", "pods.delete"},
		roleActions: map[rbac.Role][]rbac.Action{
			"admin": {"members.invite", "members.manage", "settings.manage", "audit.read", "pods.delete"},
			"dev":   {"audit.read"},
		},
	},
	{
		name:    "condition on the team",
		model:   strings.Replace(testModel, "r.act == p.act", `r.act == p.act && r.dom != "frozen"`, 1),
		policy:  testPolicy,
		actions: []rbac.Action{"members.invite", "members.manage", "settings.manage", "audit.read"},
		roleActions: map[rbac.Role][]rbac.Action{
			"admin":  {"members.invite", "members.manage", "settings.manage", "audit.read"},
			"viewer": {"audit.read"},
		},
	},
}

func TestFallbackPolicies(t *testing.T) {
	for _, tt := range fallbackModels {
		t.Run(tt.name+" loads as a fallback policy", func(t *testing.T) {
			p, err := rbac.Parse("team", []byte(tt.model), []byte(tt.policy))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if p.Compiled() {
				t.Error("Compiled() = true, want false")
			}
			if diff := cmp.Diff(tt.actions, p.Actions()); diff != "" {
				t.Errorf("Actions differ (-want +got):\n%s", diff)
			}
			got := map[rbac.Role][]rbac.Action{}
			for _, r := range p.Roles() {
				got[r] = p.RoleActions(r)
			}
			if diff := cmp.Diff(tt.roleActions, got); diff != "" {
				t.Errorf("RoleActions differ (-want +got):\n%s", diff)
			}
			if p.Top() != "admin" {
				t.Errorf("Top() = %q, want admin", p.Top())
			}
		})
		t.Run(tt.name+" enforcer answers as Casbin", func(t *testing.T) {
			p, err := rbac.Parse("team", []byte(tt.model), []byte(tt.policy))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			compareEnforcers(t, p)
		})
	}
	for _, p := range []*rbac.Policy{rbac.Runpod(), rbac.DigitalOcean()} {
		t.Run(p.Name()+" is compiled and its enforcer answers as Casbin", func(t *testing.T) {
			if !p.Compiled() {
				t.Error("Compiled() = false, want true")
			}
			compareEnforcers(t, p)
		})
	}
}

// compareEnforcers gives the same memberships to p's Enforcer and to a
// plain Casbin enforcer, and compares their answers for every user, team
// and action, including actions only a pattern names, before and after
// memberships change.
func compareEnforcers(t *testing.T, p *rbac.Policy) {
	t.Helper()
	e, err := p.NewEnforcer()
	if err != nil {
		t.Fatalf("NewEnforcer: %v", err)
	}
	plain := plainEnforcer(t, p)
	users := []string{"ann", "bob", "cid", "dee", "nobody"}
	teams := []string{"acme", "frozen", "initech"}
	actions := append(p.Actions(), "pods.gpu.create", "pods", "no.such.action")
	set := func(user string, role rbac.Role, team string) {
		t.Helper()
		if err := e.SetMember(user, role, team); err != nil {
			t.Fatalf("SetMember: %v", err)
		}
		if _, err := plain.RemoveFilteredGroupingPolicy(0, user, "", team); err != nil {
			t.Fatal(err)
		}
		mustAddGrouping(t, plain, user, string(role), team)
	}
	roles := p.Roles()
	for i, u := range users[:4] {
		for j, team := range teams {
			set(u, roles[(i+j)%len(roles)], team)
		}
	}
	set("cid", "ghost", "acme")
	compare := func(when string) {
		t.Helper()
		allowed := 0
		for _, u := range users {
			for _, team := range teams {
				for _, a := range actions {
					want := mustEnforce(t, plain, u, team, string(a))
					if got := e.Enforce(u, team, a); got != want {
						t.Errorf("%s: Enforce(%s, %s, %s) = %t, Casbin says %t", when, u, team, a, got, want)
					}
					if want {
						allowed++
					}
				}
			}
		}
		if allowed == 0 {
			t.Errorf("%s: nothing allowed: the comparison tests too little", when)
		}
	}
	compare("first")

	// Change roles, remove members, remove a non-member.
	set("ann", roles[len(roles)-1], "acme")
	set("bob", p.Top(), "initech")
	for _, m := range [][2]string{{"dee", "acme"}, {"dee", "frozen"}, {"nobody", "acme"}} {
		if err := e.DeleteMember(m[0], m[1]); err != nil {
			t.Fatalf("DeleteMember(%s, %s): %v", m[0], m[1], err)
		}
		if _, err := plain.RemoveFilteredGroupingPolicy(0, m[0], "", m[1]); err != nil {
			t.Fatal(err)
		}
	}
	if e.Enforce("dee", "acme", p.Actions()[0]) {
		t.Error("a removed member is still allowed")
	}
	compare("after changes")
}

func TestEnforcerErrors(t *testing.T) {
	var zero rbac.Policy
	if _, err := zero.NewEnforcer(); !errors.Is(err, rbac.ErrInvalidPolicy) {
		t.Errorf("NewEnforcer on the zero Policy: error %v, want ErrInvalidPolicy", err)
	}
}

func TestEnforcerConcurrentUse(t *testing.T) {
	p, err := rbac.Parse("team", []byte(fallbackModels[0].model), []byte(fallbackModels[0].policy))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	e, err := p.NewEnforcer()
	if err != nil {
		t.Fatalf("NewEnforcer: %v", err)
	}
	if err := e.SetMember("ann", "admin", "acme"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Go(func() {
		for i := range 200 {
			user := fmt.Sprintf("u%d", i%7)
			if err := e.SetMember(user, "dev", "acme"); err != nil {
				errs <- err
				return
			}
			if err := e.DeleteMember(user, "acme"); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Go(func() {
		for range 200 {
			if !e.Enforce("ann", "acme", "pods.gpu.create") {
				errs <- errors.New("ann, an admin of acme, was refused during changes to other members")
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
