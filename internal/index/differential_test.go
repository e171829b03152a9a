package index_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	gormadapter "github.com/casbin/gorm-adapter/v3"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/teamroster/roster/internal/index"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	rosterteams "github.com/teamroster/roster/teams"
)

// TestCanEqualsCasbin generates random worlds of users, teams and roles for
// both presets, and checks that the Index (roster's Can) gives Casbin's own
// Enforce answer, on the same model and policy with the memberships loaded
// as grouping rules through the gorm adapter, for every (user, team, action)
// triple: first as loaded from the store, then after random changes made
// through the teams service, whose commits the Index applies as roster's do.
func TestCanEqualsCasbin(t *testing.T) {
	for _, p := range []*rbac.Policy{rbac.Runpod(), rbac.DigitalOcean()} {
		for seed := range uint64(4) {
			t.Run(fmt.Sprintf("%s/seed %d", p.Name(), seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, 42))
				path := testdb.SQLitePath(t)
				s, err := testdb.Backends()[0].Open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				users, teams := randomWorld(t, s, p, rng)

				ix := loaded(t, s, p)
				compareWithCasbin(t, ix, p, s, path, users, teams)

				// Random changes through the teams service, then compare again.
				randomWalk(t, ix, p, s, path, users, teams, rng)
				compareWithCasbin(t, ix, p, s, path, users, teams)
			})
		}
	}
}

// TestFallbackCanEqualsCasbin is TestCanEqualsCasbin for policies that are
// not compiled, whose questions the Index passes to Casbin's Enforce: patterns
// (keyMatch, so that pods.gpu.create is allowed by a rule for pods.*), a
// deny effect and a condition on the team. It runs on SQLite and, when
// ROSTER_TEST_POSTGRES_DSN is set, PostgreSQL.
func TestFallbackCanEqualsCasbin(t *testing.T) {
	ctx := context.Background()
	flat := rbac.Runpod().ModelText()
	library := "p, admin, members.invite\np, admin, members.manage\np, admin, settings.manage\np, admin, audit.read\n"
	policies := []struct{ name, model, policy string }{
		{
			name:   "keyMatch",
			model:  strings.Replace(flat, "r.act == p.act", "keyMatch(r.act, p.act)", 1),
			policy: "p, admin, *\np, dev, pods.*\np, dev, audit.read\np, viewer, pods.read\np, viewer, pods.gpu.read\n",
		},
		{
			name: "deny effect",
			model: strings.NewReplacer(
				"p = sub, act", "p = sub, act, eft",
				"e = some(where (p.eft == allow))", "e = some(where (p.eft == allow)) && !some(where (p.eft == deny))",
				"r.act == p.act", "keyMatch(r.act, p.act)",
			).Replace(flat),
			policy: "p, admin, *, allow\np, dev, pods.*, allow\np, dev, pods.gpu.create, deny\np, dev, members.invite, allow\n",
		},
		{
			name:   "condition on the team",
			model:  strings.Replace(flat, "r.act == p.act", `r.act == p.act && r.dom != "team01"`, 1),
			policy: library + "p, admin, pods.gpu.create\np, viewer, audit.read\np, viewer, pods.gpu.create\n",
		},
	}
	for _, b := range testdb.Backends() {
		for _, tt := range policies {
			for seed := range uint64(2) {
				t.Run(fmt.Sprintf("%s/%s/seed %d", b.Name, tt.name, seed), func(t *testing.T) {
					b.Skip(t)
					p, err := rbac.Parse("fallback", []byte(tt.model), []byte(tt.policy))
					if err != nil {
						t.Fatal(err)
					}
					if p.Compiled() {
						t.Fatal("the policy is compiled: the test would not exercise the fallback")
					}
					rng := rand.New(rand.NewPCG(seed, 43))
					s := b.Store(t)
					users, teams := randomWorld(t, s, p, rng)
					ix := loaded(t, s, p)
					compareWithCasbin(t, ix, p, s, "", users, teams)

					svc := rosterteams.New(following{s, ix}, p)
					_, err = svc.DefineRole(ctx, members(t, s, teams[0])[0].UserID, teams[0], "custom", p.Actions()[:1])
					if !errors.Is(err, rosterteams.ErrTeamRolesUnsupported) {
						t.Errorf("DefineRole error = %v, want ErrTeamRolesUnsupported", err)
					}
					randomWalk(t, ix, p, s, "", users, teams, rng)
				})
			}
		}
	}
}

