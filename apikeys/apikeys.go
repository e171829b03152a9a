// Package apikeys gives a team's members API keys, and the team service
// accounts: secrets a program sends instead of a session, which act on one
// account with a role no broader than their creator's, and lose their access
// the moment their owner does.
//
// A key's token is shown once, when it is made:
//
//	rsk_<ID>_<secret><checksum>
//
// The fixed prefix and shape let secret scanners recognise a leaked key;
// the checksum lets roster refuse a mistyped or truncated one without a
// read. Only the token's SHA-256 is stored.
//
// A key acts under its own ID (it begins with store.APIKeyIDPrefix, which
// no user ID may), so roster's Can answers for a key as for a user:
// r.Can(ctx, key.ID, team, action). roster.Roster.Authenticate turns a
// token into the key's principal from memory, and the HTTP middleware
// accepts "Authorization: Bearer <token>". What a key may do is what its
// role allows, narrowed to its actions if it has any, and, for a personal
// key, never more than its owner may do at that moment:
//
//   - removed, leaving or deleted, the owner loses their keys for the
//     account: they are revoked in the same transaction;
//   - demoted, the owner keeps their keys, narrowed to the actions the new
//     role allows (each an api_key.narrowed event); a key left with no
//     action is revoked;
//   - shut out by the team's secure sign-in rule, the owner's keys can do
//     nothing until the owner signs in securely again;
//   - a team role deleted revokes the keys holding it, and a team deleted
//     revokes its service accounts.
//
// Revoked and expired keys stop working at once on every instance, as a
// removed member does: the change feed carries keys, and expiry is checked
// on every question. A key acts through Can and may record the host's audit
// events (audit.Service.Record with the key's ID as actor); it cannot
// manage the team, create keys or read the log.
package apikeys

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/teamroster/roster/internal/check"
	"github.com/teamroster/roster/internal/cursor"
	"github.com/teamroster/roster/internal/token"
	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// Errors returned by the Service besides those of the store and rbac
// packages. Test for them with errors.Is. Each wraps one of the kinds of
// package store.
var (
	// ErrRevoked means the key was revoked already. It wraps
	// store.ErrGone.
	ErrRevoked = store.Kinded(store.ErrGone, "apikeys: key revoked")
	// ErrTooBroad means the key would hold an action its creator's role
	// lacks. It wraps rbac.ErrDenied.
	ErrTooBroad = store.Kinded(rbac.ErrDenied, "apikeys: the key would hold rights its creator lacks")
	// ErrKeyActor means an API key tried to create a key. It wraps
	// rbac.ErrDenied.
	ErrKeyActor = store.Kinded(rbac.ErrDenied, "apikeys: an API key cannot create or list keys")
)

// MaxExpiry is the furthest ahead a key's expiry may be set; a key may
// also never expire.
const MaxExpiry = 5 * 366 * 24 * time.Hour

// Spec says what key to create.
type Spec struct {
	// Name labels the key, such as "CI deploys" (see store.ValidateName).
	Name string
	// Role is the role the key acts with: the policy's or a team role of
	// the account. Empty means the creator's own role, for a personal key;
	// a service account needs one.
	Role rbac.Role
	// Actions, when not nil, narrows the key to these of Role's actions;
	// each must be one the policy has and the role allows.
	Actions []rbac.Action
	// ExpiresAt is when the key stops working: zero for never, otherwise
	// after now and at most MaxExpiry ahead.
	ExpiresAt time.Time
}

// Key is an API key as its owner and the team's managers see it. It never
// carries the token or its hash.
type Key struct {
	ID        string
	AccountID string
	// UserID is the member the key belongs to; empty for a service
	// account.
	UserID string
	Name   string
	Role   rbac.Role
	// Actions, when not nil, are the only actions of Role the key may
	// perform.
	Actions   []rbac.Action
	CreatedBy string
	CreatedAt time.Time
	// ExpiresAt is when the key stops working; zero means never.
	ExpiresAt time.Time
	// RevokedAt is when the key was revoked, zero while it is not, and
	// RevokedBy who revoked it (empty when it went with its owner's
	// access).
	RevokedAt time.Time
	RevokedBy string
	// LastUsedAt and LastUsedIP are the latest use written (a Roster
	// writes uses at most once a minute per key); zero if never.
	LastUsedAt time.Time
	LastUsedIP string
}

