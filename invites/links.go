package invites

import (
	"context"
	"crypto/subtle"
	"fmt"

	"github.com/teamroster/roster/internal/check"
	"github.com/teamroster/roster/internal/token"
	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// MinSecretLen is the fewest bytes a link secret may have.
const MinSecretLen = token.MinSecretLen

// Secret is a server secret that invite tokens are derived from, so that a
// pending invite's link can be shown again (see WithLinkSecrets and
// Service.Link). Make one with NewSecret; the zero Secret is refused by
// New. Its key ID is written into every token it derives and into the
// stored form of each, never the secret itself; it prints as its key ID
// only. A Secret is safe for concurrent use.
type Secret struct {
	id  string
	key []byte
}

// NewSecret returns the secret key named id. The id tells secrets apart
// across rotations ("2026-11", "k2"): 1 to 16 ASCII letters, digits and
// hyphens, never reused for another key, since tokens name the secret that
// made them by it. The key must hold at least MinSecretLen bytes from a
// cryptographic random source; NewSecret keeps a copy. It returns an error
// wrapping store.ErrInvalid for a malformed id, and ErrWeakSecret for a
// shorter key.
func NewSecret(id string, key []byte) (Secret, error) {
	if err := token.CheckKeyID(id); err != nil {
		return Secret{}, fmt.Errorf("link secret %q: %w", id, err)
	}
	if len(key) < MinSecretLen {
		return Secret{}, fmt.Errorf("link secret %q: %w: it has %d", id, ErrWeakSecret, len(key))
	}
	return Secret{id: id, key: append([]byte(nil), key...)}, nil
}

// ID returns the secret's key ID.
func (s Secret) ID() string { return s.id }

// String returns the secret's key ID, never the key, so that printing a
// Secret cannot leak it.
func (s Secret) String() string { return "invites.Secret(" + s.id + ")" }

// GoString is String, for the %#v verb.
func (s Secret) GoString() string { return s.String() }

// WithLinkSecrets makes the Service derive invite tokens from a server
// secret (HMAC-SHA256 of the invite's ID and a nonce stored with it), so
// that Link can show a pending invite's link again while the database
// still holds only a hash of the token. New tokens (CreateLink,
// CreateEmail, Resend) are derived from current; tokens made with current
// or any of old are accepted, and their links shown again. See Link secrets
// in the package documentation for rotation. Without this option, tokens
// are random and shown once. A later call replaces an earlier one.
func WithLinkSecrets(current Secret, old ...Secret) Option {
	return func(s *Service) {
		k := &keyring{current: current, byID: map[string]Secret{}}
		for _, sec := range append([]Secret{current}, old...) {
			if _, dup := k.byID[sec.id]; dup {
				k.dup = sec.id
			}
			k.byID[sec.id] = sec
		}
		s.secrets = k
	}
}

// keyring is the Service's link secrets: the current one, which derives new
// tokens, and every configured one by key ID.
type keyring struct {
	current Secret
	byID    map[string]Secret
	dup     string // a key ID given twice, refused by check
}

// check returns an error wrapping store.ErrInvalid if a secret is the zero
// Secret or two share a key ID; nil for a nil keyring.
func (k *keyring) check() error {
	if k == nil {
		return nil
	}
	for _, sec := range k.byID {
		if sec.id == "" {
			return fmt.Errorf("%w: a zero link secret: make secrets with NewSecret", store.ErrInvalid)
		}
	}
	if k.dup != "" {
		return fmt.Errorf("%w: two link secrets with key ID %q", store.ErrInvalid, k.dup)
	}
	return nil
}

// newToken returns a new token for the invite with the given ID and the
// bytes to store in its place: derived from the current secret with a new
// nonce if there is one, random otherwise.
func (s *Service) newToken(inviteID string) (tok string, stored []byte) {
	if s.secrets == nil {
		return token.New()
	}
	cur := s.secrets.current
	return token.Derive(cur.id, cur.key, inviteID, token.NewNonce())
}

// lookup checks tok without reading anything and returns the bytes to find
// its invite by: an error wrapping store.ErrInvalid for a string not shaped
// like a token (or a derived one with a wrong checksum), and
// ErrUnknownToken for a derived token of a secret that is not configured.
func (s *Service) lookup(tok string) ([]byte, error) {
	stored, err := token.Hash(tok)
	if err != nil || !token.IsDerived(tok) || len(tok) == token.Len {
		return stored, err
	}
	kid, _, _ := token.StoredKey(stored)
	if _, ok := s.secrets.secret(kid); !ok {
		return nil, fmt.Errorf("%w: made with link secret %q, which is not configured", ErrUnknownToken, kid)
	}
	return stored, nil
}

// secret returns the configured secret with the key ID; ok is false if
// there is none (or no keyring).
func (k *keyring) secret(id string) (Secret, bool) {
	if k == nil {
		return Secret{}, false
	}
	sec, ok := k.byID[id]
	return sec, ok
}

// tokenMatches reports whether tok is the token of the stored invite: it
// hashes to the stored hash, compared in constant time, and, if derived, a
// configured secret derives it for the invite (a superseded record's token
// was derived for the invite it was replaced in).
func (s *Service) tokenMatches(inv store.Invite, tok string) bool {
	if !token.Match(inv.TokenHash, tok) {
		return false
	}
	if _, _, derived := token.StoredKey(inv.TokenHash); !derived {
		return true
	}
	d, err := token.Parse(tok)
	if err != nil {
		return false
	}
	sec, ok := s.secrets.secret(d.KeyID)
	return ok && d.Verify(sec.key, subject(inv))
}

// subject returns the invite ID a stored invite's token was derived for:
// its own, or for the record of a replaced token, the invite's.
func subject(inv store.Invite) string {
	if inv.Status == store.InviteSuperseded {
		return inv.SupersededBy
	}
	return inv.ID
}

// again derives the token of a stored invite again, from the secret its
// stored form names, and returns it with the secret's key ID. It returns
// an error wrapping ErrLinkNotKept if the token was random, or its secret
// is not configured or no longer derives it.
func (k *keyring) again(inv store.Invite) (tok, keyID string, err error) {
	kid, nonce, ok := token.StoredKey(inv.TokenHash)
	if !ok {
		return "", "", fmt.Errorf("%w: its token was made without a link secret", ErrLinkNotKept)
	}
	sec, ok := k.secret(kid)
	if !ok {
		return "", "", fmt.Errorf("%w: its token was made with link secret %q, which is no longer configured", ErrLinkNotKept, kid)
	}
	tok, stored := token.Derive(kid, sec.key, subject(inv), nonce)
	if subtle.ConstantTimeCompare(stored, inv.TokenHash) != 1 {
		return "", "", fmt.Errorf("%w: link secret %q does not derive its token: the key under that ID changed", ErrLinkNotKept, kid)
	}
	return tok, kid, nil
}

// Link returns a pending invite with its Token and Link made again, for a
// member to copy from the pending invites (Runpod's "copy link"): the same
// link as when the invite was created or last resent, which keeps working.
// It needs link secrets (WithLinkSecrets) and a base URL; the invite's
// token must have been derived from a secret still configured. The actor
// needs rbac.MembersInvite and a role that may grant the invite's role, as
// for Resend; unlike Resend it changes nothing about the invite and does
// not make the actor its sender. Since the link is a credential shown
// again, each call records an invite.link_copied event naming the secret's
// key ID.
//
// It returns an error wrapping store.ErrInvalid (malformed input),
// ErrNoLinkSecret, ErrNoBaseURL, store.ErrNotFound (no such account, or no
// such invite in it), rbac.ErrNotMember, rbac.ErrDenied, store.ErrNotTeam,
// ErrReusableTop, ErrUsed, ErrRevoked, ErrExpired or ErrLinkNotKept (resend
// the invite for a new link), and nothing is written then but, for a member
// refused by the policy (rbac.ErrDenied), a denied invite.link_copied
// event. It is safe for concurrent use.
func (s *Service) Link(ctx context.Context, actor, accountID, inviteID string) (Invitation, error) {
	fail := func(err error) (Invitation, error) {
		return Invitation{}, fmt.Errorf("link of %q in %q for %q: %w", inviteID, accountID, actor, err)
	}
	err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID), check.ID("invite ID", inviteID))
	switch {
	case err != nil:
		return fail(err)
	case s.secrets == nil:
		return fail(ErrNoLinkSecret)
	case s.baseURL == "":
		return fail(ErrNoBaseURL)
	}
	var (
		out Invitation
		tok string
	)
	err = s.manage(ctx, actor, accountID, inviteID, store.EventInviteLinkCopied, func(c *txn.Change, inv store.Invite) error {
		if err := s.mayGrant(c, rbac.Role(inv.Role), inv.MaxUses); err != nil {
			return err
		}
		now := c.Now()
		if inv.Expired(now) {
			return ErrExpired
		}
		var kid string
		var err error
		if tok, kid, err = s.secrets.again(inv); err != nil {
			return err
		}
		out = invitation(inv, now, true)
		_, err = c.Record(store.Event{
			Action: store.EventInviteLinkCopied, ResourceType: "invite", ResourceID: inv.ID,
			After: txn.EventValue(map[string]string{"key_id": kid}),
		})
		return err
	})
	if err != nil {
		return fail(err)
	}
	out.Token, out.Link = tok, s.link(tok)
	return out, nil
}
