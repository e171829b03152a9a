package token

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strings"

	"github.com/teamroster/roster/store"
)

// A derived token is made from a server secret instead of drawn at random,
// so that the server can make the same token again while it stores only a
// hash of it. It reads
//
//	rsti_<key ID>_<body>
//
// where the key ID names the secret (1 to MaxKeyIDLen ASCII letters, digits
// and hyphens) and the body is 70 characters of unpadded URL-safe base64 of
// 52 bytes: a nonce (16 bytes, random, stored), the tag (32 bytes,
// HMAC-SHA256 under the secret of the key ID, the subject and the nonce)
// and a checksum (4 bytes, CRC-32 of everything before it). The checksum
// lets Parse refuse a mistyped or truncated token without a secret or a
// read; only the secret tells a real tag from a forged one.
//
// Its stored form holds the key ID and the nonce in clear, so that the
// token can be derived again, followed by the token's SHA-256: a version
// byte 1, the key ID's length in one byte, the key ID, the nonce and the
// hash. The stored form of a random token (New) is its bare 32-byte
// SHA-256, so the two never collide. Without the secret, the stored form
// opens nothing.
const (
	// Prefix starts every derived token.
	Prefix = "rsti_"
	// MaxKeyIDLen is the longest key ID.
	MaxKeyIDLen = 16
	// MinSecretLen is the fewest bytes of a secret Derive accepts.
	MinSecretLen = 32
	// NonceLen is the length of a Nonce.
	NonceLen = 16
)

const (
	tagLen      = sha256.Size
	sumLen      = 4
	rawBodyLen  = NonceLen + tagLen + sumLen
	bodyLen     = (rawBodyLen*8 + 5) / 6 // unpadded base64
	storedV1    = 1
	tagDomain   = "roster invite token v1"
	minTokenLen = len(Prefix) + 1 + 1 + bodyLen
	maxTokenLen = len(Prefix) + MaxKeyIDLen + 1 + bodyLen
)

// ErrKeyID means a key ID is not 1 to MaxKeyIDLen ASCII letters, digits
// and hyphens. It wraps store.ErrInvalid.
var ErrKeyID = store.Kinded(store.ErrInvalid, "token: key ID must be 1 to 16 ASCII letters, digits and hyphens")

// Nonce tells apart the tokens one secret derives for one subject: a new
// nonce, a new token.
type Nonce [NonceLen]byte

// NewNonce returns a nonce from crypto/rand. It is safe for concurrent use.
func NewNonce() Nonce {
	var n Nonce
	_, _ = rand.Read(n[:]) // crypto/rand.Read never returns an error
	return n
}

// CheckKeyID returns nil if id may name a secret, and an error wrapping
// ErrKeyID otherwise.
func CheckKeyID(id string) error {
	if id == "" || len(id) > MaxKeyIDLen {
		return fmt.Errorf("%w: %d bytes", ErrKeyID, len(id))
	}
	for i := range len(id) {
		if c := id[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("%w: byte %#x", ErrKeyID, c)
		}
	}
	return nil
}

// Derive returns the token that secret, named keyID, derives for subject
// (such as an invite's ID) and nonce, and the bytes to store in its place
// (see Hash). The same arguments give the same token. keyID must pass
// CheckKeyID and secret hold at least MinSecretLen bytes; Derive panics
// otherwise, since callers check both when the secret is configured. It is
// safe for concurrent use.
func Derive(keyID string, secret []byte, subject string, nonce Nonce) (tok string, stored []byte) {
	if err := CheckKeyID(keyID); err != nil {
		panic(err)
	}
	if len(secret) < MinSecretLen {
		panic(fmt.Sprintf("token: a secret of %d bytes, want at least %d", len(secret), MinSecretLen))
	}
	raw := make([]byte, 0, rawBodyLen)
	raw = append(raw, nonce[:]...)
	raw = tag(raw, keyID, secret, subject, nonce)
	raw = binary.BigEndian.AppendUint32(raw, checksum(keyID, raw))
	tok = Prefix + keyID + "_" + base64.RawURLEncoding.EncodeToString(raw)
	return tok, storedForm(keyID, nonce, tok)
}

