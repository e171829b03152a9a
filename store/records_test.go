package store_test

import (
	"testing"

	"github.com/teamroster/roster/store"
)

func TestTransferKindValid(t *testing.T) {
	for kind, want := range map[store.TransferKind]bool{
		store.TransferAccount: true,
		store.TransferRole:    true,
		"":                    false,
		"Role":                false,
		"owner":               false,
		"account ":            false,
	} {
		if got := kind.Valid(); got != want {
			t.Errorf("TransferKind(%q).Valid() = %t, want %t", kind, got, want)
		}
	}
}
