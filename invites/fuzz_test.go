package invites_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/teamroster/roster/invites"
	"github.com/teamroster/roster/store"
)

// FuzzCanonicalEmail feeds CanonicalEmail any string: it never panics; it
// refuses with store.ErrInvalid or returns an address that store accepts,
// that is the input lowercased, that is its own canonical form, and that
// is plain ASCII with exactly one @.
func FuzzCanonicalEmail(f *testing.F) {
	for _, s := range []string{"bob@example.com", "Bob@Example.COM", "b.ob+team@example.co.uk", "bob@example.com.",
		"bob@[127.0.0.1]", "\"bob\"@example.com", "Bob <bob@example.com>", "bob@exa mple.com", "bоb@example.com",
		"bob@@example.com", "@example.com", "bob@", "bob@123", "a..b@example.com", "*@example.com", "%@example.com",
		"bob@example.com\x00", "BOB@EXAMPLE.COM\n", strings.Repeat("a", 64) + "@example.com", "K@example.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := invites.CanonicalEmail(s)
		if err != nil {
			if !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("CanonicalEmail(%q): an error that is not store.ErrInvalid: %v", s, err)
			}
			return
		}
		if err := store.ValidateEmail(out); err != nil {
			t.Fatalf("CanonicalEmail(%q) = %q, which store refuses: %v", s, out, err)
		}
		if !strings.EqualFold(out, s) || out != strings.ToLower(s) {
			t.Fatalf("CanonicalEmail(%q) = %q, not the input lowercased", s, out)
		}
		if again, err := invites.CanonicalEmail(out); err != nil || again != out {
			t.Fatalf("CanonicalEmail(%q) = %q, %v; want it unchanged", out, again, err)
		}
		if strings.Count(out, "@") != 1 {
			t.Fatalf("CanonicalEmail(%q) = %q, with %d @", s, out, strings.Count(out, "@"))
		}
		for i := range len(out) {
			if c := out[i]; c <= ' ' || c >= 0x7f {
				t.Fatalf("CanonicalEmail(%q) = %q, with byte %#x", s, out, c)
			}
		}
	})
}
