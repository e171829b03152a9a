package sqlstore_test

import (
	"context"
	"testing"

	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/store/sqlstore"
	"github.com/teamroster/roster/store/storetest"
)

// The conformance suite checks Watch on both backends; these tests check
// what it cannot set up: several Stores on one PostgreSQL database, and a
// dropped connection.

// commitAccount commits the creation of an account and returns its revision.
func commitAccount(t *testing.T, s store.Store, id string) store.Revision {
	t.Helper()
	c, err := s.Update(context.Background(), func(tx store.Tx) error {
		return tx.CreateAccount(context.Background(), store.Account{ID: id, Name: id, Kind: store.Team})
	})
	if err != nil || c.Revision == 0 {
		t.Fatalf("create account %s: revision %d, %v", id, c.Revision, err)
	}
	return c.Revision
}

func TestWatchPostgres(t *testing.T) {
	postgresBackend.Skip(t)
	t.Run("announces the commits of another store on the same schema", func(t *testing.T) {
		dsn := postgresBackend.DSN(t)
		s1, s2 := postgresBackend.StoreOn(t, dsn), postgresBackend.StoreOn(t, dsn)
		a := storetest.Watch(t, s1)
		a.Expect(t, 0)
		a.Expect(t, commitAccount(t, s2, "a1"))
	})

	t.Run("does not announce the commits of a store on another schema", func(t *testing.T) {
		s1, s2 := postgresBackend.Store(t), postgresBackend.Store(t)
		a := storetest.Watch(t, s1)
		a.Expect(t, 0)
		commitAccount(t, s2, "elsewhere")
		if rev, r := commitAccount(t, s1, "here"), a.Next(t); r != rev {
			t.Errorf("announced %d, want only this schema's revision %d", r, rev)
		}
	})

	t.Run("watchers of one store share one connection", func(t *testing.T) {
		dsn := postgresBackend.DSN(t)
		s := postgresBackend.StoreOn(t, dsn)
		var all []*storetest.Announcements
		for range sqlstore.PostgresMaxConns + 4 { // more than the pool's connections
			a := storetest.Watch(t, s)
			a.Expect(t, 0)
			all = append(all, a)
		}
		rev := commitAccount(t, s, "shared") // the pool still has connections to commit with
		for _, a := range all {
			a.Expect(t, rev)
		}
		if n := testdb.TerminateListeners(t, dsn); n != 1 {
			t.Errorf("%d connections listen for %d watchers, want 1", n, len(all))
		}
	})

	t.Run("reconnects after its connection is dropped and asks for a catch-up", func(t *testing.T) {
		dsn := postgresBackend.DSN(t)
		s := postgresBackend.StoreOn(t, dsn)
		a := storetest.Watch(t, s)
		a.Expect(t, 0)
		if n := testdb.TerminateListeners(t, dsn); n != 1 {
			t.Fatalf("terminated %d listeners, want 1", n)
		}
		if r := a.Next(t); r != 0 {
			t.Fatalf("announced %d after the connection dropped, want 0 (catch up)", r)
		}
		a.Expect(t, commitAccount(t, s, "after"))
	})
}
