package index

import (
	"crypto/sha256"
	"slices"
	"sync/atomic"
	"time"

	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// API keys. A live key is one slot of the key table (Index.keys): an
// open-addressing hash table (linear probing) of pointers to immutable
// apiKey records, keyed by the key's ID without store.APIKeyIDPrefix (the
// part its token carries), which a record holds inline so that a probe
// compares it without another memory access. A writer replaces a record
// whole, marks a revoked key's slot deleted, and builds a larger table aside
// and publishes it with one atomic store, so readers take no lock and
// allocate nothing. A key acts on its account under its own
// ID: Allowed, Lookup and Member take it where they take a user ID. What it
// may do there is what its role (narrowed to its actions, if it has any)
// allows and, for a personal key, what its owner may do there at the same
// moment: a key of a member who was removed, left, was demoted or is shut
// out for their sign-in method can do no more than they can. An expired key
// may do nothing; expiry is checked against the Index's clock on every
// question, so no sweep is needed for the answer to be right.

// apiKey is a live API key as the index holds it.
type apiKey struct {
	suffix      [keySuffixLen]byte // the ID without store.APIKeyIDPrefix
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

// APIKey returns the API key whose ID is store.APIKeyIDPrefix + suffix if
// it works now: it is live (not revoked), has not expired and, for a
// personal key, its owner is a member of its account. It takes no lock and
// allocates nothing. It is safe for concurrent use.
func (ix *Index) APIKey(suffix string) (APIKey, bool) {
	k := ix.findKey(suffix)
	if k == nil || !ix.works(k) {
		return APIKey{}, false
	}
	ix.touch(k.account)
	out := APIKey{ID: k.id, Account: k.account, User: k.owner, Role: rbac.Role(k.roleName), Hash: k.hash}
	if k.expires != 0 {
		out.ExpiresAt = time.Unix(0, k.expires).UTC()
	}
	return out, true
}

// works reports whether the live key k has not expired and, for a personal
// key, its owner is a member of its account.
func (ix *Index) works(k *apiKey) bool {
	if ix.expired(k) {
		return false
	}
	if k.owner == "" {
		return true
	}
	r, ok := ix.memberRole(ix.view.Load(), k.account, k.owner)
	return ok && r&suspended == 0
}

// key returns the live key whose ID is id, if it acts on the account and
// has not expired; nil otherwise.
func (ix *Index) key(id, account string) *apiKey {
	k := ix.findKey(id[len(store.APIKeyIDPrefix):])
	if k == nil {
		return nil
	}
	if k.account != account || ix.expired(k) {
		return nil
	}
	return k
}

// expired reports whether key k has an expiry and it has come.
func (ix *Index) expired(k *apiKey) bool {
	return k.expires != 0 && ix.now().UnixNano() >= k.expires
}

// keyAllowed answers Allowed for the API key id, whose ID has
// store.APIKeyIDPrefix.
func (ix *Index) keyAllowed(id, account string, action rbac.Action) bool {
	k := ix.key(id, account)
	return k != nil && ix.keyAllows(k, account, action)
}

// keyAllows reports whether the live, unexpired key k may perform action on
// its account: its role and actions allow it and, for a personal key, so
// does its owner's role there now.
func (ix *Index) keyAllows(k *apiKey, account string, action rbac.Action) bool {
	if ix.fallback {
		if k.actions != nil && !slices.Contains(k.actions, string(action)) || !ix.decide(k.role, account, action) {
			return false
		}
		if k.owner == "" {
			return true
		}
		r, ok := ix.memberRole(ix.view.Load(), account, k.owner)
		return ok && ix.decide(r, account, action)
	}
	aid, ok := ix.actions.id(action)
	if !ok || !ix.roleAllows(k.role, aid) || k.mask != nil && !hasBit(k.mask, aid) {
		return false
	}
	if k.owner == "" {
		return true
	}
	r, ok := ix.memberRole(ix.view.Load(), account, k.owner)
	return ok && ix.roleAllows(r, aid)
}

// keyLookup answers Lookup for the API key id: the key is the "member",
// its role the role; InsecureSignIn says its owner is shut out of the
// account for their sign-in method.
func (ix *Index) keyLookup(id, account string, action rbac.Action) Answer {
	k := ix.key(id, account)
	if k == nil {
		_, _, known := ix.findAccount(ix.view.Load(), account)
		return Answer{AccountKnown: known}
	}
	a := Answer{AccountKnown: true, Member: true, RoleKnown: k.role != noRole, Role: ix.roleName(k.role)}
	if k.owner != "" {
		r, ok := ix.memberRole(ix.view.Load(), account, k.owner)
		if !ok {
			return Answer{AccountKnown: true}
		}
		a.InsecureSignIn, a.Suspended = r&insecure != 0, r&suspended != 0
	}
	a.Allowed = ix.keyAllows(k, account, action)
	return a
}

// keyMember answers Member for the API key id: it works on the account
// (see works).
func (ix *Index) keyMember(id, account string) bool {
	k := ix.key(id, account)
	return k != nil && ix.works(k)
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
	if !store.IsAPIKeyID(id) || len(id) != len(store.APIKeyIDPrefix)+keySuffixLen || !indexable(account) || len(hash) != sha256.Size {
		return
	}
	k := &apiKey{id: id, account: account, owner: owner, role: ix.roleID(account, role), roleName: role}
	copy(k.suffix[:], id[len(store.APIKeyIDPrefix):])
	if k.role >= customBase && k.role < roleAbsent {
		ix.publishCustom() // readers must find the team role the key holds
	}
	if actions != nil {
		k.actions = slices.Clone(actions)
		k.mask = make([]uint64, ix.words)
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
	ix.putKey(k)
}

// deleteKey forgets a revoked key. The caller holds ix.mu.
func (ix *Index) deleteKey(id string) {
	if !store.IsAPIKeyID(id) {
		return
	}
	t := ix.keys.Load()
	if s := t.slot(ix.seed, id[len(store.APIKeyIDPrefix):]); s != nil && s.Load() != nil {
		s.Store(deletedKey)
		ix.liveKeys--
	}
}

// keySuffixLen is the length of a key's ID without store.APIKeyIDPrefix,
// as internal/token makes them. The index holds no key of another length.
const keySuffixLen = 16

// keyTable is the table of live keys: a power-of-two number of slots, nil
// when empty, deletedKey once the key in it was revoked (a tombstone, so
// that probes go on past it).
type keyTable struct {
	slots []atomic.Pointer[apiKey]
}

// deletedKey marks the slot of a revoked key.
var deletedKey = new(apiKey)

func newKeyTable(n int) *keyTable {
	size := minTable
	for size < n*2 {
		size *= 2
	}
	return &keyTable{slots: make([]atomic.Pointer[apiKey], size)}
}

// slot returns the slot holding the key whose ID ends in suffix or, if
// there is none, the empty slot that ends its probe; nil for a suffix of
// the wrong length.
func (t *keyTable) slot(seed uint64, suffix string) *atomic.Pointer[apiKey] {
	if len(suffix) != keySuffixLen {
		return nil
	}
	mask := uint64(len(t.slots) - 1)
	for j := hash1(seed, suffix) & mask; ; j = (j + 1) & mask {
		s := &t.slots[j]
		k := s.Load()
		if k == nil || k != deletedKey && string(k.suffix[:]) == suffix {
			return s
		}
	}
}

// findKey returns the live key whose ID ends in suffix, or nil.
func (ix *Index) findKey(suffix string) *apiKey {
	if s := ix.keys.Load().slot(ix.seed, suffix); s != nil {
		return s.Load()
	}
	return nil
}

// putKey makes k live, replacing the key with its ID, growing the table
// when it gets three quarters full. The caller holds ix.mu.
func (ix *Index) putKey(k *apiKey) {
	t := ix.keys.Load()
	s := t.slot(ix.seed, string(k.suffix[:]))
	if s.Load() != nil {
		s.Store(k)
		return
	}
	if (ix.usedKeys+1)*4 > len(t.slots)*3 {
		nt := newKeyTable(ix.liveKeys + 1)
		for i := range t.slots {
			if old := t.slots[i].Load(); old != nil && old != deletedKey {
				nt.slot(ix.seed, string(old.suffix[:])).Store(old)
			}
		}
		ix.keys.Store(nt)
		ix.usedKeys = ix.liveKeys
		s = nt.slot(ix.seed, string(k.suffix[:]))
	}
	s.Store(k)
	ix.usedKeys++
	ix.liveKeys++
}
