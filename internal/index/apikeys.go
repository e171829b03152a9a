package index

import (
	"crypto/sha256"
	"slices"
	"time"

	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// API keys. A live key is one entry in Index.keys, a sync.Map from the
// key's ID without store.APIKeyIDPrefix (the part its token carries) to an
// immutable *apiKey that a writer replaces whole, so that readers find it
// without a lock or an allocation. A key acts on its account under its own
// ID: Allowed, Lookup and Member take it where they take a user ID. What it
// may do there is what its role (narrowed to its actions, if it has any)
// allows and, for a personal key, what its owner may do there at the same
// moment: a key of a member who was removed, left, was demoted or is shut
// out for their sign-in method can do no more than they can. An expired key
// may do nothing; expiry is checked against the Index's clock on every
// question, so no sweep is needed for the answer to be right.

// apiKey is a live API key as the index holds it.
type apiKey struct {
	id, account string
	owner       string // the owning member; empty for a service account
	role        uint32 // a role ID, as a membership's
	roleName    string
	// actions narrows the key to these actions when not nil; mask holds
	// them by rbac.ActionID for a compiled policy.
	actions []string
	mask    []uint64
	hash    [sha256.Size]byte
	expires int64 // Unix nanoseconds; 0 means never
}

// APIKey is what the index knows of a live API key (see Index.APIKey).
type APIKey struct {
	// ID is the key's ID; Account the account it acts on; User the
	// member it belongs to, empty for a service account; Role the role it
	// acts with.
	ID, Account, User string
	Role              rbac.Role
	// Hash is the SHA-256 of the key's token.
	Hash [sha256.Size]byte
	// ExpiresAt is when the key stops working; zero means never.
	ExpiresAt time.Time
}

// SetClock sets the clock API keys' expiry is checked against (time.Now
// by default). Call it before the Index is used.
func (ix *Index) SetClock(now func() time.Time) { ix.now = now }

// APIKey returns the live API key whose ID is store.APIKeyIDPrefix +
// suffix, expired or not, and reports whether there is one. It takes no
// lock and allocates nothing. It is safe for concurrent use.
func (ix *Index) APIKey(suffix string) (APIKey, bool) {
	v, ok := ix.keys.Load(suffix)
	if !ok {
		return APIKey{}, false
	}
	k := v.(*apiKey)
	out := APIKey{ID: k.id, Account: k.account, User: k.owner, Role: rbac.Role(k.roleName), Hash: k.hash}
	if k.expires != 0 {
		out.ExpiresAt = time.Unix(0, k.expires).UTC()
	}
	return out, true
}

// key returns the live key whose ID is id, if it acts on the account and
// has not expired; nil otherwise.
func (ix *Index) key(id, account string) *apiKey {
	v, ok := ix.keys.Load(id[len(store.APIKeyIDPrefix):])
	if !ok {
		return nil
	}
	k := v.(*apiKey)
	if k.account != account || k.expires != 0 && ix.now().UnixNano() >= k.expires {
		return nil
	}
	return k
}

// keyAllowed answers Allowed for the API key id, whose ID has
// store.APIKeyIDPrefix.
func (ix *Index) keyAllowed(id, account string, action rbac.Action) bool {
	k := ix.key(id, account)
	if k == nil {
		return false
	}
	if ix.fallback {
		if k.actions != nil && !slices.Contains(k.actions, string(action)) || !ix.decide(k.role, account, action) {
			return false
		}
		if k.owner == "" {
			return true
		}
		s := ix.findMember(ix.view.Load(), account, k.owner)
		return s != nil && ix.decide(s.role.Load(), account, action)
	}
	aid, ok := ix.actions.id(action)
	if !ok || !ix.roleAllows(k.role, aid) || k.mask != nil && !hasBit(k.mask, aid) {
		return false
	}
	if k.owner == "" {
		return true
	}
	s := ix.findMember(ix.view.Load(), account, k.owner)
	return s != nil && ix.roleAllows(s.role.Load(), aid)
}

// keyLookup answers Lookup for the API key id: the key is the "member",
// its role the role; InsecureSignIn says its owner is shut out of the
// account for their sign-in method.
func (ix *Index) keyLookup(id, account string, action rbac.Action) Answer {
	k := ix.key(id, account)
	if k == nil {
		_, known := ix.findAccount(ix.view.Load(), account)
		return Answer{AccountKnown: known}
	}
	a := Answer{AccountKnown: true, Member: true, RoleKnown: k.role != noRole, Role: ix.roleName(k.role)}
	if k.owner != "" {
		s := ix.findMember(ix.view.Load(), account, k.owner)
		if s == nil || s.role.Load() == roleAbsent {
			return Answer{AccountKnown: true}
		}
		a.InsecureSignIn = s.role.Load()&insecure != 0
	}
	a.Allowed = ix.keyAllowed(id, account, action)
	return a
}

// keyMember answers Member for the API key id: it is live on the account,
// and its owner, if it has one, is a member.
func (ix *Index) keyMember(id, account string) bool {
	k := ix.key(id, account)
	if k == nil {
		return false
	}
	if k.owner == "" {
		return true
	}
	s := ix.findMember(ix.view.Load(), account, k.owner)
	return s != nil && s.role.Load() != roleAbsent
}

// roleAllows reports whether role ID r allows action aid under a compiled
// policy: false for noRole, roleAbsent and any r with insecure.
func (ix *Index) roleAllows(r uint32, aid rbac.ActionID) bool {
	if r < uint32(len(ix.grants)) {
		return ix.grants[r]&(1<<aid) != 0
	}
	return ix.grantsSlow(r, aid)
}

func hasBit(set []uint64, aid rbac.ActionID) bool {
	w := int(aid) / 64
	return w < len(set) && set[w]&(1<<(aid%64)) != 0
}

// setKey makes the key of an APIKeySet change, or of a snapshot item,
// live. Keys whose IDs are not API key IDs, or not indexable, are ignored.
// The caller holds ix.mu.
func (ix *Index) setKey(id, account, owner, role string, actions []string, hash []byte, expires time.Time) {
	if !store.IsAPIKeyID(id) || !indexable(id) || !indexable(account) || len(hash) != sha256.Size {
		return
	}
	k := &apiKey{id: id, account: account, owner: owner, role: ix.roleID(account, role), roleName: role}
	if k.role >= customBase && k.role < roleAbsent {
		ix.publishCustom() // readers must find the team role the key holds
	}
	if actions != nil {
		k.actions = slices.Clone(actions)
		k.mask = make([]uint64, (len(ix.policy.Actions())+63)/64)
		for _, a := range actions {
			if aid, ok := ix.policy.ActionID(rbac.Action(a)); ok {
				k.mask[aid/64] |= 1 << (aid % 64)
			}
		}
	}
	copy(k.hash[:], hash)
	if !expires.IsZero() {
		k.expires = expires.UnixNano()
	}
	ix.keys.Store(id[len(store.APIKeyIDPrefix):], k)
}

// deleteKey forgets a revoked key. The caller holds ix.mu.
func (ix *Index) deleteKey(id string) {
	if store.IsAPIKeyID(id) {
		ix.keys.Delete(id[len(store.APIKeyIDPrefix):])
	}
}