// tag appends to b the HMAC-SHA256 under secret of the key ID, subject and
// nonce, each field length-prefixed so that no two inputs run together.
func tag(b []byte, keyID string, secret []byte, subject string, nonce Nonce) []byte {
	m := hmac.New(sha256.New, secret)
	msg := append([]byte(tagDomain), 0)
	msg = binary.AppendUvarint(msg, uint64(len(keyID)))
	msg = append(msg, keyID...)
	msg = binary.AppendUvarint(msg, uint64(len(subject)))
	msg = append(msg, subject...)
	msg = append(msg, nonce[:]...)
	m.Write(msg)
	return m.Sum(b)
}

// checksum returns the CRC-32 of the token's text up to its body and of the
// body's nonce and tag.
func checksum(keyID string, nonceAndTag []byte) uint32 {
	sum := crc32.ChecksumIEEE([]byte(Prefix + keyID + "_"))
	return crc32.Update(sum, crc32.IEEETable, nonceAndTag[:NonceLen+tagLen])
}

// storedForm returns the bytes a derived token is stored as.
func storedForm(keyID string, nonce Nonce, tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	b := make([]byte, 0, 2+len(keyID)+NonceLen+len(h))
	b = append(b, storedV1, byte(len(keyID)))
	b = append(b, keyID...)
	b = append(b, nonce[:]...)
	return append(b, h[:]...)
}

// Derived is a string that Parse found shaped like a derived token, with a
// right checksum. Whether a secret made it, Verify says.
type Derived struct {
	// KeyID names the secret that made the token.
	KeyID string
	// Nonce is the token's nonce.
	Nonce Nonce
	tok   string
}

// IsDerived reports whether tok claims to be a derived token: it starts
// with Prefix. Parse says whether it is shaped like one.
func IsDerived(tok string) bool { return strings.HasPrefix(tok, Prefix) }

// Parse checks, without a secret, that tok is shaped like a derived token
// and its checksum is right, and returns it. It returns an error wrapping
// ErrMalformed otherwise: a mistyped, truncated or padded token is refused
// before anything is read for it. It is safe for concurrent use.
func Parse(tok string) (Derived, error) {
	if len(tok) < minTokenLen || len(tok) > maxTokenLen || !IsDerived(tok) {
		return Derived{}, fmt.Errorf("%w: not a derived token of %d to %d bytes starting %q", ErrMalformed, minTokenLen, maxTokenLen, Prefix)
	}
	rest := tok[len(Prefix):]
	keyID, body, ok := strings.Cut(rest, "_")
	if !ok || len(body) != bodyLen || CheckKeyID(keyID) != nil {
		return Derived{}, fmt.Errorf("%w: no key ID and body of %d bytes", ErrMalformed, bodyLen)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(body)
	if err != nil {
		return Derived{}, fmt.Errorf("%w: body is not URL-safe base64", ErrMalformed)
	}
	if binary.BigEndian.Uint32(raw[NonceLen+tagLen:]) != checksum(keyID, raw) {
		return Derived{}, fmt.Errorf("%w: wrong checksum", ErrMalformed)
	}
	d := Derived{KeyID: keyID, tok: tok}
	copy(d.Nonce[:], raw)
	return d, nil
}

// Verify reports whether secret derives d for subject, comparing in
// constant time. A secret shorter than MinSecretLen never does.
func (d Derived) Verify(secret []byte, subject string) bool {
	if len(secret) < MinSecretLen || d.tok == "" {
		return false
	}
	want, _ := Derive(d.KeyID, secret, subject, d.Nonce)
	return subtle.ConstantTimeCompare([]byte(want), []byte(d.tok)) == 1
}

// Stored returns the bytes d is stored as.
func (d Derived) Stored() []byte { return storedForm(d.KeyID, d.Nonce, d.tok) }

// StoredKey returns the key ID and nonce that the stored form of a derived
// token holds, to derive the token again; ok is false for the stored form
// of a random token and for anything else.
func StoredKey(stored []byte) (keyID string, nonce Nonce, ok bool) {
	if len(stored) < 2 || stored[0] != storedV1 || len(stored) != 2+int(stored[1])+NonceLen+sha256.Size {
		return "", nonce, false
	}
	keyID = string(stored[2 : 2+int(stored[1])])
	if CheckKeyID(keyID) != nil {
		return "", nonce, false
	}
	copy(nonce[:], stored[2+len(keyID):])
	return keyID, nonce, true
}