// Service reports whether the key is a service account, owned by its
// account rather than a member.
func (k Key) Service() bool { return k.UserID == "" }

// Live reports whether the key works at now: not revoked, not expired.
func (k Key) Live(now time.Time) bool {
	return store.APIKey{RevokedAt: k.RevokedAt, ExpiresAt: k.ExpiresAt}.Live(now)
}

// Created is a key just made, with its token, which is shown this once.
type Created struct {
	Key   Key
	Token string
}

// Service creates, lists and revokes API keys. Get one from roster.Open or
// roster.New (Roster.Keys); New is for wiring a Store by hand. A Service
// is safe for concurrent use.
type Service struct {
	door   *txn.Door
	policy *rbac.Policy
}

// Option configures New.
type Option func(*config)

type config struct {
	now func() time.Time
}

// WithClock sets the clock keys are stamped with and expiry is checked
// against (time.Now by default), for tests. It must be safe for concurrent
// use.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

// New returns a Service on s deciding with p. Every call goes through the
// one write path that teams, invites and audit use.
func New(s store.Store, p *rbac.Policy, opts ...Option) *Service {
	var c config
	for _, o := range opts {
		o(&c)
	}
	return &Service{door: txn.New(s, p, c.now), policy: p}
}

// Create makes a personal API key of actor for the account, with the
// spec's role (the actor's own when empty), narrowed to its actions, and
// returns it with its token, shown this once. Any member may create keys;
// the key's rights must lie within the actor's role (else ErrTooBroad,
// recorded as a denied api_key.created event). It records an
// api_key.created event. It returns an error wrapping store.ErrInvalid
// (malformed input, an expiry in the past or beyond MaxExpiry),
// store.ErrNotFound (no such account), rbac.ErrNotMember,
// rbac.ErrSecureSignIn, rbac.ErrUnknownRole, rbac.ErrUnknownAction,
// ErrTooBroad or ErrKeyActor; nothing is written then but a denied event.
func (s *Service) Create(ctx context.Context, actor, accountID string, spec Spec) (Created, error) {
	out, err := s.create(ctx, actor, accountID, spec, false)
	if err != nil {
		return Created{}, fmt.Errorf("create API key in %q by %q: %w", accountID, actor, err)
	}
	return out, nil
}

// CreateService makes a service account of the account: a key that belongs
// to the account rather than a member, so that it keeps working when its
// creator leaves. The actor needs rbac.MembersManage (the owner and
// admins), and the key's rights must lie within the actor's role. It
// returns what Create returns, and rbac.ErrDenied for an actor without
// rbac.MembersManage.
func (s *Service) CreateService(ctx context.Context, actor, accountID string, spec Spec) (Created, error) {
	out, err := s.create(ctx, actor, accountID, spec, true)
	if err != nil {
		return Created{}, fmt.Errorf("create service account in %q by %q: %w", accountID, actor, err)
	}
	return out, nil
}

