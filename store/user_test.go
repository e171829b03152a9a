package store_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/teamroster/roster/store"
)

func TestUserValidate(t *testing.T) {
	valid := store.User{ID: "alice", Email: "alice@example.com", Name: "Alice", SignIn: store.SignInEmail}
	if err := valid.Validate(); err != nil {
		t.Errorf("a valid user: %v", err)
	}
	active := valid
	active.ActiveAccount = "acc_1"
	if err := active.Validate(); err != nil {
		t.Errorf("a valid user with an active account: %v", err)
	}
	for name, change := range map[string]func(*store.User){
		"an empty ID":          func(u *store.User) { u.ID = "" },
		"an ID with a space":   func(u *store.User) { u.ID = "a b" },
		"a malformed email":    func(u *store.User) { u.Email = "alice" },
		"an empty name":        func(u *store.User) { u.Name = "" },
		"a name with a tab":    func(u *store.User) { u.Name = "Al\tice" },
		"no sign-in method":    func(u *store.User) { u.SignIn = "" },
		"an oversized account": func(u *store.User) { u.ActiveAccount = strings.Repeat("a", store.MaxIDLen+1) },
	} {
		u := valid
		change(&u)
		if err := u.Validate(); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: Validate = %v, want ErrInvalid", name, err)
		}
	}
}
