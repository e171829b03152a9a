package token_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/teamroster/roster/internal/token"
	"github.com/teamroster/roster/store"
)

var (
	secretA = bytes.Repeat([]byte("a"), token.MinSecretLen)
	secretB = bytes.Repeat([]byte("b"), token.MinSecretLen)
)

func TestDerive(t *testing.T) {
	nonce := token.NewNonce()
	tok, stored := token.Derive("k2026", secretA, "inv_1", nonce)

	t.Run("the same arguments derive the same token", func(t *testing.T) {
		again, storedAgain := token.Derive("k2026", secretA, "inv_1", nonce)
		if again != tok || !bytes.Equal(storedAgain, stored) {
			t.Fatalf("Derive gave %q then %q", tok, again)
		}
	})
	t.Run("any other argument derives another token", func(t *testing.T) {
		for name, other := range map[string]string{
			"key ID":  first(token.Derive("k2027", secretA, "inv_1", nonce)),
			"secret":  first(token.Derive("k2026", secretB, "inv_1", nonce)),
			"subject": first(token.Derive("k2026", secretA, "inv_2", nonce)),
			"nonce":   first(token.Derive("k2026", secretA, "inv_1", token.NewNonce())),
		} {
			if other == tok {
				t.Errorf("another %s derives the same token", name)
			}
		}
	})
	t.Run("the token reads prefix, key ID, body", func(t *testing.T) {
		if !strings.HasPrefix(tok, token.Prefix+"k2026_") || strings.Trim(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Fatalf("token %q is not %s<key ID>_<URL-safe base64>", tok, token.Prefix)
		}
	})
	t.Run("parsed, it verifies under its secret and subject only", func(t *testing.T) {
		d, err := token.Parse(tok)
		if err != nil {
			t.Fatal(err)
		}
		if d.KeyID != "k2026" || d.Nonce != nonce {
			t.Errorf("Parse = key %q nonce %x, want k2026 %x", d.KeyID, d.Nonce, nonce)
		}
		if !d.Verify(secretA, "inv_1") {
			t.Error("the token does not verify under its own secret")
		}
		if d.Verify(secretB, "inv_1") || d.Verify(secretA, "inv_2") || d.Verify(secretA[:token.MinSecretLen-1], "inv_1") {
			t.Error("the token verifies under another secret or subject")
		}
		if !bytes.Equal(d.Stored(), stored) {
			t.Error("the parsed token's stored form differs from Derive's")
		}
	})
	t.Run("the stored form gives back the key ID and nonce, not the token", func(t *testing.T) {
		kid, n, ok := token.StoredKey(stored)
		if !ok || kid != "k2026" || n != nonce {
			t.Fatalf("StoredKey = %q, %x, %v; want k2026, %x, true", kid, n, ok, nonce)
		}
		if bytes.Contains(stored, []byte(tok[len(token.Prefix)+len("k2026_"):])) {
			t.Error("the stored form contains the token's body")
		}
		if h, err := token.Hash(tok); err != nil || !bytes.Equal(h, stored) || !token.Match(stored, tok) {
			t.Errorf("Hash = %x, %v; want the stored form, matching", h, err)
		}
		_, randomHash := token.New()
		if _, _, ok := token.StoredKey(randomHash); ok {
			t.Error("StoredKey read a key ID out of a random token's hash")
		}
	})
	t.Run("every single-character change is refused by the checksum", func(t *testing.T) {
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		for i := range len(tok) {
			for _, c := range []byte(alphabet) {
				if c == tok[i] {
					continue
				}
				bad := tok[:i] + string(c) + tok[i+1:]
				if _, err := token.Parse(bad); !errors.Is(err, token.ErrMalformed) {
					t.Fatalf("Parse of %q (byte %d changed): %v, want ErrMalformed", bad, i, err)
				}
			}
		}
	})
	t.Run("truncated, extended or padded tokens are refused", func(t *testing.T) {
		for _, bad := range []string{tok[:len(tok)-1], tok + "A", tok + "=", tok[:len(token.Prefix)], token.Prefix, "rsti__" + tok[len("rsti_k2026_"):]} {
			if _, err := token.Parse(bad); !errors.Is(err, token.ErrMalformed) {
				t.Errorf("Parse(%q): %v, want ErrMalformed", bad, err)
			}
			if _, err := token.Hash(bad); !errors.Is(err, token.ErrMalformed) {
				t.Errorf("Hash(%q): %v, want ErrMalformed", bad, err)
			}
		}
	})
}

func TestCheckKeyID(t *testing.T) {
	for _, id := range []string{"a", "2026-11", strings.Repeat("Z", token.MaxKeyIDLen)} {
		if err := token.CheckKeyID(id); err != nil {
			t.Errorf("CheckKeyID(%q): %v", id, err)
		}
	}
	for _, id := range []string{"", strings.Repeat("a", token.MaxKeyIDLen+1), "a_b", "a b", "é", "a.b", "a\x00"} {
		if err := token.CheckKeyID(id); !errors.Is(err, token.ErrKeyID) || !errors.Is(err, store.ErrInvalid) {
			t.Errorf("CheckKeyID(%q): %v, want ErrKeyID wrapping store.ErrInvalid", id, err)
		}
	}
}

func first(tok string, _ []byte) string { return tok }