func (s *Service) create(ctx context.Context, actor, accountID string, spec Spec, service bool) (Created, error) {
	ids := []check.Field{check.ID("actor", actor), check.ID("account ID", accountID)}
	if spec.Role != "" || service {
		ids = append(ids, check.ID("role", string(spec.Role)))
	}
	if err := check.IDs(ids...); err != nil {
		return Created{}, err
	}
	if err := store.ValidateName("API key name", spec.Name); err != nil {
		return Created{}, err
	}
	if store.IsAPIKeyID(actor) {
		return Created{}, ErrKeyActor
	}
	if spec.Actions != nil && len(spec.Actions) == 0 {
		return Created{}, fmt.Errorf("%w: a key narrowed to no action can do nothing", store.ErrInvalid)
	}
	for _, a := range spec.Actions {
		if err := check.IDs(check.ID("action", string(a))); err != nil {
			return Created{}, err
		}
		if !s.policy.HasAction(a) {
			return Created{}, fmt.Errorf("policy %s has no action %q: %w", s.policy.Name(), a, rbac.ErrUnknownAction)
		}
	}
	call := txn.Call{Actor: actor, Account: accountID, Need: txn.Membership, Event: store.EventAPIKeyCreated,
		Resource: txn.Resource{Type: "api_key"}}
	if service {
		call.Need, call.Action = txn.Permission, rbac.MembersManage
	}
	id, tok, hash := token.NewAPIKey()
	var out Created
	_, err := s.door.Update(ctx, call, func(c *txn.Change) error {
		now := c.Now()
		if !spec.ExpiresAt.IsZero() && (!spec.ExpiresAt.After(now) || spec.ExpiresAt.Sub(now) > MaxExpiry) {
			return fmt.Errorf("%w: expiry %s is not after now and within %s", store.ErrInvalid, spec.ExpiresAt.Format(time.RFC3339), MaxExpiry)
		}
		role := spec.Role
		if role == "" {
			role = rbac.Role(c.Actor.Role)
		}
		k := store.APIKey{ID: id, AccountID: accountID, Name: spec.Name, Role: string(role), Hash: hash,
			CreatedBy: actor, CreatedAt: now, ExpiresAt: spec.ExpiresAt.UTC().Truncate(time.Microsecond)}
		if !service {
			k.UserID = actor
		}
		if spec.Actions != nil {
			k.Actions = make([]string, 0, len(spec.Actions))
			for _, a := range spec.Actions {
				if !slices.Contains(k.Actions, string(a)) {
					k.Actions = append(k.Actions, string(a))
				}
			}
		}
		rights, err := c.KeyRights(k)
		if err != nil {
			return err // rbac.ErrUnknownRole
		}
		for _, a := range spec.Actions {
			if !rights.Allows(a) {
				return fmt.Errorf("%w: role %q does not allow %q", store.ErrInvalid, role, a)
			}
		}
		if !c.Rights.Covers(rights) {
			return fmt.Errorf("role %q lacks some rights of the key: %w", c.Actor.Role, ErrTooBroad)
		}
		if err := c.Tx.CreateAPIKey(ctx, k); err != nil {
			return err
		}
		after := map[string]string{"role": k.Role, "name": k.Name}
		if service {
			after["service"] = "true"
		} else {
			after["owner"] = k.UserID
		}
		if !k.ExpiresAt.IsZero() {
			after["expires_at"] = k.ExpiresAt.Format(time.RFC3339)
		}
		if k.Actions != nil {
			after["actions"] = fmt.Sprint(k.Actions)
		}
		if _, err := c.Record(store.Event{Action: store.EventAPIKeyCreated, ResourceType: "api_key", ResourceID: k.ID,
			After: txn.EventValue(after)}); err != nil {
			return err
		}
		out = Created{Key: keyOf(k), Token: tok}
		return nil
	})
	return out, err
}

// Revoke revokes the key keyID of the account at once, on every instance,
// and records an api_key.revoked event. A member may revoke their own keys;
// a member with rbac.MembersManage whose role covers the key's rights may
// revoke any key of the account, service accounts included. It returns the
// revoked key, or an error wrapping store.ErrInvalid, store.ErrNotFound (no
// such account, or no such key in it), rbac.ErrNotMember, rbac.ErrDenied
// (recorded as a denied event), rbac.ErrSecureSignIn or ErrRevoked.
func (s *Service) Revoke(ctx context.Context, actor, accountID, keyID string) (Key, error) {
	var out Key
	err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID), check.ID("key ID", keyID))
	if err == nil {
		_, err = s.door.Update(ctx, txn.Call{Actor: actor, Account: accountID, Need: txn.Membership,
			Event: store.EventAPIKeyRevoked, Resource: txn.Resource{Type: "api_key", ID: keyID}}, func(c *txn.Change) error {
			k, err := c.Tx.APIKey(ctx, keyID)
			switch {
			case errors.Is(err, store.ErrNotFound) || err == nil && k.AccountID != accountID:
				return fmt.Errorf("no API key %q in %q: %w", keyID, accountID, store.ErrNotFound)
			case err != nil:
				return err
			case !k.RevokedAt.IsZero():
				return ErrRevoked
			}
			if k.UserID != actor {
				if !c.Rights.Allows(rbac.MembersManage) {
					return fmt.Errorf("role %q may not revoke others' keys: %w", c.Actor.Role, rbac.ErrDenied)
				}
				rights, err := c.KeyRights(k)
				if err != nil && !errors.Is(err, rbac.ErrUnknownRole) {
					return err
				}
				if !c.Rights.Covers(rights) {
					return fmt.Errorf("role %q lacks some rights of the key: %w", c.Actor.Role, rbac.ErrDenied)
				}
			}
			if err := c.RevokeKey(k, actor, ""); err != nil {
				return err
			}
			k.RevokedAt, k.RevokedBy = c.Now(), actor
			out = keyOf(k)
			return nil
		})
	}
	if err != nil {
		return Key{}, fmt.Errorf("revoke API key %q in %q by %q: %w", keyID, accountID, actor, err)
	}
	return out, nil
}

