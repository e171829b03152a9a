package index

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestArenaPacksNames checks where the arena puts each name: right after
// the one before, unless it would then cross a cache line while fitting in
// one (it starts the next line) or overrun its chunk (it starts the next
// chunk), and that each reads back as stored. Alignment only saves cache
// misses, so no other test notices a name put elsewhere.
func TestArenaPacksNames(t *testing.T) {
	var ar arena
	ar.init()
	chunk, end := 0, 1 // where the next name would go unaligned; reference 0 is never used
	rng := rand.New(rand.NewPCG(3, 4))
	add := func(n int) {
		t.Helper()
		s := strings.Repeat(string(rune('a'+rng.IntN(26))), n)
		ref, err := ar.add(s)
		if err != nil {
			t.Fatal(err)
		}
		size, at := 1+n, end
		if size <= cacheLine && at%cacheLine+size > cacheLine {
			at += cacheLine - at%cacheLine
		}
		if at+size > chunkSize {
			chunk, at = chunk+1, 0
		}
		if want := uint32(chunk)<<chunkBits | uint32(at); ref != want {
			t.Fatalf("a name of %d bytes after byte %d of chunk %d went to chunk %d byte %d, want byte %d of chunk %d",
				size, end, chunk, ref>>chunkBits, ref&(chunkSize-1), at, chunk)
		}
		if !ar.equal(ref, s) || ar.nameSize(ref) != size {
			t.Fatalf("the name of %d bytes at %d does not read back", size, ref)
		}
		end = at + size
	}
	// Names of a whole line each: the last fills chunk 0 to its end.
	for end+cacheLine <= chunkSize || end%cacheLine != 0 {
		add(cacheLine - 1)
	}
	if chunk != 0 || end != chunkSize {
		t.Fatalf("the lines filled chunk %d to byte %d", chunk, end)
	}
	// In chunk 1, a line-sized name that must skip to the chunk's last
	// line, and fills it.
	for chunk == 0 || end < chunkSize-2*cacheLine {
		add(cacheLine - 1)
	}
	add(1)
	add(cacheLine - 1)
	if chunk != 1 || end != chunkSize {
		t.Fatalf("the last line of chunk 1 ends at byte %d of chunk %d", end, chunk)
	}
	for range 20000 {
		add(1 + rng.IntN(255))
	}
}
