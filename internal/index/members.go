package index

import (
	"maps"
	"sync/atomic"
	"time"

	"github.com/teamroster/roster/store"
)

// memberSlot is one slot of the membership table, 16 bytes, so that four
// share a cache line and none straddles two; record 0 is an empty slot. A
// slot's key (tag, account and record) never changes once set: the writer
// stores record last and readers load it first, so a reader that sees the
// record sees the rest of the key.
type memberSlot struct {
	tag     atomic.Uint32 // the high 32 bits of the membership's hash, but the lowest: usedTag
	account atomic.Uint32 // the position of the account's ID in Index.accounts
	record  atomic.Uint32 // the position of the user's ID in view.records
	role    atomic.Uint32 // a role ID (see customBase), maybe | insecure, or roleAbsent
}

// usedTag is the bit of a slot's tag that is not the hash's: readers of an
// index that holds only some accounts set it in the slot of a membership
// they find, so that UsedAccounts knows its account was asked about; a
// probe compares tags without it. It costs a hit nothing but a load of the
// line the probe has just read.
const usedTag uint32 = 1

// Role IDs. A membership's role is one of these, as a uint32, with the
// flags below.
const (
	// customBase is the first role ID of team roles: the policy's own
	// roles keep their rbac.RoleID (fewer than 4096), the team roles of
	// every account are numbered from customBase up to roleAbsent.
	customBase uint32 = 1 << 16
	// roleAbsent marks a deleted membership (a tombstone): the slot keeps
	// its key so that probing goes on past it, and the same membership
	// added again takes it back. It never carries a flag.
	roleAbsent uint32 = expiring - 2
	// noRole marks a stored role that is neither the policy's nor a team
	// role of its account: it allows nothing.
	noRole uint32 = expiring - 1
)

// Flags of a membership's role. A role ID with any of them is above every
// role ID, so the readers' bounds checks refuse it at no extra cost, and
// only a flagged membership takes a slower path.
const (
	// expiring marks a membership that ends, or whose role falls back to
	// another, at a time the view's expiring table holds (see effective).
	expiring uint32 = 1 << 29
	// suspended marks a suspended member: they may do nothing.
	suspended uint32 = 1 << 30
	// insecure marks a member of an account that requires secure sign-in
	// whose sign-in method is not secure: they may do nothing.
	insecure uint32 = 1 << 31

	flags = expiring | suspended | insecure
)

// expiry is when an expiring membership's role ends (Unix nanoseconds) and
// what it falls back to then: a role ID, or roleAbsent when the membership
// ends.
type expiry struct {
	until    int64
	fallback uint32
}

// effective returns the role user holds now in the account, from r, read
// from their slot s of view v: r without expiring until its time, then its
// fallback (roleAbsent if the membership ended), the other flags kept. A
// flagged membership whose time v does not hold (its writer publishes the
// time before the flag, so a reader that loaded the view earlier may miss
// it) is looked up in the newest view: by its record while the records
// have not moved, else by its IDs, since a moved record's old position may
// be another membership's. Not found there either, it allows nothing.
func (ix *Index) effective(v *view, s *memberSlot, r uint32, account, user string) uint32 {
	if r&expiring == 0 {
		return r
	}
	rec := s.record.Load()
	e, ok := v.expiring[rec]
	if !ok {
		nv := ix.view.Load()
		if nv.records != v.records {
			if s := ix.findMember(nv, account, user); s != nil {
				return ix.effective(nv, s, s.role.Load(), account, user)
			}
			return roleAbsent
		}
		if e, ok = nv.expiring[rec]; !ok {
			return noRole | r&(suspended|insecure)
		}
	}
	if ix.now().UnixNano() < e.until {
		return r &^ expiring
	}
	if e.fallback == roleAbsent {
		return roleAbsent
	}
	return e.fallback | r&(suspended|insecure)
}

// memberRole returns the role user holds now in the account (see
// effective), and whether they are a member at all.
func (ix *Index) memberRole(v *view, account, user string) (uint32, bool) {
	s := ix.findMember(v, account, user)
	if s == nil {
		return 0, false
	}
	r := ix.effective(v, s, s.role.Load(), account, user)
	return r, r != roleAbsent
}

// membersFor returns the size of a membership table for n memberships: 60%
// full. A table is rebuilt when it gets 80% full (see setMember).
func membersFor(n int) int { return max(minTable, (n+1)*5/3) }

