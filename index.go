package roster

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// shardCount spreads accounts over independently locked shards so that
// readers on different accounts never touch the same lock.
const shardCount = 64

// index holds every account and membership in memory so that Can never
// touches the database. It is built from a Store snapshot and kept current by
// applying the store's changes in revision order. It is safe for concurrent
// use: readers take one shard's read lock; writers are serialized by mu.
type index struct {
	policy *rbac.Policy
	seed   maphash.Seed
	shards [shardCount]shard

	mu  sync.Mutex // serializes apply and catch-up
	rev atomic.Uint64
}

type shard struct {
	mu        sync.RWMutex
	accounts  map[string]map[string]rbac.RoleID // account ID -> user ID -> role
	teamRoles map[string]map[string]rbac.RoleID // account ID -> team role name -> role
	custom    [][]bool                          // team role actions by role - customBase
	free      []rbac.RoleID                     // custom IDs to reuse
	_         [32]byte                          // keep shards on separate cache lines
}

// Role IDs: below customBase the policy's own (rbac.RoleID); from
// customBase up, a team role of the shard's accounts; noRole for a stored
// role that is neither, which allows nothing.
const (
	customBase = rbac.RoleID(1 << 15)
	noRole     = ^rbac.RoleID(0)
)

func newIndex(p *rbac.Policy) *index {
	ix := &index{policy: p, seed: maphash.MakeSeed()}
	for i := range ix.shards {
		ix.shards[i].accounts = make(map[string]map[string]rbac.RoleID)
		ix.shards[i].teamRoles = make(map[string]map[string]rbac.RoleID)
	}
	return ix
}

func (ix *index) shard(account string) *shard {
	return &ix.shards[maphash.String(ix.seed, account)%shardCount]
}

// load fills an empty index from a consistent snapshot of s.
func (ix *index) load(ctx context.Context, s store.Store) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	rev, err := s.Snapshot(ctx, func(it store.SnapshotItem) error {
		switch {
		case it.UserID == "" && it.Role != "":
			ix.setTeamRole(it.AccountID, it.Role, it.Actions)
		case it.UserID == "":
			ix.setAccount(it.AccountID)
		default:
			ix.setMember(it.AccountID, it.UserID, it.Role)
		}
		return nil
	})
	if err != nil {
		return err
	}
	ix.rev.Store(uint64(rev))
	return nil
}

// lookup returns the user's role in the account, whether the account
// exists and the user is a member of it, and whether the role allows
// action aid.
func (ix *index) lookup(account, user string, aid rbac.ActionID) (id rbac.RoleID, accountKnown, member, allowed bool) {
	sh := ix.shard(account)
	sh.mu.RLock()
	members, accountKnown := sh.accounts[account]
	id, member = members[user]
	if member {
		allowed = sh.allows(ix.policy, id, aid)
	}
	sh.mu.RUnlock()
	return id, accountKnown, member, allowed
}

// allows tests role id's bit for action aid. The caller holds sh.mu.
func (sh *shard) allows(p *rbac.Policy, id rbac.RoleID, aid rbac.ActionID) bool {
	if id < customBase {
		return p.Allowed(id, aid)
	}
	i := int(id - customBase)
	return i < len(sh.custom) && int(aid) < len(sh.custom[i]) && sh.custom[i][aid]
}

// allowed is the hot path of Can: two map lookups and a bit test.
func (ix *index) allowed(user, account string, action rbac.Action) bool {
	aid, ok := ix.policy.ActionID(action)
	if !ok {
		return false
	}
	_, _, _, allowed := ix.lookup(account, user, aid)
	return allowed
}

// roleName returns the name of role id in the account.
func (ix *index) roleName(account string, id rbac.RoleID) rbac.Role {
	if id < customBase {
		return ix.policy.Role(id)
	}
	sh := ix.shard(account)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	for name, rid := range sh.teamRoles[account] {
		if rid == id {
			return rbac.Role(name)
		}
	}
	return ""
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
		ix.applyChanges(c.Changes)
		return nil
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
		ix.applyChanges(changes)
		if len(changes) < batch {
			return nil
		}
	}
}

// applyChanges applies changes in order and advances the revision to the
// last one's. The caller holds ix.mu.
func (ix *index) applyChanges(changes []store.Change) {
	for _, ch := range changes {
		switch ch.Op {
		case store.AccountCreated:
			ix.setAccount(ch.AccountID)
		case store.MemberSet:
			ix.setMember(ch.AccountID, ch.UserID, ch.Role)
		case store.MemberDeleted:
			ix.deleteMember(ch.AccountID, ch.UserID)
		case store.RoleSet:
			ix.setTeamRole(ch.AccountID, ch.Role, ch.Actions)
		case store.RoleDeleted:
			ix.deleteTeamRole(ch.AccountID, ch.Role)
		}
	}
	if n := len(changes); n > 0 {
		ix.rev.Store(uint64(changes[n-1].Revision))
	}
}

func (ix *index) setAccount(account string) {
	sh := ix.shard(account)
	sh.mu.Lock()
	if _, ok := sh.accounts[account]; !ok {
		sh.accounts[account] = make(map[string]rbac.RoleID)
	}
	sh.mu.Unlock()
}

func (ix *index) setMember(account, user, role string) {
	sh := ix.shard(account)
	sh.mu.Lock()
	id, ok := ix.policy.RoleID(rbac.Role(role))
	if !ok {
		if id, ok = sh.teamRoles[account][role]; !ok {
			id = noRole
		}
	}
	members := sh.accounts[account]
	if members == nil {
		members = make(map[string]rbac.RoleID)
		sh.accounts[account] = members
	}
	members[user] = id
	sh.mu.Unlock()
}

func (ix *index) deleteMember(account, user string) {
	sh := ix.shard(account)
	sh.mu.Lock()
	delete(sh.accounts[account], user)
	sh.mu.Unlock()
}

// setTeamRole defines or redefines a team role of the account. Members
// holding it see the new actions at once.
func (ix *index) setTeamRole(account, name string, actions []string) {
	set := make([]bool, len(ix.policy.Actions()))
	for _, a := range actions {
		if id, ok := ix.policy.ActionID(rbac.Action(a)); ok {
			set[id] = true
		}
	}
	sh := ix.shard(account)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	roles := sh.teamRoles[account]
	if roles == nil {
		roles = make(map[string]rbac.RoleID)
		sh.teamRoles[account] = roles
	}
	if id, ok := roles[name]; ok {
		sh.custom[id-customBase] = set
		return
	}
	var id rbac.RoleID
	if n := len(sh.free); n > 0 {
		id, sh.free = sh.free[n-1], sh.free[:n-1]
		sh.custom[id-customBase] = set
	} else if len(sh.custom) < int(noRole-customBase) {
		id = customBase + rbac.RoleID(len(sh.custom))
		sh.custom = append(sh.custom, set)
	} else {
		return // out of IDs: members holding it are allowed nothing
	}
	roles[name] = id
}

// deleteTeamRole forgets a team role; the store refuses to delete one that
// members hold.
func (ix *index) deleteTeamRole(account, name string) {
	sh := ix.shard(account)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	id, ok := sh.teamRoles[account][name]
	if !ok {
		return
	}
	delete(sh.teamRoles[account], name)
	sh.custom[id-customBase] = nil
	sh.free = append(sh.free, id)
}
