package bench_test

import (
	"context"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/casbin/casbin/v2"

	"github.com/teamroster/roster"
)

// cpuTime returns the CPU time (user and system) the process has used.
func cpuTime(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// heap returns the live heap after a full collection.
func heap() uint64 {
	runtime.GC()
	runtime.GC() // a second cycle frees what the first one's finalizers released
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// perMembership reports the heap growth from before as bytes per membership.
func perMembership(b *testing.B, before uint64, teams int, keep any) {
	b.Helper()
	after := heap()
	runtime.KeepAlive(keep)
	b.ReportMetric(float64(int64(after)-int64(before))/float64(teams*membersPerTeam), "B/membership")
}

// BenchmarkOpen measures roster.Open on a SQLite file of generated teams:
// the time until Can can answer (ns/op, and the CPU time it took on all
// cores, cpu-ms/op) and the heap the open Roster holds, in bytes per
// membership, measured after garbage collection (B/membership: the index,
// and the store's connection pools, which do not grow with the data). The
// largest size, 10,000,000 memberships, needs a 6.6 GB SQLite file, which
// the first run generates (about 5 minutes).
func BenchmarkOpen(b *testing.B) {
	for _, teams := range []int{1000, 10000, 100000, 1000000} {
		b.Run(fmt.Sprintf("teams=%d", teams), func(b *testing.B) {
			dropFixture(b)
			path := sqliteFile(b, teams)
			ctx := context.Background()
			var cpu time.Duration
			var r *roster.Roster
			for b.Loop() {
				if r != nil {
					if err := r.Close(); err != nil {
						b.Fatal(err)
					}
				}
				c0 := cpuTime(b)
				var err error
				if r, err = roster.Open(ctx, path); err != nil {
					b.Fatal(err)
				}
				cpu += cpuTime(b) - c0
			}
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
			b.StopTimer()
			if err := r.Close(); err != nil {
				b.Fatal(err)
			}
			before := heap()
			if r, err := roster.Open(ctx, path); err != nil {
				b.Fatal(err)
			} else {
				perMembership(b, before, teams, r)
				if err := r.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCasbinLoad measures, for comparison with BenchmarkOpen, how long
// Casbin's Enforcer and CachedEnforcer take to load the same memberships as
// grouping rules (from memory: reading them from the database, which a
// Casbin adapter would do, is not counted) and the heap they hold, in bytes
// per membership.
func BenchmarkCasbinLoad(b *testing.B) {
	for _, teams := range []int{1000, 10000, 100000} {
		if !casbinAt(teams) {
			continue
		}
		b.Run(fmt.Sprintf("teams=%d", teams), func(b *testing.B) {
			dropFixture(b)
			path := sqliteFile(b, teams)
			p := policy()
			rules := memberships(b, path)
			for _, kind := range []string{"casbin-enforcer", "casbin-cached"} {
				b.Run(kind, func(b *testing.B) {
					build := func() casbin.IEnforcer {
						if kind == "casbin-enforcer" {
							return newEnforcer(b, p, rules)
						}
						return newCachedEnforcer(b, p, rules)
					}
					var e casbin.IEnforcer
					for b.Loop() {
						e = nil
						e = build()
					}
					b.StopTimer()
					e = nil
					before := heap()
					e = build()
					perMembership(b, before, teams, e)
				})
			}
		})
	}
}
