package audit

import (
	"bytes"
	"errors"
	"testing"
)

// TestRedactValueRefusesCutDocuments checks that redactValue returns
// errJSON, and does not panic, for every proper prefix of a compact JSON
// object, copying or skipping: redact validates its input first, so only
// this test reaches those paths.
func TestRedactValueRefusesCutDocuments(t *testing.T) {
	doc := []byte(`{"a":[1,{"token":"x"},"s\"q",true],"b":{},"c":[],"d":null,"e":{"f":-1.5e3}}`)
	var out bytes.Buffer
	if end, err := redactValue(doc, 0, &out); err != nil || end != len(doc) {
		t.Fatalf("the whole document: end %d, %v; want %d", end, err, len(doc))
	}
	for n := range len(doc) {
		for _, o := range []*bytes.Buffer{new(bytes.Buffer), nil} {
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("the first %d bytes: panic %v", n, r)
					}
				}()
				if _, err := redactValue(doc[:n], 0, o); !errors.Is(err, errJSON) {
					t.Errorf("the first %d bytes %q: %v, want errJSON", n, doc[:n], err)
				}
			}()
		}
	}
}
