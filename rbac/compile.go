package rbac

import (
	"errors"
	"fmt"
	"slices"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
)

// probeDomain is the team in which the decision table is compiled. Team,
// role and action names in policy files are printable, so a name holding a
// NUL byte cannot collide with them.
const probeDomain = "\x00probe"

// compile fills p.table by asking Casbin: it builds an enforcer from the
// model m and the policy's rules (exactly the file's), with no grouping
// rule, and records Enforce(role, probe team, action) for every role and
// action. Casbin's role manager links every subject to itself, so this is
// Casbin's answer for a member holding that role, without any user in
// Casbin. The table is thus Casbin's own answer. A fallback policy keeps the
// enforcer, unchanged from here on, for [Policy.AllowsIn]; a compiled one
// discards it. compile takes m over: m must not be used afterwards.
func compile(m model.Model, p *Policy, modelFile string) error {
	fail := func(msg string, err error) error {
		return &loadError{kind: ErrNotCompilable, file: modelFile, msg: msg, err: err}
	}
	e, err := newCasbin(m, p.rules)
	if err != nil {
		return fail("cannot build a Casbin enforcer", err)
	}
	p.words = (len(p.actions) + 63) / 64
	p.table = make([]uint64, len(p.roles)*p.words)
	for r, role := range p.roles {
		for a, action := range p.actions {
			ok, err := e.Enforce(string(role), probeDomain, string(action))
			if err != nil {
				return fail(fmt.Sprintf("Casbin cannot decide role %q, action %q", role, action), err)
			}
			if ok {
				p.table[r*p.words+a>>6] |= 1 << (a & 63)
			}
		}
	}
	if p.fallback {
		p.casbin = e
	}
	return nil
}

// newCasbin returns a Casbin enforcer on the model m holding exactly the
// policy rules, and no grouping rule. Like Casbin's LoadPolicy, it sorts the
// rules by the model's priority column, if it has one, so that the priority
// effect answers as on an enforcer that loaded the same policy file.
func newCasbin(m model.Model, rules [][]string) (*casbin.Enforcer, error) {
	e, err := casbin.NewEnforcer(m)
	if err != nil {
		return nil, err
	}
	if _, err := e.AddPolicies(rules); err != nil {
		return nil, fmt.Errorf("Casbin refused the policy rules: %w", err)
	}
	if held, err := e.GetPolicy(); err != nil || !slices.EqualFunc(held, rules, slices.Equal) {
		return nil, errors.Join(errors.New("Casbin does not hold exactly the policy file's rules"), err)
	}
	if err := e.GetModel().SortPoliciesByPriority(); err != nil {
		return nil, fmt.Errorf("Casbin cannot sort the policy rules by priority: %w", err)
	}
	return e, nil
}
