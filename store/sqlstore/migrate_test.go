package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	gormadapter "github.com/casbin/gorm-adapter/v3"
	"github.com/google/go-cmp/cmp"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/store/sqlstore"
	"github.com/teamroster/roster/store/storetest"
)

// gormOn opens dsn, a DSN of backend b, with gorm as an application would,
// and closes it when t ends.
func gormOn(t *testing.T, b testdb.Backend, dsn string) *gorm.DB {
	t.Helper()
	var dialector gorm.Dialector
	if b.Name == "sqlite" {
		dialector = sqlite.Open("file:" + filepath.ToSlash(dsn) + "?_txlock=immediate&_busy_timeout=5000&_foreign_keys=on")
	} else {
		dialector = postgres.Open(dsn)
	}
	db, err := gorm.Open(dialector, &gorm.Config{Logger: logger.Default.LogMode(logger.Silent)})
	if err != nil {
		t.Fatalf("gorm.Open: %v", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatalf("DB: %v", err)
	}
	t.Cleanup(func() {
		if err := sqlDB.Close(); err != nil {
			t.Errorf("close the gorm handle: %v", err)
		}
	})
	return db
}

// codeVersion is the version of the code's schema: its last migration's.
func codeVersion(t *testing.T) int {
	t.Helper()
	ms, err := sqlstore.MigrationSQL(sqlstore.SQLite)
	if err != nil {
		t.Fatalf("MigrationSQL: %v", err)
	}
	return ms[len(ms)-1].Version
}

// versions returns the versions recorded in roster_schema_migrations, in
// order.
func versions(t *testing.T, db *sql.DB) []int {
	t.Helper()
	rows, err := db.Query("SELECT version FROM roster_schema_migrations ORDER BY version")
	if err != nil {
		t.Fatalf("read the recorded versions: %v", err)
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return vs
}

// upTo returns the versions 1 to n.
// file returns the name of a migration file ahead of the package's:
// version codeVersion + ahead, with the separator sep and the name.
func file(t *testing.T, ahead int, sep, name string) string {
	return fmt.Sprintf("%04d%s%s.sql", codeVersion(t)+ahead, sep, name)
}

func upTo(n int) []int {
	vs := make([]int, n)
	for i := range vs {
		vs[i] = i + 1
	}
	return vs
}

// schemaOf describes the tables of db, a database of backend b: each
// column with its type, nullability and default, and each index by name.
func schemaOf(t *testing.T, b testdb.Backend, db *sql.DB) []string {
	t.Helper()
	var q string
	if b.Name == "sqlite" {
		q = `SELECT 'column ' || m.name || '.' || c.name || ' ' || lower(c.type) || ' notnull=' || c."notnull" || ' default=' || coalesce(c.dflt_value, '') || ' pk=' || c.pk
			FROM sqlite_master m, pragma_table_info(m.name) c WHERE m.type = 'table' AND m.name LIKE 'roster%'
			UNION ALL SELECT 'index ' || name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%'`
	} else {
		q = `SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || coalesce('(' || character_maximum_length || ')', '') || ' ' || coalesce(collation_name, '') ||
				' nullable=' || is_nullable || ' default=' || coalesce(column_default, '')
			FROM information_schema.columns WHERE table_schema = current_schema()
			UNION ALL SELECT 'index ' || indexname FROM pg_indexes WHERE schemaname = current_schema()`
	}
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("read the schema: %v", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// rosterTables counts the tables named roster_* in db, a database of
// backend b.
func rosterTables(t *testing.T, b testdb.Backend, db *sql.DB) int {
	t.Helper()
	q := "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name LIKE 'roster%'"
	if b.Name == "postgres" {
		q = "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name LIKE 'roster%'"
	}
	var n int
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("count roster's tables: %v", err)
	}
	return n
}

func TestMigrationSQL(t *testing.T) {
	files, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []sqlstore.Dialect{sqlstore.SQLite, sqlstore.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			ms, err := sqlstore.MigrationSQL(d)
			if err != nil {
				t.Fatalf("MigrationSQL: %v", err)
			}
			if len(ms) != len(files) {
				t.Fatalf("%d migrations, want one for each of the %d files", len(ms), len(files))
			}
			for i, m := range ms {
				if m.Version != i+1 || m.File() != files[i].Name() {
					t.Errorf("migration %d is version %d, file %s; want version %d, file %s", i, m.Version, m.File(), i+1, files[i].Name())
				}
				if i := strings.IndexAny(m.SQL, "{}"); i >= 0 {
					t.Errorf("%s keeps a placeholder: %q", m.File(), m.SQL[max(0, i-20):min(len(m.SQL), i+20)])
				}
				record := fmt.Sprintf("INSERT INTO roster_schema_migrations (version, name, applied_at) VALUES (%d, '%s', CURRENT_TIMESTAMP);", m.Version, m.Name)
				if !strings.HasSuffix(strings.TrimSpace(m.SQL), record) {
					t.Errorf("%s does not end by recording itself (%s)", m.File(), record)
				}
			}
		})
	}
	if _, err := sqlstore.MigrationSQL("mysql"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("MigrationSQL(mysql) = %v, want ErrInvalid", err)
	}
}

// TestExportedSQLAppliedByHand applies MigrationSQL's files as another
// migration tool would, each in a transaction with a plain Exec, and opens
// the database without migrating.
func TestExportedSQLAppliedByHand(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Skip(t)
			dsn := b.DSN(t)
			db := b.SQL(t, dsn)
			ms, err := sqlstore.MigrationSQL(sqlstore.Dialect(b.Name))
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				tx, err := db.Begin()
				if err != nil {
					t.Fatal(err)
				}
				if _, err := tx.Exec(m.SQL); err != nil {
					t.Fatalf("%s: %v", m.File(), err)
				}
				if err := tx.Commit(); err != nil {
					t.Fatalf("%s: commit: %v", m.File(), err)
				}
			}
			s, err := b.Open(dsn, sqlstore.WithoutAutoMigrate())
			if err != nil {
				t.Fatalf("open WithoutAutoMigrate: %v", err)
			}
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Error(err)
				}
			})
			seed(t, s, 2) // writes, and on PostgreSQL notifies on the schema's channel
			if got, want := schemaOf(t, b, db), schemaOf(t, b, b.SQL(t, storeDSN(t, b))); !slices.Equal(got, want) {
				t.Errorf("the schema applied by hand differs from Migrate's (-by hand +Migrate):\n%s", cmp.Diff(got, want))
			}
		})
	}
}

