package invites

// This file holds the invite tokens: secrets that are shown once, in the link
// or email, and stored only as a hash.

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
)

// TokenLen is the length of a token: 32 random bytes (256 bits) in
// unpadded URL-safe base64.
const TokenLen = 43

// ErrMalformedToken means a string is not shaped like a token; no lookup is
// worth making for it.
var ErrMalformedToken = errors.New("invites: malformed token")

// NewToken returns a new token of TokenLen URL-safe characters carrying 256
// bits from crypto/rand, and the hash to store in its place. It is safe for
// concurrent use.
func NewToken() (token string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error
	token = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(token))
	return token, sum[:]
}

// HashToken returns the hash under which the token is stored. It returns
// an error wrapping ErrMalformedToken for anything NewToken cannot have
// produced, without hashing it.
func HashToken(token string) ([]byte, error) {
	if len(token) != TokenLen {
		return nil, fmt.Errorf("%w: length %d, want %d", ErrMalformedToken, len(token), TokenLen)
	}
	if _, err := base64.RawURLEncoding.Strict().DecodeString(token); err != nil {
		return nil, fmt.Errorf("%w: not URL-safe base64", ErrMalformedToken)
	}
	sum := sha256.Sum256([]byte(token))
	return sum[:], nil
}

// MatchToken reports whether token hashes to hash, comparing in constant
// time. A malformed token never matches.
func MatchToken(hash []byte, token string) bool {
	h, err := HashToken(token)
	return err == nil && subtle.ConstantTimeCompare(h, hash) == 1
}
