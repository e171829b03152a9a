package store_test

import (
	"errors"
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
		{"a user with an unknown sign-in method", store.User{ID: "u", Email: "u@example.com", Name: "U", SignIn: "sms"}.Validate()},
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
	for _, tc := range []struct {
		s             store.SignIn
		valid, secure bool
	}{
		{store.SignInEmail, true, false},
		{store.SignInEmail2FA, true, true},
		{store.SignInGoogle, true, true},
		{store.SignInGitHub, true, true},
		{"password", false, false},
		{"", false, false},
	} {
		if tc.s.Valid() != tc.valid || tc.s.Secure() != tc.secure {
			t.Errorf("%q: Valid %v Secure %v, want %v %v", tc.s, tc.s.Valid(), tc.s.Secure(), tc.valid, tc.secure)
		}
	}
}
