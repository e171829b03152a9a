package invites_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/teamroster/roster/invites"
	"github.com/teamroster/roster/store"
)

func TestCanonicalEmail(t *testing.T) {
	t.Run("case variants are one address", func(t *testing.T) {
		for _, in := range []string{"bob@example.com", "Bob@Example.com", "BOB@EXAMPLE.COM", "bOb@eXample.Com"} {
			got, err := invites.CanonicalEmail(in)
			if err != nil || got != "bob@example.com" {
				t.Errorf("CanonicalEmail(%q) = %q, %v; want bob@example.com", in, got, err)
			}
		}
	})

	t.Run("distinct mailboxes stay distinct", func(t *testing.T) {
		// Provider-specific folding would merge these at some providers and
		// wrongly at others; none is applied.
		seen := map[string]string{}
		for _, in := range []string{
			"bob@example.com", "bob+team@example.com", "b.ob@example.com", "bob@gmail.com",
			"b.ob@gmail.com", "bob+x@gmail.com", "bob@googlemail.com", "bob@example.co",
			"bob@mail.example.com", "bob@xn--exmple-cua.com",
		} {
			got, err := invites.CanonicalEmail(in)
			if err != nil {
				t.Errorf("CanonicalEmail(%q): %v", in, err)
				continue
			}
			if other, dup := seen[got]; dup {
				t.Errorf("%q and %q have the same canonical form %q", in, other, got)
			}
			seen[got] = in
		}
	})

	t.Run("lookalikes and malformed addresses are refused", func(t *testing.T) {
		for name, in := range map[string]string{
			"Cyrillic a in the local part":  "\u0430lice@example.com",
			"Cyrillic o in the domain":      "alice@exampl\u043e.com",
			"fullwidth letters":             "\uff41lice@example.com",
			"fullwidth at sign":             "alice\uff20example.com",
			"zero-width space":              "al\u200bice@example.com",
			"trailing dot in the domain":    "alice@example.com.",
			"leading dot in the domain":     "alice@.example.com",
			"doubled dot in the domain":     "alice@example..com",
			"leading dot in the local part": ".alice@example.com",
			"doubled dot in the local part": "al..ice@example.com",
			"trailing dot in the local":     "alice.@example.com",
			"quoted local part":             `"alice"@example.com`,
			"quoted at sign":                `"alice@evil.com"@example.com`,
			"address literal":               "alice@[192.0.2.1]",
			"numeric top-level label":       "alice@192.0.2.1",
			"underscore in the domain":      "alice@exa_mple.com",
			"hyphen at a label's edge":      "alice@-example.com",
			"no domain dot":                 "alice@localhost",
			"display name":                  "Alice <alice@example.com>",
			"surrounding space":             " alice@example.com ",
			"header injection":              "alice@example.com\r\nBcc: eve@example.com",
			"two at signs":                  "alice@bob@example.com",
			"empty":                         "",
			"oversized local part":          strings.Repeat("a", 65) + "@example.com",
			"oversized label":               "alice@" + strings.Repeat("a", 64) + ".com",
			"oversized address":             "a@" + strings.Repeat("abcdefghi.", 26) + "com",
			"non-UTF-8":                     "al\xffice@example.com",
			"SQL wildcard only":             "%@%",
			"comment in the local part":     "alice(x)@example.com",
			"comma in the local part":       "a,b@example.com",
			"semicolon in the local part":   "a;b@example.com",
			"colon in the local part":       "a:b@example.com",
			"backslash in the local part":   `a\b@example.com`,
			"space in the local part":       "al ice@example.com",
			"bracket in the local part":     "a<b@example.com",
		} {
			got, err := invites.CanonicalEmail(in)
			if !errors.Is(err, store.ErrInvalid) {
				t.Errorf("%s: CanonicalEmail(%q) = %q, %v; want ErrInvalid", name, in, got, err)
			}
		}
	})

	t.Run("a local part of atext alone", func(t *testing.T) {
		// Every byte but atext (RFC 5322) and the dot is refused in a local
		// part, and every atext byte is kept.
		const atext = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~"
		for c := range 256 {
			in := "a" + string([]byte{byte(c)}) + "b@example.com"
			got, err := invites.CanonicalEmail(in)
			switch {
			case c == '.':
			case strings.IndexByte(atext, byte(c)) >= 0 && (err != nil || got != strings.ToLower(in)):
				t.Errorf("CanonicalEmail(%q) = %q, %v; want it kept, lowercased", in, got, err)
			case strings.IndexByte(atext, byte(c)) < 0 && !errors.Is(err, store.ErrInvalid):
				t.Errorf("CanonicalEmail(%q) = %q, %v; want ErrInvalid", in, got, err)
			}
		}
	})

	t.Run("unusual but valid addresses are kept as they are, lowercased", func(t *testing.T) {
		for in, want := range map[string]string{
			"o'brien@example.ie":                     "o'brien@example.ie",
			"a%b@example.com":                        "a%b@example.com",
			"x@sub-1.example-2.co.uk":                "x@sub-1.example-2.co.uk",
			strings.Repeat("a", 64) + "@example.com": strings.Repeat("a", 64) + "@example.com",
			"z!9~Z@Zz9.example.com":                  "z!9~z@zz9.example.com", // atext's and a label's edges
			"a@" + strings.Repeat("b", 63) + ".com":  "a@" + strings.Repeat("b", 63) + ".com",
			"x@A0.example.com":                       "x@a0.example.com",
		} {
			got, err := invites.CanonicalEmail(in)
			if err != nil || got != want {
				t.Errorf("CanonicalEmail(%q) = %q, %v; want %q", in, got, err, want)
			}
		}
	})
}
