package index

// Stats describes an Index's memory, for tests.
type Stats struct {
	Live, Slots, RecordBytes, LiveBytes int
	AccountSlots                        int
}

// Stats returns the index's counters.
func (ix *Index) Stats() Stats {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	v := ix.view.Load()
	return Stats{AccountSlots: len(v.accounts), Live: ix.live, Slots: len(v.members), RecordBytes: v.records.size, LiveBytes: ix.liveBytes}
}

// LimitTeamRoles makes n the number of team role IDs the index has, so that
// tests can use them all up.
func (ix *Index) LimitTeamRoles(n uint32) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.maxTeamRoles = n
}
