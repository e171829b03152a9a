package bench_test

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkMemoryLatency measures what one cache miss costs on the machine
// the other benchmarks run on: each step loads the next position from the
// one loaded before (a random cycle through the array), so that no load can
// start before the previous one ends. Over 1 MiB it measures the CPU's
// caches; over 128 MiB, far more than any cache, memory itself (and the
// TLB). It is the floor under Can over 65,536 questions spread across a
// million memberships, where a member's answer takes two such loads, one
// after the other (the slot, then the record of the user's ID).
func BenchmarkMemoryLatency(b *testing.B) {
	for _, size := range []struct {
		name  string
		bytes int
	}{{"1MiB", 1 << 20}, {"128MiB", 128 << 20}} {
		b.Run(size.name, func(b *testing.B) {
			n := size.bytes / 8
			next := make([]uint64, n)
			order := rand.New(rand.NewPCG(1, 2)).Perm(n)
			for i, p := range order {
				next[p] = uint64(order[(i+1)%n])
			}
			var at uint64
			for b.Loop() {
				at = next[at]
			}
			sink.Add(int64(at))
		})
	}
}
