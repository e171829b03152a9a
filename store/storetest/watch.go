package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/teamroster/roster/store"
)

// Announcements collects what a store.Watcher announces, for the suite and
// for a backend's own tests of what the suite cannot set up (several
// processes, dropped connections).
type Announcements struct {
	revs     chan store.Revision
	done     chan error
	finished chan struct{}
}

// Watch runs w.Watch in a goroutine until t ends and collects its
// announcements.
func Watch(t *testing.T, w store.Watcher) *Announcements {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a := &Announcements{revs: make(chan store.Revision, 100), done: make(chan error, 1), finished: make(chan struct{})}
	go func() {
		defer close(a.finished)
		a.done <- w.Watch(ctx, func(r store.Revision) {
			select {
			case a.revs <- r:
			default:
				t.Error("announcement dropped: the test reads too slowly")
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-a.finished:
		case <-time.After(10 * time.Second):
			t.Error("Watch did not return after its context ended")
		}
	})
	return a
}

// Expect waits for rev among the announcements, skipping others, and fails
// t if it does not come within 10 s.
func (a *Announcements) Expect(t testing.TB, rev store.Revision) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case r := <-a.revs:
			if r == rev {
				return
			}
		case <-deadline:
			t.Fatalf("revision %d was not announced within 10 s", rev)
		}
	}
}

// Next returns the next announcement, and fails t if none comes within 10 s.
func (a *Announcements) Next(t testing.TB) store.Revision {
	t.Helper()
	select {
	case r := <-a.revs:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("nothing was announced within 10 s")
	}
	return 0
}

// Err waits for Watch to return and returns its error, and fails t if it
// does not return within 10 s.
func (a *Announcements) Err(t testing.TB) error {
	t.Helper()
	select {
	case err := <-a.done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Watch did not return within 10 s")
	}
	return nil
}

// watcher returns the Store as a store.Watcher, and skips the test if it
// does not implement it: announcing commits is optional.
func watcher(t *testing.T, s store.Store) store.Watcher {
	t.Helper()
	w, ok := s.(store.Watcher)
	if !ok {
		t.Skip("the Store does not implement store.Watcher")
	}
	return w
}

func (s suite) watch() []test {
	return []test{
		{"asks for a catch-up first, then announces every commit", func(t *testing.T) {
			st := s.open(t)
			a := Watch(t, watcher(t, st))
			if r := a.Next(t); r != 0 {
				t.Fatalf("first announcement %d, want 0 (catch up)", r)
			}
			for _, id := range []string{"team1", "team2", "team3"} {
				if c := commitMembers(t, st, id, true); a.Next(t) != c.Revision {
					t.Errorf("the commit of revision %d was not announced next", c.Revision)
				}
			}
		}},
		{"commits that change nothing Can depends on, and rollbacks, are not announced", func(t *testing.T) {
			st := s.open(t)
			a := Watch(t, watcher(t, st))
			a.Expect(t, 0)
			seedUsers(t, st, "u1")
			boom := errors.New("boom")
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error {
				if err := tx.CreateAccount(ctx, newAccount("gone", "u1")); err != nil {
					return err
				}
				return boom
			})
			checkErr(t, "Update rolled back", err, boom)
			c := commitMembers(t, st, "kept", true)
			if r := a.Next(t); r != c.Revision {
				t.Errorf("announced %d before the commit of revision %d", r, c.Revision)
			}
		}},
		{"ends with ErrClosed when the Store closes", func(t *testing.T) {
			st := s.open(t)
			a := Watch(t, watcher(t, st))
			a.Expect(t, 0)
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			checkErr(t, "Watch after Close", a.Err(t), store.ErrClosed)
			checkErr(t, "a new Watch after Close", watcher(t, st).Watch(t.Context(), func(store.Revision) {}), store.ErrClosed)
		}},
		{"ends with the context's error", func(t *testing.T) {
			w := watcher(t, s.open(t))
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			checkErr(t, "Watch", w.Watch(ctx, func(store.Revision) {}), context.DeadlineExceeded)
		}},
		{"refuses a nil function", func(t *testing.T) {
			w := watcher(t, s.open(t))
			checkErr(t, "Watch(nil)", w.Watch(t.Context(), nil), store.ErrInvalid)
		}},
	}
}
