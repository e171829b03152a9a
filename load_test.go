package roster_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
)

// TestLoad runs 100 goroutines of random membership operations on a few
// shared teams for a bounded time, and fails if any busy, locked, deadlock,
// conflict or other database error reaches a caller, or if an invariant
// breaks. It logs the operations per second it measured. Worker w draws
// from a generator seeded with the logged seed and w (see
// rostertest.Seed); the goroutines' interleaving is not replayed. With
// rostertest.EnvSoak set, each run lasts the soak's time.
func TestLoad(t *testing.T) {
	const workers = 100
	duration := 3 * time.Second
	if testing.Short() {
		duration = time.Second
	}
	if soak, ok := rostertest.Soak(t); ok {
		duration = soak
	}
	seed := rostertest.Seed(t)
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		for _, p := range []*rbac.Policy{rbac.Runpod(), rbac.DigitalOcean()} {
			t.Run(p.Name(), func(t *testing.T) {
				ctx := context.Background()
				box := &rostertest.Inbox{}
				r, s := rostertest.Open(t, b, p, roster.WithNotifier(box), roster.WithBaseURL("https://app.example.com/team"))
				d, err := rostertest.NewDriver(ctx, r, box, "load-", 12)
				if err != nil {
					t.Fatal(err)
				}
				var ops, failed atomic.Int64
				var wg sync.WaitGroup
				start := time.Now()
				stop := start.Add(duration)
				for w := range workers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						rng := rand.New(rand.NewPCG(seed, uint64(w)))
						for time.Now().Before(stop) && !t.Failed() {
							op, err := d.Step(ctx, rng)
							ops.Add(1)
							if err == nil {
								continue
							}
							failed.Add(1)
							if rostertest.Unexpected(err) {
								t.Errorf("%s: an error no caller should see: %v", op, err)
							}
						}
					}()
				}
				wg.Wait()
				elapsed := time.Since(start)
				n := rostertest.CheckInvariants(t, r, s, d.Users())
				if !t.Failed() {
					t.Logf("%d goroutines, %s: %d operations (%d refused), %.0f ops/s; %d memberships at the end, invariant violations: 0",
						workers, elapsed.Round(time.Millisecond), ops.Load(), failed.Load(), float64(ops.Load())/elapsed.Seconds(), n)
				}
			})
		}
	})
}
