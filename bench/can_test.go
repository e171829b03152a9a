package bench_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// Kinds of question.
const (
	allowed   = "allowed"    // a member whose role has the action
	denied    = "denied"     // a member whose role lacks the action
	nonMember = "non-member" // a user of another team
)

var kinds = []string{allowed, denied, nonMember}

// questionCount is how many different questions of each kind are drawn, at
// random from all teams. A benchmark rotates through the first n of them
// (see questionSets), so that no side is measured on one hot key.
const questionCount = 1 << 16

// questionSets are the rotations measured: 1,024 different questions (a
// busy service's working set, the headline figure), 65,536 (spread over
// the whole index, so that most of them miss the CPU caches), and one
// question asked over and over, CachedEnforcer's best case.
var questionSets = []struct {
	name string
	n    int
}{{"q1024", 1024}, {"q65536", 1 << 16}, {"repeated", 1}}

type question struct {
	user, team string
	action     rbac.Action
}

// canFixture is one size's data loaded three ways: into roster from the
// SQLite file, and into a Casbin Enforcer and CachedEnforcer from the same
// memberships, read back from that file.
type canFixture struct {
	teams     int
	r         *roster.Roster
	enforcer  *casbin.Enforcer
	cached    *casbin.CachedEnforcer
	questions map[string][]question
}

// current holds the fixture of the size being benchmarked; building the next
// size drops it, so that only one size's enforcers are in memory at a time.
var current *canFixture

func fixture(b *testing.B, teams int, withCasbin bool) *canFixture {
	b.Helper()
	if current != nil && current.teams == teams && (current.enforcer != nil || !withCasbin) {
		return current
	}
	dropFixture(b)
	ctx := context.Background()
	path := sqliteFile(b, teams)
	r, err := roster.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	f := &canFixture{teams: teams, r: r, questions: questions(r.Policy(), teams)}
	if withCasbin {
		rules := memberships(b, path)
		f.enforcer = newEnforcer(b, r.Policy(), rules)
		f.cached = newCachedEnforcer(b, r.Policy(), rules)
	}
	f.check(b)
	current = f
	runtime.GC() // start measuring with the garbage of the setup collected
	return f
}

// dropFixture closes and forgets the current fixture, so that other
// benchmarks run without its enforcers in the heap.
func dropFixture(b *testing.B) {
	b.Helper()
	if current == nil {
		return
	}
	if err := current.r.Close(); err != nil {
		b.Fatal(err)
	}
	current = nil
	runtime.GC()
}

// policy is the policy of the generated teams.
func policy() *rbac.Policy { return rbac.Runpod() }

