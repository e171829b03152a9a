package roster

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// index holds every account and membership in memory so that Can never
// touches the database. It is built from a Store snapshot and kept current by
// applying the store's changes in revision order.
//
// Layout. A membership is one record in a byte arena, its account ID and
// user ID one after the other, and one 12-byte slot in an open-addressing
// hash table (linear probing) keyed by the hash of the two IDs: the slot
// holds part of the hash, the record's position in the arena and the
// member's compiled role. Can hashes the two strings, probes the table and
// compares the one record it finds: one table slot and one record, usually
// two cache lines, and no pointer chasing. A second, smaller table of
// account IDs (in an arena of their own) knows every account, members or
// not, for Check's "no such account". Nothing in the index holds a Go
// pointer per entry, so it costs the garbage collector nothing and takes
// about 90 bytes a membership (see BenchmarkOpen in bench/).
//
// Concurrency. Readers (Can, Check, Explain) take no lock and allocate
// nothing: every slot they look at is read with an atomic load, and every
// table a writer grows or rebuilds is built aside and published with one
// atomic pointer store (the view), so a reader sees the old table or the new
// one, each complete. Writers (load, apply, catch-up) are serialized by mu.
// A reader running while a change is applied sees the membership as it was
// before or after the change; one that starts after the change was applied
// sees it.
//
// Team roles. A membership's role is a uint32: the policy's roles keep their
// rbac.RoleID (fewer than 4096), and the team roles of every account are
// numbered from customBase up, in the view's custom table. That table is
// published like the others, built aside and stored with the view, but
// once per batch rather than once per team role: load publishes it once for
// the whole snapshot, apply once for its changes, and before a membership
// takes a team role changed in the same batch (readers load the table after
// the membership's slot, so they find the definition of the role they see).
// Loading n team roles thus copies the table once, not n times.
// Memberships in a snapshot may come before the team roles they hold, so
// load resolves a role that is not the policy's only after the whole
// snapshot.
//
// A policy that is not compiled (rbac.Policy.Compiled) is decided by
// Casbin: readers find the membership as above and then ask
// rbac.Policy.AllowsIn for the member's role in the account, with Casbin's
// cost; no user ever enters Casbin, and the index holds no more than for a
// compiled policy.
//
// IDs longer than store.MaxIDLen are not indexed: Check refuses them as
// malformed, so Can answers false for them as well.
type index struct {
	policy  *rbac.Policy
	actions actionTable
	// grants holds, for each role, the set of its actions as bits, when the
	// policy has at most 64 actions: one load and a bit test instead of
	// Policy.Allowed's bounds checks. nil otherwise.
	grants []uint64
	seed   uint64 // of the hashes (see hash.go)
	// fallback is set for a policy that is not compiled (see
	// rbac.Policy.Compiled), which rbac.Policy.AllowsIn decides.
	fallback bool
	view     atomic.Pointer[view]
	accounts arena // account IDs, which are never removed

	mu sync.Mutex // serializes writers: load, apply and catch-up
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

	rev atomic.Uint64
	// changed is closed, and replaced, whenever rev advances: WaitFor
	// waits on it.
	changed atomic.Pointer[chan struct{}]
}

// view is what a reader loads once per call: the two tables and the arena
// the membership table points into. A writer changes a view's slots in place
// and publishes a new view when it replaces a table or the arena.
type view struct {
	// accounts holds an account's hash tag (the low 32 bits of its hash)
	// << 32 | the position of its ID in index.accounts; 0 is an empty
	// slot. Its length is a power of two; an ID's probe starts at its
	// hash's low bits.
	accounts []atomic.Uint64
	// members holds the memberships. A probe starts at slot tag*len >> 32
	// (so that the table may have any length) and goes on to the next
	// slot, wrapping at the end.
	members []memberSlot
	records *arena
	// custom holds the team roles, by role ID - customBase. It is
	// replaced, never changed in place, when team roles are defined,
	// redefined or deleted (see index.custom).
	custom []customRole
}

