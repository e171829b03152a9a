package rbac_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/teamroster/roster/rbac"
)

// domainModel is Casbin's canonical RBAC with domains model: each rule
// names the team it applies in.
const domainModel = `[request_definition]
r = sub, dom, act

[policy_definition]
p = sub, dom, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && r.act == p.act
`

// domainPolicy gives admin every action in acc_1 and owner every action in
// acc_2; viewer, listed first, is top nowhere.
const domainPolicy = `p, viewer, acc_1, audit.read
p, admin, acc_1, members.invite
p, admin, acc_1, members.manage
p, admin, acc_1, settings.manage
p, admin, acc_1, audit.read
p, admin, acc_2, audit.read
p, owner, acc_2, members.invite
p, owner, acc_2, members.manage
p, owner, acc_2, settings.manage
p, owner, acc_2, audit.read
`

// priorityModel decides by the first matching rule in priority order, which
// Casbin computes when it loads the policy.
var priorityModel = strings.NewReplacer(
	"p = sub, act", "p = priority, sub, act, eft",
	"e = some(where (p.eft == allow))", "e = priority(p.eft) || deny",
	"r.act == p.act", "keyMatch(r.act, p.act)",
).Replace(testModel)

// priorityPolicy lists its rules out of priority order: in file order
// dev's pattern would allow pods.delete, in priority order the deny wins.
const priorityPolicy = `p, 10, dev, pods.*, allow
p, 1, dev, pods.delete, deny
p, 5, admin, *, allow
p, 20, viewer, pods.read, allow
p, 3, viewer, pods.read, deny
p, 4, viewer, audit.read, allow
`

// teamDenyModel has a team column, matched with keyMatch, and deny rules.
var teamDenyModel = strings.NewReplacer(
	"p = sub, act", "p = sub, dom, act, eft",
	"e = some(where (p.eft == allow))", "e = some(where (p.eft == allow)) && !some(where (p.eft == deny))",
	"r.act == p.act", "keyMatch(r.dom, p.dom) && keyMatch(r.act, p.act)",
).Replace(testModel)

// teamDenyPolicy denies dev pods.delete in team frozen only.
const teamDenyPolicy = `p, admin, *, *, allow
p, lead, *, pods.create, allow
p, lead, *, pods.delete, allow
p, dev, *, pods.create, allow
p, dev, *, pods.delete, allow
p, dev, frozen, pods.delete, deny
`

// differentialPolicies are the fallback policies AllowsIn is compared on
// with plain Casbin.
func differentialPolicies(t *testing.T) map[string]*rbac.Policy {
	t.Helper()
	policies := map[string]*rbac.Policy{}
	for _, tt := range fallbackModels {
		policies[tt.name] = mustParse(t, tt.model, tt.policy)
	}
	policies["canonical domain model"] = mustParse(t, domainModel, domainPolicy)
	policies["priority"] = mustParse(t, priorityModel, priorityPolicy)
	policies["deny in one team"] = mustParse(t, teamDenyModel, teamDenyPolicy)
	return policies
}

// TestAllowsInMatchesCasbin checks that AllowsIn answers, for every role,
// team and action, exactly as a plain Casbin enforcer that loaded the same
// files and holds memberships as grouping rules, its users named so that
// they cannot collide with roles.
func TestAllowsInMatchesCasbin(t *testing.T) {
	teams := []string{"acme", "frozen", "initech", "acc_1", "acc_2", ""}
	for name, p := range differentialPolicies(t) {
		t.Run(name, func(t *testing.T) {
			if p.Compiled() {
				t.Fatal("Compiled() = true, want a fallback policy")
			}
			plain := plainEnforcer(t, p)
			roles := p.Roles()
			// User i holds role i+j in team j: every role in every team,
			// and each user a different role in each team.
			holder := map[[2]string]string{} // role, team -> user
			for i := range roles {
				user := fmt.Sprintf("user:%d", i)
				for j, team := range teams {
					role := roles[(i+j)%len(roles)]
					mustAddGrouping(t, plain, user, string(role), team)
					holder[[2]string{string(role), team}] = user
				}
			}
			actions := p.Actions()
			for _, a := range []rbac.Action{"pods.gpu.create", "pods", "pods.read", "pods.create", "pods.delete", "pods.*", "*", "no.such.action", ""} {
				if !p.HasAction(a) {
					actions = append(actions, a)
				}
			}
			allowed, denied := 0, 0
			for _, r := range roles {
				for _, team := range teams {
					user := holder[[2]string{string(r), team}]
					for _, a := range actions {
						want := mustEnforce(t, plain, user, team, string(a))
						if got := p.AllowsIn(team, r, a); got != want {
							t.Errorf("AllowsIn(%q, %s, %q) = %t, Casbin says %t for %s", team, r, a, got, want, user)
						}
						if want {
							allowed++
						} else {
							denied++
						}
					}
				}
			}
			if allowed == 0 || denied == 0 {
				t.Errorf("%d allowed, %d denied: the comparison tests too little", allowed, denied)
			}
			for _, team := range teams {
				for _, a := range actions {
					if p.AllowsIn(team, "ghost", a) {
						t.Errorf("AllowsIn(%q, ghost, %q) = true for an unknown role", team, a)
					}
				}
			}
		})
	}
}

