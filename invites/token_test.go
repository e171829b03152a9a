package invites_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/teamroster/roster/invites"
)

func TestToken(t *testing.T) {
	t.Run("new tokens are URL-safe, of fixed length and distinct", func(t *testing.T) {
		seen := map[string]bool{}
		for range 1000 {
			tok, _ := invites.NewToken()
			if len(tok) != invites.TokenLen {
				t.Fatalf("token %q has length %d, want %d", tok, len(tok), invites.TokenLen)
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
		tok, hash := invites.NewToken()
		if bytes.Contains(hash, []byte(tok)) {
			t.Fatal("hash contains the token")
		}
		if !invites.MatchToken(hash, tok) {
			t.Fatal("token does not match its own hash")
		}
		other, _ := invites.NewToken()
		if invites.MatchToken(hash, other) {
			t.Fatal("another token matches the hash")
		}
		h2, err := invites.HashToken(tok)
		if err != nil || !bytes.Equal(h2, hash) {
			t.Fatalf("HashToken(token) = %x, %v; want %x", h2, err, hash)
		}
	})
	t.Run("malformed tokens are refused", func(t *testing.T) {
		tok, hash := invites.NewToken()
		for _, bad := range []string{"", tok[:42], tok + "A", strings.Repeat("%", 43), tok[:42] + "=", strings.Repeat("x", 1<<20), "\x00" + tok[1:]} {
			if _, err := invites.HashToken(bad); !errors.Is(err, invites.ErrMalformedToken) {
				t.Errorf("HashToken(%.20q) error = %v, want ErrMalformedToken", bad, err)
			}
			if invites.MatchToken(hash, bad) {
				t.Errorf("MatchToken matched malformed %.20q", bad)
			}
		}
	})
}
