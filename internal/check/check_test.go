package check_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/teamroster/roster/internal/check"
	"github.com/teamroster/roster/store"
)

func TestIDs(t *testing.T) {
	t.Run("no fields are valid", func(t *testing.T) {
		if err := check.IDs(); err != nil {
			t.Errorf("IDs() = %v", err)
		}
	})
	t.Run("valid identifiers pass", func(t *testing.T) {
		if err := check.IDs(check.ID("user ID", "alice"), check.ID("account ID", "acc_1")); err != nil {
			t.Errorf("valid IDs: %v", err)
		}
	})
	t.Run("the first malformed identifier is named in the error", func(t *testing.T) {
		err := check.IDs(check.ID("user ID", "alice"), check.ID("account ID", ""), check.ID("role", "a b"))
		if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "account ID") {
			t.Errorf("an empty second ID: %v, want ErrInvalid naming the account ID, the first bad one", err)
		}
	})
}
