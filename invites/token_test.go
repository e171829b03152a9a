package invites_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/teamroster/roster/invites"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// unreadable is a Store that fails the test when it is read or written.
type unreadable struct {
	store.Store
	t *testing.T
}

func (u unreadable) View(context.Context, func(store.Tx) error) error {
	u.t.Error("the store was read")
	return store.ErrBackend
}

func (u unreadable) Update(context.Context, func(store.Tx) error) (store.Commit, error) {
	u.t.Error("the store was written")
	return store.Commit{}, store.ErrBackend
}

// TestMalformedTokensAreRefusedWithoutARead checks that Accept and Preview
// refuse a string that is not shaped like a token with store.ErrInvalid
// before they touch the store.
func TestMalformedTokensAreRefusedWithoutARead(t *testing.T) {
	ctx := context.Background()
	svc, err := invites.New(unreadable{t: t}, rbac.Runpod())
	if err != nil {
		t.Fatal(err)
	}
	shaped := strings.Repeat("A", 43) // the shape of a token, to spoil below
	for name, tok := range map[string]string{
		"empty":          "",
		"short":          shaped[:20],
		"padded":         shaped + "=",
		"not base64":     strings.Repeat("%", 43),
		"the whole link": "https://app.example.com/invites/" + shaped,
	} {
		if _, err := svc.Accept(ctx, "bob", tok); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Accept of a %s token: error = %v, want store.ErrInvalid", name, err)
		}
		if _, err := svc.Preview(ctx, tok); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Preview of a %s token: error = %v, want store.ErrInvalid", name, err)
		}
	}
}
