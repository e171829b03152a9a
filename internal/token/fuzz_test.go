package token_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/teamroster/roster/internal/token"
)

// FuzzHash feeds Hash and Match any string: they never panic, Hash either
// refuses with ErrMalformed or returns the string's SHA-256, only a
// well-formed token matches its own hash, and a token matches no other
// token's hash.
func FuzzHash(f *testing.F) {
	tok, _ := token.New()
	for _, s := range []string{"", tok, tok[:token.Len-1], tok + "A", tok[:token.Len-1] + "=", tok[:token.Len-1] + "+",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "\x00", "é", "%2A"} {
		f.Add(s)
	}
	other, otherHash := token.New()
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
		if len(s) != token.Len {
			t.Fatalf("Hash accepted %q of length %d", s, len(s))
		}
		if sum := sha256.Sum256([]byte(s)); !bytes.Equal(h, sum[:]) {
			t.Fatalf("Hash(%q) is not its SHA-256", s)
		}
		if !token.Match(h, s) {
			t.Fatalf("%q does not match its own hash", s)
		}
		if s != other && token.Match(otherHash, s) {
			t.Fatalf("%q matches the hash of %q", s, other)
		}
	})
}
