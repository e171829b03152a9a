// Package index is the in-memory membership index behind roster's Can: every
// account, membership and team role of a Store, held so that a permission
// question is answered without touching the database, without a lock and
// without allocating. An Index is loaded from a Store snapshot and follows
// the Store's changes in revision order.
package index

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// Index holds every account and membership in memory so that Can never
// touches the database. It is built from a Store snapshot and kept current by
// applying the store's changes in revision order.
//
// Layout. A membership is one 16-byte slot in an open-addressing hash table
// (linear probing) keyed by the hash of the account ID and user ID: the slot
// holds part of the hash, the position of the account's ID in the account
// arena, the position of the user's ID in a record arena, and the member's
// compiled role. Allowed hashes the two strings, probes the table and, in
// the slot whose tag matches, compares the user's ID with its record and
// the account's with the one the slot names: the slot, then the record and
// the account's ID (read in parallel; the account IDs, shared by all their
// members, are few and mostly in the CPU's cache), and no pointer chasing. A
// second, smaller table of account IDs knows every account, members or not,
// for Check's "no such account". Nothing in the index holds a Go pointer
// per entry, so it costs the garbage collector nothing and takes about 64
// bytes a membership with IDs of 30 characters (see BenchmarkOpen in
// bench/).
//
// Concurrency. Readers (Allowed, Lookup, Member: roster's Can, Check and
// Explain) take no lock and allocate nothing: every slot they look at is
// read with an atomic load, and every table a writer grows or rebuilds is
// built aside and published with one atomic pointer store (the view), so a
// reader sees the old table or the new one, each complete. Writers (Load,
// Apply, CatchUp) are serialized by mu. A reader running while a change is
// applied sees the membership as it was before or after the change; one
// that starts after the change was applied sees it.
//
// Team roles. A membership's role is a uint32: the policy's roles keep their
// rbac.RoleID (fewer than 4096), and the team roles of every account are
// numbered from customBase up, in the view's custom table. That table is
// published like the others, built aside and stored with the view, but
// once per batch rather than once per team role: Load publishes it once for
// the whole snapshot, Apply once for its changes, and before a membership
// takes a team role changed in the same batch (readers load the table after
// the membership's slot, so they find the definition of the role they see).
// Loading n team roles thus copies the table once, not n times.
// Memberships in a snapshot may come before the team roles they hold, so
// Load resolves a role that is not the policy's only after the whole
// snapshot.
//
// A policy that is not compiled (rbac.Policy.Compiled) is decided by
// Casbin: readers find the membership as above and then ask
// rbac.Policy.AllowsIn for the member's role in the account, with Casbin's
// cost; no user ever enters Casbin, and the index holds no more than for a
// compiled policy.
//
// IDs longer than store.MaxIDLen are not indexed: Check refuses them as
// malformed, so Allowed answers false for them as well.
//
// An Index may hold only some accounts instead (see SetPartial and
// partial.go): those it is loaded with and those fetched when asked about.
type Index struct {
	policy  *rbac.Policy
	actions actionTable
	// grants holds, for each role, the set of its actions as bits, when the
	// policy has at most 64 actions: one load and a bit test instead of
	// Policy.Allowed's bounds checks. nil otherwise.
	grants []uint64
	// words is the number of uint64 words a set of the policy's actions
	// takes, one bit per rbac.ActionID: a team role's or a narrowed key's.
	words int
	seed  uint64 // of the hashes (see hash.go)
	// fallback is set for a policy that is not compiled (see
	// rbac.Policy.Compiled), which rbac.Policy.AllowsIn decides.
	fallback bool
	// partial is set for an index that holds only some accounts (see
	// SetPartial).
	partial  bool
	view     atomic.Pointer[view]
	accounts arena // account IDs, which are never removed

	mu sync.Mutex // serializes writers: Load, Apply and CatchUp
	// Writer state, guarded by mu.
	nAccounts int // accounts in the account table
	used      int // membership slots holding a record, tombstones included
	live      int // memberships
	liveBytes int // bytes the live memberships' records take in view.records
	// teamRoles maps account -> team role name -> ID. The ID of a deleted
	// team role is never given to another, so that a reader that read a
	// role ID just before the role was deleted never finds another role's
	// actions under it.
	teamRoles map[string]map[string]uint32
	// custom is the team role table as changed since it was last
	// published, a copy readers do not see; nil when the view's is
	// current. publishCustom publishes it.
	custom []customRole
	// maxTeamRoles is the number of team role IDs there are:
	// roleAbsent - customBase. Tests lower it.
	maxTeamRoles uint32
	// requiring holds the accounts that require secure sign-in: the slots
	// of their members whose sign-in method is not secure carry insecure.
	requiring map[string]bool

	// keys holds the live API keys (see apikeys.go); now is the clock
	// their expiry is checked against. usedKeys counts the key table's
	// slots that are not empty, liveKeys the keys; both are guarded by mu.
	keys               atomic.Pointer[keyTable]
	now                func() time.Time
	usedKeys, liveKeys int

	rev atomic.Uint64
	// changed is closed, and replaced, whenever rev advances: Changed
	// returns it.
	changed atomic.Pointer[chan struct{}]
}

