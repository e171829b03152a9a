package testdb_test

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/store"
)

func TestBackends(t *testing.T) {
	var names []string
	for _, b := range testdb.Backends() {
		names = append(names, b.Name)
	}
	if strings.Join(names, " ") != "sqlite postgres" {
		t.Errorf("backends %v, want sqlite and postgres", names)
	}
}

func TestSQLite(t *testing.T) {
	b := testdb.Backends()[0]
	b.Skip(t) // SQLite runs everywhere
	if _, err := b.Store(t).Changes(context.Background(), 0, 0); err != nil {
		t.Errorf("a fresh Store: %v", err)
	}
	dsn := b.DSN(t)
	if filepath.Dir(dsn) == "" || !strings.HasSuffix(dsn, ".db") {
		t.Fatalf("SQLite path %q", dsn)
	}
	s := b.StoreOn(t, dsn)
	if _, err := s.Update(context.Background(), func(tx store.Tx) error {
		return tx.CreateUser(context.Background(), store.User{ID: "u", Email: "u@example.com", Name: "U", SignIn: store.SignInEmail})
	}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := b.SQL(t, dsn).QueryRow(b.Rebind("SELECT count(*) FROM roster_users WHERE id = ?"), "u").Scan(&n); err != nil || n != 1 {
		t.Errorf("the raw handle sees %d users (%v), want the one the Store wrote", n, err)
	}
	if got := b.Rebind("a = ? AND b = ?"); got != "a = ? AND b = ?" {
		t.Errorf("SQLite Rebind = %q, want the query unchanged", got)
	}
}

func TestPostgres(t *testing.T) {
	b := testdb.Backends()[1]
	if got := b.Rebind("a = ? AND b = ?"); got != "a = $1 AND b = $2" {
		t.Errorf("PostgreSQL Rebind = %q", got)
	}
	b.Skip(t)
	var schema string
	t.Run("a schema of its own, dropped at the end", func(t *testing.T) {
		dsn := testdb.Postgres(t)
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		schema = u.Query().Get("search_path")
		if !strings.HasPrefix(schema, "roster_test_") {
			t.Fatalf("search_path %q", schema)
		}
		s := b.StoreOn(t, dsn)
		// A listening Store is what TerminateListeners ends.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		heard := make(chan store.Revision, 16)
		go s.Watch(ctx, func(r store.Revision) { heard <- r })
		select {
		case <-heard:
		case <-time.After(10 * time.Second):
			t.Fatal("the Store never listened")
		}
		if n := testdb.TerminateListeners(t, dsn); n < 1 {
			t.Errorf("TerminateListeners ended %d connections, want the listener", n)
		}
	})
	db, err := sql.Open("pgx", os.Getenv(testdb.EnvPostgres))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1", schema).Scan(&n); err != nil || n != 0 {
		t.Errorf("schema %s still exists (%d, %v) after its test ended", schema, n, err)
	}
}