// storeDSN returns the DSN of a fresh database of backend b on which a
// Store has been opened (and closed), so migrated by the code.
func storeDSN(t *testing.T, b testdb.Backend) string {
	t.Helper()
	dsn := b.DSN(t)
	s, err := b.Open(dsn)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dsn
}

func TestWithoutAutoMigrate(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Skip(t)
			ctx := t.Context()
			code := codeVersion(t)
			dsn := b.DSN(t)
			db := b.SQL(t, dsn)

			t.Run("an empty database is refused and left alone", func(t *testing.T) {
				_, err := b.Open(dsn, sqlstore.WithoutAutoMigrate())
				if !errors.Is(err, sqlstore.ErrSchemaVersion) || !errors.Is(err, store.ErrPrecondition) {
					t.Fatalf("open = %v, want ErrSchemaVersion, a precondition", err)
				}
				for _, want := range []string{"version 0", fmt.Sprintf("version %d", code), "run sqlstore.Migrate"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("%q does not say %q", err, want)
					}
				}
				if n := rosterTables(t, b, db); n != 0 {
					t.Errorf("the database has %d roster tables, want none", n)
				}
			})

			t.Run("after Migrate it opens", func(t *testing.T) {
				if err := sqlstore.Migrate(ctx, gormOn(t, b, dsn)); err != nil {
					t.Fatalf("Migrate: %v", err)
				}
				if got := versions(t, db); !slices.Equal(got, upTo(code)) {
					t.Errorf("versions %v after Migrate, want %v", got, upTo(code))
				}
				s := b.StoreOn(t, dsn)
				seed(t, s, 1)
				s2, err := b.Open(dsn, sqlstore.WithoutAutoMigrate())
				if err != nil {
					t.Fatalf("open WithoutAutoMigrate: %v", err)
				}
				if err := s2.Close(); err != nil {
					t.Error(err)
				}
			})

			t.Run("a newer database is refused, migrating or not", func(t *testing.T) {
				if _, err := db.Exec(b.Rebind("INSERT INTO roster_schema_migrations (version, name, applied_at) VALUES (?, 'future', CURRENT_TIMESTAMP)"), code+1); err != nil {
					t.Fatal(err)
				}
				newer := fmt.Sprintf("version %d, newer than this code's version %d", code+1, code)
				for name, open := range map[string]func() error{
					"open":                    func() error { _, err := b.Open(dsn); return err },
					"open WithoutAutoMigrate": func() error { _, err := b.Open(dsn, sqlstore.WithoutAutoMigrate()); return err },
					"Migrate":                 func() error { return sqlstore.Migrate(ctx, gormOn(t, b, dsn)) },
				} {
					if err := open(); !errors.Is(err, sqlstore.ErrSchemaVersion) || !strings.Contains(fmt.Sprint(err), newer) {
						t.Errorf("%s = %v, want ErrSchemaVersion saying %q", name, err, newer)
					}
				}
			})
		})
	}
}

