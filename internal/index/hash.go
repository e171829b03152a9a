package index

import "math/bits"

// The index hashes IDs with a seeded hash in the style of wyhash: a 64x64 →
// 128-bit multiply folds 16 bytes at a time. It is several times faster than
// hash/maphash for the short IDs the index holds, because it inlines and
// hashes an account ID and a user ID in one pass; the random seed, drawn when
// the index is made, keeps callers from choosing colliding IDs.

const (
	hp0 = 0xa0761d6478bd642f
	hp1 = 0xe7037ed1a0b428db
	hp2 = 0x8ebc6af09c88c6e3
	hp3 = 0x589965cc75374cc3
)

// mix folds a and b into 64 bits.
func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// load64 returns 8 bytes of s from i, little-endian.
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// load32 returns 4 bytes of s from i, little-endian.
func load32(s string, i int) uint64 {
	s = s[i : i+4]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24
}

// hashString folds s into the running hash h.
func hashString(h uint64, s string) uint64 {
	h ^= uint64(len(s)) * hp2
	for len(s) > 16 {
		h = mix(load64(s, 0)^hp1, load64(s, 8)^h)
		s = s[16:]
	}
	var a, b uint64
	switch n := len(s); {
	case n >= 8:
		a, b = load64(s, 0), load64(s, n-8)
	case n >= 4:
		a, b = load32(s, 0), load32(s, n-4)
	case n > 0:
		a = uint64(s[0])<<16 | uint64(s[n>>1])<<8 | uint64(s[n-1])
	}
	return mix(a^hp1, b^h)
}

// hash1 returns the hash of one ID.
func hash1(seed uint64, s string) uint64 { return mix(hashString(seed, s)^hp0, hp3) }

// hash2 returns the hash of a pair of IDs: (a, u) and (a', u') hash alike
// only by chance unless a == a' and u == u'.
func hash2(seed uint64, a, u string) uint64 {
	return mix(hashString(hashString(seed, a)^hp0, u)^hp3, hp1)
}
