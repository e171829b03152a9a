package bench_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/teamroster/roster/store"
)

// BenchmarkSnapshot measures the part of BenchmarkOpen that reads the store:
// Store.Snapshot over every account and membership of the SQLite file, with
// a function that only counts them.
func BenchmarkSnapshot(b *testing.B) {
	for _, teams := range []int{100000} {
		b.Run(fmt.Sprintf("teams=%d", teams), func(b *testing.B) {
			dropFixture(b)
			s := openStore(b, sqliteFile(b, teams))
			defer s.Close()
			var cpu time.Duration
			for b.Loop() {
				c0 := cpuTime(b)
				n := 0
				if _, err := s.Snapshot(context.Background(), func(store.SnapshotItem) error { n++; return nil }); err != nil {
					b.Fatal(err)
				}
				cpu += cpuTime(b) - c0
				if want := teams * (membersPerTeam + 1); n != want {
					b.Fatalf("snapshot has %d items, want %d", n, want)
				}
			}
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}
