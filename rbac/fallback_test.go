package rbac_test

import (
	"strings"
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
	}
	for _, p := range []*rbac.Policy{rbac.Runpod(), rbac.DigitalOcean()} {
		t.Run(p.Name()+" is compiled", func(t *testing.T) {
			if !p.Compiled() {
				t.Error("Compiled() = false, want true")
			}
		})
	}
}
