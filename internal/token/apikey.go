package token

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"hash/crc32"

	"github.com/teamroster/roster/store"
)

// An API key's token reads
//
//	rsk_<ID>_<secret><checksum>
//
// where ID is 16 characters of lower-case base32 (a-z, 2-7; 80 random bits)
// and the key's ID is store.APIKeyIDPrefix followed by them, the secret is
// 40 characters of base62 (0-9, A-Z, a-z; 238 random bits), and the
// checksum is the CRC-32 of everything before it in 6 characters of base62,
// as GitHub's and Stripe's tokens are built: a secret scanner recognises
// the prefix and the fixed shape, and ParseAPIKey refuses a mistyped or
// truncated token without a read. The key is stored as the SHA-256 of the
// whole token.
const (
	// APIKeyPrefix starts every API key token.
	APIKeyPrefix = "rsk_"
	// APIKeyLen is the length of an API key token.
	APIKeyLen = len(APIKeyPrefix) + apiKeyIDLen + 1 + apiKeySecretLen + apiKeySumLen

	apiKeyIDLen     = 16
	apiKeySecretLen = 40
	apiKeySumLen    = 6
	base32Lower     = "abcdefghijklmnopqrstuvwxyz234567"
	base62          = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// NewAPIKey returns a new API key: its ID (store.APIKeyIDPrefix and 16
// random base32 characters), its token, and the hash to store. It is safe
// for concurrent use.
func NewAPIKey() (id, tok string, hash []byte) {
	b := make([]byte, 0, APIKeyLen)
	b = append(b, APIKeyPrefix...)
	b = appendRandom(b, base32Lower, apiKeyIDLen)
	b = append(b, '_')
	b = appendRandom(b, base62, apiKeySecretLen)
	b = appendBase62(b, crc32.ChecksumIEEE(b))
	tok = string(b)
	sum := sha256.Sum256(b)
	return store.APIKeyIDPrefix + tok[len(APIKeyPrefix):len(APIKeyPrefix)+apiKeyIDLen], tok, sum[:]
}

// appendRandom appends n characters drawn uniformly from alphabet (of at
// most 64 characters) with crypto/rand, by rejection.
func appendRandom(b []byte, alphabet string, n int) []byte {
	var buf [64]byte
	for n > 0 {
		_, _ = rand.Read(buf[:]) // crypto/rand.Read never returns an error
		for _, c := range buf {
			if c &= 63; int(c) < len(alphabet) && n > 0 {
				b = append(b, alphabet[c])
				n--
			}
		}
	}
	return b
}

// charClass says, for each byte, which of the token's alphabets hold it.
var charClass = func() (t [256]uint8) {
	for _, c := range base32Lower {
		t[c] |= inBase32
	}
	for _, c := range base62 {
		t[c] |= inBase62
	}
	return t
}()

const (
	inBase32 = 1 << iota
	inBase62
)

// appendBase62 appends v in apiKeySumLen base62 digits, most significant
// first.
func appendBase62(b []byte, v uint32) []byte {
	var d [apiKeySumLen]byte
	for i := apiKeySumLen - 1; i >= 0; i-- {
		d[i] = base62[v%62]
		v /= 62
	}
	return append(b, d[:]...)
}

// ParseAPIKey checks, without a read, that tok is shaped like an API key
// token and that its checksum is right, and returns the key's ID without
// store.APIKeyIDPrefix (a substring of tok) and the token's SHA-256, which
// the key is stored as. It returns an error wrapping ErrMalformed
// otherwise: a mistyped, truncated, padded or foreign token is refused
// before anything is looked up for it. It allocates nothing but its error,
// and is safe for concurrent use.
func ParseAPIKey(tok string) (idSuffix string, hash [sha256.Size]byte, err error) {
	if len(tok) != APIKeyLen || tok[:len(APIKeyPrefix)] != APIKeyPrefix {
		return "", hash, fmt.Errorf("%w: not an API key of %d bytes starting %q", ErrMalformed, APIKeyLen, APIKeyPrefix)
	}
	idEnd := len(APIKeyPrefix) + apiKeyIDLen
	sumAt := APIKeyLen - apiKeySumLen
	bad := tok[idEnd] != '_'
	for i := len(APIKeyPrefix); i < idEnd; i++ {
		bad = bad || charClass[tok[i]]&inBase32 == 0
	}
	for i := idEnd + 1; i < APIKeyLen; i++ {
		bad = bad || charClass[tok[i]]&inBase62 == 0
	}
	if bad {
		return "", hash, fmt.Errorf("%w: unexpected character", ErrMalformed)
	}
	var want [apiKeySumLen]byte
	if string(appendBase62(want[:0], crcIEEE(tok[:sumAt]))) != tok[sumAt:] {
		return "", hash, fmt.Errorf("%w: wrong checksum", ErrMalformed)
	}
	var buf [APIKeyLen]byte
	copy(buf[:], tok)
	return tok[len(APIKeyPrefix):idEnd], sha256.Sum256(buf[:]), nil
}

// crcIEEE returns crc32.ChecksumIEEE of s, byte by byte, so that s need not
// be copied to the heap for the package's assembly.
func crcIEEE(s string) uint32 {
	crc := ^uint32(0)
	for i := 0; i < len(s); i++ {
		crc = crc32.IEEETable[byte(crc)^s[i]] ^ crc>>8
	}
	return ^crc
}
