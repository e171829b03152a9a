package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/teamroster/roster/store"
)

// redactedJSON is the JSON text that replaces the value of a key naming a
// secret in a host event's Before or After value.
const redactedJSON = `"[REDACTED]"`

// secretWords are the words that make a key name a secret when its
// normalized form (see namesSecret) contains one of them. The list errs on
// the side of redacting: "max_tokens" is redacted too.
var secretWords = []string{
	"token", "secret", "password", "passwd", "pwd", "passphrase", "apikey", "accesskey", "privatekey",
	"credential", "authorization", "bearer", "jwt", "cookie", "sessionid", "signature",
}

// redact checks a Before or After value and returns it compacted, with key
// order kept, and with the value of every key that names a secret, at any
// depth (in objects inside arrays too), replaced by the string
// "[REDACTED]". The value must be empty or a JSON object of at most
// MaxValueLen bytes of valid UTF-8; otherwise redact returns an error
// wrapping store.ErrInvalid.
func redact(what, v string) (string, error) {
	if v == "" {
		return "", nil
	}
	switch {
	case len(v) > MaxValueLen:
		return "", fmt.Errorf("%w: %s is longer than %d bytes", store.ErrInvalid, what, MaxValueLen)
	case !utf8.ValidString(v):
		return "", fmt.Errorf("%w: %s is not valid UTF-8", store.ErrInvalid, what)
	case !json.Valid([]byte(v)):
		return "", fmt.Errorf("%w: %s is not valid JSON", store.ErrInvalid, what)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(v)); err != nil {
		return "", fmt.Errorf("%w: %s is not valid JSON", store.ErrInvalid, what)
	}
	b := compact.Bytes()
	if len(b) == 0 || b[0] != '{' {
		return "", fmt.Errorf("%w: %s is not a JSON object", store.ErrInvalid, what)
	}
	var out bytes.Buffer
	out.Grow(len(b))
	if end, err := redactValue(b, 0, &out); err != nil || end != len(b) {
		return "", fmt.Errorf("%w: %s is not valid JSON", store.ErrInvalid, what)
	}
	return out.String(), nil
}

// errJSON means redactValue met text that is not compact, valid JSON.
var errJSON = errors.New("not compact JSON")

// redactValue copies the JSON value that starts at b[i] to out, or skips it
// when out is nil, with the value of every key that names a secret replaced
// by "[REDACTED]", and returns the index just after the value. b is compact
// JSON; redactValue returns errJSON, rather than panic, if it is not.
func redactValue(b []byte, i int, out *bytes.Buffer) (int, error) {
	write := func(p []byte) {
		if out != nil {
			out.Write(p)
		}
	}
	if i >= len(b) {
		return 0, errJSON
	}
	switch b[i] {
	case '{', '[':
		object := b[i] == '{'
		closing := byte(']')
		if object {
			closing = '}'
		}
		write(b[i : i+1])
		i++
		if i < len(b) && b[i] == closing {
			write(b[i : i+1])
			return i + 1, nil
		}
		for {
			secret := false
			if object {
				end, err := stringEnd(b, i)
				if err != nil || end >= len(b) || b[end] != ':' {
					return 0, errJSON
				}
				write(b[i : end+1])
				secret = out != nil && namesSecret(b[i:end])
				i = end + 1
			}
			var err error
			if secret {
				write([]byte(redactedJSON))
				i, err = redactValue(b, i, nil)
			} else {
				i, err = redactValue(b, i, out)
			}
			if err != nil || i >= len(b) {
				return 0, errJSON
			}
			c := b[i]
			write(b[i : i+1])
			i++
			switch c {
			case closing:
				return i, nil
			case ',':
			default:
				return 0, errJSON
			}
		}
	case '"':
		end, err := stringEnd(b, i)
		if err != nil {
			return 0, err
		}
		write(b[i:end])
		return end, nil
	default: // a number, true, false or null
		end := i
		for end < len(b) && b[end] != ',' && b[end] != '}' && b[end] != ']' {
			end++
		}
		if end == i {
			return 0, errJSON
		}
		write(b[i:end])
		return end, nil
	}
}

// stringEnd returns the index just after the JSON string that starts at
// b[i], or errJSON.
func stringEnd(b []byte, i int) (int, error) {
	if i >= len(b) || b[i] != '"' {
		return 0, errJSON
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errJSON
}

// namesSecret reports whether the JSON object key quoted (a JSON string, as
// it appears in the text) names a secret: whether, unescaped, folded from
// fullwidth to ASCII forms, lowercased and stripped of everything but
// letters and digits (so of "_", "-", ".", spaces and their fullwidth
// forms), it contains one of secretWords. A key it cannot read names one.
func namesSecret(quoted []byte) bool {
	var key string
	if json.Unmarshal(quoted, &key) != nil {
		return true
	}
	norm := strings.Map(func(r rune) rune {
		switch {
		case r >= '\uFF01' && r <= '\uFF5E': // fullwidth forms of ASCII '!' to '~'
			r -= 0xFEE0
		case r == '\u3000': // the ideographic (fullwidth) space
			r = ' '
		}
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, key)
	for _, w := range secretWords {
		if strings.Contains(norm, w) {
			return true
		}
	}
	return false
}
