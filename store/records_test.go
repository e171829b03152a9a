package store_test

import (
	"testing"
	"time"

	"github.com/teamroster/roster/store"
)

func TestChangeOpString(t *testing.T) {
	for op, want := range map[store.ChangeOp]string{
		store.AccountCreated: "account.created",
		store.MemberSet:      "member.set",
		store.MemberDeleted:  "member.deleted",
		store.RoleSet:        "role.set",
		store.RoleDeleted:    "role.deleted",
		store.AccountUpdated: "account.updated",
		0:                    "unknown",
		200:                  "unknown",
	} {
		if got := op.String(); got != want {
			t.Errorf("ChangeOp(%d).String() = %q, want %q", uint8(op), got, want)
		}
	}
}

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

func TestInviteExpired(t *testing.T) {
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		expires time.Time
		want    bool
	}{
		{time.Time{}, false},         // never expires
		{at.Add(time.Second), false}, // still valid
		{at, true},                   // expires at that instant
		{at.Add(-time.Second), true},
	} {
		if got := (store.Invite{ExpiresAt: tc.expires}).Expired(at); got != tc.want {
			t.Errorf("an invite expiring at %v: Expired(%v) = %v, want %v", tc.expires, at, got, tc.want)
		}
	}
}
