// Package cursor makes and reads the opaque cursors of roster's paged lists
// (the audit log, the members table, the account selector, invites,
// transfers), and reads one page of a list whose rows the caller filters.
//
// A cursor is the unpadded URL-safe base64 of a version byte, a payload and
// the first 8 bytes of a SHA-256 over the version and payload and the
// strings the cursor is bound to (the list's name, the account or user, a
// filter), each preceded by its length. The checksum is not a secret: it
// makes a cursor that was mangled, made up or taken from another list fail
// with store.ErrInvalid instead of silently paging elsewhere. A cursor never
// widens what a call may see: the caller checks and applies the account and
// the filter as always.
package cursor

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/teamroster/roster/store"
)

const (
	version = 1
	sumLen  = 8
)

// Encode returns the cursor of payload bound to bind.
func Encode(payload []byte, bind ...string) string {
	b := make([]byte, 0, 1+len(payload)+sumLen)
	b = append(b, version)
	b = append(b, payload...)
	b = append(b, sum(b, bind)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode returns the payload of c, which Encode made with the same bind. It
// returns an error wrapping store.ErrInvalid if c is longer than
// store.MaxCursorLen, is not URL-safe base64, has an unknown version, or was
// bound to something else (or altered).
func Decode(c string, bind ...string) ([]byte, error) {
	if len(c) > store.MaxCursorLen {
		return nil, Malformed("too long")
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(c)
	switch {
	case err != nil:
		return nil, Malformed("not URL-safe base64")
	case len(b) < 1+sumLen || b[0] != version:
		return nil, Malformed("unknown format")
	}
	head := b[:len(b)-sumLen]
	if !bytes.Equal(b[len(head):], sum(head, bind)) {
		return nil, Malformed("it belongs to another list, account or filter")
	}
	return head[1:], nil
}

// Malformed returns an error wrapping store.ErrInvalid that says why a
// cursor is malformed.
func Malformed(why string) error {
	return fmt.Errorf("%w: malformed cursor: %s", store.ErrInvalid, why)
}

// sum is the checksum of a cursor's head bound to bind.
func sum(head []byte, bind []string) []byte {
	h := sha256.New()
	var n [8]byte
	field := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field(string(head))
	for _, s := range bind {
		field(s)
	}
	return h.Sum(nil)[:sumLen]
}

// zeroTime is how a key's zero time is written: no time.Time in the years
// a Store keeps has these seconds.
const zeroTime = math.MinInt64

// EncodeKey returns the cursor of the position k in part part of a list
// (lists of one part use 0), bound to bind. The time keeps its
// nanoseconds, so a Store that keeps them pages exactly too.
func EncodeKey(part byte, k store.Key, bind ...string) string {
	secs, nanos := int64(zeroTime), int32(0)
	if !k.Time.IsZero() {
		secs, nanos = k.Time.Unix(), int32(k.Time.Nanosecond())
	}
	b := make([]byte, 0, 1+8+4+len(k.ID))
	b = append(b, part)
	b = binary.BigEndian.AppendUint64(b, uint64(secs))
	b = binary.BigEndian.AppendUint32(b, uint32(nanos))
	b = append(b, k.ID...)
	return Encode(b, bind...)
}

// DecodeKey returns the part and position of a cursor EncodeKey made with
// the same bind; the zero Key is the start of its part. It returns an error
// wrapping store.ErrInvalid if Decode does, or if the position is not one a
// list holds (an invalid ID, a time outside the years 1 to 9999, a part
// above maxPart).
func DecodeKey(c string, maxPart byte, bind ...string) (byte, store.Key, error) {
	b, err := Decode(c, bind...)
	if err != nil {
		return 0, store.Key{}, err
	}
	if len(b) < 1+8+4 || b[0] > maxPart {
		return 0, store.Key{}, Malformed("unknown format")
	}
	var k store.Key
	secs, nanos := int64(binary.BigEndian.Uint64(b[1:9])), binary.BigEndian.Uint32(b[9:13])
	k.ID = string(b[13:])
	if secs != zeroTime {
		k.Time = time.Unix(secs, int64(nanos)).UTC()
		if nanos >= 1e9 || k.Time.Year() < 1 || k.Time.Year() > 9999 {
			return 0, store.Key{}, Malformed("out of range")
		}
	} else if nanos != 0 {
		return 0, store.Key{}, Malformed("out of range")
	}
	if !k.IsZero() && store.ValidateID("cursor ID", k.ID) != nil {
		return 0, store.Key{}, Malformed("out of range")
	}
	return b[0], k, nil
}