// view is what a reader loads once per call: the two tables and the arena
// the membership table points into. A writer changes a view's slots in place
// and publishes a new view when it replaces a table or the arena.
type view struct {
	// accounts holds the account table (its entries are described beside
	// tagBits). Its length is a power of two; an ID's probe starts at its
	// hash's low bits.
	accounts []atomic.Uint64
	// members holds the memberships. A probe starts at slot tag*len >> 32
	// (so that the table may have any length) and goes on to the next
	// slot, wrapping at the end.
	members []memberSlot
	records *arena
	// custom holds the team roles, by role ID - customBase. It is
	// replaced, never changed in place, when team roles are defined,
	// redefined or deleted (see Index.custom).
	custom []customRole
	// expiring holds, by record, the end times of the memberships whose
	// role carries expiring; replaced, never changed in place.
	expiring map[uint32]expiry
}

// minTable is the smallest number of slots of either table.
const minTable = 16

// ErrFull is returned by Load, Apply and CatchUp if the IDs no longer fit in
// 4 GiB, or if every team role ID is taken. It wraps store.ErrBackend: the
// view is behind the store until a new Roster loads it.
var ErrFull = store.Kinded(store.ErrBackend, "index: the in-memory index is full")

// New returns an empty Index deciding with p, at revision 0; Load fills it.
func New(p *rbac.Policy) *Index {
	ix := &Index{policy: p, seed: rand.Uint64(), fallback: !p.Compiled(),
		teamRoles: map[string]map[string]uint32{}, maxTeamRoles: roleAbsent - customBase, requiring: map[string]bool{},
		now: time.Now}
	ix.actions.init(p)
	actions := p.Actions()
	ix.words = (len(actions) + 63) / 64
	if len(actions) <= 64 {
		for r := range p.Roles() {
			var g uint64
			for a := range actions {
				if p.Allowed(rbac.RoleID(r), rbac.ActionID(a)) {
					g |= 1 << a
				}
			}
			ix.grants = append(ix.grants, g)
		}
	}
	ix.accounts.init()
	ix.keys.Store(newKeyTable(0))
	ch := make(chan struct{})
	ix.changed.Store(&ch)
	v := &view{
		accounts: make([]atomic.Uint64, minTable),
		members:  make([]memberSlot, minTable),
		records:  new(arena),
	}
	v.records.init()
	ix.view.Store(v)
	return ix
}

// Load fills an empty Index (one just made by New) from a consistent
// snapshot of s, and sets its revision to the snapshot's. Memberships are
// collected as they stream in and placed into the membership table at the
// end, in the order of their slots, which is many times faster than
// inserting them one by one in random order (see place). The snapshot lists
// items in no particular order, so a membership whose role is not the
// policy's may come before the team role it names: its role is resolved
// after the whole snapshot. The team roles are published once, with the
// memberships. Load returns the errors of s.Snapshot, and ErrFull if the
// index cannot hold the snapshot. It is safe for concurrent use with the
// readers; call it once, before any Apply or CatchUp.
func (ix *Index) Load(ctx context.Context, s store.Store) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.load(ctx, s.Snapshot)
}

