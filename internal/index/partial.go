package index

import (
	"context"
	"fmt"

	"github.com/teamroster/roster/store"
)

// An index that holds only some accounts. After SetPartial, an Index holds
// the accounts it was loaded with (LoadAccounts) and those fetched since
// (ReadAccount and Join), each whole: the account, its team roles, its
// memberships and its API keys. It applies the changes of the accounts it
// holds and skips the others', which cost it nothing: an account it does
// not hold is read from the store, as of the index's revision, when it is
// asked about. An account the store does not have is held as absent, so
// that asking about it again reads nothing; it becomes known if it is
// created. Readers mark the accounts they ask about (usedTag in a found
// member's slot, usedFlag in the account table otherwise), so that the
// caller can tell which accounts to keep when it builds a smaller index
// (UsedAccounts); an index never drops an account itself.

// SetPartial makes the index hold only the accounts it is loaded with or
// fetches. Call it on a new Index, before LoadAccounts.
func (ix *Index) SetPartial() { ix.partial = true }

// LoadAccounts fills an empty Index (one just made by New and SetPartial)
// with the given accounts of r, read at one revision, and sets its revision
// to that one; the accounts r does not have are held as absent. It returns
// the errors of r.SnapshotAccounts and ErrFull. It is safe for concurrent use
// with the readers; call it once, before any Apply, CatchUp or Join.
func (ix *Index) LoadAccounts(ctx context.Context, r store.AccountReader, accounts []string) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	err := ix.load(ctx, func(ctx context.Context, fn func(store.SnapshotItem) error) (store.Revision, error) {
		return r.SnapshotAccounts(ctx, accounts, fn)
	})
	if err != nil {
		return err
	}
	return ix.holdAbsent(accounts)
}

// holdAbsent holds as absent those of the accounts the index does not hold.
// The caller holds ix.mu.
func (ix *Index) holdAbsent(accounts []string) error {
	for _, a := range accounts {
		if indexable(a) {
			if _, err := ix.intern(a, absentFlag); err != nil {
				return err
			}
		}
	}
	return nil
}

// Holds reports whether the index holds the account, known or absent: an
// index that holds every account (not SetPartial) holds them all. It takes
// no lock and allocates nothing; it is safe for concurrent use.
func (ix *Index) Holds(account string) bool {
	return !ix.partial || ix.partialHolds(account) // inlined: no call without SetPartial
}

// partialHolds is Holds for an index that holds only some accounts.
func (ix *Index) partialHolds(account string) bool {
	if !indexable(account) {
		return true
	}
	_, s, e := ix.accountSlot(ix.view.Load(), account)
	return s != nil && e&loadingFlag == 0
}

// touch marks the account as asked about, in an index that holds only some
// accounts; in one that holds every account it does nothing, and is
// inlined into the readers, so that they pay no call for it.
func (ix *Index) touch(account string) {
	if ix.partial {
		ix.mark(account)
	}
}

// mark sets the account's usedFlag, if the index holds it.
func (ix *Index) mark(account string) {
	if !indexable(account) {
		return
	}
	if _, s, e := ix.accountSlot(ix.view.Load(), account); s != nil && e&usedFlag == 0 {
		s.Or(usedFlag)
	}
}

// UsedAccounts returns the accounts, known or absent, that readers asked
// about since the index was loaded: those marked in the account table and
// those with a membership marked (usedTag). It is safe for concurrent use.
func (ix *Index) UsedAccounts() []string {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	v := ix.view.Load()
	refs := map[uint32]bool{}
	for i := range v.accounts {
		if e := v.accounts[i].Load(); e&usedFlag != 0 {
			refs[uint32(e)] = true
		}
	}
	for i := range v.members {
		if s := &v.members[i]; s.record.Load() != 0 && s.tag.Load()&usedTag != 0 {
			refs[s.account.Load()] = true
		}
	}
	used := make([]string, 0, len(refs))
	for ref := range refs {
		used = append(used, string(ix.accounts.record(ref)[1:]))
	}
	return used
}

