package sqlstore_test

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/store/sqlstore"
)

// pageFilters are the filters of an audit log page (account, one or more
// fields, a date range, a cursor, a page size), named after what they
// filter by.
func pageFilters() map[string]store.EventFilter {
	t0 := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	key := store.EventKey{Time: t0.Add(time.Hour), ID: 1000}
	page := func(f store.EventFilter) store.EventFilter {
		f.AccountID, f.Limit = "acc_1", 51
		return f
	}
	return map[string]store.EventFilter{
		"account only":                 page(store.EventFilter{}),
		"actor":                        page(store.EventFilter{Actor: "alice"}),
		"action":                       page(store.EventFilter{Action: "member.added"}),
		"resource type":                page(store.EventFilter{ResourceType: "member"}),
		"resource type and ID":         page(store.EventFilter{ResourceType: "member", ResourceID: "bob"}),
		"result":                       page(store.EventFilter{Result: store.Denied}),
		"date range":                   page(store.EventFilter{Since: t0, Until: t0.Add(24 * time.Hour)}),
		"since only":                   page(store.EventFilter{Since: t0}),
		"cursor":                       page(store.EventFilter{Below: key}),
		"actor, date range and cursor": page(store.EventFilter{Actor: "alice", Since: t0, Until: t0.Add(time.Hour), Below: key}),
		"action and cursor":            page(store.EventFilter{Action: "pod.created", Below: key}),
		"resource and date range":      page(store.EventFilter{ResourceType: "pod", ResourceID: "p1", Since: t0}),
		"result and cursor":            page(store.EventFilter{Result: store.Denied, Below: key}),
		"actor and action":             page(store.EventFilter{Actor: "alice", Action: "pod.created"}),
		"every field": page(store.EventFilter{Actor: "alice", Action: "pod.created", ResourceType: "pod",
			ResourceID: "p1", Result: store.Allowed, Since: t0, Until: t0.Add(time.Hour), Below: key}),
	}
}

// TestFilteredQueriesUseAnIndex asserts that every filter of an audit log
// page is served by one of roster_events' indexes, in the order the page
// wants (no sort), and never by a scan of the whole table; and that the
// chain walks (oldest first, from an ID) are too.
func TestFilteredQueriesUseAnIndex(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Skip(t)
			s := b.Store(t)
			check := func(t *testing.T, name string, f store.EventFilter, sorted bool) {
				t.Helper()
				plan, err := sqlstore.ExplainEvents(t.Context(), s, f)
				if err != nil {
					t.Fatalf("%s: ExplainEvents: %v", name, err)
				}
				var problems []string
				if !strings.Contains(plan, "roster_events_") {
					problems = append(problems, "uses no index of roster_events")
				}
				lower := strings.ToLower(plan)
				if strings.Contains(lower, "seq scan") || strings.Contains(plan, "SCAN roster_events") {
					problems = append(problems, "scans the whole table")
				}
				if !sorted && (strings.Contains(plan, "TEMP B-TREE") || strings.Contains(plan, "Sort")) {
					problems = append(problems, "sorts instead of reading the index in order")
				}
				if len(problems) > 0 {
					t.Errorf("%s: the plan %s:\n%s", name, strings.Join(problems, " and "), plan)
				}
			}
			for name, f := range pageFilters() {
				t.Run(name, func(t *testing.T) { check(t, name, f, false) })
			}
			t.Run("chain order from an ID", func(t *testing.T) {
				check(t, "chain order", store.EventFilter{AccountID: "acc_1", Order: store.AppendOrder, AfterID: 10}, false)
			})
			t.Run("chain order up to an ID", func(t *testing.T) {
				check(t, "chain prefix", store.EventFilter{AccountID: "acc_1", Order: store.AppendOrder, AfterID: 10, BeforeID: 500}, false)
			})
			t.Run("a resource's events in chain order up to a time", func(t *testing.T) {
				// Membership history: sorted by ID, but only within one resource type.
				check(t, "membership", store.EventFilter{AccountID: "acc_1", ResourceType: "member", ResourceID: "bob",
					Order: store.AppendOrder, Until: time.Now()}, true)
			})
		})
	}
}

