package audit_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/internal/chain"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// benchEvents is how many events the benchmarks load into one team:
// ROSTER_BENCH_EVENTS, or 1,000,000.
func benchEvents(b *testing.B, def int) int {
	b.Helper()
	if s := os.Getenv("ROSTER_BENCH_EVENTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1000 {
			b.Fatalf("ROSTER_BENCH_EVENTS=%q: want a number of at least 1000", s)
		}
		return n
	}
	return def
}

// benchStart is the time of the first loaded event; event i is i seconds
// later.
var benchStart = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// loadEvents inserts n events into the account with one SQL statement that
// generates them: 50 actors (u0..u49), 8 actions over the resource types
// pod, endpoint and invoice, 10,000 resource IDs, 1% denied, one a second
// from benchStart. They carry no hashes: the query benchmarks do not verify.
func loadEvents(b *testing.B, e *env, account string, n int) {
	b.Helper()
	cols := `account_id, occurred_at, actor, action, resource_type, resource_id, result, reason,
		before_value, after_value, ip, user_agent, request_id`
	values := `?, %s, 'u' || (i %% 50),
		CASE i %% 8 WHEN 0 THEN 'pod.created' WHEN 1 THEN 'pod.deleted' WHEN 2 THEN 'pod.started'
			WHEN 3 THEN 'pod.stopped' WHEN 4 THEN 'endpoint.created' WHEN 5 THEN 'endpoint.deleted'
			WHEN 6 THEN 'endpoint.invoked' ELSE 'invoice.viewed' END,
		CASE WHEN i %% 8 < 4 THEN 'pod' WHEN i %% 8 < 7 THEN 'endpoint' ELSE 'invoice' END,
		'r' || (i %% 10000),
		CASE WHEN i %% 100 = 0 THEN 'denied' ELSE 'allowed' END,
		CASE WHEN i %% 100 = 0 THEN 'role lacks it' ELSE '' END,
		'', '{"gpu":"A100","count":1}', '203.0.113.7', 'bench/1.0', 'req-' || i`
	var q string
	if e.b.Name == "postgres" {
		q = "INSERT INTO roster_events (" + cols + ") SELECT " +
			fmt.Sprintf(values, "TIMESTAMPTZ '2024-01-01 00:00:00+00' + i * INTERVAL '1 second'") +
			" FROM generate_series(1, ?) AS s(i)"
	} else {
		// go-sqlite3 keeps times as text in this form; whole seconds have no fraction.
		q = "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?) " +
			"INSERT INTO roster_events (" + cols + ") SELECT " +
			fmt.Sprintf(values, "datetime('2024-01-01 00:00:00', '+' || i || ' seconds') || '+00:00'") + " FROM s"
	}
	start := time.Now()
	if e.b.Name == "postgres" {
		e.exec(b, q, account, n)
		e.exec(b, "ANALYZE roster_events") // as autovacuum would soon after such a load
	} else {
		e.exec(b, q, n, account)
	}
	b.Logf("%s: loaded %d events in %v", e.b.Name, n, time.Since(start).Round(time.Millisecond))
}

// BenchmarkQueryPage times one page of 50 events of a team holding
// ROSTER_BENCH_EVENTS (default 1,000,000) events, through Audit.Query
// (authorization included), for each kind of filter (the query plans of
// these filters are asserted by store/sqlstore's
// TestFilteredQueriesUseAnIndex). Run it with:
//
//	go test ./audit -run '^$' -bench QueryPage -benchtime 200x
func BenchmarkQueryPage(b *testing.B) {
	ctx := context.Background()
	n := benchEvents(b, 1_000_000)
	for _, be := range testdb.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			be.Skip(b)
			e := newEnv(b, be, rbac.Runpod())
			acct := e.team(b, "alice")
			loadEvents(b, e, acct.ID, n)
			mid := benchStart.Add(time.Duration(n/2) * time.Second)
			// A cursor in the middle of the history: the second page below mid.
			_, midCursor, err := e.r.Audit.Query(ctx, "alice", acct.ID, audit.Filter{Until: mid})
			if err != nil {
				b.Fatal(err)
			}
			for _, c := range []struct {
				name string
				f    audit.Filter
			}{
				{"newest", audit.Filter{}},
				{"actor", audit.Filter{Actor: "u7"}},
				{"action", audit.Filter{Action: "pod.created"}},
				{"resource type", audit.Filter{ResourceType: "invoice"}},
				{"resource", audit.Filter{ResourceType: "pod", ResourceID: "r1234"}},
				{"denied", audit.Filter{Result: store.Denied}},
				{"hour in the middle", audit.Filter{Since: mid, Until: mid.Add(time.Hour)}},
				{"cursor in the middle", audit.Filter{Until: mid, Cursor: midCursor}},
				{"actor and action", audit.Filter{Actor: "u8", Action: "pod.created"}},
				{"actor and hour in the middle", audit.Filter{Actor: "u7", Since: mid, Until: mid.Add(time.Hour)}},
				{"resource and denied", audit.Filter{ResourceType: "pod", ResourceID: "r1200", Result: store.Denied}},
				{"actor and action that never meet", audit.Filter{Actor: "u1", Action: "pod.created"}},
			} {
				b.Run(c.name, func(b *testing.B) {
					got := 0
					for b.Loop() {
						events, _, err := e.r.Audit.Query(ctx, "alice", acct.ID, c.f)
						if err != nil {
							b.Fatal(err)
						}
						got = len(events)
					}
					b.ReportMetric(float64(got), "events/page")
				})
			}
		})
	}
}

// BenchmarkVerifyAndExport loads ROSTER_BENCH_EVENTS (default 100,000)
// chained events into one team and times a full Verify and a full NDJSON
// export of them:
//
//	go test ./audit -run '^$' -bench VerifyAndExport -benchtime 3x
func BenchmarkVerifyAndExport(b *testing.B) {
	ctx := context.Background()
	n := benchEvents(b, 100_000)
	for _, be := range testdb.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			be.Skip(b)
			e := newEnv(b, be, rbac.Runpod())
			acct := e.team(b, "alice")
			start := time.Now()
			const batch = 5000
			for done := 0; done < n; done += batch {
				_, err := e.s.Update(ctx, chain.Update(ctx, func(tx store.Tx) error {
					for i := done; i < min(done+batch, n); i++ {
						_, err := tx.AppendEvent(ctx, store.Event{AccountID: acct.ID, Actor: "alice", Action: "pod.created",
							ResourceType: "pod", ResourceID: fmt.Sprint("r", i%10000), Result: store.Allowed, After: `{"gpu":"A100"}`})
						if err != nil {
							return err
						}
					}
					return nil
				}))
				if err != nil {
					b.Fatal(err)
				}
			}
			b.Logf("%s: appended %d chained events in %v", be.Name, n, time.Since(start).Round(time.Millisecond))
			b.Run("verify", func(b *testing.B) {
				for b.Loop() {
					rep, err := e.r.Audit.Verify(ctx, "alice", acct.ID)
					if err != nil || rep.Events < int64(n) {
						b.Fatalf("Verify = %+v, %v", rep, err)
					}
				}
				b.ReportMetric(float64(n), "events/op")
			})
			b.Run("export ndjson", func(b *testing.B) {
				for b.Loop() {
					if _, err := e.r.Audit.Export(ctx, "alice", acct.ID, audit.Filter{}, audit.NDJSON, io.Discard); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(n), "events/op")
			})
		})
	}
}
