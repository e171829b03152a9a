package index

import (
	"sync/atomic"
)

// findAccount returns the account's hash, the position of its ID in
// ix.accounts, and whether the account is known.
func (ix *Index) findAccount(v *view, account string) (uint64, uint32, bool) {
	if !indexable(account) {
		return 0, 0, false
	}
	h := hash1(ix.seed, account)
	t := v.accounts
	mask := uint64(len(t) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		e := t[i].Load()
		if e == 0 {
			return h, 0, false
		}
		if uint32(e>>32) == uint32(h) && ix.accounts.equal(uint32(e), account) {
			return h, uint32(e), true
		}
	}
}

// internAccount adds the account if it is new, and returns the position of
// its ID in ix.accounts, which never changes: membership slots hold it. The
// caller holds ix.mu and has checked that the ID is indexable.
func (ix *Index) internAccount(account string) (uint32, error) {
	v := ix.view.Load()
	h, ref, ok := ix.findAccount(v, account)
	if ok {
		return ref, nil
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
	i := h & mask
	for t[i].Load() != 0 {
		i = (i + 1) & mask
	}
	t[i].Store(uint64(uint32(h))<<32 | uint64(ref))
	ix.nAccounts++
	return ref, nil
}

// growAccounts publishes a view whose account table has twice the slots, and
// returns it. An entry's new slot follows from its tag, the low 32 bits of
// its hash, so the IDs need not be hashed again.
func (ix *Index) growAccounts(v *view) *view {
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
	nv := &view{accounts: t, members: v.members, records: v.records, custom: v.custom, expiring: v.expiring}
	ix.view.Store(nv)
	return nv
}
