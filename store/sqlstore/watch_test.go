package sqlstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/store/sqlstore"
)

// watching runs s.Watch until the test ends and returns the revisions it
// announces, and a channel that receives Watch's error.
func watching(t *testing.T, s *sqlstore.Store) (<-chan store.Revision, <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	revs := make(chan store.Revision, 100)
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		done <- s.Watch(ctx, func(r store.Revision) {
			select {
			case revs <- r:
			default:
				t.Error("announcement dropped: the test reads too slowly")
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(10 * time.Second):
			t.Error("Watch did not return after its context ended")
		}
	})
	return revs, done
}

// expect waits for want among the announcements and fails after a generous
// deadline.
func expect(t *testing.T, revs <-chan store.Revision, want store.Revision) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case r := <-revs:
			if r == want {
				return
			}
		case <-deadline:
			t.Fatalf("revision %d was not announced", want)
		}
	}
}

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

func TestWatch(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Skip(t)
			t.Run("asks for a catch-up first, then announces every commit", func(t *testing.T) {
				s := b.Store(t)
				revs, _ := watching(t, s)
				expect(t, revs, 0)
				for _, id := range []string{"a1", "a2", "a3"} {
					expect(t, revs, commitAccount(t, s, id))
				}
			})

			t.Run("a commit that changes no membership or account is not announced", func(t *testing.T) {
				s := b.Store(t)
				revs, _ := watching(t, s)
				expect(t, revs, 0)
				if _, err := s.Update(context.Background(), func(tx store.Tx) error { return nil }); err != nil {
					t.Fatal(err)
				}
				rev := commitAccount(t, s, "a1")
				if r := <-revs; r != rev {
					t.Errorf("announced %d before the account's revision %d", r, rev)
				}
			})

			t.Run("a rolled-back transaction is not announced", func(t *testing.T) {
				s := b.Store(t)
				revs, _ := watching(t, s)
				expect(t, revs, 0)
				boom := errors.New("boom")
				_, err := s.Update(context.Background(), func(tx store.Tx) error {
					if err := tx.CreateAccount(context.Background(), store.Account{ID: "gone", Name: "gone", Kind: store.Team}); err != nil {
						return err
					}
					return boom
				})
				if !errors.Is(err, boom) {
					t.Fatalf("Update = %v, want boom", err)
				}
				rev := commitAccount(t, s, "kept")
				if r := <-revs; r != rev {
					t.Errorf("announced %d before the committed revision %d", r, rev)
				}
			})

			t.Run("ends with ErrClosed when the store closes", func(t *testing.T) {
				s, err := b.Open(b.DSN(t))
				if err != nil {
					t.Fatal(err)
				}
				revs, done := watching(t, s)
				expect(t, revs, 0)
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				select {
				case err := <-done:
					if !errors.Is(err, store.ErrClosed) {
						t.Errorf("Watch = %v, want ErrClosed", err)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("Watch did not return after Close")
				}
				if err := s.Watch(context.Background(), func(store.Revision) {}); !errors.Is(err, store.ErrClosed) {
					t.Errorf("Watch after Close = %v, want ErrClosed", err)
				}
			})

			t.Run("ends with the context's error", func(t *testing.T) {
				s := b.Store(t)
				ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
				defer cancel()
				if err := s.Watch(ctx, func(store.Revision) {}); !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Watch = %v, want the context's deadline", err)
				}
			})

			t.Run("refuses a nil function", func(t *testing.T) {
				s := b.Store(t)
				if err := s.Watch(context.Background(), nil); !errors.Is(err, store.ErrInvalid) {
					t.Errorf("Watch(nil) = %v, want ErrInvalid", err)
				}
			})
		})
	}

	t.Run("postgres across stores", func(t *testing.T) {
		postgresBackend.Skip(t)
		t.Run("announces the commits of another process's store", func(t *testing.T) {
			dsn := postgresBackend.DSN(t)
			s1, s2 := postgresBackend.StoreOn(t, dsn), postgresBackend.StoreOn(t, dsn)
			revs, _ := watching(t, s1)
			expect(t, revs, 0)
			expect(t, revs, commitAccount(t, s2, "a1"))
		})

		t.Run("a store on another schema is not announced", func(t *testing.T) {
			s1, s2 := postgresBackend.Store(t), postgresBackend.Store(t)
			revs, _ := watching(t, s1)
			expect(t, revs, 0)
			commitAccount(t, s2, "elsewhere")
			rev := commitAccount(t, s1, "here")
			if r := <-revs; r != rev {
				t.Errorf("announced %d, want only this schema's revision %d", r, rev)
			}
		})

		t.Run("a dropped connection reconnects and asks for a catch-up", func(t *testing.T) {
			dsn := postgresBackend.DSN(t)
			s := postgresBackend.StoreOn(t, dsn)
			revs, _ := watching(t, s)
			expect(t, revs, 0)
			if n := testdb.TerminateListeners(t, dsn); n != 1 {
				t.Fatalf("terminated %d listeners, want 1", n)
			}
			expect(t, revs, 0) // listening again
			expect(t, revs, commitAccount(t, s, "after"))
		})
	})
}
