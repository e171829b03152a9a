package index

import (
	"sync/atomic"
)

// arena stores records of IDs in 64 KiB chunks and refers to a record by
// chunk number << 16 | offset. Reference 0 is never used (chunk 0 starts at
// offset 1). A record is a name: a length byte and the ID's bytes. Reading
// is safe for concurrent use with add, provided the reader loaded the
// reference from a slot the writer published after the add returned; adding
// must be done by one goroutine at a time.
type arena struct {
	chunks atomic.Pointer[[][]byte]

	// Writer state.
	used int // bytes used in the last chunk
	size int // bytes stored
}

const (
	cacheLine = 64
	chunkBits = 16
	chunkSize = 1 << chunkBits
	maxChunks = 1 << (32 - chunkBits)
)

func (ar *arena) init() { ar.chunks.Store(&[][]byte{}) }

// at returns the bytes from ref to the end of its chunk. It loads the chunks
// after the caller loaded ref, so they include ref's chunk.
func (ar *arena) at(ref uint32) []byte {
	return (*ar.chunks.Load())[ref>>chunkBits][ref&(chunkSize-1):]
}

// equal reports whether the name at ref is s.
func (ar *arena) equal(ref uint32, s string) bool {
	b := ar.at(ref)
	return int(b[0]) == len(s) && string(b[1:1+len(s)]) == s
}

// nameSize returns the bytes the name at ref takes.
func (ar *arena) nameSize(ref uint32) int { return 1 + int(ar.at(ref)[0]) }

// record returns the name at ref as stored; the caller must not modify it.
func (ar *arena) record(ref uint32) []byte { return ar.at(ref)[:ar.nameSize(ref)] }

// same reports whether the names at refs r1 and r2 are equal.
func (ar *arena) same(r1, r2 uint32) bool { return string(ar.record(r1)) == string(ar.record(r2)) }

// reserve returns n bytes of space and their reference, or ErrFull. A
// record that fits in a cache line is kept within one (chunks are allocated
// 64-byte aligned), so that reading it reads one line.
func (ar *arena) reserve(n int) ([]byte, uint32, error) {
	chunks := *ar.chunks.Load()
	at := aligned(ar.used, n)
	if len(chunks) == 0 || at+n > chunkSize {
		if len(chunks) == maxChunks {
			return nil, 0, ErrFull
		}
		// Readers never index past the length they loaded, so appending
		// in place is safe; the new slice is published atomically.
		chunks = append(chunks, make([]byte, chunkSize))
		ar.chunks.Store(&chunks)
		ar.used = 0
		if len(chunks) == 1 {
			ar.used = 1 // reference 0 means none
		}
		at = aligned(ar.used, n)
	}
	ref := uint32(len(chunks)-1)<<chunkBits | uint32(at)
	b := chunks[len(chunks)-1][at : at+n]
	ar.size += at + n - ar.used
	ar.used = at + n
	return b, ref, nil
}

// aligned returns where a record of n bytes goes from offset at: there, or
// at the next cache line if it would cross into that line while fitting in
// one. A chunk being whole lines, a record that fits in its chunk at at
// fits at the next line too.
func aligned(at, n int) int {
	if n <= cacheLine && at%cacheLine+n > cacheLine {
		return at + cacheLine - at%cacheLine
	}
	return at
}

// add stores the name s (1 to 255 bytes).
func (ar *arena) add(s string) (uint32, error) {
	b, ref, err := ar.reserve(1 + len(s))
	if err == nil {
		b[0] = byte(len(s))
		copy(b[1:], s)
	}
	return ref, err
}

// addRecord stores a record copied from another arena.
func (ar *arena) addRecord(r []byte) (uint32, error) {
	b, ref, err := ar.reserve(len(r))
	if err == nil {
		copy(b, r)
	}
	return ref, err
}
