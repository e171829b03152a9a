package rbac

import (
	"fmt"
	"sync"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
)

// Enforcer is Casbin's own enforcer on a policy's model and rules, holding
// memberships as grouping rules "g, user, role, team". It answers the
// questions a fallback policy's decision table cannot (see
// [Policy.Compiled]). Each answer evaluates the model's matcher with Casbin:
// microseconds and hundreds of allocations, and Casbin keeps about 1.5 KB
// per membership, and more for every membership it has held.
//
// An Enforcer is safe for concurrent use by multiple goroutines: Enforce
// calls run in parallel, and each change is seen by every Enforce call that
// starts after it returned. Make one with [Policy.NewEnforcer].
type Enforcer struct {
	mu sync.RWMutex // guards e: Enforce reads, the setters write
	e  *casbin.Enforcer
}

// NewEnforcer returns an Enforcer on p's model and rules, with no
// membership. It returns an error wrapping [ErrInvalidPolicy] for the zero
// Policy, whose model is empty, and [ErrNotCompilable] if Casbin cannot
// build the enforcer, which cannot happen for a Policy that loaded. It is
// safe for concurrent use.
func (p *Policy) NewEnforcer() (*Enforcer, error) {
	m, err := model.NewModelFromString(p.modelText)
	if err != nil {
		return nil, fmt.Errorf("rbac: new enforcer for policy %q: %w: %w", p.name, ErrInvalidPolicy, err)
	}
	e, err := newCasbin(m, p.rules)
	if err != nil {
		return nil, fmt.Errorf("rbac: new enforcer for policy %q: %w: %w", p.name, ErrNotCompilable, err)
	}
	return &Enforcer{e: e}, nil
}

// SetMember makes user a member of team with role, replacing any role the
// user held there. It returns an error if Casbin fails, after which the
// user may be no member of the team.
func (e *Enforcer) SetMember(user string, role Role, team string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.deleteMember(user, team); err != nil {
		return err
	}
	if _, err := e.e.AddGroupingPolicy(user, string(role), team); err != nil {
		return fmt.Errorf("rbac: enforcer: make %q a member of %q with role %q: %w", user, team, role, err)
	}
	return nil
}

// DeleteMember removes user from team; it does nothing if the user is not a
// member. It returns an error if Casbin fails.
func (e *Enforcer) DeleteMember(user, team string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.deleteMember(user, team)
}

// deleteMember removes user's membership of team. The caller holds e.mu.
func (e *Enforcer) deleteMember(user, team string) error {
	if _, err := e.e.RemoveFilteredGroupingPolicy(0, user, "", team); err != nil {
		return fmt.Errorf("rbac: enforcer: remove %q from %q: %w", user, team, err)
	}
	return nil
}

// Enforce reports whether user may perform action in team: Casbin's
// Enforce(user, team, action). It is false if Casbin returns an error.
func (e *Enforcer) Enforce(user, team string, action Action) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	ok, err := e.e.Enforce(user, team, string(action))
	return err == nil && ok
}

// Membership is a user's role in a team, as an [Enforcer] holds it: the
// grouping rule "g, User, Role, Team".
type Membership struct {
	User string
	Role Role
	Team string
}

// Reset replaces every membership of e with ms; a user listed twice for a
// team keeps the last role listed. It costs one pass over ms, where setting
// each membership with [Enforcer.SetMember] would scan every grouping rule
// each time. It returns an error if Casbin fails, after which e may hold
// some of ms.
func (e *Enforcer) Reset(ms []Membership) error {
	type key struct{ user, team string }
	last := make(map[key]int, len(ms))
	for i, m := range ms {
		last[key{m.User, m.Team}] = i
	}
	rules := make([][]string, 0, len(last))
	for i, m := range ms {
		if last[key{m.User, m.Team}] == i {
			rules = append(rules, []string{m.User, string(m.Role), m.Team})
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	held, err := e.e.GetGroupingPolicy()
	if err == nil && len(held) > 0 {
		_, err = e.e.RemoveGroupingPolicies(held)
	}
	if err == nil && len(rules) > 0 {
		_, err = e.e.AddGroupingPolicies(rules)
	}
	if err != nil {
		return fmt.Errorf("rbac: enforcer: reset %d memberships: %w", len(rules), err)
	}
	return nil
}