func TestNilOptionIsRefused(t *testing.T) {
	dsn := testdb.SQLitePath(t)
	if _, err := sqlstore.OpenSQLite(dsn, nil); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("OpenSQLite with a nil option = %v, want ErrInvalid", err)
	}
	if _, err := os.Stat(dsn); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenSQLite with a nil option created the file (%v)", err)
	}
	if _, err := sqlstore.OpenPostgres("postgres://nobody@127.0.0.1:1/none", nil); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("OpenPostgres with a nil option = %v, want ErrInvalid", err)
	}
	if _, err := sqlstore.New(gormOn(t, sqliteBackend, dsn), nil); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("New with a nil option = %v, want ErrInvalid", err)
	}
}

// migrationsWith returns the package's migrations followed by extra ones,
// named by file.
func migrationsWith(t *testing.T, extra map[string]string) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	files, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		text, err := os.ReadFile(filepath.Join("migrations", f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		fsys[f.Name()] = &fstest.MapFile{Data: text}
	}
	for name, text := range extra {
		fsys[name] = &fstest.MapFile{Data: []byte(text)}
	}
	return fsys
}

func TestMigrationsAreValidated(t *testing.T) {
	db := gormOn(t, sqliteBackend, testdb.SQLitePath(t))
	for name, extra := range map[string]map[string]string{
		"a gap":                 {file(t, 2, "_", "gap"): "SELECT 1;\n"},
		"a misnamed file":       {file(t, 1, "-", "dash"): "SELECT 1;\n"},
		"text after the last ;": {file(t, 1, "_", "open"): "SELECT 1;\nSELECT 2\n"},
	} {
		if err := sqlstore.MigrateFS(t.Context(), db, migrationsWith(t, extra)); err == nil {
			t.Errorf("migrations with %s were applied", name)
		}
	}
	if n := rosterTables(t, sqliteBackend, db.Statement.ConnPool.(*sql.DB)); n != 0 {
		t.Errorf("invalid migrations left %d tables", n)
	}
	valid := migrationsWith(t, map[string]string{file(t, 1, "_", "valid"): "-- A comment.\nSELECT 1;\n"})
	if err := sqlstore.MigrateFS(t.Context(), db, valid); err != nil {
		t.Errorf("valid migrations: %v", err)
	}
}