// TestAllowsInHasNoUsers shows why roster asks Casbin by role: with users
// in Casbin's subject namespace, a user whose ID is a role name is that
// role, and a grouping rule for a user named like a role links two roles.
func TestAllowsInHasNoUsers(t *testing.T) {
	p := mustParse(t, fallbackModels[2].model, fallbackModels[2].policy) // admin, viewer
	if p.Compiled() {
		t.Fatal("Compiled() = true, want a fallback policy")
	}
	t.Run("a user named admin holding viewer gets admin's rights in plain Casbin", func(t *testing.T) {
		plain := plainEnforcer(t, p)
		mustAddGrouping(t, plain, "admin", "viewer", "acme")
		if !mustEnforce(t, plain, "admin", "acme", string(rbac.MembersManage)) {
			t.Fatal("plain Casbin refused: the escalation this test shows no longer happens")
		}
		if p.AllowsIn("acme", "viewer", rbac.MembersManage) {
			t.Error("AllowsIn(acme, viewer, members.manage) = true")
		}
	})
	t.Run("making a user named viewer an admin makes every viewer an admin in plain Casbin", func(t *testing.T) {
		plain := plainEnforcer(t, p)
		mustAddGrouping(t, plain, "bob", "viewer", "acme")
		mustAddGrouping(t, plain, "viewer", "admin", "acme")
		if !mustEnforce(t, plain, "bob", "acme", string(rbac.MembersManage)) {
			t.Fatal("plain Casbin refused: the escalation this test shows no longer happens")
		}
		if p.AllowsIn("acme", "viewer", rbac.MembersManage) {
			t.Error("AllowsIn(acme, viewer, members.manage) = true")
		}
		if !p.AllowsIn("acme", "viewer", rbac.AuditRead) || !p.AllowsIn("acme", "admin", rbac.MembersManage) {
			t.Error("AllowsIn lost the rights the rules grant")
		}
	})
}

func TestCoversIn(t *testing.T) {
	keyMatch := fallbackModels[0].model
	t.Run("a role holding named actions does not cover one holding a pattern", func(t *testing.T) {
		p := mustParse(t, keyMatch, `p, admin, *
p, dev, pods.*
p, dev, audit.read
p, ops, pods.read
p, ops, pods.create
p, ops, audit.read
p, viewer, pods.read
`)
		if !p.Covers("ops", "dev") {
			t.Fatal("the table says ops does not cover dev: the case this test is about is gone")
		}
		for _, c := range []struct {
			a, b rbac.Role
			want bool
		}{
			{"ops", "dev", false},
			{"dev", "ops", true},
			{"ops", "viewer", true},
			{"viewer", "ops", false},
			{"dev", "admin", false},
		} {
			if got := p.CoversIn("acme", c.a, c.b); got != c.want {
				t.Errorf("CoversIn(acme, %s, %s) = %t, want %t", c.a, c.b, got, c.want)
			}
		}
	})
	t.Run("a role holding * covers every role", func(t *testing.T) {
		p := mustParse(t, keyMatch, fallbackModels[0].policy)
		for _, b := range p.Roles() {
			if !p.CoversIn("acme", "admin", b) {
				t.Errorf("CoversIn(acme, admin, %s) = false", b)
			}
			if b != "admin" && p.CoversIn("acme", b, "admin") {
				t.Errorf("CoversIn(acme, %s, admin) = true", b)
			}
		}
	})
	t.Run("every known role covers itself, even when its pattern does not match itself", func(t *testing.T) {
		model := strings.Replace(testModel, "r.act == p.act", "regexMatch(r.act, p.act)", 1)
		p := mustParse(t, model, "p, admin, .*\np, dev, ^pods\\.[a-z]+$\n")
		if p.AllowsIn("acme", "dev", `^pods\.[a-z]+$`) {
			t.Fatal("dev's pattern matches itself: the case this test is about is gone")
		}
		for _, r := range p.Roles() {
			if !p.CoversIn("acme", r, r) {
				t.Errorf("CoversIn(acme, %s, %[2]s) = false", r, r)
			}
		}
	})
	t.Run("a deny in one team changes coverage in that team only", func(t *testing.T) {
		p := mustParse(t, teamDenyModel, teamDenyPolicy)
		for _, c := range []struct {
			team string
			a, b rbac.Role
			want bool
		}{
			{"acme", "dev", "lead", true},
			{"acme", "lead", "dev", true},
			{"frozen", "dev", "lead", false},
			{"frozen", "lead", "dev", true},
		} {
			if got := p.CoversIn(c.team, c.a, c.b); got != c.want {
				t.Errorf("CoversIn(%s, %s, %s) = %t, want %t", c.team, c.a, c.b, got, c.want)
			}
		}
	})
	t.Run("unknown roles cover nothing and are not covered", func(t *testing.T) {
		p := mustParse(t, keyMatch, fallbackModels[0].policy)
		for _, c := range [][2]rbac.Role{{"ghost", "viewer"}, {"admin", "ghost"}, {"ghost", "ghost"}, {"", ""}} {
			if p.CoversIn("acme", c[0], c[1]) {
				t.Errorf("CoversIn(acme, %q, %q) = true", c[0], c[1])
			}
		}
	})
}

