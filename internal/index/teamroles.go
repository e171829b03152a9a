package index

import (
	"fmt"

	"github.com/teamroster/roster/rbac"
)

// customRole is a team role as the index holds it: its name and, one bit
// per rbac.ActionID, its actions. A deleted one has no name and no actions.
type customRole struct {
	name    string
	actions []uint64
}

// roleName returns the name of role id (with or without insecure): the
// policy's role, or a team role; "" for noRole.
func (ix *Index) roleName(id uint32) rbac.Role {
	id &^= flags
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
// (see publishCustom). It returns ErrFull, changing nothing, if the
// role is new and every team role ID is taken. The caller holds ix.mu.
func (ix *Index) setTeamRole(account, name string, actions []string) error {
	set := make([]uint64, ix.words)
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
			return fmt.Errorf("team role %q of account %q: all %d team role IDs are taken: %w",
				name, account, ix.maxTeamRoles, ErrFull)
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
func (ix *Index) deleteTeamRole(account, name string) {
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
func (ix *Index) editCustom() []customRole {
	if ix.custom == nil {
		published := ix.view.Load().custom
		ix.custom = make([]customRole, len(published), len(published)+1) // never nil
		copy(ix.custom, published)
	}
	return ix.custom
}

// setCustom makes r team role id in the unpublished table; id is one of its
// entries or the next. The caller holds ix.mu.
func (ix *Index) setCustom(id uint32, r customRole) {
	custom := ix.editCustom()
	if i := id - customBase; uint(i) < uint(len(custom)) {
		custom[i] = r
	} else {
		ix.custom = append(custom, r)
	}
}

// publishCustom publishes the team roles changed since they were last
// published, if any. The caller holds ix.mu.
func (ix *Index) publishCustom() {
	if ix.custom == nil {
		return
	}
	v := ix.view.Load()
	ix.view.Store(&view{accounts: v.accounts, members: v.members, records: v.records, custom: ix.custom, expiring: v.expiring})
	ix.custom = nil
}

// roleID returns the compiled role: the policy's, else the account's team
// role, else noRole. The caller holds ix.mu.
func (ix *Index) roleID(account, role string) uint32 {
	if id, ok := ix.policy.RoleID(rbac.Role(role)); ok {
		return uint32(id)
	}
	if id, ok := ix.teamRoles[account][role]; ok {
		return id
	}
	return noRole
}
