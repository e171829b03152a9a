package index

import (
	"math/bits"

	"github.com/teamroster/roster/rbac"
)

// actionTable finds an action's compiled ID faster than a map: the policy's
// actions are few and fixed, so a cheap hash of an action's length and
// outer bytes picks a slot, and one string comparison confirms it.
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

// home returns the first slot of a's probe. The hash reads a's first and
// last eight bytes (all of a shorter action) and its length: actions named
// alike, as "area1.read" and "area2.read", differ there.
func (t *actionTable) home(a rbac.Action) int {
	n := len(a)
	var x uint64
	if n >= 8 {
		x = le64(string(a[:8]))*0xff51afd7ed558ccd ^ le64(string(a[n-8:]))
	} else {
		for i := range n {
			x |= uint64(a[i]) << (8 * i)
		}
	}
	return int((x ^ uint64(n)) * 0x9e3779b97f4a7c15 >> t.shift)
}

// le64 returns the first eight bytes of s as a little-endian integer.
func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
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
