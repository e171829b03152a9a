package main_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/store/sqlstore"
)

func TestMigrate(t *testing.T) {
	version := codeVersion(t)
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		dsn := b.DSN(t)
		t.Run("check on an empty database exits 1 and changes nothing", func(t *testing.T) {
			if b.Name == "sqlite" {
				if err := os.WriteFile(dsn, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			roster(t, "migrate", "-check", "-db", dsn).want(t, 1, "at version 0, older than this code's version")
			roster(t, "migrate", "-check", "-db", dsn).want(t, 1, "at version 0")
		})
		t.Run("migrate brings it to the code's version", func(t *testing.T) {
			roster(t, "migrate", "-db", dsn).want(t, 0, fmt.Sprintf("schema migrated to version %d", version))
		})
		t.Run("migrate again changes nothing", func(t *testing.T) {
			roster(t, "migrate", "-db", dsn).want(t, 0, fmt.Sprintf("schema at version %d: up to date", version))
		})
		t.Run("check then exits 0", func(t *testing.T) {
			roster(t, "migrate", "-db", dsn, "-check").want(t, 0, fmt.Sprintf("schema at version %d: up to date", version))
		})
		t.Run("other commands refuse an unmigrated database", func(t *testing.T) {
			empty := b.DSN(t)
			if b.Name == "sqlite" {
				if err := os.WriteFile(empty, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			roster(t, "check", "-db", empty, "alice", "acct", "pods.manage").want(t, 1, "older than this code's version", "roster migrate -db brings it up to date")
		})
	})
	t.Run("a missing SQLite file is not created except by migrate", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "typo.db")
		roster(t, "migrate", "-check", "-db", path).want(t, 1, "no such database file")
		roster(t, "members", "-db", path, "acct", "-as", "alice").want(t, 1, "no such database file")
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Fatalf("the file exists after commands that must not create it: %v", err)
		}
		roster(t, "migrate", "-db", path).want(t, 0, "schema migrated")
	})
	t.Run("bad flags exit 2", func(t *testing.T) {
		for _, args := range [][]string{
			{"migrate"},
			{"migrate", "-check"},
			{"migrate", "-export", t.TempDir()},
			{"migrate", "-export", t.TempDir(), "-dialect", "mysql"},
			{"migrate", "-export", t.TempDir(), "-dialect", "sqlite", "-db", "x.db"},
			{"migrate", "-db", "x.db", "-dialect", "sqlite"},
			{"migrate", "-db", "x.db", "extra"},
		} {
			if res := roster(t, args...); res.code != 2 {
				t.Errorf("%q: exit %d, want 2 (stderr %s)", args, res.code, res.stderr)
			}
		}
	})
}

func TestMigrateExport(t *testing.T) {
	for _, d := range []sqlstore.Dialect{sqlstore.SQLite, sqlstore.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "new")
			roster(t, "migrate", "-export", dir, "-dialect", string(d)).want(t, 0, "0001_initial.sql")
			ms, err := sqlstore.MigrationSQL(d)
			if err != nil {
				t.Fatal(err)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != len(ms) {
				t.Fatalf("%d files written, want %d", len(entries), len(ms))
			}
			for _, m := range ms {
				got, err := os.ReadFile(filepath.Join(dir, m.File()))
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != m.SQL {
					t.Errorf("%s differs from MigrationSQL's", m.File())
				}
			}
		})
	}
}

// codeVersion returns this code's schema version.
func codeVersion(t *testing.T) int {
	t.Helper()
	ms, err := sqlstore.MigrationSQL(sqlstore.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	return len(ms)
}
