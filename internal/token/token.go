// Package token makes the secrets roster sends in links (invitations,
// ownership transfer confirmations), stores only their hashes and compares
// them in constant time. A random token (New) carries 256 random bits and
// is shown once. A derived token (Derive) is made from a server secret, so
// that the server can make it again; it carries a prefix, the secret's key
// ID and a checksum, so that a malformed one is refused without a read.
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

// Hash returns the bytes under which tok is stored: the SHA-256 of a random
// token, the stored form of a derived one (see Derive). It returns an error
// wrapping ErrMalformed, without hashing, for anything New or Derive cannot
// have made (for a derived token, without its secret: see Parse).
func Hash(tok string) ([]byte, error) {
	if len(tok) != Len && IsDerived(tok) {
		d, err := Parse(tok)
		if err != nil {
			return nil, err
		}
		return d.Stored(), nil
	}
	if len(tok) != Len {
		return nil, fmt.Errorf("%w: length %d, want %d", ErrMalformed, len(tok), Len)
	}
	if _, err := base64.RawURLEncoding.Strict().DecodeString(tok); err != nil {
		return nil, fmt.Errorf("%w: not URL-safe base64", ErrMalformed)
	}
	sum := sha256.Sum256([]byte(tok))
	return sum[:], nil
}

// Match reports whether tok is stored as hash (see Hash), comparing in
// constant time. A malformed token never matches.
func Match(hash []byte, tok string) bool {
	h, err := Hash(tok)
	return err == nil && subtle.ConstantTimeCompare(h, hash) == 1
}
