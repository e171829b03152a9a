// Package text makes text from outside (user agents, request IDs, actions
// and values quoted in errors, refusal reasons) safe to store and to show
// in a log. It depends on the standard library only, so that package store
// can use it.
package text

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Clean returns s with invalid UTF-8, control characters, format characters
// (such as bidirectional overrides) and line or paragraph separators
// replaced by U+FFFD, cut to at most max bytes at a character boundary.
// Text cleaned this way cannot break or forge a line of a log. It is safe
// for concurrent use.
func Clean(s string, max int) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			r = utf8.RuneError
		}
		if b.Len()+utf8.RuneLen(r) > max {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}