// load fills the empty index from the items snapshot delivers and sets its
// revision to the one it returns, as Load says. The caller holds ix.mu.
func (ix *Index) load(ctx context.Context, snapshot func(context.Context, func(store.SnapshotItem) error) (store.Revision, error)) error {
	var (
		lastAccount string           // consecutive items often share the account
		unplaced    []pendingAccount // memberships' accounts, resolved in batches
		entries     []entry
		later       []laterRole // entries whose role is not the policy's
		insecureAt  []laterRole // entries whose sign-in method is not secure
		keys        []store.SnapshotItem
		ends        []laterRole // entries that expire, with their fallback role
		endTimes    map[uint32]expiry
	)
	signIns := ix.policy.SignIns()
	records := ix.view.Load().records
	rev, err := snapshot(ctx, func(it store.SnapshotItem) error {
		if !indexable(it.AccountID) {
			return nil
		}
		if it.Key == "" && memberID(it.UserID) {
			// A membership the index holds: its account's position is
			// looked up with others' (see resolveAccounts).
			if len(unplaced) == resolveBatch {
				if err := ix.resolveAccounts(entries, unplaced); err != nil {
					return err
				}
				unplaced = unplaced[:0]
			}
			unplaced = append(unplaced, pendingAccount{id: it.AccountID, at: len(entries)})
		} else if it.AccountID != lastAccount { // never empty: indexable
			if _, err := ix.internAccount(it.AccountID); err != nil {
				return err
			}
			lastAccount = it.AccountID
		}
		if it.Key != "" {
			keys = append(keys, it) // once every team role is known
			return nil
		}
		if it.UserID == "" && it.Role != "" {
			return ix.setTeamRole(it.AccountID, it.Role, it.Actions)
		}
		if it.UserID == "" && it.RequireSecure {
			ix.setRequiring(it.AccountID, true)
		}
		if !memberID(it.UserID) {
			return nil // an account, or a user ID the index does not hold
		}
		rec, err := records.add(it.UserID)
		if err != nil {
			return err
		}
		role := noRole
		if id, ok := ix.policy.RoleID(rbac.Role(it.Role)); ok {
			role = uint32(id)
		} else {
			later = append(later, laterRole{at: len(entries), account: it.AccountID, role: it.Role})
		}
		// A Store may leave SignIn empty for accounts that do not require
		// secure sign-in; which do is known after the snapshot.
		if (it.SignIn != "" || ix.requiring[it.AccountID]) && !signIns.Secure(it.SignIn) {
			insecureAt = append(insecureAt, laterRole{at: len(entries), account: it.AccountID})
		}
		if it.Suspended {
			role |= suspended
		}
		if !it.ExpiresAt.IsZero() {
			role |= expiring
			ends = append(ends, laterRole{at: len(entries), account: it.AccountID, role: it.FallbackRole, until: it.ExpiresAt.UnixNano()})
		}
		entries = append(entries, entry{tag: memberTag(ix.seed, it.AccountID, it.UserID), record: rec, role: role})
		return nil
	})
	if err == nil {
		err = ix.resolveAccounts(entries, unplaced)
	}
	if err != nil {
		return err
	}
	for _, l := range later {
		entries[l.at].role = ix.roleID(l.account, l.role) | entries[l.at].role&flags
	}
	for _, l := range ends {
		fallback := roleAbsent
		if l.role != "" {
			fallback = ix.roleID(l.account, l.role)
		}
		if endTimes == nil {
			endTimes = map[uint32]expiry{}
		}
		endTimes[entries[l.at].record] = expiry{until: l.until, fallback: fallback}
	}
	if endTimes != nil {
		v := *ix.view.Load()
		v.expiring = endTimes
		ix.view.Store(&v)
	}
	for _, l := range insecureAt {
		if ix.requiring[l.account] {
			entries[l.at].role |= insecure
		}
	}
	ix.publishCustom()
	ix.place(entries)
	for _, k := range keys {
		ix.setKey(k.Key, k.AccountID, k.UserID, k.Role, k.Actions, k.KeyHash, k.ExpiresAt)
	}
	ix.setRevision(rev)
	return nil
}

// entry is a membership collected by Load: a slot's contents.
type entry struct {
	tag, account, record, role uint32
}

