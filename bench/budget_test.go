package bench_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/store/sqlstore"
)

// budgetTeams is the size of the memory budget benchmark's data: 10,000,000
// memberships.
const budgetTeams = 1_000_000

// workingSet is how many accounts the budget benchmark's questions are
// about: they are read into memory once and then answered from it.
const workingSet = 10_000

// BenchmarkBudget measures a Roster with a memory budget of 100 MB
// (roster.WithMemoryBudget) on 10,000,000 memberships in the database
// (1,000,000 teams of 10), on SQLite and on PostgreSQL:
//
//   - open: roster.New until Can answers; it reads no membership.
//   - hit: Can about a working set of 10,000 accounts read into memory
//     before, rotating through 1,024 of its questions and through all of
//     them (ns/op, allocs/op), serially; whole: the same questions to a
//     Roster that holds all 10,000,000 memberships (on SQLite only).
//   - miss: Can about an account not in memory, each a new one: the
//     account is read from the database in one read and joins the memory.
//     It reports the median and 99th percentile of the calls (p50-µs,
//     p99-µs).
//   - memory: the heap the Roster holds after the working set and the
//     misses (MB), and the memory's own count (index-MB).
//
// The PostgreSQL data is generated once into the schema
// roster_bench_v<dataVersion>_<teams> of ROSTER_TEST_POSTGRES_DSN's
// database (about 3 minutes) and kept for later runs.
func BenchmarkBudget(b *testing.B) {
	const budget = 100 << 20
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run("backend="+backend, func(b *testing.B) {
			dropFixture(b)
			ctx := context.Background()
			s := budgetStore(b, backend)
			defer s.Close()
			var r *roster.Roster
			b.Run("open", func(b *testing.B) {
				for b.Loop() {
					if r != nil {
						if err := r.Close(); err != nil {
							b.Fatal(err)
						}
					}
					var err error
					if r, err = roster.New(ctx, s, policy(), roster.WithMemoryBudget(budget)); err != nil {
						b.Fatal(err)
					}
				}
			})
			defer r.Close()
			before := heap()
			qs := budgetQuestions(workingSet)
			for i, q := range qs { // every account of the working set read once
				if got, want := r.Can(ctx, q.user, q.team, q.action), policy().Allows(memberRoles[i%membersPerTeam], q.action); got != want {
					b.Fatalf("Can(%s, %s, %s) = %v, want %v", q.user, q.team, q.action, got, want)
				}
			}
			hits := func(name string, r *roster.Roster) {
				for _, n := range []int{1024, workingSet} {
					set := qs[:n]
					b.Run(fmt.Sprintf("%s/q%d", name, n), func(b *testing.B) {
						yes, i := 0, 0
						for b.Loop() {
							if r.Can(ctx, set[i].user, set[i].team, set[i].action) {
								yes++
							}
							if i++; i == len(set) {
								i = 0
							}
						}
						sink.Add(int64(yes))
					})
				}
			}
			hits("hit", r)
			if backend == "sqlite" {
				// The same questions to a Roster that holds every
				// membership (the backend does not matter to a hit).
				whole, err := roster.New(ctx, s, policy())
				if err != nil {
					b.Fatal(err)
				}
				hits("whole", whole)
				if err := whole.Close(); err != nil {
					b.Fatal(err)
				}
			}
			next := workingSet // teams past the working set are not in memory
			b.Run("miss", func(b *testing.B) {
				var took []time.Duration
				for b.Loop() {
					t := budgetTeam(next)
					next++
					start := time.Now()
					if !r.Can(ctx, userID(t, 0), teamID(t), rbac.AccountAccess) {
						b.Fatalf("the admin of team %d may not access it", t)
					}
					took = append(took, time.Since(start))
				}
				slices.Sort(took)
				at := func(p float64) float64 {
					return float64(took[min(len(took)-1, int(p*float64(len(took))))].Nanoseconds()) / 1e3
				}
				b.ReportMetric(at(0.5), "p50-µs")
				b.ReportMetric(at(0.99), "p99-µs")
			})
			b.Run("memory", func(b *testing.B) {
				for b.Loop() {
				}
				b.ReportMetric(float64(heap()-min(before, heap()))/1e6, "MB")
				b.ReportMetric(float64(r.Health().Memory)/1e6, "index-MB")
			})
		})
	}
}

// budgetTeam returns the i-th team the budget benchmark asks about: a
// fixed permutation of all the teams, so that its working set and its
// misses are spread over the whole database.
func budgetTeam(i int) int {
	return int(splitmix64(uint64(i)^0x5eed) % budgetTeams)
}

