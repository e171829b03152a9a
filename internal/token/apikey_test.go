package token_test

import (
	"crypto/sha256"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/teamroster/roster/internal/token"
	"github.com/teamroster/roster/store"
)

// apiKeyShape is the pattern a secret scanner would use for roster's keys.
var apiKeyShape = regexp.MustCompile(`^rsk_[a-z2-7]{16}_[0-9A-Za-z]{46}$`)

func TestNewAPIKey(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		id, tok, hash := token.NewAPIKey()
		if !apiKeyShape.MatchString(tok) || len(tok) != token.APIKeyLen {
			t.Fatalf("token %q does not have the documented shape", tok)
		}
		if !store.IsAPIKeyID(id) || id[len(store.APIKeyIDPrefix):] != tok[4:20] {
			t.Fatalf("ID %q is not the token's %q", id, tok[4:20])
		}
		if sum := sha256.Sum256([]byte(tok)); string(sum[:]) != string(hash) {
			t.Fatal("hash is not the token's SHA-256")
		}
		suffix, h, err := token.ParseAPIKey(tok)
		if err != nil || store.APIKeyIDPrefix+suffix != id || string(h[:]) != string(hash) {
			t.Fatalf("ParseAPIKey(%q) = %q, %x, %v; want the key's ID and hash", tok, suffix, h, err)
		}
		if seen[id] || seen[tok] {
			t.Fatal("a repeated ID or token")
		}
		seen[id], seen[tok] = true, true
	}
}

func TestParseAPIKeyRefuses(t *testing.T) {
	_, tok, _ := token.NewAPIKey()
	flip := func(i int) string {
		b := []byte(tok)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	for name, bad := range map[string]string{
		"empty":                     "",
		"truncated":                 tok[:len(tok)-1],
		"padded":                    tok + "=",
		"a space after":             tok + " ",
		"another prefix":            "rsx_" + tok[4:],
		"an invite token":           "rsti_k1_" + strings.Repeat("A", 70),
		"a changed secret":          flip(30),
		"a changed ID":              flip(6),
		"a changed checksum":        flip(len(tok) - 1),
		"an upper-case ID":          tok[:4] + strings.ToUpper(tok[4:20]) + tok[20:],
		"no separator":              tok[:20] + "x" + tok[21:],
		"a non-ASCII character":     tok[:30] + "é" + tok[32:],
		"the key's ID, not a token": "key_" + tok[4:20],
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := token.ParseAPIKey(bad); !errors.Is(err, token.ErrMalformed) || !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("ParseAPIKey(%q) = %v, want ErrMalformed", bad, err)
			}
		})
	}
}

func TestParseAPIKeyAllocatesNothing(t *testing.T) {
	_, tok, _ := token.NewAPIKey()
	if n := testing.AllocsPerRun(100, func() { _, _, _ = token.ParseAPIKey(tok) }); n != 0 {
		t.Fatalf("ParseAPIKey allocates %v times, want 0", n)
	}
}

func FuzzParseAPIKey(f *testing.F) {
	_, tok, _ := token.NewAPIKey()
	f.Add(tok)
	f.Add("rsk_")
	f.Fuzz(func(t *testing.T, s string) {
		suffix, h, err := token.ParseAPIKey(s)
		if err != nil {
			return
		}
		if !apiKeyShape.MatchString(s) || suffix != s[4:20] || h != sha256.Sum256([]byte(s)) {
			t.Fatalf("ParseAPIKey accepted %q as %q", s, suffix)
		}
	})
}
