package bench_test

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"testing"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/rbac"
)

// eventsPerTeam is how many events each team's audit log holds before
// BenchmarkEventIndexes writes, so that every index of roster_events has
// the depth and the spread of a log in use.
const eventsPerTeam = 100

// seedEvents is, per backend, the statement that gives every account
// eventsPerTeam events, in time order across accounts as a log grows. The
// events are not chained (no chain head is written): the benchmark appends
// after them and never verifies.
var seedEvents = map[string]string{
	"sqlite": `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ` + strconv.Itoa(eventsPerTeam-1) + `)
		INSERT INTO roster_events (account_id, occurred_at, actor, action, resource_type, resource_id, result,
			reason, before_value, after_value, ip, user_agent, request_id, commit_seq)
		SELECT a.id, strftime('%Y-%m-%d %H:%M:%S+00:00', '2025-01-01', '+' || (n.i * 2000 + a.rowid) || ' seconds'),
			a.owner, CASE n.i % 3 WHEN 0 THEN 'member.added' WHEN 1 THEN 'member.role_changed' ELSE 'invite.created' END,
			CASE n.i % 3 WHEN 2 THEN 'invite' ELSE 'member' END, 'r' || (n.i % 10),
			CASE WHEN n.i % 20 = 0 THEN 'denied' ELSE 'allowed' END, '', '', '', '', '', '', 0
		FROM n CROSS JOIN roster_accounts a ORDER BY n.i, a.rowid`,
	"postgres": `INSERT INTO roster_events (account_id, occurred_at, actor, action, resource_type, resource_id, result,
			reason, before_value, after_value, ip, user_agent, request_id, commit_seq)
		SELECT a.id, TIMESTAMPTZ '2025-01-01 00:00:00+00' + (n.i * 2000 + a.k) * interval '1 second',
			a.owner, CASE n.i % 3 WHEN 0 THEN 'member.added' WHEN 1 THEN 'member.role_changed' ELSE 'invite.created' END,
			CASE n.i % 3 WHEN 2 THEN 'invite' ELSE 'member' END, 'r' || (n.i % 10),
			CASE WHEN n.i % 20 = 0 THEN 'denied' ELSE 'allowed' END, '', '', '', '', '', '', 0
		FROM generate_series(0, ` + strconv.Itoa(eventsPerTeam-1) + `) AS n(i)
		CROSS JOIN (SELECT id, owner, row_number() OVER (ORDER BY id) AS k FROM roster_accounts) a ORDER BY n.i, a.k`,
}

// eventIndexQuery is, per backend, the statement listing the secondary
// indexes of roster_events.
var eventIndexQuery = map[string]string{
	"sqlite":   `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'roster_events' AND sql IS NOT NULL ORDER BY name`,
	"postgres": `SELECT indexname FROM pg_indexes WHERE tablename = 'roster_events' AND schemaname = current_schema() AND indexname <> 'roster_events_pkey' ORDER BY indexname`,
}

// BenchmarkEventIndexes measures what each index of roster_events costs a
// write: Teams.ChangeRole, which appends one event, as BenchmarkWrite's
// change-role does, on the generated teams with eventsPerTeam events each
// already logged; with every index ("all"), then with each one dropped in
// turn ("without-<index>"), and with none of them ("none"). An index's cost per write is the difference
// between "all" and the run without it. SQLite runs on a file in WAL mode;
// PostgreSQL on the server named by ROSTER_TEST_POSTGRES_DSN, skipped
// without it.
func BenchmarkEventIndexes(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			dropFixture(b)
			var indexes []string
			withEvents(b, backend, func(db *sql.DB) {
				indexes = queryStrings(b, db, eventIndexQuery[backend])
			})
			variants := [][]string{nil}
			for _, index := range indexes {
				variants = append(variants, []string{index})
			}
			variants = append(variants, indexes)
			for _, drop := range variants {
				name := "all"
				switch len(drop) {
				case 0:
				case 1:
					name = "without-" + strings.TrimPrefix(drop[0], "roster_events_")
				default:
					name = "none"
				}
				b.Run(name, func(b *testing.B) {
					r := withEvents(b, backend, func(db *sql.DB) {
						for _, index := range drop {
							if _, err := db.Exec("DROP INDEX " + index); err != nil {
								b.Fatal(err)
							}
						}
					})
					roles := map[string]rbac.Role{}
					i := 0
					for b.Loop() {
						t, j := i%writeTeams, 1+(i/writeTeams)%(membersPerTeam-1)
						u := userID(t, j)
						role := roleFlip(roles, u, j)
						if _, err := r.Teams.ChangeRole(context.Background(), userID(t, 0), teamID(t), u, role); err != nil {
							b.Fatal(err)
						}
						roles[u] = role
						i++
					}
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
				})
			}
		})
	}
}

// withEvents returns a Roster on a fresh database holding the generated
// teams and eventsPerTeam events per team, after calling prepare with a
// connection to the database (before the Roster opens it).
func withEvents(b *testing.B, backend string, prepare func(db *sql.DB)) *roster.Roster {
	b.Helper()
	return writeRoster(b, backend, func(db *sql.DB) error {
		for _, q := range []string{seedEvents[backend], "ANALYZE"} {
			if _, err := db.Exec(q); err != nil {
				return err
			}
		}
		prepare(db)
		return nil
	})
}

// queryStrings returns the one text column of the rows of q.
func queryStrings(b *testing.B, db *sql.DB, q string) []string {
	b.Helper()
	rows, err := db.Query(q)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			b.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return out
}
