// Package overlap makes the calls of a race test overlap, and fails the test
// when they did not. A Store wraps the store under test; its Race runs the
// contenders, each with a context naming it, and holds the first write
// transaction a contender begins open, before it does anything, until every
// contender's call has reached the store (called Update) and, on a store
// that runs write transactions at once, until at least two contenders have
// begun theirs. So no contender can commit before the others are in
// flight: a run in which the calls went one after the other cannot pass.
// If the barrier is not met within a bound, the transactions go on and Race
// fails the test.
package overlap

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/teamroster/roster/store"
)

// timeout bounds how long the first transaction waits for the other
// contenders before Race gives up on the round and fails the test.
var timeout = 10 * time.Second

// Store is a store.Store whose write transactions meet at a barrier during
// a Race: see the package documentation. Outside a Race, and for calls
// whose context does not name a contender, it passes every call through.
// It is safe for concurrent use; its Races run one at a time.
type Store struct {
	store.Store
	together bool

	races sync.Mutex // one Race at a time
	mu    sync.Mutex
	cur   *round
}

// New returns s wrapped for Race. beginTogether says whether the barrier
// also waits for two contenders to have begun their transactions: set it
// for a store that runs write transactions at once (PostgreSQL). A store
// that runs one at a time (SQLite) cannot begin a second while the first
// waits, so for it the barrier asks only that every call be in flight.
func New(s store.Store, beginTogether bool) *Store {
	return &Store{Store: s, together: beginTogether}
}

// round is one Race: which contenders have called Update and begun a
// transaction.
type round struct {
	n, need        int // contenders, and how many must have begun
	mu             sync.Mutex
	called, begun  []bool
	calls, begins  int
	met            chan struct{} // closed when the barrier is met or given up
	closed, failed bool
	missed         string // what the barrier lacked when it gave up
}

type contenderKey struct{}

type contender struct {
	r *round
	i int
}

// call records that contender i called Update.
func (r *round) call(i int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.called[i] {
		r.called[i] = true
		r.calls++
	}
	r.check()
}

// begin records that contender i began a write transaction, and waits
// there until the barrier is met or the timeout has passed.
func (r *round) begin(i int) {
	r.mu.Lock()
	if !r.begun[i] {
		r.begun[i] = true
		r.begins++
	}
	r.check()
	met := r.met
	r.mu.Unlock()
	select {
	case <-met:
	case <-time.After(timeout):
		r.mu.Lock()
		if !r.closed {
			r.closed, r.failed, r.missed = true, true, r.lacking()
			close(r.met)
		}
		r.mu.Unlock()
	}
}

// check closes met once every contender called Update and enough began.
// The caller holds r.mu.
func (r *round) check() {
	if !r.closed && r.calls == r.n && r.begins >= r.need {
		r.closed = true
		close(r.met)
	}
}

// lacking describes what the barrier is waiting for. The caller holds r.mu.
func (r *round) lacking() string {
	var missing []int
	for i, called := range r.called {
		if !called {
			missing = append(missing, i)
		}
	}
	return fmt.Sprintf("%d of %d called Update (missing %v) and %d began a transaction (%d needed)", r.calls, r.n, missing, r.begins, r.need)
}

// Update runs fn in a write transaction of the wrapped Store; for a
// contender of the current Race it first records the call and, inside the
// transaction, waits at the barrier. It returns the wrapped Store's
// results.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) (store.Commit, error) {
	c, ok := ctx.Value(contenderKey{}).(contender)
	s.mu.Lock()
	live := ok && c.r == s.cur
	s.mu.Unlock()
	if !live {
		return s.Store.Update(ctx, fn)
	}
	c.r.call(c.i)
	return s.Store.Update(ctx, func(tx store.Tx) error {
		c.r.begin(c.i)
		return fn(tx)
	})
}

// Race runs fn(ctx, i) for i in [0, n), n >= 2, each on a goroutine of its
// own with a context derived from ctx naming it contender i, and returns
// their errors once all have returned. It fails tb unless the calls
// overlapped: the first write transaction a contender began waited,
// before doing anything, until every contender had called Update and, if
// the Store was made to begin them together, until two contenders had
// begun their transactions. Each contender must therefore write through
// this Store, with the context it is given.
func (s *Store) Race(tb testing.TB, ctx context.Context, n int, fn func(ctx context.Context, i int) error) []error {
	tb.Helper()
	if n < 2 {
		tb.Fatalf("overlap.Race needs two contenders or more, got %d", n)
	}
	s.races.Lock()
	defer s.races.Unlock()
	r := &round{n: n, need: 1, called: make([]bool, n), begun: make([]bool, n), met: make(chan struct{})}
	if s.together {
		r.need = 2
	}
	s.mu.Lock()
	s.cur = r
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.cur = nil
		s.mu.Unlock()
	}()

	errs := Together(n, func(i int) error {
		return fn(context.WithValue(ctx, contenderKey{}, contender{r, i}), i)
	})

	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.failed:
		tb.Fatalf("the contenders did not overlap: after %v, %s; errors %v", timeout, r.missed, errs)
	case !r.closed:
		tb.Fatalf("the contenders did not overlap: none waited, and %s; errors %v", r.lacking(), errs)
	}
	return errs
}

// Together runs fn(i) for i in [0, n) on n goroutines released at once, and
// returns their errors once all have returned. It proves nothing about
// whether the calls overlapped: Race does.
func Together(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			errs[i] = fn(i)
		}()
	}
	start.Done()
	done.Wait()
	return errs
}
