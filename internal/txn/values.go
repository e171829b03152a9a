package txn

import (
	"crypto/rand"
	"encoding/json"
	"strings"
)

// NewID returns a new random identifier for a record a change creates,
// with the given prefix, such as "acc_6f3kq2...": the prefix, an underscore
// and 26 lowercase base32 characters carrying 128 random bits from
// crypto/rand. It is safe for concurrent use.
func NewID(prefix string) string {
	return prefix + "_" + strings.ToLower(rand.Text())
}

// EventValue encodes m as a JSON object for an event's Before or After.
// JSON escapes control characters, so text from users (names, emails)
// cannot forge log lines; invalid UTF-8 is replaced by U+FFFD. Maps of
// strings and of string lists always encode, so it never fails. It is safe
// for concurrent use.
func EventValue[V string | []string](m map[string]V) string {
	b, err := json.Marshal(m)
	if err != nil {
		// json.Marshal fails only for values it cannot encode, which no
		// string or string slice is.
		panic("txn: encode event value: " + err.Error())
	}
	return string(b)
}