func TestExplainEvents(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Skip(t)
			t.Run("a malformed filter returns ErrInvalid", func(t *testing.T) {
				s := b.Store(t)
				if _, err := sqlstore.ExplainEvents(t.Context(), s, store.EventFilter{Limit: -1}); !errors.Is(err, store.ErrInvalid) {
					t.Errorf("ExplainEvents(Limit -1) = %v, want ErrInvalid", err)
				}
			})
			t.Run("a closed store returns ErrClosed", func(t *testing.T) {
				s, err := b.Open(b.DSN(t))
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				if _, err := sqlstore.ExplainEvents(t.Context(), s, store.EventFilter{}); !errors.Is(err, store.ErrClosed) {
					t.Errorf("ExplainEvents after Close = %v, want ErrClosed", err)
				}
			})
			t.Run("the plan names the table", func(t *testing.T) {
				s := b.Store(t)
				plan, err := sqlstore.ExplainEvents(t.Context(), s, store.EventFilter{AccountID: "a", Actor: "x"})
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(plan, "roster_events") {
					t.Errorf("plan does not name roster_events:\n%s", plan)
				}
			})
		})
	}
}

// TestRangesUseAnIndex asserts that every statement with which Members,
// Memberships, Invites, Transfers and APIKeys (of an account, and of one
// user in it) read a range (the first page, a page after a key with a
// time, a page after a key with the zero time) is one range scan of the
// list's (owner, time, ID) index in the order wanted: no sort, no scan of
// the whole table.
func TestRangesUseAnIndex(t *testing.T) {
	indexes := map[string]string{
		"members": "roster_members_joined", "memberships": "roster_members_user_joined",
		"invites": "roster_invites_page", "transfers": "roster_transfers_page",
		"api keys": "roster_api_keys_page", "user api keys": "roster_api_keys_user_page",
	}
	owners := map[string][]string{"user api keys": {"x1", "u1"}}
	ranges := map[string]store.Range{
		"first page":            {Limit: 51},
		"after a key":           {After: store.Key{Time: time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC), ID: "u1"}, Limit: 51},
		"after a zero-time key": {After: store.Key{ID: "u1"}, Limit: 51},
	}
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Skip(t)
			s := b.Store(t)
			seedLists(t, s, b.Name, 2000)
			for list, index := range indexes {
				for name, r := range ranges {
					owner := owners[list]
					if owner == nil {
						owner = []string{"x1"}
					}
					plans, err := sqlstore.ExplainRange(t.Context(), s, list, owner, r)
					if err != nil {
						t.Fatalf("%s, %s: %v", list, name, err)
					}
					if len(plans) == 0 {
						t.Fatalf("%s, %s: no statement", list, name)
					}
					for i, plan := range plans {
						var problems []string
						if !strings.Contains(plan, index) {
							problems = append(problems, "does not use "+index)
						}
						if strings.Contains(strings.ToLower(plan), "seq scan") || strings.Contains(plan, "SCAN roster_") {
							problems = append(problems, "scans the whole table")
						}
						if strings.Contains(plan, "TEMP B-TREE") || strings.Contains(plan, "Sort") {
							problems = append(problems, "sorts instead of reading the index in order")
						}
						if len(problems) > 0 {
							t.Errorf("%s, %s, statement %d: the plan %s:\n%s", list, name, i+1, strings.Join(problems, " and "), plan)
						}
					}
				}
			}
			if _, err := sqlstore.ExplainRange(t.Context(), s, "nothing", []string{"owner1"}, store.Range{}); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("ExplainRange of an unknown list = %v, want ErrInvalid", err)
			}
			if _, err := sqlstore.ExplainRange(t.Context(), s, "user api keys", []string{"x1"}, store.Range{}); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("ExplainRange of a user's keys without the user = %v, want ErrInvalid", err)
			}
		})
	}
}

// TestAPIKeyWritesUseAnIndex asserts that TouchAPIKeys finds the keys it
// records uses of by their primary key, and DeleteUser a user's keys by the
// index on their user, never by a scan of the whole table.
func TestAPIKeyWritesUseAnIndex(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Skip(t)
			s := b.Store(t)
			seedLists(t, s, b.Name, 2000)
			pk := map[string]string{"sqlite": "sqlite_autoindex_roster_api_keys_1", "postgres": "roster_api_keys_pkey"}[b.Name]
			for _, n := range []int{1, 4} {
				touch, live, deleted, err := sqlstore.ExplainKeyWrites(t.Context(), s, n)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range []struct{ what, plan, index string }{
					{fmt.Sprintf("touching %d keys", n), touch, pk},
					{"looking for a user's live keys", live, "roster_api_keys_user"},
					{"deleting a user's revoked keys", deleted, "roster_api_keys_user"},
				} {
					if !regexp.MustCompile(`\b`+c.index+`\b`).MatchString(c.plan) || strings.Contains(strings.ToLower(c.plan), "seq scan") ||
						strings.Contains(c.plan, "SCAN roster_api_keys") || strings.Contains(c.plan, "SCAN k") {
						t.Errorf("%s: the plan does not use %s, or scans the whole table:\n%s", c.what, c.index, c.plan)
					}
				}
			}
		})
	}
}