// TestFailedMigrationKeepsPreviousVersion applies a second migration whose
// last statement fails: its first statement is rolled back with it, and the
// schema stays at the code's version until the migration is fixed.
func TestFailedMigrationKeepsPreviousVersion(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Skip(t)
			ctx := t.Context()
			dsn := b.DSN(t)
			db := b.SQL(t, dsn)
			s := b.StoreOn(t, dsn)
			seed(t, s, 1)
			broken := migrationsWith(t, map[string]string{
				file(t, 1, "_", "nicknames"): "ALTER TABLE roster_users ADD COLUMN nickname {text};\nUPDATE roster_users SET no_such_column = 1;\n",
			})
			err := sqlstore.MigrateFS(ctx, gormOn(t, b, dsn), broken)
			if !errors.Is(err, store.ErrBackend) || !strings.Contains(fmt.Sprint(err), file(t, 1, "_", "nicknames")) {
				t.Fatalf("MigrateFS = %v, want ErrBackend naming the file", err)
			}
			if got, want := versions(t, db), upTo(codeVersion(t)); !slices.Equal(got, want) {
				t.Errorf("versions %v after the failed migration, want %v", got, want)
			}
			if _, err := db.Exec("SELECT nickname FROM roster_users"); err == nil {
				t.Error("the failed migration's first statement was kept")
			}
			fixed := migrationsWith(t, map[string]string{
				file(t, 1, "_", "nicknames"): "ALTER TABLE roster_users ADD COLUMN nickname {text};\nUPDATE roster_users SET nickname = name;\n",
			})
			if err := sqlstore.MigrateFS(ctx, gormOn(t, b, dsn), fixed); err != nil {
				t.Fatalf("MigrateFS with the fixed migration: %v", err)
			}
			if got, want := versions(t, db), upTo(codeVersion(t)+1); !slices.Equal(got, want) {
				t.Errorf("versions %v after the fixed migration, want %v", got, want)
			}
			var nick string
			if err := db.QueryRow(b.Rebind("SELECT nickname FROM roster_users WHERE id = ?"), "u0").Scan(&nick); err != nil || nick != "U" {
				t.Errorf("nickname %q (%v), want the name, U", nick, err)
			}
		})
	}
}

// TestConcurrentMigrations opens several Stores, and separately runs
// several migrations, on one fresh database at once, as processes starting
// together would: every one succeeds and each migration is applied once (a
// second application of the one that is not idempotent would fail, and each
// would record its version again).
func TestConcurrentMigrations(t *testing.T) {
	const n = 4
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Skip(t)
			t.Run("stores opening", func(t *testing.T) {
				dsn := b.DSN(t)
				var wg sync.WaitGroup
				errs := make([]error, n)
				for i := range n {
					wg.Go(func() {
						s, err := b.Open(dsn)
						if err == nil {
							err = s.Close()
						}
						errs[i] = err
					})
				}
				wg.Wait()
				if err := errors.Join(errs...); err != nil {
					t.Errorf("open: %v", err)
				}
				if got, want := versions(t, b.SQL(t, dsn)), upTo(codeVersion(t)); !slices.Equal(got, want) {
					t.Errorf("versions %v, want %v", got, want)
				}
			})
			t.Run("migrations", func(t *testing.T) {
				dsn := b.DSN(t)
				handles := make([]*gorm.DB, n)
				for i := range handles {
					handles[i] = gormOn(t, b, dsn)
				}
				withSecond := migrationsWith(t, map[string]string{
					file(t, 1, "_", "nicknames"): "ALTER TABLE roster_users ADD COLUMN nickname {text};\n",
				})
				var wg sync.WaitGroup
				errs := make([]error, n)
				for i, h := range handles {
					wg.Go(func() { errs[i] = sqlstore.MigrateFS(t.Context(), h, withSecond) })
				}
				wg.Wait()
				if err := errors.Join(errs...); err != nil {
					t.Errorf("MigrateFS: %v", err)
				}
				if got, want := versions(t, b.SQL(t, dsn)), upTo(codeVersion(t)+1); !slices.Equal(got, want) {
					t.Errorf("versions %v, want %v", got, want)
				}
			})
		})
	}
}

