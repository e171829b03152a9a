// Package testdb gives tests a database of their own: a SQLite file in a
// temporary directory, or a fresh schema of the PostgreSQL server named by
// the environment variable ROSTER_TEST_POSTGRES_DSN, so that packages tested
// in parallel never see each other's rows.
package testdb

import (
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/teamroster/roster/store/sqlstore"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// EnvPostgres names the environment variable holding the PostgreSQL DSN
// (URL form, such as postgres://root@127.0.0.1:5432/test?sslmode=disable).
const EnvPostgres = "ROSTER_TEST_POSTGRES_DSN"

// SQLitePath returns the path of a new SQLite file in tb's temporary directory.
func SQLitePath(tb testing.TB) string {
	tb.Helper()
	return filepath.Join(tb.TempDir(), "roster.db")
}

// Postgres creates a schema of its own for tb and returns a DSN whose
// search_path selects it and whose application_name is the schema's name,
// so that Sessions can count the connections open on it; the schema is
// dropped when tb ends. It skips tb if EnvPostgres is unset and fails it if
// the server cannot be reached.
func Postgres(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(EnvPostgres)
	if dsn == "" {
		skipPostgres(tb)
	}
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		tb.Fatalf("%s must be a postgres:// URL, got %q", EnvPostgres, dsn)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatalf("open PostgreSQL: %v", err)
	}
	defer db.Close()
	schema := "roster_test_" + strings.ToLower(rand.Text())
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		tb.Fatalf("create schema on %s: %v", EnvPostgres, err)
	}
	tb.Cleanup(func() {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			tb.Errorf("open PostgreSQL for cleanup: %v", err)
			return
		}
		defer db.Close()
		if _, err := db.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("application_name", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Sessions returns how many connections to the server are open on dsn, a
// DSN returned by Postgres (it counts the sessions with dsn's
// application_name), not counting the one it reads with.
func Sessions(tb testing.TB, dsn string) int {
	tb.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatalf("parse %q: %v", dsn, err)
	}
	name := u.Query().Get("application_name")
	if name == "" {
		tb.Fatalf("DSN %q names no application_name", dsn)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatalf("open PostgreSQL: %v", err)
	}
	defer db.Close()
	var n int
	err = db.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()", name).Scan(&n)
	if err != nil {
		tb.Fatalf("count sessions: %v", err)
	}
	return n
}

// Backend is a kind of database a test runs on.
type Backend struct {
	Name string
	// DSN returns a fresh database for tb: a file path for SQLite, a DSN for
	// PostgreSQL.
	DSN func(tb testing.TB) string
	// Open opens a Store on a DSN returned by DSN.
	Open func(dsn string, opts ...sqlstore.Option) (*sqlstore.Store, error)
}

// Backends returns SQLite and PostgreSQL; PostgreSQL's DSN skips the test
// when EnvPostgres is unset.
func Backends() []Backend {
	return []Backend{
		{Name: "sqlite", DSN: SQLitePath, Open: sqlstore.OpenSQLite},
		{Name: "postgres", DSN: Postgres, Open: sqlstore.OpenPostgres},
	}
}

// Skip skips tb if the backend cannot run here (PostgreSQL without
// EnvPostgres), saying why.
func (b Backend) Skip(tb testing.TB) {
	tb.Helper()
	if b.Name == "postgres" && os.Getenv(EnvPostgres) == "" {
		skipPostgres(tb)
	}
}

// SerialWriters reports whether the backend runs one write transaction at a
// time (SQLite), so that a second writer waits before its transaction
// begins; PostgreSQL begins both and makes them wait on row locks.
func (b Backend) SerialWriters() bool { return b.Name == "sqlite" }

// skipped counts the tests skipped for want of EnvPostgres.
var skipped atomic.Int64

// skipPostgres counts tb as skipped for want of EnvPostgres and skips it.
func skipPostgres(tb testing.TB) {
	tb.Helper()
	skipped.Add(1)
	tb.Skip(EnvPostgres + " not set; skipping PostgreSQL")
}

// Skipped returns how many tests of this process skipped themselves because
// EnvPostgres is unset. It is safe for concurrent use.
func Skipped() int64 { return skipped.Load() }

// Store opens a Store on a fresh database and closes it when tb ends.
func (b Backend) Store(tb testing.TB) *sqlstore.Store {
	tb.Helper()
	return b.StoreOn(tb, b.DSN(tb))
}

// StoreOn opens a Store on dsn, a DSN returned by DSN, and closes it when
// tb ends: several Stores on one DSN are several instances of an
// application on one database, each with its own connections.
func (b Backend) StoreOn(tb testing.TB, dsn string) *sqlstore.Store {
	tb.Helper()
	s, err := b.Open(dsn)
	if err != nil {
		tb.Fatalf("open %s store: %v", b.Name, err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("close %s store: %v", b.Name, err)
		}
	})
	return s
}

// SQL opens a database/sql handle on dsn, a DSN returned by DSN, for tests
// that read or change rows behind the Store's back, and closes it when tb
// ends. Write its statements with ? placeholders and pass them through
// Rebind.
func (b Backend) SQL(tb testing.TB, dsn string) *sql.DB {
	tb.Helper()
	driver := "pgx"
	if b.Name == "sqlite" {
		driver, dsn = "sqlite3", "file:"+filepath.ToSlash(dsn)+"?_busy_timeout=5000"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		tb.Fatalf("open %s: %v", b.Name, err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("close %s: %v", b.Name, err)
		}
	})
	return db
}

// Rebind returns query, written with ? placeholders, in the backend's
// placeholder syntax ($1, $2, ... on PostgreSQL).
func (b Backend) Rebind(query string) string {
	if b.Name != "postgres" {
		return query
	}
	var out strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			out.WriteString("$" + strconv.Itoa(n))
			continue
		}
		out.WriteRune(r)
	}
	return out.String()
}

// TerminateListeners ends, as an administrator would with
// pg_terminate_backend, every PostgreSQL connection that listens for the
// commits of the schema dsn selects (a DSN returned by Postgres), and
// returns how many it ended. Tests use it to cut a Store's notifications.
func TerminateListeners(tb testing.TB, dsn string) int {
	tb.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatalf("parse DSN: %v", err)
	}
	schema := u.Query().Get("search_path")
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatalf("open PostgreSQL: %v", err)
	}
	defer db.Close()
	var n int
	err = db.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN %' AND query LIKE '%' || $1 || '%'`, schema).Scan(&n)
	if err != nil {
		tb.Fatalf("terminate listeners of %s: %v", schema, err)
	}
	return n
}