// customRole is a team role as the index holds it: its name and, one bit
// per rbac.ActionID, its actions. A deleted one has no name and no actions.
type customRole struct {
	name    string
	actions []uint64
}

// memberSlot is one slot of the membership table; record 0 is an empty
// slot. A slot's key (tag and record) never changes once set: the writer
// stores record last and readers load it first, so a reader that sees the
// record sees the tag.
type memberSlot struct {
	tag    atomic.Uint32 // the high 32 bits of the membership's hash
	record atomic.Uint32 // the position of (account ID, user ID) in view.records
	role   atomic.Uint32 // a role ID (see customBase), or roleAbsent
}

// Role IDs. A membership's role is one of these, as a uint32.
const (
	// customBase is the first role ID of team roles: the policy's own
	// roles keep their rbac.RoleID (fewer than 4096), the team roles of
	// every account are numbered from customBase up to roleAbsent.
	customBase uint32 = 1 << 16
	// roleAbsent marks a deleted membership (a tombstone): the slot keeps
	// its key so that probing goes on past it, and the same membership
	// added again takes it back.
	roleAbsent uint32 = math.MaxUint32 - 1
	// noRole marks a stored role that is neither the policy's nor a team
	// role of its account: it allows nothing.
	noRole uint32 = math.MaxUint32
)

// minTable is the smallest number of slots of either table.
const minTable = 16

// errIndexFull is returned if the IDs no longer fit in 4 GiB, or if every
// team role ID is taken.
var errIndexFull = errors.New("roster: in-memory index is full")

