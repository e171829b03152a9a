package token_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/teamroster/roster/internal/token"
)

func TestToken(t *testing.T) {
	t.Run("new tokens are URL-safe, of fixed length and distinct", func(t *testing.T) {
		seen := map[string]bool{}
		for range 1000 {
			tok, _ := token.New()
			if len(tok) != token.Len {
				t.Fatalf("token %q has length %d, want %d", tok, len(tok), token.Len)
			}
			if strings.Trim(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
				t.Fatalf("token %q has characters outside URL-safe base64", tok)
			}
			if seen[tok] {
				t.Fatalf("token %q repeated", tok)
			}
			seen[tok] = true
		}
	})
	t.Run("the stored hash is not the token and matches only it", func(t *testing.T) {
		tok, hash := token.New()
		if bytes.Contains(hash, []byte(tok)) {
			t.Fatal("hash contains the token")
		}
		if !token.Match(hash, tok) {
			t.Fatal("token does not match its own hash")
		}
		other, _ := token.New()
		if token.Match(hash, other) {
			t.Fatal("another token matches the hash")
		}
		h2, err := token.Hash(tok)
		if err != nil || !bytes.Equal(h2, hash) {
			t.Fatalf("HashToken(token) = %x, %v; want %x", h2, err, hash)
		}
	})
	t.Run("malformed tokens are refused", func(t *testing.T) {
		tok, hash := token.New()
		for _, bad := range []string{"", tok[:42], tok + "A", strings.Repeat("%", 43), tok[:42] + "=", strings.Repeat("x", 1<<20), "\x00" + tok[1:]} {
			if _, err := token.Hash(bad); !errors.Is(err, token.ErrMalformed) {
				t.Errorf("HashToken(%.20q) error = %v, want ErrMalformedToken", bad, err)
			}
			if token.Match(hash, bad) {
				t.Errorf("MatchToken matched malformed %.20q", bad)
			}
		}
	})
}