// AccountRead is an account as read from the store for Join: its items and
// the revision they were read at.
type AccountRead struct {
	account string
	items   []store.SnapshotItem
	rev     store.Revision
}

// ReadAccount reads the account from r, for Join. It returns the errors of
// r.SnapshotAccounts. It is safe for concurrent use.
func ReadAccount(ctx context.Context, r store.AccountReader, account string) (AccountRead, error) {
	read := AccountRead{account: account}
	var err error
	read.rev, err = r.SnapshotAccounts(ctx, []string{account}, func(it store.SnapshotItem) error {
		if it.AccountID == account {
			read.items = append(read.items, it)
		}
		return nil
	})
	if err != nil {
		return AccountRead{}, fmt.Errorf("read account %q: %w", account, err)
	}
	return read, nil
}

// Join adds the account read to an index that holds only some accounts,
// unless it holds it already: the account, its team roles, its memberships
// and its API keys, or, if the store has no such account, the fact. The
// index first applies the changes s committed up to the revision the
// account was read at, so that the account joins it as of the index's
// revision; an account read at an earlier revision than the index's (a
// change was applied since) is read from r again. Readers see the account
// held only once it is whole. Join reports whether it added the account;
// it returns the errors of r.SnapshotAccounts and s.Changes, an error
// wrapping store.ErrBackend if the account was read again at a revision
// before the index's or s skips a revision, and ErrFull. It is safe for
// concurrent use; the account may have been read without a lock.
func (ix *Index) Join(ctx context.Context, s store.Store, r store.AccountReader, read AccountRead) (bool, error) {
	if !ix.partial || !indexable(read.account) {
		return false, nil
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if _, slot, e := ix.accountSlot(ix.view.Load(), read.account); slot != nil && e&loadingFlag == 0 {
		return false, nil
	}
	if read.rev < store.Revision(ix.rev.Load()) {
		var err error
		if read, err = ReadAccount(ctx, r, read.account); err != nil {
			return false, err
		}
	}
	if err := ix.catchUpTo(ctx, s, read.rev); err != nil {
		return false, fmt.Errorf("join account %q: %w", read.account, err)
	}
	return true, ix.join(read)
}

// join adds the account read, as of the index's revision, to the index.
// The account's entry carries loadingFlag until every item is in, so that
// Holds is false, and readers come to wait for the lock, while it is
// partly loaded. The caller holds ix.mu.
func (ix *Index) join(read AccountRead) error {
	account, items := read.account, read.items
	absent := absentFlag
	for _, it := range items {
		if it.UserID == "" && it.Role == "" && it.Key == "" {
			absent = 0
			ix.setRequiring(account, it.RequireSecure)
		}
	}
	if _, err := ix.intern(account, loadingFlag); err != nil {
		return err
	}
	// The team roles first, then the memberships, which name them, and the
	// keys.
	var err error
	for pass := range 3 {
		for _, it := range items {
			switch {
			case pass == 0 && it.Key == "" && it.UserID == "" && it.Role != "":
				err = ix.setTeamRole(account, it.Role, it.Actions)
			case pass == 1 && it.Key == "" && it.UserID != "":
				err = ix.setMember(account, it.UserID, membershipOf(it.Role, it.SignIn, it.ExpiresAt, it.FallbackRole, it.Suspended))
			case pass == 2 && it.Key != "":
				ix.setKey(it.Key, account, it.UserID, it.Role, it.Actions, it.KeyHash, it.ExpiresAt)
			}
			if err != nil {
				ix.publishCustom()
				return err
			}
		}
	}
	ix.publishCustom()
	_, slot, _ := ix.accountSlot(ix.view.Load(), account)
	slot.Or(absent)
	slot.And(^loadingFlag)
	return nil
}

// catchUpTo applies the changes s committed after the index's revision up
// to rev: an index that holds only some accounts skips the changes of the
// accounts it does not hold, so an account read at rev joins it after them.
// The caller holds ix.mu.
func (ix *Index) catchUpTo(ctx context.Context, s store.Store, rev store.Revision) error {
	const batch = 10000
	for {
		cur := store.Revision(ix.rev.Load())
		if cur == rev {
			return nil
		}
		if cur > rev {
			return fmt.Errorf("read at revision %d, behind the in-memory index's %d: %w", rev, cur, store.ErrBackend)
		}
		changes, err := s.Changes(ctx, cur, batch)
		if err != nil {
			return fmt.Errorf("catch up from revision %d: %w", cur, err)
		}
		if err := contiguous(changes, cur); err != nil {
			return fmt.Errorf("catch up from revision %d: %w", cur, err)
		}
		n := 0
		for n < len(changes) && changes[n].Revision <= rev {
			n++
		}
		if n == 0 {
			return fmt.Errorf("catch up from revision %d to %d: the store has no change after %d: %w", cur, rev, cur, store.ErrBackend)
		}
		if err := ix.applyChanges(changes[:n]); err != nil {
			return fmt.Errorf("catch up from revision %d: %w", cur, err)
		}
	}
}

// holds reports whether an index that holds only some accounts applies the
// change: one of an account it holds (AccountCreated: even as absent), or
// one of no account in particular.
func (ix *Index) holds(ch store.Change) bool {
	switch ch.Op {
	case store.UserUpdated, store.APIKeyRevoked:
		return true
	}
	if !indexable(ch.AccountID) {
		return true // the change is ignored whole
	}
	_, s, e := ix.accountSlot(ix.view.Load(), ch.AccountID)
	return s != nil && (e&absentFlag == 0 || ch.Op == store.AccountCreated)
}

// Retire wakes, for good, whoever waits on Changed: a caller that replaces
// the index with another calls it so that they wait on the new one.
func (ix *Index) Retire() {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ch := make(chan struct{})
	close(ch)
	close(*ix.changed.Swap(&ch))
}

// What Footprint counts for each part of the index, in bytes on a 64-bit
// machine, besides the tables' slots and the arenas' chunks: an end time (an
// entry of view.expiring); a team role (its customRole and name, and its
// entry in its account's map of team roles; its set of actions is counted
// apart) and an account's map of team roles (the map, its first group and
// the account's ID); an account that requires secure sign-in (its entry in
// Index.requiring and its ID); a live API key (its apiKey and the strings it
// holds). Go's maps and allocator round these up or down by a few bytes;
// TestFootprintIsTheHeap holds the sum to the heap the index takes.
const (
	memberSlotBytes   = 16
	accountEntryBytes = 8
	keySlotBytes      = 8
	endTimeBytes      = 40
	teamRoleBytes     = 56
	teamRolesMapBytes = 320
	requiringBytes    = 80
	keyBytes          = 256
)

// Footprint returns about how many bytes the index takes: its tables, its
// blocks of IDs, its end times, team roles, accounts requiring secure
// sign-in and API keys. It is safe for concurrent use.
func (ix *Index) Footprint() int64 {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	v := ix.view.Load()
	n := int64(len(v.members))*memberSlotBytes + int64(len(v.accounts))*accountEntryBytes
	n += int64(len(*v.records.chunks.Load())+len(*ix.accounts.chunks.Load())) * chunkSize
	n += int64(len(v.expiring)) * endTimeBytes
	n += int64(len(v.custom))*int64(teamRoleBytes+ix.words*8) + int64(len(ix.teamRoles))*teamRolesMapBytes
	n += int64(len(ix.requiring)) * requiringBytes
	n += int64(len(ix.keys.Load().slots))*keySlotBytes + int64(ix.liveKeys)*keyBytes
	return n
}

// Held returns how many accounts the index holds, known or absent. It is
// safe for concurrent use.
func (ix *Index) Held() int {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.nAccounts
}
