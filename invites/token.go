package invites

import "github.com/teamroster/roster/internal/token"

// TokenLen is the length of an invite token: 32 random bytes (256 bits) in
// unpadded URL-safe base64.
const TokenLen = token.Len

// ErrMalformedToken means a string is not shaped like a token; no lookup is
// worth making for it. It is token.ErrMalformed and wraps store.ErrInvalid.
var ErrMalformedToken = token.ErrMalformed

// NewToken returns a new invite token and the hash to store in its place. It
// is safe for concurrent use.
func NewToken() (tok string, hash []byte) { return token.New() }

// HashToken returns the hash under which tok is stored, or an error wrapping
// ErrMalformedToken for anything NewToken cannot have produced.
func HashToken(tok string) ([]byte, error) { return token.Hash(tok) }

// MatchToken reports whether tok hashes to hash, comparing in constant time.
// A malformed token never matches.
func MatchToken(hash []byte, tok string) bool { return token.Match(hash, tok) }
