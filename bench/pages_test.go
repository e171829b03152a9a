package bench_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/store/sqlstore"
)

// The sizes of the paged lists BenchmarkPages reads: one team's members
// and one user's teams.
const (
	bigTeam   = 100_000
	userTeams = 1_000
)

// pagesRoster returns a Roster on a fresh database holding team "big" of
// bigTeam members (user m0 its owner, m1, m2... joined a second apart) and
// 100 pending email invites, and user "joiner", a member of userTeams teams
// besides their own personal account. On PostgreSQL it is skipped without
// ROSTER_TEST_POSTGRES_DSN.
func pagesRoster(b *testing.B, backend string) *roster.Roster {
	b.Helper()
	ctx := context.Background()
	var (
		s      *sqlstore.Store
		db     *sql.DB
		param  = "?"
		reopen func() *sqlstore.Store
		err    error
	)
	switch backend {
	case "sqlite":
		path := filepath.Join(b.TempDir(), "roster.db")
		if s, err = sqlstore.OpenSQLite(path); err != nil { // creates the schema
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		db, err = sql.Open("sqlite3", "file:"+path+"?_foreign_keys=off&_synchronous=OFF")
		reopen = func() *sqlstore.Store { return openStore(b, path) }
	case "postgres":
		dsn := testdb.Postgres(b)
		if s, err = sqlstore.OpenPostgres(dsn); err != nil { // creates the schema
			b.Fatal(err)
		}
		db, err = sql.Open("pgx", dsn)
		param = "$"
		reopen = func() *sqlstore.Store { return s }
	}
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	// ANALYZE, as autovacuum (or PRAGMA optimize) would soon after such a
	// load, so that the planner knows the tables' sizes.
	if err := errors.Join(fillPages(ctx, db, param), analyze(ctx, db), db.Close()); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: generated %d members and %d teams of one user in %v", backend, bigTeam, userTeams, time.Since(start).Round(time.Millisecond))
	s = reopen()
	b.Cleanup(func() {
		if err := s.Close(); err != nil {
			b.Error(err)
		}
	})
	r, err := roster.New(ctx, s, policy(), roster.WithBaseURL("https://app.example.com"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := r.Close(); err != nil {
			b.Error(err)
		}
	})
	return r
}

// fillPages inserts pagesRoster's data through db in one transaction, in
// statements of up to 500 rows; param is the placeholder style.
func fillPages(ctx context.Context, db *sql.DB, param string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() // after Commit, a no-op
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var users, accounts, members, invites [][]any
	user := func(id string) {
		users = append(users, []any{id, id + "@example.com", id, "email", "", t0})
	}
	for i := range bigTeam {
		id := fmt.Sprintf("m%d", i)
		user(id)
		role := "dev"
		if i == 0 {
			role = "admin"
		}
		members = append(members, []any{"big", id, role, t0.Add(time.Duration(i) * time.Second)})
	}
	accounts = append(accounts, []any{"big", "team", "Big", "m0", t0, t0})
	for i := range 100 {
		id := fmt.Sprintf("inv%d", i)
		invites = append(invites, []any{id, "big", "email", "dev", fmt.Sprintf("guest%d@example.com", i), false,
			[]byte("hash of " + id), "pending", 1, 0, "m0", t0.Add(time.Duration(i) * time.Second), t0})
	}
	user("joiner")
	accounts = append(accounts, []any{"joiner-personal", "personal", "", "joiner", t0, t0})
	members = append(members, []any{"joiner-personal", "joiner", "admin", t0})
	for i := range userTeams {
		id, owner := fmt.Sprintf("t%d", i), fmt.Sprintf("o%d", i)
		user(owner)
		accounts = append(accounts, []any{id, "team", "Team " + id, owner, t0, t0})
		members = append(members, []any{id, owner, "admin", t0},
			[]any{id, "joiner", "dev", t0.Add(time.Duration(i+1) * time.Minute)})
	}
	for _, table := range []struct {
		name string
		rows [][]any
	}{
		{"roster_users (id, email, name, sign_in, active_account, created_at)", users},
		{"roster_accounts (id, kind, name, owner, created_at, updated_at)", accounts},
		{"roster_members (account_id, user_id, role, joined_at)", members},
		{`roster_invites (id, account_id, kind, role, email, require_secure, token_hash, status, max_uses, uses,
			created_by, created_at, updated_at)`, invites},
	} {
		if err := insertRows(ctx, tx, table.name, table.rows, param); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func analyze(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, "ANALYZE")
	return err
}

// insertRows inserts rows into table (its name and columns) in statements
// of up to 500 rows.
func insertRows(ctx context.Context, tx *sql.Tx, table string, rows [][]any, param string) error {
	for start := 0; start < len(rows); start += 500 {
		batch := rows[start:min(start+500, len(rows))]
		var q strings.Builder
		var args []any
		q.WriteString("INSERT INTO " + table + " VALUES ")
		for i, r := range batch {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(")
			for j := range r {
				if j > 0 {
					q.WriteString(", ")
				}
				args = append(args, r[j])
				if param == "$" {
					fmt.Fprintf(&q, "$%d", len(args))
				} else {
					q.WriteString("?")
				}
			}
			q.WriteString(")")
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("insert into %s: %w", strings.Fields(table)[0], err)
		}
	}
	return nil
}

// BenchmarkPages measures reading one page (store.DefaultPageSize rows)
// through the public API:
//
//   - members/first: the first page of the members table of a team of
//     bigTeam members, read by its owner (who sees sign-in methods);
//   - members/middle: the page after the bigTeam/2-th member, from a
//     cursor;
//   - members/invites: the page where the members end and the pending
//     email invites begin;
//   - accounts/first and accounts/last: the first and the last page of the
//     account selector of a user in userTeams teams.
//
// Each is one read-only transaction: the viewer's membership read, one
// keyset range of the list's index, the page's users (or accounts) read
// in one statement. SQLite runs on a file in WAL mode; PostgreSQL on the
// server named by ROSTER_TEST_POSTGRES_DSN, skipped without it.
func BenchmarkPages(b *testing.B) {
	ctx := context.Background()
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			r := pagesRoster(b, backend)
			// membersAfter returns the cursor after n pages of
			// store.MaxPageSize members: half the team, or all of it,
			// where the pending invites begin.
			membersAfter := func(n int) string {
				p := store.Page{Size: store.MaxPageSize}
				for range n {
					_, next, err := r.Teams.Members(ctx, "m0", "big", p)
					if err != nil || next == "" {
						b.Fatalf("members after %q: next %q, %v", p.Cursor, next, err)
					}
					p.Cursor = next
				}
				return p.Cursor
			}
			middle, invites := membersAfter(bigTeam/2/store.MaxPageSize), membersAfter(bigTeam/store.MaxPageSize)
			_, lastAccounts, err := r.Teams.Accounts(ctx, "joiner", store.Page{Size: userTeams + 1 - store.DefaultPageSize})
			if err != nil || lastAccounts == "" {
				b.Fatalf("accounts: next %q, %v", lastAccounts, err)
			}
			for _, c := range []struct {
				name string
				read func() (int, error)
			}{
				{"members/first", func() (int, error) {
					rows, _, err := r.Teams.Members(ctx, "m0", "big", store.Page{})
					return len(rows), err
				}},
				{"members/middle", func() (int, error) {
					rows, _, err := r.Teams.Members(ctx, "m0", "big", store.Page{Cursor: middle})
					return len(rows), err
				}},
				{"members/invites", func() (int, error) {
					rows, _, err := r.Teams.Members(ctx, "m0", "big", store.Page{Cursor: invites})
					return len(rows), err
				}},
				{"accounts/first", func() (int, error) {
					es, _, err := r.Teams.Accounts(ctx, "joiner", store.Page{})
					return len(es), err
				}},
				{"accounts/last", func() (int, error) {
					es, _, err := r.Teams.Accounts(ctx, "joiner", store.Page{Cursor: lastAccounts})
					return len(es), err
				}},
			} {
				b.Run(c.name, func(b *testing.B) {
					for b.Loop() {
						n, err := c.read()
						if err != nil {
							b.Fatal(err)
						}
						if n == 0 {
							b.Fatal("empty page")
						}
					}
				})
			}
		})
	}
}