// TestLegacyDatabaseIsAdopted builds databases as roster made them before
// migrations were numbered, with rows in them, and opens them: the data
// survives, the schema is at the code's version and is the schema a new
// database gets, and the Store writes to it.
func TestLegacyDatabaseIsAdopted(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Skip(t)
			for _, tc := range []struct {
				name string
				last bool // made by the last version: with the added columns and the Casbin rule table
			}{
				{"made by the last unnumbered version", true},
				{"made before the added columns and the email index", false},
			} {
				t.Run(tc.name, func(t *testing.T) {
					ctx := t.Context()
					dsn := b.DSN(t)
					db := b.SQL(t, dsn)
					exec := func(q string, args ...any) {
						t.Helper()
						if _, err := db.Exec(b.Rebind(q), args...); err != nil {
							t.Fatalf("%s: %v", q, err)
						}
					}
					for _, stmt := range legacySchema {
						if !tc.last && strings.Contains(stmt, "roster_users_email") {
							continue // as in 0.1.0
						}
						exec(legacyTypes[b.Name].Replace(stmt))
					}
					if tc.last {
						for _, c := range legacyAddedColumns {
							exec("ALTER TABLE " + c.table + " ADD COLUMN " + c.column + " " + legacyTypes[b.Name].Replace(c.definition))
						}
						if _, err := gormadapter.NewAdapterByDBUseTableName(gormOn(t, b, dsn), "roster", "casbin_rule"); err != nil {
							t.Fatalf("create the Casbin rule table: %v", err)
						}
						exec("INSERT INTO roster_casbin_rule (ptype, v0, v1, v2, v3, v4, v5) VALUES ('p', 'a1/ops', 'pods.manage', '', '', '', '')")
					}
					exec("INSERT INTO roster_users (id, email, name, sign_in, active_account) VALUES ('u1', 'u1@example.com', 'U1', 'email', 'a1'), ('u2', 'u2@example.com', 'U2', 'email', 'a1')")
					exec("INSERT INTO roster_accounts (id, kind, name, owner) VALUES ('a1', 'team', 'Acme', 'u1')")
					exec("INSERT INTO roster_members (account_id, user_id, role) VALUES ('a1', 'u1', 'admin'), ('a1', 'u2', 'dev')")
					exec(`INSERT INTO roster_invites (id, account_id, kind, role, email, require_secure, token_hash, status, max_uses, uses, created_by)
						VALUES ('inv1', 'a1', 'link', 'dev', '', ?, ?, 'pending', 1, 0, 'u1')`, false, []byte("hash"))
					exec("INSERT INTO roster_transfers (id, account_id, from_user, to_user, status) VALUES ('tr1', 'a1', 'u1', 'u2', 'awaiting_confirm')")
					exec("INSERT INTO roster_team_roles (account_id, name, created_by) VALUES ('a1', 'ops', 'u1')")
					exec("UPDATE roster_meta SET revision = 7")

					s := b.StoreOn(t, dsn)
					if got := versions(t, db); !slices.Equal(got, upTo(codeVersion(t))) {
						t.Errorf("versions %v after opening, want %v", got, upTo(codeVersion(t)))
					}
					err := s.View(ctx, func(tx store.Tx) error {
						if u, err := tx.User(ctx, "u2"); err != nil || u.Email != "u2@example.com" {
							t.Errorf("user u2 = %+v, %v", u, err)
						}
						if m, err := tx.Member(ctx, "a1", "u2"); err != nil || m.Role != "dev" {
							t.Errorf("member u2 = %+v, %v", m, err)
						}
						if inv, err := tx.Invite(ctx, "inv1"); err != nil || inv.Role != "dev" || inv.SupersededBy != "" || inv.ResentBy != "" {
							t.Errorf("invite inv1 = %+v, %v", inv, err)
						}
						if tr, err := tx.Transfer(ctx, "tr1"); err != nil || tr.Kind != store.TransferRole || tr.To != "u2" {
							t.Errorf("transfer tr1 = %+v, %v; want a role grant to u2", tr, err)
						}
						want := []string{}
						if tc.last {
							want = []string{"pods.manage"}
						}
						if r, err := tx.TeamRole(ctx, "a1", "ops"); err != nil || !slices.Equal(r.Actions, want) {
							t.Errorf("team role ops = %+v, %v; want actions %v", r, err, want)
						}
						return nil
					})
					if err != nil {
						t.Fatal(err)
					}
					c := update(t, s, func(ctx context.Context, tx store.Tx) error {
						return tx.PutTeamRole(ctx, store.TeamRole{AccountID: "a1", Name: "auditor", Actions: []string{"audit.read"}, CreatedBy: "u1"})
					})
					if c.Revision != 8 {
						t.Errorf("the first write after adoption is revision %d, want 8", c.Revision)
					}
					changes, err := s.Changes(ctx, 7, 0)
					if err != nil || len(changes) != 1 || !slices.Equal(changes[0].Actions, []string{"audit.read"}) {
						t.Errorf("changes after 7 = %+v, %v; want the role with its action", changes, err)
					}
					if got, want := schemaOf(t, b, db), schemaOf(t, b, b.SQL(t, storeDSN(t, b))); !slices.Equal(got, want) {
						t.Errorf("the adopted schema differs from a new one (-adopted +new):\n%s", cmp.Diff(got, want))
					}
				})
			}
		})
	}
}

