package index

import (
	"math/bits"

	"github.com/teamroster/roster/rbac"
)

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
