package store

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on the size of identifiers and text roster accepts. Longer input is
// refused with ErrInvalid.
const (
	MaxIDLen    = 128 // bytes, for user, account, invite and transfer IDs and roles
	MaxNameLen  = 100 // runes, for user and team names
	MaxEmailLen = 254 // bytes, as in RFC 5321
)

// ValidateID checks an identifier (a user ID, account ID, role or action
// name): 1 to MaxIDLen bytes of valid UTF-8 with no control, space or
// format characters. what names the argument in the error. It returns nil
// or an error wrapping ErrInvalid. It is the rule every roster call applies
// to the IDs it takes, so a host application can check an ID (from a URL,
// say) the same way before using it. It is safe for concurrent use.
func ValidateID(what, id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: %s is empty", ErrInvalid, what)
	case len(id) > MaxIDLen:
		return fmt.Errorf("%w: %s is longer than %d bytes", ErrInvalid, what, MaxIDLen)
	case !utf8.ValidString(id):
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalid, what)
	}
	for _, r := range id {
		if unicode.IsControl(r) || unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) {
			return fmt.Errorf("%w: %s contains the character %U", ErrInvalid, what, r)
		}
	}
	return nil
}

// ValidateName checks a display or team name: 1 to MaxNameLen runes of valid
// UTF-8 with no control or format characters and no leading or trailing
// space. what names the argument in the error. It returns nil or an error
// wrapping ErrInvalid. Users' and teams' names are checked with it, so a
// host application can check a form field the same way before calling
// roster. It is safe for concurrent use.
func ValidateName(what, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: %s is empty", ErrInvalid, what)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalid, what)
	case utf8.RuneCountInString(name) > MaxNameLen:
		return fmt.Errorf("%w: %s is longer than %d characters", ErrInvalid, what, MaxNameLen)
	case strings.TrimSpace(name) != name:
		return fmt.Errorf("%w: %s has leading or trailing space", ErrInvalid, what)
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			return fmt.Errorf("%w: %s contains the character %U", ErrInvalid, what, r)
		}
	}
	return nil
}

// ValidateEmail checks an email address: a bare addr-spec (no display name
// or angle brackets) of at most MaxEmailLen bytes, ASCII only. It returns nil
// or an error wrapping ErrInvalid. Users' emails are checked with it (and
// invites.CanonicalEmail applies it first), so a host application can check
// a form field the same way before calling roster. It is safe for
// concurrent use.
func ValidateEmail(email string) error {
	switch {
	case email == "":
		return fmt.Errorf("%w: email is empty", ErrInvalid)
	case len(email) > MaxEmailLen:
		return fmt.Errorf("%w: email is longer than %d bytes", ErrInvalid, MaxEmailLen)
	}
	for i := 0; i < len(email); i++ {
		if c := email[i]; c <= ' ' || c >= 0x7f {
			return fmt.Errorf("%w: email contains a space, control or non-ASCII byte", ErrInvalid)
		}
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" {
		return fmt.Errorf("%w: %q is not a plain email address", ErrInvalid, email)
	}
	if at := strings.LastIndexByte(email, '@'); !strings.Contains(email[at+1:], ".") {
		return fmt.Errorf("%w: email domain %q has no dot", ErrInvalid, email[at+1:])
	}
	return nil
}

// Validate checks the user's fields: a valid ID that does not begin with
// APIKeyIDPrefix, email, name and a
// well-formed sign-in method (whether the host accepts it is SignIns'); ActiveAccount, when set, must be a valid ID. It returns nil or an
// error wrapping ErrInvalid. teams.Service.CreateUser applies it, so a host
// application can check a new user the same way first. It is safe for
// concurrent use.
func (u User) Validate() error {
	if err := ValidateID("user ID", u.ID); err != nil {
		return err
	}
	if IsAPIKeyID(u.ID) {
		return fmt.Errorf("%w: user ID %q begins with %q, which names API keys", ErrInvalid, u.ID, APIKeyIDPrefix)
	}
	if err := ValidateEmail(u.Email); err != nil {
		return err
	}
	if err := ValidateName("user name", u.Name); err != nil {
		return err
	}
	if !u.SignIn.Valid() {
		return fmt.Errorf("%w: malformed sign-in method %q", ErrInvalid, u.SignIn)
	}
	if u.ActiveAccount != "" {
		return ValidateID("active account", u.ActiveAccount)
	}
	return nil
}