// TestEventsFromBeforeTheStreamComeFirst migrates a database at version 3,
// whose events have no commit number, to the event stream: its events
// enter the stream first, in ID order, and later ones follow them.
func TestEventsFromBeforeTheStreamComeFirst(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Skip(t)
			dsn := b.DSN(t)
			db := b.SQL(t, dsn)
			ms, err := sqlstore.MigrationSQL(sqlstore.Dialect(b.Name))
			if err != nil {
				t.Fatal(err)
			}
			exec := func(q string, args ...any) {
				t.Helper()
				if _, err := db.Exec(b.Rebind(q), args...); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			for _, m := range ms {
				if m.Version <= 3 {
					exec(m.SQL)
				}
			}
			exec("INSERT INTO roster_accounts (id, kind, name, owner) VALUES ('team1', 'team', 'Team', 'u0')")
			for _, action := range []string{"old.one", "old.two"} {
				exec(`INSERT INTO roster_events (account_id, occurred_at, actor, action, resource_type, resource_id,
					result, reason, before_value, after_value, ip, user_agent, request_id)
					VALUES ('team1', CURRENT_TIMESTAMP, 'u0', ?, '', '', 'allowed', '', '', '', '', '', '')`, action)
			}
			s, err := b.Open(dsn)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Error(err)
				}
			})
			update(t, s, func(ctx context.Context, tx store.Tx) error {
				_, err := tx.AppendEvent(ctx, store.Event{AccountID: "team1", Action: "new.one"})
				return err
			})
			storetest.Settle(t, s)
			got, err := s.EventsAfter(t.Context(), store.EventPosition{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			var seen []string
			for _, se := range got {
				seen = append(seen, string(se.Event.Action))
				if se.Event.Action != "new.one" && se.Position.Commit != 0 {
					t.Errorf("event %s from before the stream has commit number %d, want 0", se.Event.Action, se.Position.Commit)
				}
			}
			if want := []string{"old.one", "old.two", "new.one"}; !slices.Equal(seen, want) {
				t.Errorf("stream after migrating = %v, want %v", seen, want)
			}
		})
	}
}