// pendingAccount is the account of the membership entries[at] that Load has
// yet to find in the account table.
type pendingAccount struct {
	id string
	at int
}

// resolveBatch is how many memberships Load collects before it looks their
// accounts up: enough that the lookups, independent of each other and done
// in one tight loop, overlap their cache misses (a snapshot lists
// memberships in no order of account, so nearly every one misses), and few
// enough that the rows' strings they keep alive stay small.
const resolveBatch = 4096

// resolveAccounts sets the account of each entry unplaced names to the
// position of its account's ID in ix.accounts, adding the accounts the
// snapshot did not list. The caller holds ix.mu.
func (ix *Index) resolveAccounts(entries []entry, unplaced []pendingAccount) error {
	v := ix.view.Load()
	for _, a := range unplaced {
		_, ref, ok := ix.findAccount(v, a.id)
		if !ok {
			var err error
			if ref, err = ix.internAccount(a.id); err != nil {
				return err
			}
			v = ix.view.Load()
		}
		entries[a.at].account = ref
	}
	return nil
}

// laterRole is a membership Load resolves after the snapshot: entries[at],
// which holds role in account, a role that is not the policy's, or whose
// sign-in method is not secure, or which expires at until and then falls
// back to role.
type laterRole struct {
	at            int
	account, role string
	until         int64 // for a membership that expires
}

// Apply brings the Index up to the commit's revision. A commit that follows
// the index's revision directly is applied as it is (its changes carry its
// revision, as a Store's commits do); one that skips ahead (another writer
// committed in between) makes the index catch up from s, which includes the
// commit itself; an older one, or one with revision 0 (nothing committed),
// changes nothing. Apply returns CatchUp's errors, and ErrFull if the index
// cannot hold a change: the changes before it stay applied and the
// revision stays where it was. It is safe for concurrent use.
func (ix *Index) Apply(ctx context.Context, s store.Store, c store.Commit) error {
	if c.Revision == 0 {
		return nil
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	cur := store.Revision(ix.rev.Load())
	switch {
	case c.Revision <= cur:
		return nil
	case c.Revision == cur+1 && whole(c):
		return ix.applyChanges(c.Changes)
	}
	return ix.catchUpLocked(ctx, s)
}

// whole reports whether the commit lists its changes, each at its revision;
// a commit that does not is read from the store instead.
func whole(c store.Commit) bool {
	for _, ch := range c.Changes {
		if ch.Revision != c.Revision {
			return false
		}
	}
	return len(c.Changes) > 0
}

// CatchUp applies every change s has committed after the Index's revision.
// It returns the errors of s.Changes, an error wrapping store.ErrBackend if
// s skips a revision, and ErrFull if the index cannot hold a change; the
// changes applied before the error stay applied. It is safe for concurrent
// use.
func (ix *Index) CatchUp(ctx context.Context, s store.Store) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.catchUpLocked(ctx, s)
}

func (ix *Index) catchUpLocked(ctx context.Context, s store.Store) error {
	const batch = 10000
	for {
		cur := store.Revision(ix.rev.Load())
		changes, err := s.Changes(ctx, cur, batch)
		if err != nil {
			return fmt.Errorf("catch up from revision %d: %w", cur, err)
		}
		if len(changes) == 0 {
			return nil
		}
		if err := contiguous(changes, cur); err != nil {
			return fmt.Errorf("catch up from revision %d: %w", cur, err)
		}
		if err := ix.applyChanges(changes); err != nil {
			return fmt.Errorf("catch up from revision %d: %w", cur, err)
		}
		if len(changes) < batch {
			return nil
		}
	}
}

// contiguous returns an error wrapping store.ErrBackend unless changes
// follow revision cur without a gap: the first at cur+1, each at the
// revision of the one before it or the next. A Store that skips a revision
// would otherwise leave the Index behind, with a Revision that claims it is
// not.
func contiguous(changes []store.Change, cur store.Revision) error {
	prev := cur
	for i, ch := range changes {
		if ch.Revision != prev+1 && (i == 0 || ch.Revision != prev) {
			return fmt.Errorf("the store returned revision %d after revision %d: %w", ch.Revision, prev, store.ErrBackend)
		}
		prev = ch.Revision
	}
	return nil
}