// place publishes a membership table holding entries, which the caller
// collected into the empty index (whose record arena holds just their
// records). It sorts them by region of the table first (a counting sort on
// the top bits of their first slot), so that placing them touches one small
// region of the table at a time instead of missing the cache on every entry.
// A membership listed twice keeps its last role.
func (ix *Index) place(entries []entry) {
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
				d.account.Store(e.account)
				d.role.Store(e.role)
				d.record.Store(e.record)
				n++
				break
			}
			if d.tag.Load()&^usedTag == e.tag && d.account.Load() == e.account && v.records.same(rec, e.record) {
				d.role.Store(e.role)
				dupBytes += v.records.nameSize(e.record)
				break
			}
		}
	}
	ix.used, ix.live = n, n
	ix.liveBytes = v.records.size - dupBytes
	ix.view.Store(&view{accounts: v.accounts, members: t, records: v.records, custom: v.custom, expiring: v.expiring})
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

// memberTag returns the hash tag of the user's membership of the account:
// the high 32 bits of the pair's hash, without usedTag.
func memberTag(seed uint64, account, user string) uint32 {
	return uint32(hash2(seed, account, user)>>32) &^ usedTag
}

// findMember returns the slot of user's membership of the account, or nil if
// there is none. The slot may hold a tombstone.
func (ix *Index) findMember(v *view, account, user string) *memberSlot {
	if !indexable(account) || !indexable(user) {
		return nil
	}
	s, _ := ix.findMemberSlot(v, memberTag(ix.seed, account, user), account, user)
	return s
}

// findMemberSlot returns the slot holding the membership (account, user)
// whose hash tag is tag, or nil and the empty slot that ends its probe. It
// compares the IDs only in a slot whose tag matches.
func (ix *Index) findMemberSlot(v *view, tag uint32, account, user string) (*memberSlot, *memberSlot) {
	t := v.members
	for j := home(tag, len(t)); ; j = next(j, len(t)) {
		s := &t[j]
		rec := s.record.Load()
		if rec == 0 {
			return nil, s
		}
		if s.tag.Load()&^usedTag == tag && v.records.equal(rec, user) && ix.accounts.equal(s.account.Load(), account) {
			return s, nil
		}
	}
}

// membership is what a MemberSet change or a snapshot item says of a
// membership besides its account and user.
type membership struct {
	role      string
	signIn    store.SignIn
	until     time.Time
	fallback  string // the role after until; "" ends the membership then
	suspended bool
}

// membershipOf returns the membership a change or snapshot item carries.
func membershipOf(role string, signIn store.SignIn, until time.Time, fallback string, suspended bool) membership {
	return membership{role: role, signIn: signIn, until: until, fallback: fallback, suspended: suspended}
}

// setMember makes user a member of the account as m says. The caller holds
// ix.mu.
func (ix *Index) setMember(account, user string, m membership) error {
	if !indexable(account) {
		return nil
	}
	acc, err := ix.internAccount(account)
	if err != nil || !memberID(user) {
		return err
	}
	id := ix.roleID(account, m.role)
	var fallback uint32
	if !m.until.IsZero() {
		fallback = roleAbsent
		if m.fallback != "" {
			fallback = ix.roleID(account, m.fallback)
		}
	}
	if id >= customBase && id < roleAbsent || fallback >= customBase && fallback < roleAbsent {
		// Readers must find the team role's definition once they
		// find the membership holding it.
		ix.publishCustom()
	}
	if ix.requiring[account] && !ix.policy.SignIns().Secure(m.signIn) {
		id |= insecure
	}
	if m.suspended {
		id |= suspended
	}
	if !m.until.IsZero() {
		id |= expiring
	}
	v := ix.view.Load()
	tag := memberTag(ix.seed, account, user)
	s, empty := ix.findMemberSlot(v, tag, account, user)
	if s != nil {
		rec := s.record.Load()
		if s.role.Load() == roleAbsent {
			ix.live++
			ix.liveBytes += v.records.nameSize(rec)
		}
		if id&expiring != 0 {
			ix.setExpiry(rec, expiry{until: m.until.UnixNano(), fallback: fallback}) // before the flag
		}
		s.role.Store(id)
		if id&expiring == 0 {
			ix.setExpiry(rec, expiry{}) // after the flag is gone
		}
		return nil
	}
	if (ix.used+1)*5 > len(v.members)*4 {
		if v, err = ix.rebuildMembers(v); err != nil {
			return err
		}
		_, empty = ix.findMemberSlot(v, tag, account, user)
	}
	rec, err := v.records.add(user)
	if err != nil {
		return err
	}
	if id&expiring != 0 {
		ix.setExpiry(rec, expiry{until: m.until.UnixNano(), fallback: fallback})
		v = ix.view.Load()
	}
	empty.tag.Store(tag)
	empty.account.Store(acc)
	empty.role.Store(id)
	empty.record.Store(rec) // publishes the slot
	ix.used++
	ix.live++
	ix.liveBytes += v.records.nameSize(rec)
	return nil
}

