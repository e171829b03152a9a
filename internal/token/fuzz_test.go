package token_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/teamroster/roster/internal/token"
)

// FuzzHash feeds Hash and Match any string: they never panic, Hash either
// refuses with ErrMalformed or returns the string's stored form (the
// SHA-256 of a random token, the key ID, nonce and SHA-256 of a derived
// one, which Parse accepts), only a well-formed token matches its own
// hash, and a token matches no other token's hash.
func FuzzHash(f *testing.F) {
	tok, _ := token.New()
	derived, _ := token.Derive("k1", secretA, "inv_1", token.NewNonce())
	for _, s := range []string{"", tok, tok[:token.Len-1], tok + "A", tok[:token.Len-1] + "=", tok[:token.Len-1] + "+",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "\x00", "é", "%2A",
		derived, derived[:len(derived)-1], derived + "A", "rsti_" + tok, "rsti_" + tok[:38]} {
		f.Add(s)
	}
	other, otherHash := token.New()
	otherDerived, otherDerivedHash := token.Derive("k1", secretA, "inv_2", token.NewNonce())
	f.Fuzz(func(t *testing.T, s string) {
		h, err := token.Hash(s)
		if err != nil {
			if !errors.Is(err, token.ErrMalformed) {
				t.Fatalf("Hash(%q): an error that is not ErrMalformed: %v", s, err)
			}
			if token.Match(h, s) {
				t.Fatalf("Match accepted a malformed token %q", s)
			}
			return
		}
		sum := sha256.Sum256([]byte(s))
		if d, perr := token.Parse(s); perr == nil {
			if !bytes.Equal(h, d.Stored()) || !bytes.HasSuffix(h, sum[:]) {
				t.Fatalf("Hash(%q) is not the derived token's stored form", s)
			}
			if kid, nonce, ok := token.StoredKey(h); !ok || kid != d.KeyID || nonce != d.Nonce {
				t.Fatalf("StoredKey(Hash(%q)) = %q, %x, %v; want %q, %x", s, kid, nonce, ok, d.KeyID, d.Nonce)
			}
		} else if len(s) != token.Len || !bytes.Equal(h, sum[:]) {
			t.Fatalf("Hash accepted %q of length %d, which Parse refuses (%v), as %x", s, len(s), perr, h)
		}
		if !token.Match(h, s) {
			t.Fatalf("%q does not match its own hash", s)
		}
		if s != other && token.Match(otherHash, s) {
			t.Fatalf("%q matches the hash of %q", s, other)
		}
		if s != otherDerived && token.Match(otherDerivedHash, s) {
			t.Fatalf("%q matches the hash of %q", s, otherDerived)
		}
	})
}

// FuzzDerive derives tokens from any key ID, secret, subject and nonce, and
// changes one byte of each: Derive never panics for a valid key ID and
// secret; the token parses back to its key ID and nonce, verifies under its
// secret and subject and under no other, and hashes to its stored form;
// the token with a byte changed is refused by Parse or by Verify.
func FuzzDerive(f *testing.F) {
	f.Add("k1", secretA, "inv_abc", make([]byte, token.NonceLen), uint8(0), byte('x'))
	f.Add("2026-11", bytes.Repeat([]byte{0xff}, 64), "", bytes.Repeat([]byte{1}, token.NonceLen), uint8(90), byte('_'))
	f.Add(string(bytes.Repeat([]byte("Z"), token.MaxKeyIDLen)), secretB, "inv_\x00é", []byte("0123456789abcdef"), uint8(200), byte('A'))
	f.Fuzz(func(t *testing.T, keyID string, secret []byte, subject string, nonceBytes []byte, at uint8, to byte) {
		if token.CheckKeyID(keyID) != nil || len(secret) < token.MinSecretLen {
			return
		}
		var nonce token.Nonce
		copy(nonce[:], nonceBytes)
		tok, stored := token.Derive(keyID, secret, subject, nonce)
		d, err := token.Parse(tok)
		if err != nil {
			t.Fatalf("Parse(Derive(%q, ..., %q)) = %v", keyID, subject, err)
		}
		if d.KeyID != keyID || d.Nonce != nonce || !bytes.Equal(d.Stored(), stored) {
			t.Fatalf("Parse(%q) = key %q nonce %x, want %q %x and the same stored form", tok, d.KeyID, d.Nonce, keyID, nonce)
		}
		if h, err := token.Hash(tok); err != nil || !bytes.Equal(h, stored) {
			t.Fatalf("Hash(%q) = %x, %v; want the stored form %x", tok, h, err, stored)
		}
		if !d.Verify(secret, subject) {
			t.Fatalf("%q does not verify under its secret", tok)
		}
		otherSecret := bytes.Clone(secret) // not secret + 0: HMAC pads short keys with zeros
		otherSecret[len(otherSecret)-1] ^= 1
		if d.Verify(otherSecret, subject) || d.Verify(secret, subject+"x") {
			t.Fatalf("%q verifies under another secret or subject", tok)
		}
		i := int(at) % len(tok)
		if tok[i] == to {
			return
		}
		bad := tok[:i] + string(to) + tok[i+1:]
		if bd, err := token.Parse(bad); err == nil && bd.Verify(secret, subject) {
			t.Fatalf("%q, %q with byte %d changed, parses and verifies", bad, tok, i)
		}
	})
}