// budgetQuestions returns a question about each of the first n teams of
// budgetTeam's order, asked by its member i%membersPerTeam, with an action
// drawn at a fixed seed; compacted as the Can benchmark's are.
func budgetQuestions(n int) []question {
	rng := rand.New(rand.NewPCG(budgetTeams, 11))
	actions := policy().Actions()
	qs := make([]question, n)
	for i := range qs {
		t := budgetTeam(i)
		qs[i] = question{userID(t, i%membersPerTeam), teamID(t), actions[rng.IntN(len(actions))]}
	}
	compact(qs)
	return qs
}

// budgetStore opens the benchmark's data on backend: the generated SQLite
// file, or the PostgreSQL schema, generated on first use.
func budgetStore(b *testing.B, backend string) store.Store {
	b.Helper()
	if backend == "sqlite" {
		return openStore(b, sqliteFile(b, budgetTeams))
	}
	dsn := pgBenchSchema(b, budgetTeams)
	s, err := sqlstore.OpenPostgres(dsn)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// pgBenchSchema returns a DSN whose search path is a schema of the server
// ROSTER_TEST_POSTGRES_DSN names that holds the generated teams, creating
// it on first use: the schema's name says the size and the generator's
// version, and a finished generation leaves a table of that name behind.
func pgBenchSchema(b *testing.B, teams int) string {
	b.Helper()
	base := os.Getenv(testdb.EnvPostgres)
	if base == "" {
		b.Skipf("set %s to measure PostgreSQL", testdb.EnvPostgres)
	}
	schema := fmt.Sprintf("roster_bench_v%d_%d", dataVersion, teams)
	u, err := url.Parse(base)
	if err != nil {
		b.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	dsn := u.String()
	genMu.Lock()
	defer genMu.Unlock()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var done bool
	if err := db.QueryRow("SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'generated')", schema).Scan(&done); err != nil {
		b.Fatal(err)
	}
	if done {
		return dsn
	}
	start := time.Now()
	for _, stmt := range []string{"DROP SCHEMA IF EXISTS " + schema + " CASCADE", "CREATE SCHEMA " + schema} {
		if _, err := db.Exec(stmt); err != nil {
			b.Fatal(err)
		}
	}
	s, err := sqlstore.OpenPostgres(dsn) // creates the tables
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	if err := copyTeams(context.Background(), db, teams); err != nil {
		b.Fatal(err)
	}
	for _, stmt := range []string{"ANALYZE", "CREATE TABLE generated ()"} {
		if _, err := db.Exec(stmt); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("generated %d teams x %d members in PostgreSQL schema %s in %v", teams, membersPerTeam, schema, time.Since(start).Round(time.Second))
	return dsn
}

// copyTeams writes the generated users, teams and memberships with
// PostgreSQL's COPY, streaming the rows as it makes them.
func copyTeams(ctx context.Context, db *sql.DB, teams int) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	created := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	return conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		for _, table := range []struct {
			name string
			cols []string
			row  func(t, j int) []any // j < 0: the team's own row
		}{
			{"roster_users", []string{"id", "email", "name", "sign_in", "active_account", "created_at"}, func(t, j int) []any {
				if j < 0 {
					return nil
				}
				u := userID(t, j)
				return []any{u, u + "@example.com", fmt.Sprintf("User %d.%d", t, j), "email", "", created}
			}},
			{"roster_accounts", []string{"id", "kind", "name", "owner", "created_at", "updated_at"}, func(t, j int) []any {
				if j >= 0 {
					return nil
				}
				return []any{teamID(t), "team", fmt.Sprintf("Team %d", t), userID(t, 0), created, created}
			}},
			{"roster_members", []string{"account_id", "user_id", "role", "joined_at"}, func(t, j int) []any {
				if j < 0 {
					return nil
				}
				return []any{teamID(t), userID(t, j), string(memberRoles[j]), created}
			}},
		} {
			t, j := 0, -1
			n, err := pc.CopyFrom(ctx, pgx.Identifier{table.name}, table.cols, pgx.CopyFromFunc(func() ([]any, error) {
				for t < teams {
					row := table.row(t, j)
					if j++; j == membersPerTeam {
						t, j = t+1, -1
					}
					if row != nil {
						return row, nil
					}
				}
				return nil, nil
			}))
			if err != nil {
				return fmt.Errorf("copy into %s after %d rows: %w", table.name, n, err)
			}
		}
		return nil
	})
}