// newIndex returns an empty index deciding with p.
func newIndex(p *rbac.Policy) *index {
	ix := &index{policy: p, seed: rand.Uint64(), fallback: !p.Compiled(),
		teamRoles: map[string]map[string]uint32{}, maxTeamRoles: roleAbsent - customBase}
	ix.actions.init(p)
	if actions := p.Actions(); len(actions) <= 64 {
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

// membersFor returns the size of a membership table for n memberships: 60%
// full. A table is rebuilt when it gets 80% full (see setMember).
func membersFor(n int) int { return max(minTable, (n+1)*5/3) }

// load fills an empty index from a consistent snapshot of s. Memberships are
// collected as they stream in and placed into the membership table at the
// end, in the order of their slots, which is many times faster than
// inserting them one by one in random order (see place). The snapshot lists
// items in no particular order, so a membership whose role is not the
// policy's may come before the team role it names: its role is resolved
// after the whole snapshot. The team roles are published once, with the
// memberships. load returns the Store's errors, and errIndexFull if the
// index cannot hold the snapshot.
func (ix *index) load(ctx context.Context, s store.Store) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	var (
		lastAccount string // consecutive items often share the account
		entries     []entry
		later       []laterRole // entries whose role is not the policy's
	)
	records := ix.view.Load().records
	rev, err := s.Snapshot(ctx, func(it store.SnapshotItem) error {
		if !indexable(it.AccountID) {
			return nil
		}
		if it.AccountID != lastAccount || lastAccount == "" {
			if err := ix.internAccount(it.AccountID); err != nil {
				return err
			}
			lastAccount = it.AccountID
		}
		if it.UserID == "" && it.Role != "" {
			return ix.setTeamRole(it.AccountID, it.Role, it.Actions)
		}
		if !indexable(it.UserID) {
			return nil // an account, or a user ID the index does not hold
		}
		rec, err := records.addPair(it.AccountID, it.UserID)
		if err != nil {
			return err
		}
		role := noRole
		if id, ok := ix.policy.RoleID(rbac.Role(it.Role)); ok {
			role = uint32(id)
		} else {
			later = append(later, laterRole{at: len(entries), account: it.AccountID, role: it.Role})
		}
		entries = append(entries, entry{tag: memberTag(ix.seed, it.AccountID, it.UserID), record: rec, role: role})
		return nil
	})
	if err != nil {
		return err
	}
	for _, l := range later {
		entries[l.at].role = ix.roleID(l.account, l.role)
	}
	ix.publishCustom()
	ix.place(entries)
	ix.setRevision(rev)
	return nil
}

// entry is a membership collected by load.
type entry struct {
	tag, record, role uint32
}

// laterRole is a membership load resolves after the snapshot: entries[at],
// which holds role in account, a role that is not the policy's.
type laterRole struct {
	at            int
	account, role string
}

// place publishes a membership table holding entries, which the caller
// collected into the empty index (whose record arena holds just their
// records). It sorts them by region of the table first (a counting sort on
// the top bits of their first slot), so that placing them touches one small
// region of the table at a time instead of missing the cache on every entry.
// A membership listed twice keeps its last role.
func (ix *index) place(entries []entry) {
	size := membersFor(len(entries))
	var counts [1<<regionBits + 1]int
	for _, e := range entries {
		counts[e.tag>>(32-regionBits)+1]++
	}
	for i := 1; i < len(counts); i++ {
		counts[i] += counts[i-1]
	}
	sorted := make([]entry, len(entries))
	for _, e := range entries {
		r := e.tag >> (32 - regionBits)
		sorted[counts[r]] = e
		counts[r]++
	}

	v := ix.view.Load()
	t := make([]memberSlot, size)
	n, dupBytes := 0, 0
	for _, e := range sorted {
		for j := home(e.tag, size); ; j = next(j, size) {
			d := &t[j]
			rec := d.record.Load()
			if rec == 0 {
				d.tag.Store(e.tag)
				d.role.Store(e.role)
				d.record.Store(e.record)
				n++
				break
			}
			if d.tag.Load() == e.tag && v.records.samePair(rec, e.record) {
				d.role.Store(e.role)
				dupBytes += v.records.pairSize(e.record)
				break
			}
		}
	}
	ix.used, ix.live = n, n
	ix.liveBytes = v.records.size - dupBytes
	ix.view.Store(&view{accounts: v.accounts, members: t, records: v.records, custom: v.custom})
}

// regionBits is log2 of the number of regions place sorts entries into:
// 2048 regions of about 800 slots (10 KiB) for a million memberships.
const regionBits = 11

// home returns the first slot of a membership probe in a table of size slots.
func home(tag uint32, size int) int { return int(uint64(tag) * uint64(size) >> 32) }

// next returns the slot after j in a table of size slots.
func next(j, size int) int {
	if j++; j == size {
		return 0
	}
	return j
}

// role returns the user's role in the account and whether the account
// exists and the user is a member of it. It takes no lock and allocates
// nothing.
func (ix *index) role(account, user string) (id uint32, accountKnown, member bool) {
	v := ix.view.Load()
	if s := ix.findMember(v, account, user); s != nil {
		if r := s.role.Load(); r != roleAbsent {
			return r, true, true
		}
	}
	_, accountKnown = ix.findAccount(v, account)
	return 0, accountKnown, false
}

// allowed is the hot path of Can: an action lookup, one hash table probe,
// one record comparison and a bit test, with no lock and no allocation.
func (ix *index) allowed(user, account string, action rbac.Action) bool {
	if ix.fallback {
		s := ix.findMember(ix.view.Load(), account, user)
		return s != nil && ix.decide(s.role.Load(), account, action)
	}
	aid, ok := ix.actions.id(action)
	if !ok {
		return false
	}
	v := ix.view.Load()
	s := ix.findMember(v, account, user)
	if s == nil {
		return false
	}
	r := s.role.Load()
	if r < uint32(len(ix.grants)) {
		return ix.grants[r]&(1<<aid) != 0
	}
	return ix.grantsSlow(r, aid)
}

// grantsSlow answers for the roles allowed's fast path leaves: all of them
// when the policy has more than 64 actions, and team roles. It is false for
// noRole and roleAbsent. The caller has read r from a slot: grantsSlow loads
// the team roles after it, and a writer publishes a team role before it
// stores the role's ID in a slot (see setMember), so a team role ID read
// from a slot is always found defined.
func (ix *index) grantsSlow(r uint32, aid rbac.ActionID) bool {
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
func (ix *index) decide(r uint32, account string, action rbac.Action) bool {
	return r < customBase && ix.policy.AllowsIn(account, ix.policy.Role(rbac.RoleID(r)), action)
}

// lookup is role plus the answer for action, whose compiled ID is aid when
// the policy is compiled, from one view of the memberships.
func (ix *index) lookup(account, user string, aid rbac.ActionID, action rbac.Action) (id uint32, accountKnown, member, allowed bool) {
	v := ix.view.Load()
	if s := ix.findMember(v, account, user); s != nil {
		if r := s.role.Load(); r != roleAbsent {
			if ix.fallback {
				allowed = ix.decide(r, account, action)
			} else {
				allowed = r < uint32(len(ix.grants)) && ix.grants[r]&(1<<aid) != 0 || ix.grantsSlow(r, aid)
			}
			return r, true, true, allowed
		}
	}
	_, accountKnown = ix.findAccount(v, account)
	return 0, accountKnown, false, false
}

// roleName returns the name of role id: the policy's role, or a team role;
// "" for noRole.
func (ix *index) roleName(id uint32) rbac.Role {
	if id < customBase {
		return ix.policy.Role(rbac.RoleID(id))
	}
	if custom, i := ix.view.Load().custom, id-customBase; uint(i) < uint(len(custom)) {
		return rbac.Role(custom[i].name)
	}
	return ""
}

// setTeamRole defines or redefines a team role of the account; members
// holding it see its new actions when the team roles are next published
// (see publishCustom). It returns errIndexFull, changing nothing, if the
// role is new and every team role ID is taken. The caller holds ix.mu.
func (ix *index) setTeamRole(account, name string, actions []string) error {
	set := make([]uint64, (len(ix.policy.Actions())+63)/64)
	for _, a := range actions {
		if id, ok := ix.policy.ActionID(rbac.Action(a)); ok {
			set[id/64] |= 1 << (id % 64)
		}
	}
	roles := ix.teamRoles[account]
	id, ok := roles[name]
	if !ok {
		custom := ix.editCustom()
		if uint64(len(custom)) >= uint64(ix.maxTeamRoles) {
			return fmt.Errorf("roster: team role %q of account %q: all %d team role IDs are taken: %w",
				name, account, ix.maxTeamRoles, errIndexFull)
		}
		id = customBase + uint32(len(custom))
		if roles == nil {
			roles = map[string]uint32{}
			ix.teamRoles[account] = roles
		}
		roles[name] = id
	}
	ix.setCustom(id, customRole{name: name, actions: set})
	return nil
}

// deleteTeamRole forgets a team role; the store refuses to delete one that
// members hold. The caller holds ix.mu.
func (ix *index) deleteTeamRole(account, name string) {
	id, ok := ix.teamRoles[account][name]
	if !ok {
		return
	}
	delete(ix.teamRoles[account], name)
	if len(ix.teamRoles[account]) == 0 {
		delete(ix.teamRoles, account)
	}
	ix.setCustom(id, customRole{})
}

// editCustom returns ix.custom, the unpublished team role table, first
// copying the view's into it if it is nil. The caller holds ix.mu.
func (ix *index) editCustom() []customRole {
	if ix.custom == nil {
		published := ix.view.Load().custom
		ix.custom = make([]customRole, len(published), len(published)+1) // never nil
		copy(ix.custom, published)
	}
	return ix.custom
}

// setCustom makes r team role id in the unpublished table; id is one of its
// entries or the next. The caller holds ix.mu.
func (ix *index) setCustom(id uint32, r customRole) {
	custom := ix.editCustom()
	if i := id - customBase; uint(i) < uint(len(custom)) {
		custom[i] = r
	} else {
		ix.custom = append(custom, r)
	}
}

// publishCustom publishes the team roles changed since they were last
// published, if any. The caller holds ix.mu.
func (ix *index) publishCustom() {
	if ix.custom == nil {
		return
	}
	v := ix.view.Load()
	ix.view.Store(&view{accounts: v.accounts, members: v.members, records: v.records, custom: ix.custom})
	ix.custom = nil
}

// indexable reports whether the index can hold the ID.
func indexable(id string) bool { return id != "" && len(id) <= store.MaxIDLen }

// roleID returns the compiled role: the policy's, else the account's team
// role, else noRole. The caller holds ix.mu.
func (ix *index) roleID(account, role string) uint32 {
	if id, ok := ix.policy.RoleID(rbac.Role(role)); ok {
		return uint32(id)
	}
	if id, ok := ix.teamRoles[account][role]; ok {
		return id
	}
	return noRole
}

// findAccount returns the account's hash, and whether the account is known.
func (ix *index) findAccount(v *view, account string) (uint64, bool) {
	if !indexable(account) {
		return 0, false
	}
	h := hash1(ix.seed, account)
	t := v.accounts
	mask := uint64(len(t) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		e := t[i].Load()
		if e == 0 {
			return h, false
		}
		if uint32(e>>32) == uint32(h) && ix.accounts.equal(uint32(e), account) {
			return h, true
		}
	}
}

// memberTag returns the hash tag of the user's membership of the account:
// the high 32 bits of the pair's hash.
func memberTag(seed uint64, account, user string) uint32 {
	return uint32(hash2(seed, account, user) >> 32)
}

// findMember returns the slot of user's membership of the account, or nil if
// there is none. The slot may hold a tombstone.
func (ix *index) findMember(v *view, account, user string) *memberSlot {
	if !indexable(account) || !indexable(user) {
		return nil
	}
	s, _ := findMemberSlot(v, memberTag(ix.seed, account, user), account, user)
	return s
}

// findMemberSlot returns the slot holding the membership (account, user)
// whose hash tag is tag, or nil and the empty slot that ends its probe.
func findMemberSlot(v *view, tag uint32, account, user string) (*memberSlot, *memberSlot) {
	t := v.members
	for j := home(tag, len(t)); ; j = next(j, len(t)) {
		s := &t[j]
		rec := s.record.Load()
		if rec == 0 {
			return nil, s
		}
		if s.tag.Load() == tag && v.records.equalPair(rec, account, user) {
			return s, nil
		}
	}
}

// apply brings the index up to the commit's revision. A commit that follows
// the index's revision directly is applied as it is; one that skips ahead
// (another writer committed in between) makes the index catch up from the
// store, which includes the commit itself.
func (ix *index) apply(ctx context.Context, s store.Store, c store.Commit) error {
	if c.Revision == 0 {
		return nil
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	cur := store.Revision(ix.rev.Load())
	switch {
	case c.Revision <= cur:
		return nil
	case c.Revision == cur+1:
		return ix.applyChanges(c.Changes)
	}
	return ix.catchUpLocked(ctx, s)
}

// catchUp applies every change committed after the index's revision.
func (ix *index) catchUp(ctx context.Context, s store.Store) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.catchUpLocked(ctx, s)
}

func (ix *index) catchUpLocked(ctx context.Context, s store.Store) error {
	const batch = 10000
	for {
		cur := store.Revision(ix.rev.Load())
		changes, err := s.Changes(ctx, cur, batch)
		if err != nil {
			return fmt.Errorf("roster: catch up from revision %d: %w", cur, err)
		}
		if len(changes) == 0 {
			return nil
		}
		if changes[0].Revision != cur+1 {
			return fmt.Errorf("roster: catch up from revision %d: store returned revision %d next: %w",
				cur, changes[0].Revision, store.ErrBackend)
		}
		if err := ix.applyChanges(changes); err != nil {
			return fmt.Errorf("roster: catch up from revision %d: %w", cur, err)
		}
		if len(changes) < batch {
			return nil
		}
	}
}

// applyChanges applies changes in order, publishes the team roles they
// changed, and advances the revision to the last one's. The caller holds
// ix.mu. On error (errIndexFull) the changes before the
// failing one stay applied and the revision stays where it was.
func (ix *index) applyChanges(changes []store.Change) error {
	for _, ch := range changes {
		var err error
		switch ch.Op {
		case store.AccountCreated:
			if indexable(ch.AccountID) {
				err = ix.internAccount(ch.AccountID)
			}
		case store.MemberSet:
			err = ix.setMember(ch.AccountID, ch.UserID, ch.Role)
		case store.MemberDeleted:
			ix.deleteMember(ch.AccountID, ch.UserID)
		case store.RoleSet:
			if indexable(ch.AccountID) {
				err = ix.setTeamRole(ch.AccountID, ch.Role, ch.Actions)
			}
		case store.RoleDeleted:
			ix.deleteTeamRole(ch.AccountID, ch.Role)
		}
		if err != nil {
			ix.publishCustom()
			return err
		}
	}
	ix.publishCustom() // before the revision, which wakes WaitFor
	if n := len(changes); n > 0 {
		ix.setRevision(changes[n-1].Revision)
	}
	return nil
}

// setRevision advances the index's revision to rev and wakes whoever waits
// for it to change. The caller holds ix.mu.
func (ix *index) setRevision(rev store.Revision) {
	ix.rev.Store(uint64(rev))
	ch := make(chan struct{})
	close(*ix.changed.Swap(&ch))
}

// internAccount adds the account if it is new. The caller holds ix.mu and
// has checked that the ID is indexable.
func (ix *index) internAccount(account string) error {
	v := ix.view.Load()
	h, ok := ix.findAccount(v, account)
	if ok {
		return nil
	}
	ref, err := ix.accounts.add(account)
	if err != nil {
		return err
	}
	if (ix.nAccounts+1)*4 > len(v.accounts)*3 {
		v = ix.growAccounts(v)
	}
	t := v.accounts
	mask := uint64(len(t) - 1)
	i := h & mask
	for t[i].Load() != 0 {
		i = (i + 1) & mask
	}
	t[i].Store(uint64(uint32(h))<<32 | uint64(ref))
	ix.nAccounts++
	return nil
}

// growAccounts publishes a view whose account table has twice the slots, and
// returns it. An entry's new slot follows from its tag, the low 32 bits of
// its hash, so the IDs need not be hashed again.
func (ix *index) growAccounts(v *view) *view {
	t := make([]atomic.Uint64, 2*len(v.accounts))
	mask := uint64(len(t) - 1)
	for i := range v.accounts {
		e := v.accounts[i].Load()
		if e == 0 {
			continue
		}
		j := e >> 32 & mask
		for t[j].Load() != 0 {
			j = (j + 1) & mask
		}
		t[j].Store(e)
	}
	nv := &view{accounts: t, members: v.members, records: v.records, custom: v.custom}
	ix.view.Store(nv)
	return nv
}

// setMember makes user a member of the account with role. The caller holds
// ix.mu.
func (ix *index) setMember(account, user, role string) error {
	if !indexable(account) {
		return nil
	}
	if err := ix.internAccount(account); err != nil || !indexable(user) {
		return err
	}
	id := ix.roleID(account, role)
	if id >= customBase && id < roleAbsent {
		// Readers must find the team role's definition once they
		// find the membership holding it.
		ix.publishCustom()
	}
	v := ix.view.Load()
	tag := memberTag(ix.seed, account, user)
	s, empty := findMemberSlot(v, tag, account, user)
	if s != nil {
		if s.role.Load() == roleAbsent {
			ix.live++
			ix.liveBytes += v.records.pairSize(s.record.Load())
		}
		s.role.Store(uint32(id))
		return nil
	}
	if (ix.used+1)*5 > len(v.members)*4 {
		var err error
		if v, err = ix.rebuildMembers(v); err != nil {
			return err
		}
		_, empty = findMemberSlot(v, tag, account, user)
	}
	rec, err := v.records.addPair(account, user)
	if err != nil {
		return err
	}
	empty.tag.Store(tag)
	empty.role.Store(uint32(id))
	empty.record.Store(rec) // publishes the slot
	ix.used++
	ix.live++
	ix.liveBytes += v.records.pairSize(rec)
	return nil
}

// deleteMember removes user from the account. The caller holds ix.mu.
func (ix *index) deleteMember(account, user string) {
	v := ix.view.Load()
	if s := ix.findMember(v, account, user); s != nil && s.role.Load() != roleAbsent {
		s.role.Store(roleAbsent)
		ix.live--
		ix.liveBytes -= v.records.pairSize(s.record.Load())
	}
}

// rebuildMembers publishes a view whose membership table holds only the live
// memberships and is 60% full, and returns it. When the record arena holds
// more bytes of removed memberships than of live ones, the live records move
// to a new arena, so that memberships added and removed over time do not
// grow memory without bound.
func (ix *index) rebuildMembers(v *view) (*view, error) {
	records := v.records
	if 2*ix.liveBytes < records.size {
		records = new(arena)
		records.init()
	}
	size := membersFor(ix.live)
	t := make([]memberSlot, size)
	for i := range v.members {
		s := &v.members[i]
		rec, role := s.record.Load(), s.role.Load()
		if rec == 0 || role == roleAbsent {
			continue
		}
		if records != v.records {
			var err error
			if rec, err = records.addRecord(v.records.record(rec)); err != nil {
				return nil, err
			}
		}
		tag := s.tag.Load()
		j := home(tag, size)
		for t[j].record.Load() != 0 {
			j = next(j, size)
		}
		d := &t[j]
		d.tag.Store(tag)
		d.role.Store(role)
		d.record.Store(rec)
	}
	ix.used = ix.live
	nv := &view{accounts: v.accounts, members: t, records: records, custom: v.custom}
	ix.view.Store(nv)
	return nv, nil
}

// arena stores records of IDs in 64 KiB chunks and refers to a record by
// chunk number << 16 | offset. Reference 0 is never used (chunk 0 starts at
// offset 1). A record is a name (a length byte and the ID's bytes) or a pair
// (two names). Reading is safe for concurrent use with add, provided the
// reader loaded the reference from a slot the writer published after the add
// returned; adding must be done by one goroutine at a time.
type arena struct {
	chunks atomic.Pointer[[][]byte]

	// Writer state.
	used int // bytes used in the last chunk
	size int // bytes stored
}

const (
	cacheLine = 64
	chunkBits = 16
	chunkSize = 1 << chunkBits
	maxChunks = 1 << (32 - chunkBits)
)

func (ar *arena) init() { ar.chunks.Store(&[][]byte{}) }

// at returns the bytes from ref to the end of its chunk. It loads the chunks
// after the caller loaded ref, so they include ref's chunk.
func (ar *arena) at(ref uint32) []byte {
	return (*ar.chunks.Load())[ref>>chunkBits][ref&(chunkSize-1):]
}

// equal reports whether the name at ref is s.
func (ar *arena) equal(ref uint32, s string) bool {
	b := ar.at(ref)
	return int(b[0]) == len(s) && string(b[1:1+len(s)]) == s
}

// equalPair reports whether the pair at ref is (a, u).
func (ar *arena) equalPair(ref uint32, a, u string) bool {
	b := ar.at(ref)
	if int(b[0]) != len(a) || string(b[1:1+len(a)]) != a {
		return false
	}
	b = b[1+len(a):]
	return int(b[0]) == len(u) && string(b[1:1+len(u)]) == u
}

// pairSize returns the bytes the pair at ref takes.
func (ar *arena) pairSize(ref uint32) int {
	b := ar.at(ref)
	n := 1 + int(b[0])
	return n + 1 + int(b[n])
}

// record returns the pair at ref as stored; the caller must not modify it.
func (ar *arena) record(ref uint32) []byte { return ar.at(ref)[:ar.pairSize(ref)] }

// samePair reports whether the pairs at refs r1 and r2 are equal.
func (ar *arena) samePair(r1, r2 uint32) bool { return string(ar.record(r1)) == string(ar.record(r2)) }

// alignFor skips to the next cache line if a record of n bytes would
// otherwise cross into it while fitting in one line.
func (ar *arena) alignFor(n int) {
	line := ar.used % cacheLine
	if n <= cacheLine && line+n > cacheLine && ar.used+cacheLine-line+n <= chunkSize {
		ar.used += cacheLine - line
		ar.size += cacheLine - line
	}
}

// reserve returns n bytes of space and their reference, or errIndexFull.
func (ar *arena) reserve(n int) ([]byte, uint32, error) {
	chunks := *ar.chunks.Load()
	if len(chunks) == 0 || ar.used+n > chunkSize {
		if len(chunks) == maxChunks {
			return nil, 0, errIndexFull
		}
		// Readers never index past the length they loaded, so appending
		// in place is safe; the new slice is published atomically.
		chunks = append(chunks, make([]byte, chunkSize))
		ar.chunks.Store(&chunks)
		ar.used = 0
		if len(chunks) == 1 {
			ar.used = 1 // reference 0 means none
		}
	}
	ref := uint32(len(chunks)-1)<<chunkBits | uint32(ar.used)
	b := chunks[len(chunks)-1][ar.used : ar.used+n]
	ar.used += n
	ar.size += n
	return b, ref, nil
}

// add stores the name s (1 to 255 bytes).
func (ar *arena) add(s string) (uint32, error) {
	b, ref, err := ar.reserve(1 + len(s))
	if err == nil {
		b[0] = byte(len(s))
		copy(b[1:], s)
	}
	return ref, err
}

// addPair stores the pair (a, u) of names of 1 to 255 bytes each. A pair
// that fits in a cache line is kept within one (chunks are allocated
// 64-byte aligned), so that comparing it reads one line.
func (ar *arena) addPair(a, u string) (uint32, error) {
	n := 2 + len(a) + len(u)
	ar.alignFor(n)
	b, ref, err := ar.reserve(n)
	if err == nil {
		b[0] = byte(len(a))
		copy(b[1:], a)
		b[1+len(a)] = byte(len(u))
		copy(b[2+len(a):], u)
	}
	return ref, err
}

// addRecord stores a record copied from another arena.
func (ar *arena) addRecord(r []byte) (uint32, error) {
	ar.alignFor(len(r))
	b, ref, err := ar.reserve(len(r))
	if err == nil {
		copy(b, r)
	}
	return ref, err
}

// actionTable finds an action's compiled ID faster than a map: the policy's
// actions are few and fixed, so a cheap hash of an action's length and three
// of its bytes picks a slot, and one string comparison confirms it.
type actionTable struct {
	slots []actionSlot
	shift uint
}

type actionSlot struct {
	name rbac.Action
	id   rbac.ActionID
	used bool
}

func (t *actionTable) init(p *rbac.Policy) {
	actions := p.Actions()
	size := 8
	for size < 2*len(actions) {
		size *= 2
	}
	t.slots = make([]actionSlot, size)
	t.shift = uint(64 - bits.Len(uint(size-1)))
	for i, a := range actions {
		j := t.home(a)
		for t.slots[j].used {
			j = (j + 1) & (len(t.slots) - 1)
		}
		t.slots[j] = actionSlot{name: a, id: rbac.ActionID(i), used: true}
	}
}

// home returns the first slot of a's probe.
func (t *actionTable) home(a rbac.Action) int {
	n := len(a)
	if n == 0 {
		return 0
	}
	x := uint64(n) | uint64(a[0])<<8 | uint64(a[n/2])<<16 | uint64(a[n-1])<<24
	return int(x * 0x9e3779b97f4a7c15 >> t.shift)
}

// id returns the compiled ID of action a, and false if the policy lacks it.
func (t *actionTable) id(a rbac.Action) (rbac.ActionID, bool) {
	for j := t.home(a); ; j = (j + 1) & (len(t.slots) - 1) {
		s := &t.slots[j]
		if !s.used {
			return 0, false
		}
		if s.name == a {
			return s.id, true
		}
	}
}