func TestDomainModel(t *testing.T) {
	p := mustParse(t, domainModel, domainPolicy)
	if p.Compiled() {
		t.Fatal("Compiled() = true, want a fallback policy")
	}
	t.Run("top role found in a team the rules name", func(t *testing.T) {
		if p.Top() != "admin" {
			t.Errorf("Top() = %q, want admin, the first role top in some team", p.Top())
		}
		if p.IsTop("admin") {
			t.Error("IsTop(admin) = true in a team no rule names")
		}
	})
	t.Run("IsTopIn answers per team", func(t *testing.T) {
		want := map[string][]rbac.Role{"acc_1": {"admin"}, "acc_2": {"owner"}, "acc_3": nil, "": nil}
		for team, tops := range want {
			for _, r := range append(p.Roles(), "ghost") {
				if got := p.IsTopIn(team, r); got != slices.Contains(tops, r) {
					t.Errorf("IsTopIn(%q, %s) = %t", team, r, got)
				}
			}
		}
	})
	t.Run("CoversIn answers per team", func(t *testing.T) {
		if !p.CoversIn("acc_1", "admin", "viewer") || p.CoversIn("acc_1", "owner", "viewer") {
			t.Error("in acc_1 admin must cover viewer, owner must not")
		}
		if p.CoversIn("acc_2", "admin", "owner") || !p.CoversIn("acc_2", "owner", "admin") {
			t.Error("in acc_2 owner must cover admin, admin must not cover owner")
		}
	})
	t.Run("refused if no role is top in any team", func(t *testing.T) {
		_, err := rbac.Parse("team", []byte(domainModel), []byte(strings.NewReplacer("p, admin, acc_1, audit.read\n", "", "p, owner, acc_2, audit.read\n", "").Replace(domainPolicy)))
		if !errors.Is(err, rbac.ErrInvalidPolicy) || !strings.Contains(err.Error(), "team.csv: no role holds every action in any team, named by the rules or not") {
			t.Errorf("Parse error = %v, want ErrInvalidPolicy for no top role", err)
		}
	})
	t.Run("refused if the teams make it too large to compile", func(t *testing.T) {
		var b strings.Builder
		for i := range 400 {
			for _, a := range []rbac.Action{rbac.MembersInvite, rbac.MembersManage, rbac.SettingsManage, rbac.AuditRead} {
				fmt.Fprintf(&b, "p, admin, team_%d, %s\n", i, a)
			}
		}
		_, err := rbac.Parse("team", []byte(domainModel), []byte(b.String()))
		want := "team.csv: too large to compile: 1 roles x 4 actions x 1600 rules x 401 teams (the 400 the rules name and one other)"
		if !errors.Is(err, rbac.ErrInvalidPolicy) || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse error = %v, want ErrInvalidPolicy containing %q", err, want)
		}
	})
}