// setSignIn marks the memberships of user in the accounts that require
// secure sign-in as the sign-in method says. The caller holds ix.mu.
func (ix *Index) setSignIn(user string, signIn store.SignIn) {
	v := ix.view.Load()
	secure := ix.policy.SignIns().Secure(signIn)
	for account := range ix.requiring {
		s := ix.findMember(v, account, user)
		if s == nil {
			continue
		}
		if r := s.role.Load(); r != roleAbsent {
			if secure {
				s.role.Store(r &^ insecure)
			} else {
				s.role.Store(r | insecure)
			}
		}
	}
}

// setRequiring notes whether the account requires secure sign-in. Its
// members' slots change with the MemberSet changes that follow (see
// store.Tx.UpdateAccount). The caller holds ix.mu.
func (ix *Index) setRequiring(account string, require bool) {
	if require && indexable(account) {
		ix.requiring[account] = true
	} else {
		delete(ix.requiring, account)
	}
}

// deleteMember removes user from the account. The caller holds ix.mu.
func (ix *Index) deleteMember(account, user string) {
	v := ix.view.Load()
	if s := ix.findMember(v, account, user); s != nil && s.role.Load() != roleAbsent {
		s.role.Store(roleAbsent)
		ix.live--
		ix.liveBytes -= v.records.nameSize(s.record.Load())
		ix.setExpiry(s.record.Load(), expiry{})
	}
}

// setExpiry publishes a view whose expiring table holds e for the
// membership record rec, or none if e is zero, when that changes it. The
// caller holds ix.mu.
func (ix *Index) setExpiry(rec uint32, e expiry) {
	v := ix.view.Load()
	if old, ok := v.expiring[rec]; ok && old == e || !ok && e == (expiry{}) {
		return
	}
	table := maps.Clone(v.expiring)
	if e == (expiry{}) {
		delete(table, rec)
	} else {
		if table == nil {
			table = map[uint32]expiry{}
		}
		table[rec] = e
	}
	nv := *v
	nv.expiring = table
	ix.view.Store(&nv)
}

// rebuildMembers publishes a view whose membership table holds only the live
// memberships and is 60% full, and returns it. When the record arena holds
// more bytes of removed memberships than of live ones, the live records move
// to a new arena, so that memberships added and removed over time do not
// grow memory without bound.
func (ix *Index) rebuildMembers(v *view) (*view, error) {
	records := v.records
	if 2*ix.liveBytes < records.size {
		records = new(arena)
		records.init()
	}
	size := membersFor(ix.live)
	t := make([]memberSlot, size)
	table := v.expiring // the records' positions stay unless they move
	if records != v.records {
		table = nil
	}
	for i := range v.members {
		s := &v.members[i]
		rec, role := s.record.Load(), s.role.Load()
		if rec == 0 || role == roleAbsent {
			continue
		}
		if records != v.records {
			old := rec
			var err error
			if rec, err = records.addRecord(v.records.record(rec)); err != nil {
				return nil, err
			}
			if e, ok := v.expiring[old]; ok {
				if table == nil {
					table = map[uint32]expiry{}
				}
				table[rec] = e
			}
		}
		tag := s.tag.Load() // its usedTag kept
		j := home(tag&^usedTag, size)
		for t[j].record.Load() != 0 {
			j = next(j, size)
		}
		d := &t[j]
		d.tag.Store(tag)
		d.account.Store(s.account.Load())
		d.role.Store(role)
		d.record.Store(rec)
	}
	ix.used = ix.live
	nv := &view{accounts: v.accounts, members: t, records: records, custom: v.custom, expiring: table}
	ix.view.Store(nv)
	return nv, nil
}
