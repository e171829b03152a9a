package rbac_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/teamroster/roster/rbac"
)

// FuzzParse feeds Parse any model and policy text: it never panics; it
// refuses with ErrInvalidPolicy or ErrNotCompilable, or returns a policy
// with a top role that holds every action (for a fallback policy, in an
// unnamed team or in a team its rules name), the four library actions, and
// a decision table that agrees with RoleActions.
func FuzzParse(f *testing.F) {
	model := []byte(rbac.Runpod().ModelText())
	for _, p := range []*rbac.Policy{rbac.Runpod(), rbac.DigitalOcean()} {
		f.Add(model, []byte(p.PolicyText()))
	}
	lib := "p, admin, members.invite\np, admin, members.manage\np, admin, settings.manage\np, admin, audit.read\n"
	for _, policy := range []string{
		"", lib, lib + "p, dev, pods.manage\n", lib + "p, *, pods.manage\n", lib + "p, admin, *\n",
		lib + "p, a,b, c\n", lib + "p, \"admin\", x\n", lib + "g, alice, admin, team\n", lib + "p, admin, members.invite\n",
		lib + "p, basic, %\np, basic, _\n", lib + "p, r\x00, a\n", lib + "p, \xff, a\n", "p\n", "p,\n", ",,,\n",
	} {
		f.Add(model, []byte(policy))
	}
	f.Add([]byte("[request_definition]\nr = sub, obj, act\n"), []byte(lib))
	f.Add([]byte("[matchers]\nm = true\n"), []byte(lib))
	f.Add([]byte(domainModel), []byte(domainPolicy))
	f.Add([]byte(priorityModel), []byte(priorityPolicy))
	f.Add([]byte(teamDenyModel), []byte(teamDenyPolicy))
	f.Fuzz(func(t *testing.T, model, policy []byte) {
		p, err := rbac.Parse("fuzz", model, policy)
		if err != nil {
			if !errors.Is(err, rbac.ErrInvalidPolicy) && !errors.Is(err, rbac.ErrNotCompilable) {
				t.Fatalf("Parse: an error that is neither ErrInvalidPolicy nor ErrNotCompilable: %v", err)
			}
			return
		}
		top := p.Top()
		if !p.IsTop(top) && (p.Compiled() || !isTopInARuleTeam(p, top)) {
			t.Fatalf("top role %q does not hold every action", top)
		}
		for _, a := range []rbac.Action{rbac.MembersInvite, rbac.MembersManage, rbac.SettingsManage, rbac.AuditRead} {
			if !p.HasAction(a) {
				t.Fatalf("a parsed policy lacks library action %q", a)
			}
		}
		for _, r := range p.Roles() {
			held := map[rbac.Action]bool{}
			for _, a := range p.RoleActions(r) {
				held[a] = true
			}
			for _, a := range p.Actions() {
				if p.Allows(r, a) != held[a] {
					t.Fatalf("Allows(%q, %q) = %v, RoleActions says %v", r, a, p.Allows(r, a), held[a])
				}
			}
			if p.Allows(r, "*") || p.Allows("*", rbac.MembersInvite) && !p.HasRole("*") {
				t.Fatalf("a wildcard matched: role %q", r)
			}
		}
	})
}

// isTopInARuleTeam reports whether role r holds every action in a team
// named by some field of some rule of p's policy file.
func isTopInARuleTeam(p *rbac.Policy, r rbac.Role) bool {
	for line := range strings.Lines(p.PolicyText()) {
		for _, field := range strings.Split(line, ",") {
			if p.IsTopIn(strings.TrimSpace(field), r) {
				return true
			}
		}
	}
	return false
}
