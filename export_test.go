package roster

import (
	"context"

	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// Index gives tests of the in-memory index direct access to it.
type Index struct{ ix *index }

// NewIndex returns an empty index deciding with p.
func NewIndex(p *rbac.Policy) *Index { return &Index{newIndex(p)} }

// Load fills the empty index from s's snapshot.
func (x *Index) Load(ctx context.Context, s store.Store) error { return x.ix.load(ctx, s) }

// Apply applies one commit's changes, as the next revision.
func (x *Index) Apply(changes ...store.Change) error {
	x.ix.mu.Lock()
	defer x.ix.mu.Unlock()
	rev := store.Revision(x.ix.rev.Load() + 1)
	for i := range changes {
		changes[i].Revision = rev
	}
	return x.ix.applyChanges(changes)
}

// Role returns the user's role name, and whether the account is known and
// the user a member.
func (x *Index) Role(account, user string) (role rbac.Role, accountKnown, member bool) {
	id, accountKnown, member := x.ix.role(account, user)
	if member {
		role = x.ix.roleName(id)
	}
	return role, accountKnown, member
}

// Allowed is Can.
func (x *Index) Allowed(user, account string, a rbac.Action) bool {
	return x.ix.allowed(user, account, a)
}

// IndexStats describes the index's memory.
type IndexStats struct {
	Live, Slots, RecordBytes, LiveBytes int
}

// Stats returns the index's counters.
func (x *Index) Stats() IndexStats {
	x.ix.mu.Lock()
	defer x.ix.mu.Unlock()
	v := x.ix.view.Load()
	return IndexStats{Live: x.ix.live, Slots: len(v.members), RecordBytes: v.records.size, LiveBytes: x.ix.liveBytes}
}

// ErrIndexFull is the error the index returns when it can hold no more.
var ErrIndexFull = errIndexFull

// LimitTeamRoles makes n the number of team role IDs the index has, so that
// tests can use them all up.
func (x *Index) LimitTeamRoles(n uint32) {
	x.ix.mu.Lock()
	defer x.ix.mu.Unlock()
	x.ix.maxTeamRoles = n
}