// TestCompiledInTeam checks that a compiled policy answers the same in
// every team: AllowsIn, IsTopIn and CoversIn are Allows, IsTop and Covers.
func TestCompiledInTeam(t *testing.T) {
	policies := []*rbac.Policy{rbac.Runpod(), rbac.DigitalOcean(), randomPolicy(t, 1), randomPolicy(t, 2), {}}
	teams := []string{"", "acme", "frozen", "\x00probe", "acc_1"}
	for _, p := range policies {
		t.Run(p.Name(), func(t *testing.T) {
			if !p.Compiled() {
				t.Fatal("Compiled() = false")
			}
			roles := append(p.Roles(), "ghost", "")
			actions := append(p.Actions(), "no.such.action", "*", "")
			for _, team := range teams {
				for _, a := range roles {
					if got, want := p.IsTopIn(team, a), p.IsTop(a); got != want {
						t.Errorf("IsTopIn(%q, %q) = %t, IsTop says %t", team, a, got, want)
					}
					for _, x := range actions {
						if got, want := p.AllowsIn(team, a, x), p.Allows(a, x); got != want {
							t.Errorf("AllowsIn(%q, %q, %q) = %t, Allows says %t", team, a, x, got, want)
						}
					}
					for _, b := range roles {
						if got, want := p.CoversIn(team, a, b), p.Covers(a, b); got != want {
							t.Errorf("CoversIn(%q, %q, %q) = %t, Covers says %t", team, a, b, got, want)
						}
					}
				}
			}
		})
	}
}

func TestAllowsInCasbinErrorIsFalse(t *testing.T) {
	// Evaluating the matcher fails in team "broken" only.
	model := strings.Replace(testModel, "r.act == p.act", `r.act == p.act && (r.dom != "broken" || r.dom.Age > 1)`, 1)
	p := mustParse(t, model, testPolicy)
	plain := plainEnforcer(t, p)
	mustAddGrouping(t, plain, "user:1", "admin", "broken")
	if _, err := plain.Enforce("user:1", "broken", string(rbac.AuditRead)); err == nil {
		t.Fatal("Casbin decides in team broken: the case this test is about is gone")
	}
	if !p.AllowsIn("acme", "admin", rbac.AuditRead) {
		t.Error("AllowsIn(acme, admin, audit.read) = false")
	}
	if p.AllowsIn("broken", "admin", rbac.AuditRead) || p.IsTopIn("broken", "admin") {
		t.Error("AllowsIn or IsTopIn is true where Casbin returns an error")
	}
}

func TestZeroPolicyInTeam(t *testing.T) {
	var p rbac.Policy
	if p.AllowsIn("acme", "", "") || p.AllowsIn("acme", "admin", rbac.AuditRead) {
		t.Error("the zero Policy allows something")
	}
	if p.IsTopIn("acme", "") || p.CoversIn("acme", "", "") {
		t.Error("the zero Policy has a top role or a covering role")
	}
}

// TestAllowsInConcurrentUse runs AllowsIn, IsTopIn and CoversIn from many
// goroutines on one fallback policy; under -race it shows that Casbin's
// Enforce on the shared enforcer is race-free.
func TestAllowsInConcurrentUse(t *testing.T) {
	for name, p := range differentialPolicies(t) {
		t.Run(name, func(t *testing.T) {
			teams := []string{"acme", "frozen", "acc_1", "acc_2"}
			actions := append(p.Actions(), "pods.gpu.create", "pods.delete", "no.such.action")
			type question struct {
				team string
				a, b rbac.Role
				x    rbac.Action
			}
			var questions []question
			for _, team := range teams {
				for _, a := range p.Roles() {
					for _, b := range p.Roles() {
						x := actions[len(questions)%len(actions)]
						questions = append(questions, question{team, a, b, x})
					}
				}
			}
			type answer struct{ allows, top, covers bool }
			ask := func(q question) answer {
				return answer{p.AllowsIn(q.team, q.a, q.x), p.IsTopIn(q.team, q.a), p.CoversIn(q.team, q.a, q.b)}
			}
			want := make([]answer, len(questions))
			for i, q := range questions {
				want[i] = ask(q)
			}
			var wg sync.WaitGroup
			errs := make(chan string, 4)
			for g := range 4 {
				wg.Go(func() {
					for i := range questions {
						j := (i + g*len(questions)/4) % len(questions)
						if got := ask(questions[j]); got != want[j] {
							errs <- fmt.Sprintf("%+v: got %+v in parallel, %+v alone", questions[j], got, want[j])
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}
