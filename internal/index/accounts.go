package index

import (
	"sync/atomic"
)

// An account table entry is the account's hash tag (the low tagBits bits of
// its hash) << 32 | the position of its ID in Index.accounts; 0 is an empty
// slot. An index that holds only some accounts (see SetPartial) keeps three
// flags in the entry's top bits: usedFlag, which readers set when they ask
// about the account; absentFlag, which marks an account the store does not
// have, held so that asking about it again reads nothing; and loadingFlag,
// which marks an account whose items are being added (see Index.join).
const (
	tagBits            = 29
	tagMask            = 1<<tagBits - 1
	usedFlag    uint64 = 1 << 63
	absentFlag  uint64 = 1 << 62
	loadingFlag uint64 = 1 << 61
)

// accountSlot returns the account's hash, and its slot of the account table
// and the entry there, or a nil slot if the table does not hold it. The
// caller has checked that the ID is indexable.
func (ix *Index) accountSlot(v *view, account string) (uint64, *atomic.Uint64, uint64) {
	h := hash1(ix.seed, account)
	t := v.accounts
	mask := uint64(len(t) - 1)
	for i := h & tagMask & mask; ; i = (i + 1) & mask {
		e := t[i].Load()
		if e == 0 {
			return h, nil, 0
		}
		if e>>32&tagMask == h&tagMask && ix.accounts.equal(uint32(e), account) {
			return h, &t[i], e
		}
	}
}

// findAccount returns the account's hash, the position of its ID in
// ix.accounts, and whether the account is known: held, and not as absent.
func (ix *Index) findAccount(v *view, account string) (uint64, uint32, bool) {
	if !indexable(account) {
		return 0, 0, false
	}
	h, s, e := ix.accountSlot(v, account)
	return h, uint32(e), s != nil && e&absentFlag == 0
}

// internAccount adds the account if it is new, or makes it known if it was
// held as absent, and returns the position of its ID in ix.accounts, which
// never changes: membership slots hold it. The caller holds ix.mu and has
// checked that the ID is indexable.
func (ix *Index) internAccount(account string) (uint32, error) {
	return ix.intern(account, 0)
}

// intern adds the account, with flags (0 or absentFlag), if the account
// table lacks it; held as absent and added without the flag, it becomes
// known. It returns the position of the account's ID in ix.accounts. The
// caller holds ix.mu and has checked that the ID is indexable.
func (ix *Index) intern(account string, flags uint64) (uint32, error) {
	v := ix.view.Load()
	h, s, e := ix.accountSlot(v, account)
	if s != nil {
		if e&absentFlag != 0 && flags&absentFlag == 0 {
			s.And(^absentFlag)
		}
		return uint32(e), nil
	}
	ref, err := ix.accounts.add(account)
	if err != nil {
		return 0, err
	}
	if (ix.nAccounts+1)*4 > len(v.accounts)*3 {
		v = ix.growAccounts(v)
	}
	t := v.accounts
	mask := uint64(len(t) - 1)
	i := h & tagMask & mask
	for t[i].Load() != 0 {
		i = (i + 1) & mask
	}
	t[i].Store((h&tagMask)<<32 | uint64(ref) | flags)
	ix.nAccounts++
	return ref, nil
}

// growAccounts publishes a view whose account table has twice the slots, and
// returns it. An entry's new slot follows from its tag, the low bits of its
// hash, so the IDs need not be hashed again.
func (ix *Index) growAccounts(v *view) *view {
	t := make([]atomic.Uint64, 2*len(v.accounts))
	mask := uint64(len(t) - 1)
	for i := range v.accounts {
		e := v.accounts[i].Load()
		if e == 0 {
			continue
		}
		j := e >> 32 & tagMask & mask
		for t[j].Load() != 0 {
			j = (j + 1) & mask
		}
		t[j].Store(e)
	}
	nv := &view{accounts: t, members: v.members, records: v.records, custom: v.custom, expiring: v.expiring}
	ix.view.Store(nv)
	return nv
}
