package txn_test

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/store"
)

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := txn.NewID("acc")
		if !strings.HasPrefix(id, "acc_") || len(id) != len("acc_")+26 {
			t.Fatalf("NewID = %q, want acc_ and 26 characters", id)
		}
		if err := store.ValidateID("id", id); err != nil {
			t.Fatalf("NewID made an invalid ID: %v", err)
		}
		if seen[id] {
			t.Fatalf("NewID repeated %q", id)
		}
		seen[id] = true
	}
}

func TestEventValue(t *testing.T) {
	t.Run("text that would forge a log line is escaped and decodes to its input", func(t *testing.T) {
		in := map[string]string{"role": "dev", "name": "Acme\nINFO forged"}
		got := txn.EventValue(in)
		if strings.ContainsAny(got, "\n\r") {
			t.Errorf("EventValue = %q: a control character was not escaped", got)
		}
		var back map[string]string
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Fatalf("EventValue = %q is not JSON: %v", got, err)
		}
		if !maps.Equal(back, in) {
			t.Errorf("EventValue = %q decodes to %v, want %v", got, back, in)
		}
	})
	t.Run("one field", func(t *testing.T) {
		if got := txn.EventValue(map[string]string{"role": "dev"}); got != `{"role":"dev"}` {
			t.Errorf("EventValue of one field = %s", got)
		}
	})
	t.Run("lists of strings", func(t *testing.T) {
		if got := txn.EventValue(map[string][]string{"actions": {"a", "b"}}); got != `{"actions":["a","b"]}` {
			t.Errorf("EventValue of a list = %s", got)
		}
	})
	t.Run("invalid UTF-8 is replaced, not refused", func(t *testing.T) {
		if got := txn.EventValue(map[string]string{"name": "a\xffb"}); got != `{"name":"a\ufffdb"}` {
			t.Errorf("EventValue of invalid UTF-8 = %s", got)
		}
	})
}
