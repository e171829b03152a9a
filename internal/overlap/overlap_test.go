package overlap_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/teamroster/roster/internal/overlap"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/store"
)

// TestMain runs the package's tests and says how many PostgreSQL tests
// skipped themselves, see rostertest.Main.
func TestMain(m *testing.M) { rostertest.Main(m) }

// recorder is a testing.TB that keeps the failure Race reports instead of
// failing the test.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed string
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = fmt.Sprintf(format, args...)
}

// write is an Update that writes a user, as a contender does.
func write(ctx context.Context, s store.Store, id string) error {
	_, err := s.Update(ctx, func(tx store.Tx) error {
		return tx.CreateUser(ctx, store.User{ID: id, Email: id + "@example.com", Name: id, SignIn: store.SignInEmail})
	})
	return err
}

// concurrent is a Store whose Update runs fn at once on a transaction of
// its own, without waiting for any other: the first of two contenders can
// only finish after the second began, if the barrier holds it.
type concurrent struct {
	store.Store
	inside, most atomic.Int32
}

func (c *concurrent) Update(ctx context.Context, fn func(store.Tx) error) (store.Commit, error) {
	n := c.inside.Add(1)
	defer c.inside.Add(-1)
	for m := c.most.Load(); n > m && !c.most.CompareAndSwap(m, n); m = c.most.Load() {
	}
	return store.Commit{}, fn(nil)
}

func TestRace(t *testing.T) {
	ctx := context.Background()
	sqlite := testdb.Backends()[0]

	t.Run("writers on one store overlap and the race passes", func(t *testing.T) {
		s := overlap.New(sqlite.Store(t), false)
		var order []int
		var mu sync.Mutex
		errs := s.Race(t, ctx, 3, func(ctx context.Context, i int) error {
			err := write(ctx, s, fmt.Sprint("u", i))
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("contender %d: %v", i, err)
			}
		}
		if len(order) != 3 {
			t.Errorf("%d contenders returned, want 3", len(order))
		}
	})

	t.Run("a contender that never reaches the store fails the race", func(t *testing.T) {
		defer overlap.SetTimeout(100 * time.Millisecond)()
		s := overlap.New(sqlite.Store(t), false)
		rec := &recorder{TB: t}
		start := time.Now()
		s.Race(rec, ctx, 2, func(ctx context.Context, i int) error {
			if i == 1 {
				return nil // ran, but never wrote: no overlap shown
			}
			return write(ctx, s, "u0")
		})
		if !strings.Contains(rec.failed, "did not overlap") || !strings.Contains(rec.failed, "missing [1]") {
			t.Errorf("Race reported %q, want a failure naming contender 1", rec.failed)
		}
		if waited := time.Since(start); waited < 100*time.Millisecond {
			t.Errorf("the first transaction waited %v, less than the timeout", waited)
		}
	})

	t.Run("two transactions cannot begin together on a store that runs one writer at a time", func(t *testing.T) {
		defer overlap.SetTimeout(200 * time.Millisecond)()
		s := overlap.New(sqlite.Store(t), true)
		rec := &recorder{TB: t}
		s.Race(rec, ctx, 2, func(ctx context.Context, i int) error { return write(ctx, s, fmt.Sprint("u", i)) })
		if !strings.Contains(rec.failed, "1 began a transaction (2 needed)") {
			t.Errorf("Race reported %q, want a failure for want of a second begun transaction", rec.failed)
		}
	})

	t.Run("on a store that runs writers at once, two transactions are open together", func(t *testing.T) {
		c := &concurrent{Store: sqlite.Store(t)}
		s := overlap.New(c, true)
		s.Race(t, ctx, 2, func(ctx context.Context, i int) error {
			_, err := s.Update(ctx, func(store.Tx) error { return nil })
			return err
		})
		if got := c.most.Load(); got != 2 {
			t.Errorf("at most %d transactions were open at once, want 2", got)
		}
	})

	t.Run("calls outside a race pass straight through", func(t *testing.T) {
		defer overlap.SetTimeout(time.Hour)()
		s := overlap.New(sqlite.Store(t), true)
		done := make(chan error, 1)
		go func() { done <- write(ctx, s, "alone") }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("an Update outside a race waited")
		}
	})
}
