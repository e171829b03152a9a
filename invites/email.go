package invites

import (
	"fmt"
	"strings"

	"github.com/teamroster/roster/store"
)

// Limits of the parts of an address (RFC 5321).
const (
	maxLocalLen = 64
	maxLabelLen = 63
)

// CanonicalEmail returns the form in which email invites store and compare
// an address: the address lowercased whole. It accepts only what
// store.ValidateEmail accepts (ASCII, no spaces, no display name, at most
// store.MaxEmailLen bytes) and, more strictly, a local part that is a
// dot-atom (no quoted strings, no leading, trailing or doubled dots, at most
// 64 bytes) and a domain that is a DNS host name (letters, digits and
// hyphens in labels of 1 to 63 characters, no trailing dot, no address
// literal, a top-level label that is not all digits).
//
// It folds case only: "Bob@Example.COM" and "bob@example.com" are one
// address, but "bob+team@example.com", "b.ob@gmail.com" and
// "bob@example.com." are not the same as "bob@example.com" (the first two
// are distinct mailboxes at most providers; the last is refused), and a
// lookalike with a Cyrillic or fullwidth letter is refused rather than
// matched. It returns an error wrapping store.ErrInvalid. It is safe for
// concurrent use.
func CanonicalEmail(addr string) (string, error) {
	if err := store.ValidateEmail(addr); err != nil {
		return "", err
	}
	at := strings.LastIndexByte(addr, '@')
	local, domain := addr[:at], addr[at+1:]
	if err := checkLocal(local); err != nil {
		return "", fmt.Errorf("%w: local part of %q: %s", store.ErrInvalid, addr, err)
	}
	if err := checkDomain(domain); err != nil {
		return "", fmt.Errorf("%w: domain of %q: %s", store.ErrInvalid, addr, err)
	}
	return strings.ToLower(addr), nil
}

// checkLocal checks a dot-atom local part, returning why it is refused: its
// length and its dots. Its characters are store.ValidateEmail's to check:
// an address whose parse (net/mail) does not give back the address itself
// is refused there, which refuses a quoted local part and every byte of an
// unquoted one that is not atext (RFC 5322).
func checkLocal(local string) error {
	if len(local) == 0 || len(local) > maxLocalLen {
		return fmt.Errorf("length %d is outside 1..%d", len(local), maxLocalLen)
	}
	for _, atom := range strings.Split(local, ".") {
		if atom == "" {
			return fmt.Errorf("leading, trailing or doubled dot")
		}
	}
	return nil
}

// checkDomain checks a DNS host name, returning why it is refused. Its
// length needs no check: store.ValidateEmail's MaxEmailLen keeps it within
// a host name's 253 bytes.
func checkDomain(domain string) error {
	labels := strings.Split(domain, ".")
	for _, l := range labels {
		if l == "" || len(l) > maxLabelLen {
			return fmt.Errorf("label %q is empty or longer than %d", l, maxLabelLen)
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("label %q starts or ends with a hyphen", l)
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return fmt.Errorf("character %q is not allowed in a host name", c)
			}
		}
	}
	if len(labels) < 2 || strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return fmt.Errorf("not a host name")
	}
	return nil
}
