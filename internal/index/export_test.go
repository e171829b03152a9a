package index

import (
	"context"

	"github.com/teamroster/roster/store"
)

// Stats describes an Index's memory, for tests.
type Stats struct {
	Live, Slots, RecordBytes, LiveBytes int
	AccountSlots, KeySlots              int
}

// Stats returns the index's counters.
func (ix *Index) Stats() Stats {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	v := ix.view.Load()
	return Stats{AccountSlots: len(v.accounts), KeySlots: len(ix.keys.Load().slots), Live: ix.live, Slots: len(v.members), RecordBytes: v.records.size, LiveBytes: ix.liveBytes}
}

// LimitTeamRoles makes n the number of team role IDs the index has, so that
// tests can use them all up.
func (ix *Index) LimitTeamRoles(n uint32) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.maxTeamRoles = n
}

// ActionProbes returns the size of the index's action table, and the most
// and the total slots lookups of each of the policy's actions probe.
func (ix *Index) ActionProbes() (size, most, total int) {
	t := &ix.actions
	for _, a := range ix.policy.Actions() {
		n := 1
		for j := t.home(a); t.slots[j].name != a; j = (j + 1) & (len(t.slots) - 1) {
			n++
		}
		most, total = max(most, n), total+n
	}
	return len(t.slots), most, total
}

// Fetch reads the account from r into an index that holds only some
// accounts, unless it holds it already: ReadAccount, then Join. It reports
// whether it added the account, and returns their errors. It is safe for
// concurrent use.
func (ix *Index) Fetch(ctx context.Context, s store.Store, r store.AccountReader, account string) (bool, error) {
	if !ix.partial || ix.Holds(account) {
		return false, nil
	}
	read, err := ReadAccount(ctx, r, account)
	if err != nil {
		return false, err
	}
	return ix.Join(ctx, s, r, read)
}
