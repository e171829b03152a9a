package bench_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/invites"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/store/sqlstore"
)

// writeTeams is the size of the database the write benchmarks change.
const writeTeams = 1000

// parallelCallers is how many goroutines change-role-16 writes from.
const parallelCallers = 16

// writeRoster returns a Roster on a fresh database holding writeTeams
// generated teams: a copy of the generated SQLite file, or a new PostgreSQL
// schema filled by the generator (skipped without ROSTER_TEST_POSTGRES_DSN).
// A non-nil prepare is called with a connection to the database once it
// holds the teams, before the Roster opens it.
func writeRoster(b *testing.B, backend string, prepare func(db *sql.DB) error) *roster.Roster {
	b.Helper()
	ctx := context.Background()
	var s store.Store
	switch backend {
	case "sqlite":
		path := filepath.Join(b.TempDir(), "roster.db")
		copyFile(b, sqliteFile(b, writeTeams), path)
		if prepare != nil {
			db, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=off&_synchronous=OFF&_journal_mode=OFF")
			if err != nil {
				b.Fatal(err)
			}
			db.SetMaxOpenConns(1)
			if err := errors.Join(prepare(db), db.Close()); err != nil {
				b.Fatal(err)
			}
		}
		s = openStore(b, path)
	case "postgres":
		dsn := testdb.Postgres(b)
		ps, err := sqlstore.OpenPostgres(dsn) // creates the schema
		if err != nil {
			b.Fatal(err)
		}
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			b.Fatal(errors.Join(err, ps.Close()))
		}
		err = fillSQL(ctx, db, writeTeams, "$")
		if err == nil && prepare != nil {
			err = prepare(db)
		}
		if err := errors.Join(err, db.Close()); err != nil {
			b.Fatal(errors.Join(err, ps.Close()))
		}
		s = ps
	}
	b.Cleanup(func() {
		if err := s.Close(); err != nil {
			b.Error(err)
		}
	})
	r, err := roster.New(ctx, s, policy(), roster.WithBaseURL("https://app.example.com"))
	if err != nil {
		b.Fatal(err)
	}
	return r
}

// roleFlip returns the role the write benchmarks give user, the j-th member
// of their team: dev or basic, whichever roles says they do not hold (their
// generated role when roles has none for them).
func roleFlip(roles map[string]rbac.Role, user string, j int) rbac.Role {
	role, ok := roles[user]
	if !ok {
		role = memberRoles[j]
	}
	if role == rbac.RunpodDev {
		return rbac.RunpodBasic
	}
	return rbac.RunpodDev
}

func copyFile(b *testing.B, from, to string) {
	b.Helper()
	src, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		b.Fatal(errors.Join(err, dst.Close()))
	}
	if err := dst.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkWrite measures writes through the public API, one after the
// other, each its own transaction with its authorization, invariant checks,
// audit event and commit, and its application to the in-memory index:
//
//   - change-role: Teams.ChangeRole by the team's admin, alternating a
//     member between dev and basic;
//   - change-role-16: the same, by 16 goroutines at once, each changing
//     teams of its own;
//   - add-member: Teams.AddMember of a user of another team by the team's
//     admin;
//   - invite-accept: Invites.Accept of the team's invite link (made once per
//     team before the clock starts, reusable) by a user of another team:
//     the token looked up by its hash, the invite and the user checked, the
//     use counted, the member added and the member.joined event written.
//
// It reports writes/s besides ns/op. SQLite runs on a file in WAL mode with
// synchronous=NORMAL, as OpenSQLite opens it; PostgreSQL on the server named
// by ROSTER_TEST_POSTGRES_DSN, skipped without it.
func BenchmarkWrite(b *testing.B) {
	ctx := context.Background()
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			dropFixture(b)
			r := writeRoster(b, backend, nil)
			// With -count, leaf benchmarks run again on the same database:
			// the members' roles and the next new membership carry over.
			roles := map[string]rbac.Role{}
			changes, adds := 0, 0
			b.Run("change-role", func(b *testing.B) {
				for b.Loop() {
					i := changes
					t, j := i%writeTeams, 1+(i/writeTeams)%(membersPerTeam-1)
					u := userID(t, j)
					role := roleFlip(roles, u, j)
					if _, err := r.Teams.ChangeRole(ctx, userID(t, 0), teamID(t), u, role); err != nil {
						b.Fatal(err)
					}
					roles[u] = role
					changes++
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
			})
			// change-role-16: the same change by 16 callers at once, each
			// on its own teams (caller g changes the teams t with t%16 ==
			// g), so that their transactions do not wait for each other's
			// locks, only for the database's write path.
			var mu sync.Mutex // guards roles while callers run
			var done [parallelCallers]int
			b.Run(fmt.Sprintf("change-role-%d", parallelCallers), func(b *testing.B) {
				var next atomic.Int64
				var wg sync.WaitGroup
				errs := make(chan error, parallelCallers)
				b.ResetTimer()
				for g := range parallelCallers {
					wg.Go(func() {
						for next.Add(1) <= int64(b.N) {
							i := done[g]
							t := g + parallelCallers*(i%(writeTeams/parallelCallers))
							j := 1 + (i/(writeTeams/parallelCallers))%(membersPerTeam-1)
							u := userID(t, j)
							mu.Lock()
							role := roleFlip(roles, u, j)
							mu.Unlock()
							if _, err := r.Teams.ChangeRole(ctx, userID(t, 0), teamID(t), u, role); err != nil {
								errs <- err
								return
							}
							mu.Lock()
							roles[u] = role
							mu.Unlock()
							done[g]++
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				close(errs)
				if err := <-errs; err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
			})
			b.Run("add-member", func(b *testing.B) {
				for b.Loop() {
					i := adds
					t, k := i%writeTeams, i/writeTeams
					if k >= writeTeams-1 {
						b.Fatal("ran out of new memberships")
					}
					u := userID((t+1+k)%writeTeams, k%membersPerTeam)
					if _, err := r.Teams.AddMember(ctx, userID(t, 0), teamID(t), u, rbac.RunpodBasic); err != nil {
						b.Fatal(fmt.Errorf("op %d: %w", i, err))
					}
					adds++
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
			})
			var links []string // the invite link token of each team
			accepts := 0
			b.Run("invite-accept", func(b *testing.B) {
				for t := len(links); t < writeTeams; t++ {
					inv, err := r.Invites.CreateLink(ctx, userID(t, 0), teamID(t), rbac.RunpodDev, invites.MaxUses(invites.MaxLinkUses))
					if err != nil {
						b.Fatal(err)
					}
					links = append(links, inv.Token)
				}
				for b.Loop() {
					i := accepts
					t, k := i%writeTeams, i/writeTeams
					if k >= writeTeams-1 || k >= invites.MaxLinkUses {
						b.Fatal("ran out of new memberships")
					}
					// Users of other teams than add-member's: no pair repeats.
					u := userID((t+1+k)%writeTeams, (k+membersPerTeam/2)%membersPerTeam)
					if _, err := r.Invites.Accept(ctx, u, links[t]); err != nil {
						b.Fatal(fmt.Errorf("op %d: %w", i, err))
					}
					accepts++
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
			})
		})
	}
}
