package store

import (
	"fmt"
	"strings"
	"time"
)

// APIKeyIDPrefix begins the ID of every API key. An API key acts on its
// account under its own ID, as a user acts under theirs (roster's Can takes
// it where it takes a user ID), so no user ID may begin with it: ValidateUser
// refuses one, and roster's in-memory index does not hold a membership of
// such a user.
const APIKeyIDPrefix = "key_"

// IsAPIKeyID reports whether id has the form of an API key's ID: it begins
// with APIKeyIDPrefix.
func IsAPIKeyID(id string) bool { return strings.HasPrefix(id, APIKeyIDPrefix) }

// APIKey is an API key: a secret that lets a program act on one account
// with a role no broader than that of whoever created it. A personal key
// belongs to a member (UserID) and can never do more than they can at the
// moment it is used; a service account (UserID empty) belongs to the
// account. Only a hash of the secret is stored.
type APIKey struct {
	// ID names the key; it begins with APIKeyIDPrefix and is carried in
	// the key's token.
	ID        string
	AccountID string
	// UserID is the member the key belongs to; empty for a service
	// account.
	UserID string
	// Name is a label the creator chose, such as "CI deploys".
	Name string
	// Role is the role the key acts with: the policy's or one of the
	// account's team roles.
	Role string
	// Actions, when not nil, narrows the key to these of Role's actions.
	Actions []string
	// Hash is the SHA-256 of the key's secret.
	Hash      []byte
	CreatedBy string
	CreatedAt time.Time
	// ExpiresAt is when the key stops working; zero means never.
	ExpiresAt time.Time
	// RevokedAt is when the key was revoked (zero while it is live), and
	// RevokedBy who revoked it (empty when it was revoked because its
	// owner lost access, or while it is live).
	RevokedAt time.Time
	RevokedBy string
	// LastUsedAt and LastUsedIP record the key's latest use that was
	// written (see Tx.TouchAPIKeys); zero and empty if never.
	LastUsedAt time.Time
	LastUsedIP string
}

// Live reports whether the key works at now: it is not revoked and has not
// expired.
func (k APIKey) Live(now time.Time) bool {
	return k.RevokedAt.IsZero() && (k.ExpiresAt.IsZero() || now.Before(k.ExpiresAt))
}

// Key returns the key's position in its account's keys (Tx.APIKeys): its
// CreatedAt and ID.
func (k APIKey) Key() Key { return Key{Time: k.CreatedAt, ID: k.ID} }

// Validate checks the fields a Store relies on: ID, AccountID and Role are
// well-formed IDs (ID with APIKeyIDPrefix), UserID is empty or a well-formed
// ID, Name a valid name (see ValidateName), Actions hold no empty or
// repeated action, and Hash is 32 bytes. It returns an error wrapping
// ErrInvalid or nil.
func (k APIKey) Validate() error {
	if !IsAPIKeyID(k.ID) {
		return fmt.Errorf("%w: API key ID %q does not begin with %q", ErrInvalid, k.ID, APIKeyIDPrefix)
	}
	for _, f := range [...]struct{ what, id string }{{"API key ID", k.ID}, {"account ID", k.AccountID}, {"role", k.Role}} {
		if err := ValidateID(f.what, f.id); err != nil {
			return err
		}
	}
	if k.UserID != "" {
		if err := ValidateID("user ID", k.UserID); err != nil {
			return err
		}
	}
	if err := ValidateName("API key name", k.Name); err != nil {
		return err
	}
	seen := make(map[string]bool, len(k.Actions))
	for _, a := range k.Actions {
		if a == "" || seen[a] {
			return fmt.Errorf("%w: API key actions hold an empty or repeated action", ErrInvalid)
		}
		seen[a] = true
	}
	if len(k.Hash) != 32 {
		return fmt.Errorf("%w: API key hash is %d bytes, want 32", ErrInvalid, len(k.Hash))
	}
	return nil
}

// APIKeyUse is one use of an API key, for Tx.TouchAPIKeys.
type APIKeyUse struct {
	ID string
	At time.Time
	IP string
}
