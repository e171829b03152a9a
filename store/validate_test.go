package store_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/teamroster/roster/store"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"an ID of the maximum length is valid", store.ValidateID("id", strings.Repeat("a", store.MaxIDLen))},
		{"a unicode ID is valid", store.ValidateID("id", "élan-😀")},
		{"a name with inner spaces is valid", store.ValidateName("name", "Acme Labs, Inc.")},
		{"a name of the maximum length in runes is valid", store.ValidateName("name", strings.Repeat("é", store.MaxNameLen))},
		{"a plain email is valid", store.ValidateEmail("alice+team@mail.example.com")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err != nil {
				t.Fatalf("error = %v, want nil", tc.err)
			}
		})
	}
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"an empty ID", store.ValidateID("id", "")},
		{"an ID one byte too long", store.ValidateID("id", strings.Repeat("a", store.MaxIDLen+1))},
		{"an ID with a space", store.ValidateID("id", "a b")},
		{"an ID with a NUL", store.ValidateID("id", "a\x00")},
		{"an ID with a zero-width joiner", store.ValidateID("id", "a\u200db")},
		{"an ID that is not UTF-8", store.ValidateID("id", "\xc3")},
		{"an empty name", store.ValidateName("name", "")},
		{"a name one rune too long", store.ValidateName("name", strings.Repeat("é", store.MaxNameLen+1))},
		{"a name with a trailing space", store.ValidateName("name", "Acme ")},
		{"a name with a newline", store.ValidateName("name", "Acme\nINFO forged")},
		{"a name with a line separator", store.ValidateName("name", "Acme\u2028forged")},
		{"a name with a right-to-left override", store.ValidateName("name", "Acme\u202e")},
		{"a name that is not UTF-8", store.ValidateName("name", "Acme\xff")},
		{"an empty email", store.ValidateEmail("")},
		{"an email with a display name", store.ValidateEmail("Alice <alice@example.com>")},
		{"an email with two at signs", store.ValidateEmail("a@b@example.com")},
		{"an email with a space", store.ValidateEmail("alice @example.com")},
		{"an email with a header injection", store.ValidateEmail("alice@example.com\r\nBcc: x@example.com")},
		{"an email with a non-ASCII lookalike", store.ValidateEmail("аlice@example.com")},
		{"an email without a domain dot", store.ValidateEmail("alice@localhost")},
		{"an email over the length limit", store.ValidateEmail(strings.Repeat("a", 64) + "@" + strings.Repeat("b", 190) + ".com")},
		{"a user with a malformed sign-in method", store.User{ID: "u", Email: "u@example.com", Name: "U", SignIn: "SMS code"}.Validate()},
		{"a user with a malformed active account", store.User{ID: "u", Email: "u@example.com", Name: "U", SignIn: store.SignInEmail, ActiveAccount: "a b"}.Validate()},
	} {
		t.Run(tc.name+" is invalid", func(t *testing.T) {
			if !errors.Is(tc.err, store.ErrInvalid) {
				t.Fatalf("error = %v, want ErrInvalid", tc.err)
			}
		})
	}
}

func TestSignIn(t *testing.T) {
	custom, err := store.DefaultSignIns().With("saml", true)
	if err != nil {
		t.Fatal(err)
	}
	if custom, err = custom.With(store.SignInGitHub, false); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		s                    store.SignIn
		valid, known, secure bool
		cknown, csecure      bool // in custom
	}{
		{store.SignInEmail, true, true, false, true, false},
		{store.SignInEmail2FA, true, true, true, true, true},
		{store.SignInGoogle, true, true, true, true, true},
		{store.SignInGitHub, true, true, true, true, false},
		{"saml", true, false, false, true, true},
		{"password", true, false, false, false, false},
		{"", false, false, false, false, false},
		{"SAML", false, false, false, false, false},
		{"1password", false, false, false, false, false},
		{"a b", false, false, false, false, false},
		{store.SignIn(strings.Repeat("a", store.MaxSignInLen+1)), false, false, false, false, false},
	} {
		d := store.DefaultSignIns()
		if tc.s.Valid() != tc.valid || d.Known(tc.s) != tc.known || d.Secure(tc.s) != tc.secure ||
			custom.Known(tc.s) != tc.cknown || custom.Secure(tc.s) != tc.csecure {
			t.Errorf("%q: Valid %v, default Known %v Secure %v, custom Known %v Secure %v; want %v, %v %v, %v %v",
				tc.s, tc.s.Valid(), d.Known(tc.s), d.Secure(tc.s), custom.Known(tc.s), custom.Secure(tc.s),
				tc.valid, tc.known, tc.secure, tc.cknown, tc.csecure)
		}
	}
	if _, err := custom.With("Not Valid", true); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("With a malformed name: %v, want ErrInvalid", err)
	}
	if got, want := custom.Methods(), []store.SignIn{"email", "email+2fa", "github", "google", "saml"}; !slices.Equal(got, want) {
		t.Errorf("Methods = %v, want %v", got, want)
	}
	if store.DefaultSignIns().Known("saml") {
		t.Error("With changed the set it was called on")
	}
}
