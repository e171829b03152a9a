// Package token makes the one-time secrets roster sends in links
// (invitations, ownership transfer confirmations): 256 random bits shown
// once, stored only as their SHA-256, compared in constant time.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"

	"github.com/teamroster/roster/store"
)

// Len is the length of a token: 32 random bytes in unpadded URL-safe base64.
const Len = 43

// ErrMalformed means a string is not shaped like a token, so no lookup is
// worth making for it. It wraps store.ErrInvalid.
var ErrMalformed = store.Kinded(store.ErrInvalid, "token: malformed token")

// New returns a new token carrying 256 bits from crypto/rand and the hash to
// store in its place. It is safe for concurrent use.
func New() (tok string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error
	tok = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(tok))
	return tok, sum[:]
}

// Hash returns the hash under which tok is stored. It returns an error
// wrapping ErrMalformed, without hashing, for anything New cannot have made.
func Hash(tok string) ([]byte, error) {
	if len(tok) != Len {
		return nil, fmt.Errorf("%w: length %d, want %d", ErrMalformed, len(tok), Len)
	}
	if _, err := base64.RawURLEncoding.Strict().DecodeString(tok); err != nil {
		return nil, fmt.Errorf("%w: not URL-safe base64", ErrMalformed)
	}
	sum := sha256.Sum256([]byte(tok))
	return sum[:], nil
}

// Match reports whether tok hashes to hash, comparing in constant time. A
// malformed token never matches.
func Match(hash []byte, tok string) bool {
	h, err := Hash(tok)
	return err == nil && subtle.ConstantTimeCompare(h, hash) == 1
}
