package rbac_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/teamroster/roster/rbac"
)

// TestRefusedModelShapes checks that models under which a member's rights
// could depend on more than their role, the team and the action are refused.
func TestRefusedModelShapes(t *testing.T) {
	tests := []struct {
		name    string
		model   string
		policy  string
		wantMsg string
	}{
		{
			name:    "subjectPriority effect",
			model:   strings.Replace(testModel, "e = some(where (p.eft == allow))", "e = subjectPriority(p.eft) || deny", 1),
			wantMsg: `team.conf:11: "e = subjectPriority(p.eft) || deny": subjectPriority orders the rules`,
		},
		{
			name:    "r.sub in a pattern",
			model:   strings.Replace(testModel, "r.act == p.act", "r.act == p.act || keyMatch(r.sub, p.sub)", 1),
			wantMsg: "team.conf:14: \"m = g(r.sub, p.sub, r.dom) && r.act == p.act || keyMatch(r.sub, p.sub)\": the matcher uses r.sub outside g(r.sub, p.sub, r.dom)",
		},
		{
			name:    "attribute of r.sub",
			model:   strings.Replace(testModel, "r.act == p.act", "r.act == p.act && r.sub.Age > 18", 1),
			wantMsg: "team.conf:14: ",
		},
		{
			name:    "r_sub spelled as Casbin escapes it",
			model:   strings.Replace(testModel, "r.act == p.act", "r.act == p.act && r_sub != r.dom", 1),
			wantMsg: "team.conf:14: ",
		},
		{
			name:    "r.sub in a string eval evaluates",
			model:   strings.Replace(testModel, "r.act == p.act", `r.act == p.act && eval("r.sub != r.dom")`, 1),
			wantMsg: "team.conf:14: ",
		},
		{
			name:    "no g, r.sub compared",
			model:   strings.Replace(testModel, "g(r.sub, p.sub, r.dom)", "r.sub == p.sub", 1),
			wantMsg: "team.conf:14: ",
		},
		{
			name:    "g called twice",
			model:   strings.Replace(testModel, "r.act == p.act", "r.act == p.act && g(r.sub, p.sub, r.dom)", 1),
			wantMsg: "team.conf:14: \"m = g(r.sub, p.sub, r.dom) && r.act == p.act && g(r.sub, p.sub, r.dom)\": the matcher calls g more than once",
		},
		{
			name:    "g with a fixed team",
			model:   strings.Replace(testModel, "g(r.sub, p.sub, r.dom)", `g(r.sub, p.sub, "acme")`, 1),
			wantMsg: "team.conf:14: \"m = g(r.sub, p.sub, \\\"acme\\\") && r.act == p.act\": the matcher calls g with other arguments",
		},
		{
			name:    "g with its arguments swapped",
			model:   strings.Replace(testModel, "g(r.sub, p.sub, r.dom)", "g(p.sub, r.sub, r.dom)", 1),
			wantMsg: "team.conf:14: ",
		},
		{
			name:    "g on the rule's subject only",
			model:   strings.Replace(testModel, "g(r.sub, p.sub, r.dom)", "g(p.sub, p.sub, r.dom)", 1),
			wantMsg: "the matcher calls g with other arguments",
		},
		{
			name:    "a rule field that eval evaluates uses r.sub",
			model:   strings.NewReplacer("p = sub, act", "p = sub, act, cond", "r.act == p.act", "r.act == p.act && eval(p.cond)").Replace(testModel),
			policy:  "p, admin, members.invite, true\np, admin, members.manage, true\np, admin, settings.manage, true\np, admin, audit.read, r.sub!=r.dom\n",
			wantMsg: `team.csv:4: cond "r.sub!=r.dom" uses r.sub`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			policy := tt.policy
			if policy == "" {
				policy = testPolicy
			}
			p, err := rbac.Parse("team", []byte(tt.model), []byte(policy))
			if err == nil {
				t.Fatalf("Parse succeeded with roles %v, want an error", p.Roles())
			}
			if !errors.Is(err, rbac.ErrNotCompilable) {
				t.Errorf("Parse error %q does not wrap ErrNotCompilable", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Parse error %q does not contain %q", err, tt.wantMsg)
			}
		})
	}

	t.Run("a matcher without r.sub still loads", func(t *testing.T) {
		p := mustParse(t, strings.Replace(testModel, "g(r.sub, p.sub, r.dom) && ", "", 1), testPolicy)
		if p.Compiled() || !p.Allows("viewer", rbac.MembersInvite) {
			t.Error("a matcher that ignores the role must let every role do what any rule allows")
		}
	})
	t.Run("eval of rule fields without r.sub still loads", func(t *testing.T) {
		model := strings.NewReplacer("p = sub, act", "p = sub, act, cond", "r.act == p.act", "r.act == p.act && eval(p.cond)").Replace(testModel)
		p := mustParse(t, model, "p, admin, members.invite, true\np, admin, members.manage, true\np, admin, settings.manage, true\n"+
			"p, admin, audit.read, true\np, viewer, audit.read, r.dom==r.act\n")
		if p.Allows("viewer", rbac.AuditRead) || !p.Allows("admin", rbac.AuditRead) {
			t.Error("eval of the rule fields does not decide as written")
		}
	})
}