// TestMemberReadsUseAnIndex asserts that Seats counts an account's members
// by an index of roster_members and its pending invites by
// roster_invites_page, that ExpiredMembers reads roster_members_until in
// the order it returns (no sort), and that Snapshot reads the memberships
// that have an end time or are suspended through roster_members_until and
// roster_members_suspended: none of them scans the whole table.
func TestMemberReadsUseAnIndex(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Skip(t)
			s := b.Store(t)
			seedLists(t, s, b.Name, 2000)
			whole := regexp.MustCompile(`SCAN roster_(members|invites)|Seq Scan on roster_(members|invites)`)
			partial := regexp.MustCompile(`INDEX roster_members_(until|suspended)\b`)
			plans, err := sqlstore.ExplainMemberReads(t.Context(), s, time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC))
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				name    string
				indexes []string
				sorted  bool // the statement may sort
			}{
				{"seats", []string{"roster_members_pkey|sqlite_autoindex_roster_members_1|roster_members_joined", "roster_invites_page"}, false},
				{"expired members", []string{"roster_members_until"}, false},
				{"snapshot terms", []string{"roster_members_until", "roster_members_suspended"}, true},
				{"snapshot terms, not secure", []string{"roster_members_until", "roster_members_suspended"}, true},
			} {
				plan, ok := plans[c.name]
				if !ok {
					t.Errorf("no plan for %s", c.name)
					continue
				}
				var problems []string
				for _, index := range c.indexes {
					if !regexp.MustCompile(`\b(` + index + `)\b`).MatchString(plan) {
						problems = append(problems, "does not use "+index)
					}
				}
				for _, line := range strings.Split(plan, "\n") {
					// A scan of a partial index reads only the rows it holds.
					if whole.MatchString(line) && !partial.MatchString(line) {
						problems = append(problems, "scans the whole table ("+strings.TrimSpace(line)+")")
					}
				}
				if !c.sorted && (strings.Contains(plan, "TEMP B-TREE") || strings.Contains(plan, "Sort")) {
					problems = append(problems, "sorts instead of reading the index in order")
				}
				if len(problems) > 0 {
					t.Errorf("%s: the plan %s:\n%s", c.name, strings.Join(problems, " and "), plan)
				}
			}
		})
	}
}

// TestDomainReadsUseAnIndex asserts that Domain reads a claim by the
// primary key, Domains a team's claims by the primary key too in the order
// it returns (no sort), and VerifiedDomain and UpdateDomain's look for
// another team's verified claim by roster_domains_verified: none of them
// scans the whole table.
func TestDomainReadsUseAnIndex(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Skip(t)
			s := b.Store(t)
			seedLists(t, s, b.Name, 2000)
			plans, err := sqlstore.ExplainDomainReads(t.Context(), s)
			if err != nil {
				t.Fatal(err)
			}
			pk := map[string]string{"sqlite": "sqlite_autoindex_roster_domains_1", "postgres": "roster_domains_pkey"}[b.Name]
			for name, index := range map[string]string{
				"domain":             pk,
				"domains":            pk,
				"verified domain":    "roster_domains_verified",
				"verified elsewhere": "roster_domains_verified",
			} {
				plan, ok := plans[name]
				if !ok {
					t.Errorf("no plan for %s", name)
					continue
				}
				var problems []string
				if !regexp.MustCompile(`\b` + index + `\b`).MatchString(plan) {
					problems = append(problems, "does not use "+index)
				}
				if strings.Contains(plan, "SCAN roster_domains") || strings.Contains(plan, "Seq Scan on roster_domains") {
					problems = append(problems, "scans the whole table")
				}
				if strings.Contains(plan, "TEMP B-TREE") || strings.Contains(plan, "Sort") {
					problems = append(problems, "sorts instead of reading the index in order")
				}
				if len(problems) > 0 {
					t.Errorf("%s: the plan %s:\n%s", name, strings.Join(problems, " and "), plan)
				}
			}
		})
	}
}

