package rbac_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	fileadapter "github.com/casbin/casbin/v2/persist/file-adapter"

	"github.com/teamroster/roster/rbac"
)

// TestMatchesCasbin checks that the decision table answers exactly as a
// plain Casbin enforcer built from the same model text and policy text (read
// by Casbin's own file adapter) with memberships as grouping rules.
func TestMatchesCasbin(t *testing.T) {
	policies := map[string]*rbac.Policy{
		"runpod":       rbac.Runpod(),
		"digitalocean": rbac.DigitalOcean(),
	}
	for seed := range uint64(6) {
		policies[fmt.Sprintf("random %d", seed)] = randomPolicy(t, seed)
	}
	// A policy with more than 64 actions spans several words per role.
	policies["random wide"] = randomPolicyOfSize(t, 99, 3, 70)

	for name, p := range policies {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(len(name))))
			e := plainEnforcer(t, p)

			// Give every role to a few users, each in a random team, and
			// some users roles in two teams.
			type membership struct{ user, team string }
			holders := map[rbac.Role][]membership{}
			teams := []string{"team-a", "team-b", "team-c"}
			for i, r := range p.Roles() {
				for j := range 3 {
					m := membership{fmt.Sprintf("user-%d-%d", i, j), teams[rng.IntN(len(teams))]}
					holders[r] = append(holders[r], m)
					mustAddGrouping(t, e, m.user, string(r), m.team)
				}
			}
			roles := p.Roles()
			for i := range roles {
				// The same user holds another role in a team of its own.
				other := roles[rng.IntN(len(roles))]
				m := membership{fmt.Sprintf("user-%d-0", i), "team-" + string(other)}
				holders[other] = append(holders[other], m)
				mustAddGrouping(t, e, m.user, string(other), m.team)
			}
			mustAddGrouping(t, e, "ghost-holder", "ghost", "team-a")

			for _, r := range p.Roles() {
				rid, ok := p.RoleID(r)
				if !ok {
					t.Fatalf("RoleID(%s) not found", r)
				}
				for _, a := range p.Actions() {
					aid, ok := p.ActionID(a)
					if !ok {
						t.Fatalf("ActionID(%s) not found", a)
					}
					for _, m := range holders[r] {
						want := mustEnforce(t, e, m.user, m.team, string(a))
						if got := p.Allowed(rid, aid); got != want {
							t.Errorf("Allowed(%s, %s) = %t, Casbin says %t for %s in %s", r, a, got, want, m.user, m.team)
						}
						if got := p.Allows(r, a); got != want {
							t.Errorf("Allows(%s, %s) = %t, Casbin says %t for %s in %s", r, a, got, want, m.user, m.team)
						}
					}
				}
				// An action the policy lacks.
				for _, m := range holders[r] {
					if mustEnforce(t, e, m.user, m.team, "no.such.action") || p.Allows(r, "no.such.action") {
						t.Errorf("unknown action allowed for role %s", r)
					}
				}
			}
			// A role the policy lacks.
			for _, a := range p.Actions() {
				if mustEnforce(t, e, "ghost-holder", "team-a", string(a)) || p.Allows("ghost", a) {
					t.Errorf("unknown role allowed action %s", a)
				}
			}
		})
	}
}

// plainEnforcer builds a Casbin enforcer from p's model text and policy
// text, letting Casbin's file adapter read the policy.
func plainEnforcer(tb testing.TB, p *rbac.Policy) *casbin.Enforcer {
	tb.Helper()
	m, err := model.NewModelFromString(p.ModelText())
	if err != nil {
		tb.Fatalf("model.NewModelFromString: %v", err)
	}
	path := filepath.Join(tb.TempDir(), "policy.csv")
	if err := os.WriteFile(path, []byte(p.PolicyText()), 0o600); err != nil {
		tb.Fatal(err)
	}
	e, err := casbin.NewEnforcer(m, fileadapter.NewAdapter(path))
	if err != nil {
		tb.Fatalf("casbin.NewEnforcer: %v", err)
	}
	e.EnableAutoSave(false)
	return e
}

func mustAddGrouping(tb testing.TB, e *casbin.Enforcer, user, role, team string) {
	tb.Helper()
	if _, err := e.AddGroupingPolicy(user, role, team); err != nil {
		tb.Fatalf("AddGroupingPolicy(%s, %s, %s): %v", user, role, team, err)
	}
}

func mustEnforce(tb testing.TB, e *casbin.Enforcer, user, team, action string) bool {
	tb.Helper()
	ok, err := e.Enforce(user, team, action)
	if err != nil {
		tb.Fatalf("Enforce(%s, %s, %s): %v", user, team, action, err)
	}
	return ok
}

// randomPolicy generates and parses a random policy: a few roles and
// actions, always the four library actions and a top role.
func randomPolicy(tb testing.TB, seed uint64) *rbac.Policy {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, seed))
	return randomPolicyOfSize(tb, seed, 1+rng.IntN(10), rng.IntN(30))
}

// randomPolicyOfSize generates and parses a random policy with the given
// number of roles and of actions besides the four library actions. One
// random role holds every action; the others a random subset. Rules come in
// random order between comments and blank lines.
func randomPolicyOfSize(tb testing.TB, seed uint64, roles, extraActions int) *rbac.Policy {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	actions := []string{"members.invite", "members.manage", "settings.manage", "audit.read"}
	for i := range extraActions {
		actions = append(actions, fmt.Sprintf("äction.%d", i))
	}
	top := rng.IntN(roles)
	var lines []string
	for r := range roles {
		density := rng.Float64()
		for _, a := range actions {
			if r == top || rng.Float64() < density {
				sp := []string{"", " ", "  ", "\t"}
				lines = append(lines, fmt.Sprintf("p,%srole-%d,%s%s", sp[rng.IntN(4)], r, sp[rng.IntN(4)], a))
			}
		}
	}
	rng.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	var b strings.Builder
	for _, l := range lines {
		switch rng.IntN(6) {
		case 0:
			b.WriteString("# a comment, with p, fake, rule\n")
		case 1:
			b.WriteString("\n")
		}
		b.WriteString(l + "\n")
	}
	p, err := rbac.Parse(fmt.Sprintf("random%d", seed), []byte(rbac.Runpod().ModelText()), []byte(b.String()))
	if err != nil {
		tb.Fatalf("Parse of random policy %d: %v\n%s", seed, err, b.String())
	}
	return p
}