// memberships reads every membership of the SQLite file through the store,
// as Casbin grouping rules (user, role, team).
func memberships(b *testing.B, path string) [][]string {
	b.Helper()
	s := openStore(b, path)
	defer s.Close()
	var rules [][]string
	_, err := s.Snapshot(context.Background(), func(it store.SnapshotItem) error {
		if it.UserID != "" {
			rules = append(rules, []string{it.UserID, it.Role, it.AccountID})
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return rules
}

// casbinModel returns the policy's Casbin model holding its policy rules
// and the given grouping rules.
func casbinModel(b *testing.B, p *rbac.Policy, grouping [][]string) model.Model {
	b.Helper()
	m, err := model.NewModelFromString(p.ModelText())
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(p.PolicyText(), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ",")
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		if err := m.AddPolicy("p", "p", f[1:]); err != nil {
			b.Fatal(err)
		}
	}
	if err := m.AddPolicies("g", "g", grouping); err != nil {
		b.Fatal(err)
	}
	return m
}

// newEnforcer returns Casbin's plain Enforcer on the policy and memberships.
func newEnforcer(b *testing.B, p *rbac.Policy, grouping [][]string) *casbin.Enforcer {
	b.Helper()
	e, err := casbin.NewEnforcer(casbinModel(b, p, grouping))
	if err != nil {
		b.Fatal(err)
	}
	if err := e.BuildRoleLinks(); err != nil {
		b.Fatal(err)
	}
	return e
}

// newCachedEnforcer returns Casbin's CachedEnforcer on the same data.
func newCachedEnforcer(b *testing.B, p *rbac.Policy, grouping [][]string) *casbin.CachedEnforcer {
	b.Helper()
	e, err := casbin.NewCachedEnforcer(casbinModel(b, p, grouping))
	if err != nil {
		b.Fatal(err)
	}
	if err := e.BuildRoleLinks(); err != nil {
		b.Fatal(err)
	}
	return e
}

// questions draws questionCount questions of each kind from the generated
// teams, with a fixed seed.
func questions(p *rbac.Policy, teams int) map[string][]question {
	rng := rand.New(rand.NewPCG(uint64(teams), 7))
	actions := p.Actions()
	qs := map[string][]question{}
	for len(qs[allowed]) < questionCount || len(qs[denied]) < questionCount || len(qs[nonMember]) < questionCount {
		t, j := rng.IntN(teams), rng.IntN(membersPerTeam)
		a := actions[rng.IntN(len(actions))]
		q := question{userID(t, j), teamID(t), a}
		kind := denied
		if p.Allows(memberRoles[j], a) {
			kind = allowed
		}
		if rng.IntN(3) == 0 && teams > 1 {
			other := (t + 1 + rng.IntN(teams-1)) % teams
			q.user, kind = userID(other, j), nonMember
		}
		if len(qs[kind]) < questionCount {
			qs[kind] = append(qs[kind], q)
		}
	}
	for _, kind := range kinds {
		compact(qs[kind])
	}
	return qs
}

// compact lays the questions' strings out one after the other in one block,
// the way a server's request strings sit in its cache, so that rotating
// through the questions measures the deciders' memory rather than the misses
// of strings the generator scattered over the heap.
func compact(qs []question) {
	var b strings.Builder
	for _, q := range qs {
		b.WriteString(q.user)
		b.WriteString(q.team)
	}
	all, off := b.String(), 0
	for i := range qs {
		q := &qs[i]
		nu, nt := len(q.user), len(q.team)
		q.user, q.team = all[off:off+nu], all[off+nu:off+nu+nt]
		off += nu + nt
	}
}

// check makes sure that roster gives every question, and both enforcers the
// first 4,096 of each kind, the answer its kind says, so that the three are
// measured doing the same work.
func (f *canFixture) check(b *testing.B) {
	b.Helper()
	ctx := context.Background()
	for kind, qs := range f.questions {
		want := kind == allowed
		for i, q := range qs {
			if got := f.r.Can(ctx, q.user, q.team, q.action); got != want {
				b.Fatalf("roster: Can(%s, %s, %s) = %v, want %v (%s)", q.user, q.team, q.action, got, want, kind)
			}
			if f.enforcer == nil || i >= 4096 { // Casbin takes 25 µs a question
				continue
			}
			for name, e := range map[string]casbin.IEnforcer{"Enforcer": f.enforcer, "CachedEnforcer": f.cached} {
				got, err := e.Enforce(q.user, q.team, string(q.action))
				if err != nil {
					b.Fatal(err)
				}
				if got != want {
					b.Fatalf("%s: Enforce(%s, %s, %s) = %v, want %v (%s)", name, q.user, q.team, q.action, got, want, kind)
				}
			}
		}
	}
	if f.cached != nil {
		if err := f.cached.InvalidateCache(); err != nil { // start the benchmark from an empty cache
			b.Fatal(err)
		}
	}
}

// sink keeps answers alive so that the compiler cannot drop the calls.
var sink atomic.Int64

// decider answers a question: roster's Can or a Casbin enforcer's Enforce.
type decider struct {
	name   string
	decide func(q *question) bool
}

// enforce returns e's Enforce as a decider's function.
func enforce(e casbin.IEnforcer) func(q *question) bool {
	return func(q *question) bool {
		ok, err := e.Enforce(q.user, q.team, string(q.action))
		if err != nil {
			panic(err) // the questions were checked: Enforce does not fail on them
		}
		return ok
	}
}

// casbinSizes are the sizes Casbin is measured at besides roster. At
// 100,000 teams its two enforcers take about 3 GB; set
// ROSTER_BENCH_CASBIN_MAX_TEAMS to measure Casbin at smaller sizes only.
func casbinAt(teams int) bool {
	limit, err := strconv.Atoi(os.Getenv("ROSTER_BENCH_CASBIN_MAX_TEAMS"))
	return err != nil || teams <= limit
}

// BenchmarkCan measures roster's Can, Casbin's Enforcer.Enforce and
// CachedEnforcer.Enforce on the same model, policy and memberships, for the
// three kinds of question, each rotating through a set of questions, called
// from one goroutine (serial) and from GOMAXPROCS goroutines (parallel).
// The plain Enforcer costs the same whatever the set, so it is measured on
// q1024 only.
func BenchmarkCan(b *testing.B) {
	ctx := context.Background()
	for _, teams := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("teams=%d", teams), func(b *testing.B) {
			f := fixture(b, teams, casbinAt(teams))
			for _, kind := range kinds {
				b.Run(kind, func(b *testing.B) {
					for _, set := range questionSets {
						qs := f.questions[kind][:set.n]
						b.Run(set.name, func(b *testing.B) {
							deciders := []decider{{"roster", func(q *question) bool { return f.r.Can(ctx, q.user, q.team, q.action) }}}
							if f.enforcer != nil {
								if set.n == 1024 {
									deciders = append(deciders, decider{"casbin-enforcer", enforce(f.enforcer)})
								}
								deciders = append(deciders, decider{"casbin-cached", enforce(f.cached)})
							}
							for _, d := range deciders {
								b.Run(d.name, func(b *testing.B) { measure(b, qs, d.decide) })
							}
						})
					}
				})
			}
		})
	}
}

// measure runs decide over the questions, serially and in parallel.
func measure(b *testing.B, qs []question, decide func(*question) bool) {
	b.Run("serial", func(b *testing.B) {
		n, i := 0, 0
		for b.Loop() {
			if decide(&qs[i]) {
				n++
			}
			if i++; i == len(qs) {
				i = 0
			}
		}
		sink.Add(int64(n))
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			n, i := 0, rand.IntN(len(qs))
			for pb.Next() {
				if decide(&qs[i]) {
					n++
				}
				if i++; i == len(qs) {
					i = 0
				}
			}
			sink.Add(int64(n))
		})
	})
}