// seedLists gives, on the backend named dialect, account x1 n members (two
// thirds of them with an end time, a seventh suspended), invites, transfers,
// API keys (of users u1 and u2 by turns, a quarter of them without a
// time) and domain claims (each claimed by another account too, a third of
// those verified), and user x1 n memberships, through SQL that both databases run,
// and has the database gather statistics, so that the planner sees lists
// worth an index.
func seedLists(t *testing.T, s *sqlstore.Store, dialect string, n int) {
	t.Helper()
	blob, timeType := "BLOB", "TEXT"
	if dialect == "postgres" {
		blob, timeType = "BYTEA", "TIMESTAMPTZ"
	}
	w, _ := sqlstore.Handles(s)
	series := fmt.Sprintf("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) ", n)
	const at = "'2025-03-14 09:00:00+00:00'"
	for _, stmt := range []string{
		`INSERT INTO roster_users (id, email, name, sign_in, active_account, created_at) VALUES ('x1', 'x1@example.com', 'x1', 'email', '', ` + at + `)`,
		`INSERT INTO roster_accounts (id, kind, name, owner, created_at, updated_at) VALUES ('x1', 'team', 'x1', 'x1', ` + at + `, ` + at + `)`,
		series + `INSERT INTO roster_users (id, email, name, sign_in, active_account, created_at)
			SELECT 'u' || i, 'u' || i || '@example.com', 'u', 'email', '', ` + at + ` FROM n`,
		series + `INSERT INTO roster_accounts (id, kind, name, owner, created_at, updated_at)
			SELECT 'a' || i, 'team', 'a', 'x1', ` + at + `, ` + at + ` FROM n`,
		series + `INSERT INTO roster_members (account_id, user_id, role, joined_at) SELECT 'x1', 'u' || i, 'dev', ` + at + ` FROM n`,
		series + `INSERT INTO roster_members (account_id, user_id, role, joined_at) SELECT 'a' || i, 'x1', 'dev', ` + at + ` FROM n`,
		series + `INSERT INTO roster_invites (id, account_id, kind, role, email, require_secure, token_hash, status, max_uses, uses,
				created_by, created_at, expires_at, updated_at)
			SELECT 'i' || i, 'x1', 'link', 'dev', '', false, CAST('i' || i AS ` + blob + `), 'pending', 1, 0, 'x1', ` + at + `, NULL, ` + at + ` FROM n`,
		series + `INSERT INTO roster_transfers (id, account_id, kind, from_user, to_user, status, created_at, expires_at, updated_at)
			SELECT 't' || i, 'x1', 'role', 'x1', 'u1', 'done', ` + at + `, ` + at + `, ` + at + ` FROM n`,
		series + `INSERT INTO roster_api_keys (id, account_id, user_id, name, role, hash, created_by, created_at)
			SELECT 'key_' || i, 'x1', CASE WHEN i % 4 = 1 THEN 'u1' ELSE 'u' || (i % 50 + 2) END, 'k', 'dev', CAST('k' || i AS ` + blob + `), 'x1', ` + at + ` FROM n`,
		`UPDATE roster_api_keys SET created_at = NULL WHERE CAST(substr(id, 5) AS INTEGER) % 3 = 0`,
		// An end time on 14 to 27 March, at one of 24 hours.
		`UPDATE roster_members SET until = CAST('2025-03-' || (CAST(substr(user_id, 2) AS INTEGER) % 14 + 14) || ' ' ||
				CASE WHEN CAST(substr(user_id, 2) AS INTEGER) % 24 < 10 THEN '0' ELSE '' END || (CAST(substr(user_id, 2) AS INTEGER) % 24) ||
				':00:00+00:00' AS ` + timeType + `),
			fallback_role = CASE WHEN user_id LIKE '%5' THEN 'basic' ELSE '' END
			WHERE account_id = 'x1' AND CAST(substr(user_id, 2) AS INTEGER) % 3 <> 0`,
		`UPDATE roster_members SET suspended_at = ` + at + `, suspended_by = 'x1'
			WHERE account_id = 'x1' AND CAST(substr(user_id, 2) AS INTEGER) % 7 = 0`,
		// Account x1 claims n domains, and account ai claims di.example
		// too, a third of those claims verified.
		series + `INSERT INTO roster_domains (name, account_id, mode, role, challenge, created_by, created_at)
			SELECT 'd' || i || '.example', 'x1', 'suggest', 'dev', 'c' || i, 'x1', ` + at + ` FROM n`,
		series + `INSERT INTO roster_domains (name, account_id, mode, role, challenge, created_by, created_at)
			SELECT 'd' || i || '.example', 'a' || i, 'auto_join', 'dev', 'c' || i, 'x1', ` + at + ` FROM n`,
		`UPDATE roster_domains SET verified_at = ` + at + `
			WHERE account_id <> 'x1' AND CAST(substr(account_id, 2) AS INTEGER) % 3 = 0`,
		`ANALYZE`,
	} {
		if err := w.Exec(stmt).Error; err != nil {
			t.Fatalf("seed: %v\n%s", err, stmt)
		}
	}
}