// applyChanges applies changes in order, publishes the team roles they
// changed, and advances the revision to the last one's. The caller holds
// ix.mu. On error (ErrFull) the changes before the
// failing one stay applied and the revision stays where it was.
func (ix *Index) applyChanges(changes []store.Change) error {
	for _, ch := range changes {
		if ix.partial && !ix.holds(ch) {
			continue
		}
		var err error
		switch ch.Op {
		case store.AccountCreated:
			if indexable(ch.AccountID) {
				_, err = ix.internAccount(ch.AccountID)
			}
			ix.setRequiring(ch.AccountID, ch.RequireSecure)
		case store.AccountUpdated:
			ix.setRequiring(ch.AccountID, ch.RequireSecure)
		case store.UserUpdated:
			ix.setSignIn(ch.UserID, ch.SignIn)
		case store.MemberSet:
			err = ix.setMember(ch.AccountID, ch.UserID, membershipOf(ch.Role, ch.SignIn, ch.ExpiresAt, ch.FallbackRole, ch.Suspended))
		case store.MemberDeleted:
			ix.deleteMember(ch.AccountID, ch.UserID)
		case store.RoleSet:
			if indexable(ch.AccountID) {
				err = ix.setTeamRole(ch.AccountID, ch.Role, ch.Actions)
			}
		case store.RoleDeleted:
			ix.deleteTeamRole(ch.AccountID, ch.Role)
		case store.APIKeySet:
			ix.setKey(ch.Key, ch.AccountID, ch.UserID, ch.Role, ch.Actions, ch.KeyHash, ch.ExpiresAt)
		case store.APIKeyRevoked:
			ix.deleteKey(ch.Key)
		}
		if err != nil {
			ix.publishCustom()
			return err
		}
	}
	ix.publishCustom() // before the revision, which wakes Changed's waiters
	if n := len(changes); n > 0 {
		ix.setRevision(changes[n-1].Revision)
	}
	return nil
}

// setRevision advances the index's revision to rev and wakes whoever waits
// for it to change. The caller holds ix.mu.
func (ix *Index) setRevision(rev store.Revision) {
	ix.rev.Store(uint64(rev))
	ch := make(chan struct{})
	close(*ix.changed.Swap(&ch))
}

// Revision returns the store revision the Index reflects: every change
// committed up to it has been applied. It is safe for concurrent use.
func (ix *Index) Revision() store.Revision { return store.Revision(ix.rev.Load()) }

// Changed returns a channel that is closed the next time the revision
// advances. To wait for a revision, call Changed, then check Revision, then
// wait on the channel: an advance between the two calls closes the channel
// already. It takes no lock and allocates nothing; it is safe for
// concurrent use.
func (ix *Index) Changed() <-chan struct{} { return *ix.changed.Load() }

// Allowed reports whether user may perform action on the account: it is
// roster's Can. For a compiled policy it is an action lookup, one hash
// table probe, one record comparison and a bit test, with no lock and no
// allocation; for a policy that is not compiled, Casbin decides for the
// member's role in the account. Unknown users, accounts and actions get
// false. It is safe for concurrent use.
func (ix *Index) Allowed(user, account string, action rbac.Action) bool {
	// An API key's ID has no membership slot (see memberID), so it goes
	// straight to the key table: a prefix comparison costs a member's
	// answer nothing measurable, and spares a key's a probe of the
	// membership table that would miss.
	if store.IsAPIKeyID(user) {
		ix.touch(account)
		return ix.keyAllowed(user, account, action)
	}
	if ix.fallback {
		ix.touch(account)
		r, ok := ix.memberRole(ix.view.Load(), account, user)
		return ok && ix.decide(r, account, action)
	}
	aid, ok := ix.actions.id(action)
	if !ok {
		return false
	}
	v := ix.view.Load()
	s := ix.findMember(v, account, user)
	if s == nil {
		ix.touch(account)
		return false
	}
	if ix.partial && s.tag.Load()&usedTag == 0 {
		s.tag.Or(usedTag)
	}
	r := s.role.Load()
	if r < uint32(len(ix.grants)) {
		return ix.grants[r]&(1<<aid) != 0
	}
	return ix.roleAllows(ix.effective(v, s, r, account, user), aid)
}