// loaded returns an Index deciding with p, loaded from s.
func loaded(t *testing.T, s store.Store, p *rbac.Policy) *index.Index {
	t.Helper()
	ix := index.New(p)
	if err := ix.Load(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return ix
}

// following is the Store the teams service writes through in these tests:
// like roster's, it applies every commit to the Index before the call
// returns.
type following struct {
	store.Store
	ix *index.Index
}

// Committed applies the commit c to the Index.
func (f following) Committed(ctx context.Context, c store.Commit) error {
	return f.ix.Apply(ctx, f.Store, c)
}

// randomWalk makes 80 random changes through the teams service on s (members
// added, changed and removed, team roles defined where the policy has them)
// by an actor holding the top role, with ix applying each commit; checks
// that each is refused whenever ix refuses the actor members.manage in that
// team (writes are decided like Can), and compares ix with Casbin again (see
// compareWithCasbin for path). Refusals are part of the walk, but enough
// changes must apply.
func randomWalk(t *testing.T, ix *index.Index, p *rbac.Policy, s store.Store, path string, users, teams []string, rng *rand.Rand) {
	t.Helper()
	ctx := context.Background()
	svc := rosterteams.New(following{s, ix}, p)
	top := string(p.Top())
	applied := 0
	var err error
	for range 80 {
		acct := teams[rng.IntN(len(teams))]
		ms := members(t, s, acct)
		actor := ""
		for _, m := range ms {
			if m.Role == top {
				actor = m.UserID
			}
		}
		target := users[rng.IntN(len(users))]
		role := p.Roles()[rng.IntN(len(p.Roles()))]
		if p.Compiled() && rng.IntN(3) == 0 {
			role = rbac.Role(fmt.Sprintf("custom%d", rng.IntN(3)))
		}
		mayManage := ix.Allowed(actor, acct, rbac.MembersManage)
		ops := 4
		if !p.Compiled() {
			ops = 3 // no team roles
		}
		switch rng.IntN(ops) {
		case 3:
			var acts []rbac.Action
			for _, a := range randomActions(p, rng) {
				acts = append(acts, rbac.Action(a))
			}
			_, err = svc.DefineRole(ctx, actor, acct, fmt.Sprintf("custom%d", rng.IntN(3)), acts)
		case 0:
			_, err = svc.AddMember(ctx, actor, acct, target, role)
		case 1:
			_, err = svc.ChangeRole(ctx, actor, acct, target, role)
		case 2:
			err = svc.RemoveMember(ctx, actor, acct, target)
		}
		if err == nil {
			applied++
		} // refusals (not a member, last owner...) are part of the random walk
		if actor != "" && !mayManage && !errors.Is(err, rbac.ErrDenied) {
			t.Errorf("a change by %s in %s, whom the Index refuses members.manage there: %v, want ErrDenied", actor, acct, err)
		}
	}
	if applied < 10 {
		t.Fatalf("only %d of 80 random changes applied: the walk tests too little", applied)
	}
	compareWithCasbin(t, ix, p, s, path, users, teams)
}

// randomWorld writes users, team accounts and random memberships straight
// into the store, and returns the user IDs (plus one that is in no team)
// and team IDs.
func randomWorld(t *testing.T, s store.Store, p *rbac.Policy, rng *rand.Rand) (users, teams []string) {
	t.Helper()
	ctx := context.Background()
	nUsers, nTeams := 12+rng.IntN(10), 4+rng.IntN(5)
	_, err := s.Update(ctx, func(tx store.Tx) error {
		for i := range nUsers {
			id := fmt.Sprintf("u%02d", i)
			if err := tx.CreateUser(ctx, store.User{ID: id, Email: id + "@example.com", Name: id, SignIn: store.SignInEmail}); err != nil {
				return err
			}
			users = append(users, id)
		}
		for i := range nTeams {
			id := fmt.Sprintf("team%02d", i)
			owner := users[rng.IntN(nUsers)]
			if err := tx.CreateAccount(ctx, store.Account{ID: id, Kind: store.Team, Name: id, Owner: owner}); err != nil {
				return err
			}
			teams = append(teams, id)
			if err := tx.CreateMember(ctx, store.Member{AccountID: id, UserID: owner, Role: string(p.Top())}); err != nil {
				return err
			}
			roles := p.Roles()
			for k := range rng.IntN(3) {
				if !p.Compiled() {
					break // such a policy has no team roles
				}
				name := fmt.Sprintf("custom%d", k)
				if err := tx.PutTeamRole(ctx, store.TeamRole{AccountID: id, Name: name, Actions: randomActions(p, rng)}); err != nil {
					return err
				}
				roles = append(roles, rbac.Role(name))
			}
			for _, u := range users {
				if u == owner || rng.IntN(3) != 0 {
					continue
				}
				role := roles[rng.IntN(len(roles))]
				if err := tx.CreateMember(ctx, store.Member{AccountID: id, UserID: u, Role: string(role)}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return append(users, "stranger"), teams
}

// randomActions returns a random non-empty, proper subset of p's actions.
func randomActions(p *rbac.Policy, rng *rand.Rand) []string {
	all := p.Actions()
	var out []string
	for len(out) == 0 || len(out) == len(all) {
		out = out[:0]
		for _, a := range all {
			if rng.IntN(2) == 0 {
				out = append(out, string(a))
			}
		}
	}
	return out
}

func members(t *testing.T, s store.Store, accountID string) []store.Member {
	t.Helper()
	var ms []store.Member
	err := s.View(context.Background(), func(tx store.Tx) (err error) {
		ms, err = tx.Members(context.Background(), accountID, store.Range{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// compareWithCasbin builds a Casbin enforcer holding the policy file's rules
// and the memberships as grouping rules, and compares every answer with the
// Index's Allowed (roster's Can) and Lookup (behind roster's Check). For a compiled policy, path is the SQLite file: the enforcer
// loads the team roles' rules from roster_casbin_rule through the gorm
// adapter, and a team role's subject is "<account>/<role>", as the README documents. For a policy
// that is not compiled path is "": it has no team roles, and the store may
// be any.
func compareWithCasbin(t *testing.T, ix *index.Index, p *rbac.Policy, s store.Store, path string, users, teams []string) {
	t.Helper()
	var adapter []any
	if path != "" {
		db, err := gorm.Open(sqlite.Open(path+"?_busy_timeout=5000"), &gorm.Config{Logger: logger.Default.LogMode(logger.Silent)})
		if err != nil {
			t.Fatal(err)
		}
		sqlDB, err := db.DB()
		if err != nil {
			t.Fatal(err)
		}
		defer sqlDB.Close()
		a, err := gormadapter.NewAdapterByDBUseTableName(db, "roster", "casbin_rule")
		if err != nil {
			t.Fatal(err)
		}
		adapter = append(adapter, a)
	}
	m, err := model.NewModelFromString(p.ModelText())
	if err != nil {
		t.Fatal(err)
	}
	e, err := casbin.NewEnforcer(append([]any{m}, adapter...)...) // loads the team roles' rules
	if err != nil {
		t.Fatal(err)
	}
	e.EnableAutoSave(false) // what follows stays in memory
	var rules [][]string
	for _, line := range strings.Split(p.PolicyText(), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ",")
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		rules = append(rules, f[1:])
	}
	if _, err := e.AddPolicies(rules); err != nil {
		t.Fatal(err)
	}
	teamRoles := 0
	for _, team := range teams {
		for _, mb := range members(t, s, team) {
			role := mb.Role
			if !p.HasRole(rbac.Role(role)) {
				role = team + "/" + role // the documented subject of a team role's rules
				teamRoles++
			}
			if _, err := e.AddGroupingPolicy(mb.UserID, role, team); err != nil {
				t.Fatal(err)
			}
		}
	}
	if teamRoles == 0 && path != "" {
		t.Error("no member holds a team role: the comparison misses them")
	}
	actions := append(p.Actions(), "no.such.action", rbac.ResourcesDelete, rbac.PodsManage, "pods.gpu.create")
	allowed := 0
	for _, u := range users {
		for _, team := range teams {
			for _, act := range actions {
				want, err := e.Enforce(u, team, string(act))
				if err != nil {
					t.Fatal(err)
				}
				if got := ix.Allowed(u, team, act); got != want {
					t.Errorf("Allowed(%s, %s, %s) = %v, Casbin Enforce = %v", u, team, act, got, want)
				}
				if a := ix.Lookup(team, u, act); a.Allowed != want {
					t.Errorf("Lookup(%s, %s, %s) = %+v, Casbin Enforce = %v", team, u, act, a, want)
				}
				if want {
					allowed++
				}
			}
		}
	}
	if allowed == 0 {
		t.Error("Casbin allows nothing: the comparison tests too little")
	}
}