// List returns a page of the actor's own keys for the account, revoked ones
// included, newest first, and the cursor of the next page ("" after the
// last). Any member may list their keys. It returns an error wrapping
// store.ErrInvalid (malformed input or cursor), store.ErrNotFound,
// rbac.ErrNotMember or rbac.ErrSecureSignIn.
func (s *Service) List(ctx context.Context, actor, accountID string, p store.Page) ([]Key, string, error) {
	keys, next, err := s.list(ctx, txn.Call{Actor: actor, Account: accountID, Need: txn.Membership}, actor, p, "api keys")
	if err != nil {
		return nil, "", fmt.Errorf("list API keys of %q in %q: %w", actor, accountID, err)
	}
	return keys, next, nil
}

// ListTeam returns a page of every key of the account, members' and
// service accounts', revoked ones included, newest first, and the cursor of
// the next page. The actor needs rbac.MembersManage (the owner and admins).
// It returns what List returns and rbac.ErrDenied.
func (s *Service) ListTeam(ctx context.Context, actor, accountID string, p store.Page) ([]Key, string, error) {
	keys, next, err := s.list(ctx, txn.Call{Actor: actor, Account: accountID, Need: txn.Permission, Action: rbac.MembersManage},
		"", p, "team api keys")
	if err != nil {
		return nil, "", fmt.Errorf("list the API keys of %q for %q: %w", accountID, actor, err)
	}
	return keys, next, nil
}

func (s *Service) list(ctx context.Context, call txn.Call, userID string, p store.Page, name string) ([]Key, string, error) {
	var (
		out   []Key
		next  string
		after store.Key
	)
	err := check.IDs(check.ID("actor", call.Actor), check.ID("account ID", call.Account))
	if err == nil {
		err = p.Validate()
	}
	if err == nil && store.IsAPIKeyID(call.Actor) {
		err = ErrKeyActor
	}
	if err == nil && p.Cursor != "" {
		_, after, err = cursor.DecodeKey(p.Cursor, 0, name, call.Account, userID)
	}
	if err != nil {
		return nil, "", err
	}
	err = s.door.View(ctx, call, func(c *txn.Change) error {
		keys, more, err := cursor.Read(p.Rows(), after, func(r store.Range) ([]store.APIKey, error) {
			return c.Tx.APIKeys(ctx, call.Account, userID, r)
		}, store.APIKey.Key, nil)
		if err != nil {
			return err
		}
		out = make([]Key, len(keys))
		for i, k := range keys {
			out[i] = keyOf(k)
		}
		if more {
			next = cursor.EncodeKey(0, keys[len(keys)-1].Key(), name, call.Account, userID)
		}
		return nil
	})
	return out, next, err
}

// keyOf returns the stored key as members see it, without its hash.
func keyOf(k store.APIKey) Key {
	out := Key{ID: k.ID, AccountID: k.AccountID, UserID: k.UserID, Name: k.Name, Role: rbac.Role(k.Role),
		CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt, RevokedAt: k.RevokedAt,
		RevokedBy: k.RevokedBy, LastUsedAt: k.LastUsedAt, LastUsedIP: k.LastUsedIP}
	if k.Actions != nil {
		out.Actions = make([]rbac.Action, len(k.Actions))
		for i, a := range k.Actions {
			out.Actions[i] = rbac.Action(a)
		}
	}
	return out
}