// grantsSlow answers for the roles Allowed's fast path leaves: all of them
// when the policy has more than 64 actions, and team roles. It is false for
// noRole and roleAbsent. The caller has read r from a slot: grantsSlow loads
// the team roles after it, and a writer publishes a team role before it
// stores the role's ID in a slot (see setMember), so a team role ID read
// from a slot is always found defined.
func (ix *Index) grantsSlow(r uint32, aid rbac.ActionID) bool {
	switch {
	case r < customBase:
		return ix.grants == nil && ix.policy.Allowed(rbac.RoleID(r), aid)
	case r < roleAbsent:
		custom, i := ix.view.Load().custom, r-customBase
		if uint(i) >= uint(len(custom)) {
			return false
		}
		w := int(aid) / 64
		return w < len(custom[i].actions) && custom[i].actions[w]&(1<<(aid%64)) != 0
	}
	return false
}

// decide answers for a member of the account holding role r under a policy
// that is not compiled: Casbin decides for the role in the account
// (rbac.Policy.AllowsIn). Holders of team roles, of roles the policy lacks
// and deleted memberships may do nothing: such a policy has no team roles.
func (ix *Index) decide(r uint32, account string, action rbac.Action) bool {
	return r < customBase && ix.policy.AllowsIn(account, ix.policy.Role(rbac.RoleID(r)), action)
}

// Answer is what Lookup knows of a user in an account, and its answer for
// one action.
type Answer struct {
	// AccountKnown says the account exists.
	AccountKnown bool
	// Member says the user is a member of the account.
	Member bool
	// RoleKnown says the member's stored role is the policy's or one of
	// the account's team roles; a member holding neither may do nothing.
	RoleKnown bool
	// Role is the member's role; empty if the user is not a member or
	// RoleKnown is false.
	Role rbac.Role
	// InsecureSignIn says the account requires secure sign-in and the
	// member's sign-in method is not secure, so they may do nothing.
	InsecureSignIn bool
	// Suspended says the member is suspended, so they may do nothing.
	Suspended bool
	// Allowed is the answer Allowed gives.
	Allowed bool
}

// Lookup answers like Allowed, from the same look at the memberships, and
// says what it found: whether the account exists, whether the user is a
// member, and the member's role. An action the policy lacks is not allowed
// when the policy is compiled. For a compiled policy Lookup takes no lock
// and allocates nothing. It is safe for concurrent use.
func (ix *Index) Lookup(account, user string, action rbac.Action) Answer {
	ix.touch(account)
	if store.IsAPIKeyID(user) {
		return ix.keyLookup(user, account, action)
	}
	v := ix.view.Load()
	if s := ix.findMember(v, account, user); s != nil {
		if r := ix.effective(v, s, s.role.Load(), account, user); r != roleAbsent {
			a := Answer{AccountKnown: true, Member: true, RoleKnown: r&^flags != noRole, Role: ix.roleName(r),
				InsecureSignIn: r&insecure != 0, Suspended: r&suspended != 0}
			if ix.fallback {
				a.Allowed = ix.decide(r, account, action)
			} else if aid, ok := ix.actions.id(action); ok {
				a.Allowed = ix.roleAllows(r, aid)
			}
			return a
		}
	}
	_, _, known := ix.findAccount(v, account)
	return Answer{AccountKnown: known}
}

// Member reports whether user is a member of the account, whatever their
// role, who is not suspended and whose membership has not ended. It takes no lock and allocates nothing; it is safe for concurrent
// use.
func (ix *Index) Member(account, user string) bool {
	ix.touch(account)
	if store.IsAPIKeyID(user) {
		return ix.keyMember(user, account)
	}
	r, ok := ix.memberRole(ix.view.Load(), account, user)
	return ok && r&suspended == 0
}

// indexable reports whether the index can hold the ID.
func indexable(id string) bool { return id != "" && len(id) <= store.MaxIDLen }

// memberID reports whether the index holds memberships of the user ID: an
// indexable one that is not an API key's (see store.APIKeyIDPrefix), so
// that no stored membership can make a user act as a key.
func memberID(user string) bool { return indexable(user) && !store.IsAPIKeyID(user) }
