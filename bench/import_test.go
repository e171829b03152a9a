package bench_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/store/sqlstore"
)

// BenchmarkImportUsers measures Teams.ImportUsers bringing a host's users
// table into an empty database in one call, in batches of
// teams.DefaultImportBatch: each user gets their personal account, its
// membership and its account.created event. ROSTER_BENCH_IMPORT_USERS sets
// the table's size (10,000 by default; the documented run used 100,000).
// It reports users/s.
func BenchmarkImportUsers(b *testing.B) {
	ctx := context.Background()
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("ROSTER_BENCH_IMPORT_USERS")); err == nil && v > 0 {
		n = v
	}
	users := make([]store.User, n)
	for i := range users {
		users[i] = store.User{ID: fmt.Sprintf("host-user-%07d", i), Email: fmt.Sprintf("user%d@example.com", i),
			Name: fmt.Sprintf("User %d", i), SignIn: store.SignInEmail2FA}
	}
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(fmt.Sprintf("%s/users=%d", backend, n), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				var (
					s   *sqlstore.Store
					err error
				)
				if backend == "sqlite" {
					s, err = sqlstore.OpenSQLite(filepath.Join(b.TempDir(), "import.db"))
				} else {
					s, err = sqlstore.OpenPostgres(testdb.Postgres(b))
				}
				if err != nil {
					b.Fatal(err)
				}
				r, err := roster.New(ctx, s, policy())
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				res, err := r.Teams.ImportUsers(ctx, users)
				if err != nil || res.Created != n {
					b.Fatalf("ImportUsers = %+v, %v", res, err)
				}
				b.StopTimer()
				if err := r.Close(); err != nil {
					b.Fatal(err)
				}
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "users/s")
		})
	}
}
