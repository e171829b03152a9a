package bench_test

import (
	"context"
	"database/sql"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" database/sql driver

	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store/sqlstore"
)

// membersPerTeam is the size of every generated team.
const membersPerTeam = 10

// dataVersion names the layout of the generated data; change it when the
// generator changes so that cached files are rebuilt.
const dataVersion = 3

// lower32 encodes IDs like txn.NewID: lowercase base32 without padding.
var lower32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// splitmix64 is the SplitMix64 step: a bijective mix of x.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// genID returns a deterministic ID shaped like txn.NewID(prefix): the
// prefix, an underscore and 26 base32 characters (128 bits) derived from
// kind and n.
func genID(prefix string, kind, n uint64) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], splitmix64(kind<<40^n))
	binary.BigEndian.PutUint64(b[8:], splitmix64(^(kind<<40 ^ n)))
	return prefix + "_" + lower32.EncodeToString(b[:])
}

// teamID is the ID of generated team t.
func teamID(t int) string { return genID("acc", 1, uint64(t)) }

// userID is the ID of the j-th member of generated team t. Every membership
// has a user of its own, the case that costs the index most memory.
func userID(t, j int) string { return genID("user", 2, uint64(t*membersPerTeam+j)) }

// memberRoles are the Runpod roles of a team's members, by position: one
// admin, then the other roles in turn.
var memberRoles = [membersPerTeam]rbac.Role{
	rbac.RunpodAdmin,
	rbac.RunpodDev, rbac.RunpodBasic, rbac.RunpodBilling,
	rbac.RunpodDev, rbac.RunpodBasic, rbac.RunpodBilling,
	rbac.RunpodDev, rbac.RunpodBasic, rbac.RunpodBilling,
}

var genMu sync.Mutex // one generator at a time

// sqliteFile returns the path of a SQLite file holding the generated teams,
// creating it on first use and reusing it afterwards: it lives in the
// system's temporary directory under a name that says its size and the
// generator's version.
func sqliteFile(tb testing.TB, teams int) string {
	tb.Helper()
	genMu.Lock()
	defer genMu.Unlock()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("roster-bench-v%d-%dteams.db", dataVersion, teams))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	tmp := path + ".tmp"
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(tmp + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			tb.Fatal(err)
		}
	}
	start := time.Now()
	s, err := sqlstore.OpenSQLite(tmp) // creates the schema
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Close(); err != nil {
		tb.Fatal(err)
	}
	// Generation only: no journal, no foreign key checks (the data is
	// consistent by construction) and a cache that holds the whole file.
	// The file is switched to WAL mode when roster opens it.
	db, err := sql.Open("sqlite3", "file:"+tmp+"?_foreign_keys=off&_synchronous=OFF&_journal_mode=OFF&_cache_size=-2000000")
	if err != nil {
		tb.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	if err := fillSQL(context.Background(), db, teams, "?"); err != nil {
		tb.Fatal(errors.Join(err, db.Close()))
	}
	if err := db.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("generated %d teams x %d members in %s in %v", teams, membersPerTeam, path, time.Since(start).Round(time.Millisecond))
	return path
}

// fillSQL inserts the generated users, teams and memberships through db in
// one transaction, users and teams in key order (much faster for the
// B-trees than random order), memberships shuffled; param is the placeholder
// style ("?" for SQLite, "$" for PostgreSQL).
func fillSQL(ctx context.Context, db *sql.DB, teams int, param string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() // after Commit, a no-op
	created := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	type row struct {
		key  string
		vals []any
	}
	var users, accounts, members []row
	for t := range teams {
		acct := teamID(t)
		accounts = append(accounts, row{acct, []any{acct, "team", fmt.Sprintf("Team %d", t), userID(t, 0), created, created}})
		for j := range membersPerTeam {
			u := userID(t, j)
			users = append(users, row{u, []any{u, u + "@example.com", fmt.Sprintf("User %d.%d", t, j), "email", "", created}})
			members = append(members, row{acct + "\x00" + u, []any{acct, u, string(memberRoles[j]), created}})
		}
	}
	// Memberships go in in random order, as members join over time: a
	// snapshot then reads them in no order of account.
	rng := rand.New(rand.NewPCG(uint64(teams), 3))
	rng.Shuffle(len(members), func(i, j int) { members[i], members[j] = members[j], members[i] })
	for _, table := range []struct {
		name   string
		rows   []row
		sorted bool
	}{
		{"roster_users (id, email, name, sign_in, active_account, created_at)", users, true},
		{"roster_accounts (id, kind, name, owner, created_at, updated_at)", accounts, true},
		{"roster_members (account_id, user_id, role, joined_at)", members, false},
	} {
		if table.sorted {
			slices.SortFunc(table.rows, func(a, b row) int { return strings.Compare(a.key, b.key) })
		}
		cols := strings.Count(table.name, ",") + 1
		ph := make([]string, cols)
		for i := range ph {
			ph[i] = "?"
			if param == "$" {
				ph[i] = fmt.Sprintf("$%d", i+1)
			}
		}
		stmt, err := tx.PrepareContext(ctx, "INSERT INTO "+table.name+" VALUES ("+strings.Join(ph, ", ")+")")
		if err != nil {
			return err
		}
		for _, r := range table.rows {
			if _, err := stmt.ExecContext(ctx, r.vals...); err != nil {
				return errors.Join(fmt.Errorf("insert into %s: %w", table.name, err), stmt.Close())
			}
		}
		if err := stmt.Close(); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// openStore opens the store on a SQLite file; the caller closes it.
func openStore(tb testing.TB, path string) *sqlstore.Store {
	tb.Helper()
	s, err := sqlstore.OpenSQLite(path)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}
